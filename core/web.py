"""Page rendering (htmx-aware), pagination, and the pages every tenant has: landing and home."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from htmx_flask import Htmx
from jinja2_fragments.flask import render_block
from sqlalchemy import Select, func, select

from core.db import db_session
from core.models import OrgUnit, Person, Tenant
from core.policy import can, permission_required, tenant_user

bp = Blueprint("web", __name__)
tenant_bp = Blueprint("tenant_home", __name__, url_prefix="/t/<tenant>")


# --------------------------------------------------------------------------------------- rendering

def render_page(template_name: str, **context: Any) -> str:
    """Render a page; an htmx request (not a history restore) gets only the block it targets.

    Blocks are named after the element ids they fill (``hx-target="#results"`` → block
    ``results``, hyphens as underscores); a block the page inherits counts too (``#content``, the
    page's main element, gets base.html's block ``content`` with the page's own blocks in it). An
    htmx request whose ``HX-Target`` is missing or names no block of the page gets the full page.
    A block rendered alone does not see the template's top-level imports, so blocks import their macros.
    """
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.history_restore_request and htmx.target:
        target = htmx.target.replace("-", "_")
        template = current_app.jinja_env.get_template(template_name)
        if target in template.blocks:
            return render_block(template_name, target, **context)
        blocks = _inherited_blocks(template_name)
        if target in blocks:
            return _render_inherited_block(template_name, blocks, target, context)
    return render_template(template_name, **context)


def _parent_template(name: str) -> str | None:
    """The template ``name`` extends (a constant ``{% extends "..." %}``), else None."""
    from jinja2 import nodes

    env = current_app.jinja_env
    source, _filename, _uptodate = env.loader.get_source(env, name)
    found = env.parse(source).find(nodes.Extends)
    return found.template.value if found is not None and isinstance(found.template, nodes.Const) else None


def _inherited_blocks(template_name: str) -> dict[str, list]:
    """Every block a page renders, its own and those of the templates it extends, each name with its
    render functions nearest first: what Jinja assembles when it renders the whole page. Cached on
    the compiled template (a reloaded template is a new object)."""
    env = current_app.jinja_env
    template = env.get_template(template_name)
    cached = getattr(template, "_jixiao_blocks", None)
    if cached is not None:
        return cached
    blocks: dict[str, list] = {}
    name: str | None = template_name
    seen: set[str] = set()
    while name is not None and name not in seen:
        seen.add(name)
        for block, render in env.get_template(name).blocks.items():
            blocks.setdefault(block, []).append(render)
        name = _parent_template(name)
    template._jixiao_blocks = blocks  # type: ignore[attr-defined]
    return blocks


def _render_inherited_block(template_name: str, blocks: dict[str, list], target: str, context: dict) -> str:
    """One block of a parent template, rendered with the page's own blocks inside it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    app.update_template_context(context)
    template = app.jinja_env.get_template(template_name)
    ctx = template.new_context(dict(context))
    ctx.blocks.clear()
    ctx.blocks.update({name: list(renders) for name, renders in blocks.items()})
    try:
        return app.jinja_env.concat(ctx.blocks[target][0](ctx))  # type: ignore[attr-defined]
    except Exception:
        return app.jinja_env.handle_exception()


# --------------------------------------------------------------------------------------- pagination

@dataclass
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)

    def url(self, page: int) -> str:
        """The current URL with another page number, other query arguments kept."""
        args = request.args.to_dict()
        args["page"] = str(page)
        return f"{request.path}?{urlencode(args)}"


def redirect_after(location: str):
    """After a change: a redirect, which htmx requests get as ``HX-Redirect`` (htmx follows it
    after its confirm, and the flashed message shows on the page it lands on)."""
    if request.headers.get("HX-Request"):
        return "", 204, {"HX-Redirect": location}
    return redirect(location)


def page_number() -> int:
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and int(raw) >= 1 else 1


