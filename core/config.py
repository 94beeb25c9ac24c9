"""Configuration from the environment.

Every setting has a development default so `make run` works with nothing set; production mode
(`JIXIAO_ENV=production`) refuses to start with the development secret or an embedded database
left implicit.
"""
from __future__ import annotations

import os
from pathlib import Path

DEV_SECRET_KEY = "dev-insecure-change-me"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message says which variable and why."""


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"expected true or false, found {value!r}")


def from_environment(instance_path: str) -> dict:
    """Read the settings the portal understands from `os.environ`."""
    env = os.environ
    mode = env.get("JIXIAO_ENV", "development")
    if mode not in {"development", "production"}:
        raise ConfigError(f"JIXIAO_ENV: {mode!r} is not allowed; use development or production")
    default_db = "sqlite:///" + os.path.join(instance_path, "jixiao.sqlite")
    return {
        "ENV_MODE": mode,
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "DATABASE_URL": env.get("DATABASE_URL", default_db),
        "DATABASE_URL_EXPLICIT": "DATABASE_URL" in env,
        # External plugins (entry-point group `jixiao`) load only when named here.
        "PLUGINS_ALLOWED": [p.strip() for p in env.get("JIXIAO_PLUGINS", "").split(",") if p.strip()],
        "LOAD_ENTRY_POINTS": _bool(env.get("JIXIAO_LOAD_ENTRY_POINTS"), True),
        # Rate limits, sessions and jobs are shared through Redis when scaled out.
        "RATELIMIT_STORAGE_URI": env.get("REDIS_URL", "memory://"),
        "LOGIN_RATE_LIMIT": env.get("JIXIAO_LOGIN_RATE_LIMIT", "10 per minute"),
        "SHOW_TENANT_DIRECTORY": _bool(env.get("JIXIAO_TENANT_DIRECTORY"), mode == "development"),
        "SESSION_COOKIE_SECURE": _bool(env.get("JIXIAO_SECURE_COOKIES"), mode == "production"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PAGE_SIZE": int(env.get("JIXIAO_PAGE_SIZE", "25")),
        # A worker keeps each tenant's row this long (another worker's change to a tenant — renamed,
        # deactivated — reaches it within this time; its own at once). 0: read it on every request.
        "TENANT_CACHE_SECONDS": float(env.get("JIXIAO_TENANT_CACHE_SECONDS", "5")),
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_TRANSLATION_DIRECTORIES": str(PROJECT_ROOT / "core" / "translations"),
        "WTF_CSRF_TIME_LIMIT": None,
    }


def check(config: dict) -> None:
    """Refuse configurations that are unsafe in production."""
    if config.get("ENV_MODE") != "production":
        return
    if config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY) or len(config["SECRET_KEY"]) < 32:
        raise ConfigError(
            "SECRET_KEY: production mode needs a secret of at least 32 characters that is not the "
            "development default; generate one with: python -c 'import secrets; print(secrets.token_hex(32))'"
        )
    if not config.get("DATABASE_URL_EXPLICIT") and not config.get("TESTING"):
        raise ConfigError("DATABASE_URL: production mode needs an explicit database (PostgreSQL)")
