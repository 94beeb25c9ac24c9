"""Template slots: named places in pages that plugins fill through ``jixiao_tpl_*`` hooks."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any

from flask import Flask, current_app, g
from flask_login import current_user
from markupsafe import Markup


@dataclass(frozen=True)
class MenuItem:
    """One navigation entry."""

    label: str
    url: str
    endpoint: str  # marks the entry active on its own pages
    order: int = 100


def slot(name: str, **kwargs: Any) -> list[Any]:
    """Call ``jixiao_tpl_<name>`` with the current tenant and user; results of all plugins, flattened."""
    pm = current_app.extensions["jixiao.plugins"]
    hook = getattr(pm.hook, f"jixiao_tpl_{name}")
    results = hook(tenant=g.get("tenant"), user=current_user, **kwargs)
    items = list(chain.from_iterable(r for r in results if r))
    if items and isinstance(items[0], MenuItem):
        items.sort(key=lambda i: (i.order, i.label))
    return items


def render_slot(name: str, **kwargs: Any) -> Markup:
    """Join a slot's HTML fragments, for slots whose items are markup."""
    return Markup("\n").join(slot(name, **kwargs))


def init_app(app: Flask) -> None:
    app.jinja_env.globals["slot"] = slot
    app.jinja_env.globals["render_slot"] = render_slot