def paginate(stmt: Select, per_page: int | None = None) -> Page:
    """Run ``stmt`` for one page (``?page=N``) plus one COUNT query."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    total = db_session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    page = min(page_number(), max(1, math.ceil(total / per_page)))
    items = list(db_session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)))
    return Page(items=items, page=page, per_page=per_page, total=total)


def paginate_list(items: list[Any], per_page: int | None = None) -> Page:
    """Paginate an already ordered list (the org tree is ordered in Python, depth first)."""
    per_page = per_page or current_app.config["PAGE_SIZE"]
    page = min(page_number(), max(1, math.ceil(len(items) / per_page)))
    return Page(items=items[(page - 1) * per_page: page * per_page], page=page, per_page=per_page, total=len(items))


# --------------------------------------------------------------------------------------- org tree

@dataclass
class TreeNode:
    unit: OrgUnit
    depth: int
    people: int


def unit_tree(include_inactive: bool = False) -> list[TreeNode]:
    """Every unit of the tenant depth first, with its number of active people: two queries."""
    stmt = select(OrgUnit).order_by(OrgUnit.sort_order, OrgUnit.code)
    if not include_inactive:
        stmt = stmt.where(OrgUnit.active.is_(True))
    units = list(db_session.scalars(stmt))
    counts = dict(db_session.execute(
        select(Person.unit_id, func.count()).where(Person.active.is_(True)).group_by(Person.unit_id)
    ).all())
    ids = {u.id for u in units}
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        parent = unit.parent_id if unit.parent_id in ids else None
        children.setdefault(parent, []).append(unit)
    ordered: list[TreeNode] = []
    stack = [(u, 0) for u in reversed(children.get(None, []))]
    while stack:
        unit, depth = stack.pop()
        ordered.append(TreeNode(unit, depth, counts.get(unit.id, 0)))
        stack.extend((c, depth + 1) for c in reversed(children.get(unit.id, [])))
    return ordered


# --------------------------------------------------------------------------------------- pages

@bp.get("/")
def landing():
    """The portal's front door: pick an organisation (when the directory is shown) or type its code."""
    code = request.args.get("org", "").strip().lower()
    if code:
        return redirect(url_for("auth.login", tenant=code))
    tenants = []
    if current_app.config["SHOW_TENANT_DIRECTORY"]:
        tenants = db_session.scalars(select(Tenant).where(Tenant.active.is_(True)).order_by(Tenant.slug)).all()
    return render_template("landing.html", tenants=tenants)


@bp.get("/healthz")
def healthz():
    """Liveness and database check for load balancers."""
    db_session.execute(select(1))
    return {"status": "ok"}


@tenant_bp.get("/")
@permission_required("tenant.home")
def home():
    """A tenant's home: the signed-in person, the org tree and the panels of enabled schemes."""
    user = tenant_user(current_user)
    return render_page("home.html", user=user, tree=unit_tree(), can_view_org=can(user, "org.view"))


ROLE_LABELS = {
    "tenant_admin": _l("Tenant administrator"), "leader": _l("Leader"), "committee": _l("Committee member"),
    "unit_head": _l("Unit head"), "employee": _l("Employee"), "surveyor": _l("Surveyor"),
}


def actor_name(actor: str | None) -> str:
    """How an audit actor (``user:hr``, ``cli``) reads on a page: an account's display name."""
    if not actor:
        return ""
    kind, _sep, username = actor.partition(":")
    if kind != "user" or not username:
        return actor
    from core.models import User

    cache = g.setdefault("_actor_names", {})
    if username not in cache:
        cache[username] = db_session.scalar(select(User.display_name).where(User.username == username)) or username
    return cache[username]


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def _error(status: int, title: str, message: str):
    if request.headers.get("HX-Request") == "true":
        return render_template("_error_fragment.html", title=title, message=message), status
    return render_template("error.html", status=status, title=title, message=message), status


def init_app(app: Flask) -> None:
    Htmx(app)
    app.register_blueprint(bp)
    app.register_blueprint(tenant_bp)
    app.register_error_handler(403, lambda e: _error(403, _("Not allowed"), _("Your account may not open this page.")))
    app.register_error_handler(404, lambda e: _error(404, _("Not found"), _("There is no such page, or it is not yours to see.")))
    app.register_error_handler(409, lambda e: _error(409, _("Changed by someone else"), e.description))
    app.register_error_handler(429, lambda e: _error(429, _("Too many attempts"), _("Too many attempts; wait a minute and try again.")))
    app.register_error_handler(CSRFError, lambda e: _error(400, _("Form expired"), _("The form expired or was sent from elsewhere; reload the page and try again.")))
    app.jinja_env.globals["can"] = can
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.filters["actor_name"] = actor_name
    # JSON shown as text (audit rows, raw inputs): readable Chinese; autoescaping makes it HTML-safe
    app.jinja_env.filters["json_text"] = lambda value: json.dumps(value, ensure_ascii=False, default=str)
