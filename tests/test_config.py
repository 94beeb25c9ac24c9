"""Configuration from the environment; production refuses unsafe settings."""
from __future__ import annotations

import pytest

from core import create_app
from core.config import DEV_SECRET_KEY, ConfigError


def test_production_refuses_the_development_secret(monkeypatch):
    monkeypatch.setenv("JIXIAO_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", DEV_SECRET_KEY)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="at least 32"):
        create_app()


def test_production_needs_an_explicit_database(monkeypatch):
    monkeypatch.setenv("JIXIAO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app()


def test_production_with_good_settings_starts(monkeypatch):
    monkeypatch.setenv("JIXIAO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "sqlite://")
    app = create_app()
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SHOW_TENANT_DIRECTORY"] is False


def test_unknown_mode_and_bad_boolean_are_named(monkeypatch):
    monkeypatch.setenv("JIXIAO_ENV", "staging")
    with pytest.raises(ConfigError, match="JIXIAO_ENV: 'staging'"):
        create_app()
    monkeypatch.setenv("JIXIAO_ENV", "development")
    monkeypatch.setenv("JIXIAO_TENANT_DIRECTORY", "maybe")
    with pytest.raises(ConfigError, match="maybe"):
        create_app()
