"""Anonymous one-time links (匿名评议二维码): the office issues batches of links per respondent
category and prints them as sheets of QR codes; a respondent opens one on a phone, with no account,
and answers the survey once.

Office pages (``/t/<tenant>/township/cycles/<cycle_id>/links…``) answer htmx requests with the block
their target names (``#issue-form``, ``#results``); a plain POST redirects after success. The public
page (``/t/<tenant>/survey/<token>``) is a standalone phone page: no portal layout, no login, no
CSRF token (the token in the address is the capability), its own few lines of CSS and script inline
under a content-security policy that names their hashes, ``Referrer-Policy: no-referrer`` (the token
never leaves in a Referer). Its POST is idempotent: a repeat gets the same thank-you and writes
nothing, so it is answered directly (200) rather than redirected. Who may do what is decided in
plugins/gov_public_evaluation/policy.py.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import segno
from flask import Blueprint, abort, current_app, flash, g, make_response, render_template, request, session, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from core.db import db_session
from core.i18n import LANGUAGES
from core.policy import permission_required
from core.security import CSP, csrf
from core.slots import MenuItem
from core.web import Page, page_number, paginate, redirect_after, render_page
from plugins.gov_public_evaluation import settings_of
from plugins.gov_public_evaluation.links import models, service  # noqa: F401 (models: the tables register)
from plugins.gov_public_evaluation.links.models import TokenBatch
from plugins.gov_public_evaluation.links.service import LinkError
from plugins.gov_public_evaluation.policy import may_issue_links
from plugins.gov_public_evaluation.survey.models import ANSWER_KEYS, SurveyQuota
from plugins.gov_public_evaluation.survey.service import SurveyError, questions
from plugins.gov_public_evaluation.web import account, actor, allowed, cycle_state_name, get_township_cycle, \
    require_scheme

bp = Blueprint("township_links", __name__, url_prefix="/t/<tenant>")

TEMPLATES = "gov_public_evaluation/links"
PER_SHEET = 200  # codes per sheet page on screen (10 printed A4 pages of 4 × 5)
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules


# ----------------------------------------------------------------------------------- inline assets

@dataclass(frozen=True)
class Inline:
    """A style sheet or script placed inline in a standalone page, and its CSP hash."""

    text: Markup
    source: str  # 'sha256-…'


def _inline(name: str) -> Inline:
    text = (Path(__file__).parent / name).read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")
    return Inline(Markup(text), f"'sha256-{digest}'")


PUBLIC_CSS, PUBLIC_JS = _inline("public.css"), _inline("public.js")
SHEET_CSS, SHEET_JS = _inline("sheet.css"), _inline("sheet.js")


def _csp(style: Inline, script: Inline) -> str:
    """The portal's policy, with the page's own inline style and script allowed by their hashes."""
    return (CSP.replace("style-src 'self'", f"style-src 'self' {style.source}")
            .replace("script-src 'self'", f"script-src 'self' {script.source}"))


PUBLIC_POLICY = _csp(PUBLIC_CSS, PUBLIC_JS)
SHEET_POLICY = _csp(SHEET_CSS, SHEET_JS)


def _standalone(template: str, policy: str, status: int = 200, **context):
    response = make_response(render_template(f"{TEMPLATES}/{template}", **context), status)
    response.headers["Content-Security-Policy"] = policy
    return response


# ----------------------------------------------------------------------------------- office pages

def _answer_labels() -> dict[str, str]:
    return {"satisfied": _("Satisfied"), "basically_satisfied": _("Basically satisfied"),
            "dissatisfied": _("Dissatisfied"), "dont_know": _("Don't know")}


def _load_cycle(cycle_id: int):
    """A township cycle of the current tenant whose links the user may manage (404 / 403)."""
    require_scheme()
    cycle = get_township_cycle(cycle_id)
    allowed(may_issue_links(account()))
    return cycle


def _index_context(cycle, values: dict, errors: dict, message: str | None = None) -> dict:
    settings = settings_of(cycle.settings)
    page = paginate(select(TokenBatch).where(TokenBatch.cycle_id == cycle.id).order_by(TokenBatch.id.desc()))
    quotas = dict(db_session.execute(select(SurveyQuota.category, SurveyQuota.per_unit)
                                     .where(SurveyQuota.cycle_id == cycle.id)).all())
    categories = [(c.code, service.category_label(settings, c.code), quotas.get(c.code, c.quota))
                  for c in settings.survey_categories]
    return dict(cycle=cycle, page=page, counts=service.batch_counts(b.id for b in page.items),
                totals=service.category_totals(cycle.id), categories=categories,
                label=lambda code: service.category_label(settings, code), units=service.cycle_units(cycle),
                values=values, errors=errors, message=message, state_name=cycle_state_name(cycle.state),
                issuing=cycle.state in service.ISSUING_STATES, max_per_unit=service.MAX_PER_UNIT,
                max_batch=service.MAX_BATCH)


@bp.route("/township/cycles/<int:cycle_id>/links", methods=["GET", "POST"])
@permission_required("tenant.home")
def index(cycle_id: int):
    """The cycle's anonymous links (the office): the links issued and answered per category, the
    batches (paginated, newest first) each with its used and unused links and its printable sheet,
    and the form that issues a batch: N links (1–500) for each chosen unit (default: every unit
    the cycle assesses) for one respondent category, at most 5,000 in one batch."""
    cycle = _load_cycle(cycle_id)
    if request.method == "GET":
        first = settings_of(cycle.settings).survey_categories[0]
        values = {"category": first.code, "per_unit": str(min(max(first.quota, 1), service.MAX_PER_UNIT)),
                  "scope": "all", "units": []}
        return render_page(f"{TEMPLATES}/index.html", **_index_context(cycle, values, {}))
    form = request.form
    values = {"category": form.get("category", ""), "per_unit": form.get("per_unit", ""),
              "scope": "chosen" if form.get("scope") == "chosen" else "all", "units": form.getlist("units")}
    try:
        category, per_unit, unit_ids = service.check_batch(
            cycle, values["category"], values["per_unit"], values["units"] if values["scope"] == "chosen" else None)
        batch = service.issue_batch(cycle, category, per_unit, unit_ids, actor())
        size, number = batch.size, batch.id
        db_session.commit()
    except LinkError as exc:
        db_session.rollback()
        return render_page(f"{TEMPLATES}/index.html", **_index_context(cycle, values, exc.errors, str(exc))), exc.status
    flash(_("Batch %(n)s issued: %(size)s links for %(category)s. Print its sheet of QR codes.", n=number, size=size,
            category=service.category_label(settings_of(cycle.settings), category)), "success")
    return redirect_after(url_for(".index", cycle_id=cycle.id))


def _typed_prefix(url: str, token: str) -> str:
    """The address as printed for typing, without its scheme and token: ``host/t/zhen/survey/``."""
    parts = urlsplit(url)
    return parts.netloc + parts.path[: len(parts.path) - len(token)]


@bp.get("/township/cycles/<int:cycle_id>/links/<int:batch_id>/sheet")
@permission_required("tenant.home")
def sheet(cycle_id: int, batch_id: int):
    """A batch's printable sheet: a QR code per link with the unit, the category and the address to
    type under it, 4 × 5 to an A4 page, each unit from a new page; ``?unit_id=`` one unit,
    ``?unused=1`` only the links not answered yet (to reprint lost ones); 200 codes a screen page."""
    cycle = _load_cycle(cycle_id)
    batch = db_session.get(TokenBatch, batch_id)
    if batch is None or batch.cycle_id != cycle.id:
        abort(404)
    raw_unit = request.args.get("unit_id", "")
    unit_id = int(raw_unit) if raw_unit.isascii() and raw_unit.isdigit() else None
    unused = request.args.get("unused") == "1"
    number = page_number()
    rows, total = service.sheet_rows(batch, unit_id, unused, offset=(number - 1) * PER_SHEET, limit=PER_SHEET)
    if not rows and number > 1:  # past the last page: the last one
        number = max(1, -(-total // PER_SHEET))
        rows, total = service.sheet_rows(batch, unit_id, unused, offset=(number - 1) * PER_SHEET, limit=PER_SHEET)
    groups: list[tuple[str, str, list[dict]]] = []
    for row in rows:
        url = url_for(".answer", token=row.token, _external=True)
        code = dict(svg=Markup(segno.make_qr(url, error="m").svg_inline(border=QR_BORDER, omitsize=True)),
                    prefix=_typed_prefix(url, row.token), typed=service.grouped(row.token), used=row.used)
        if not groups or groups[-1][0] != row.unit_code:
            groups.append((row.unit_code, row.unit_name, []))
        groups[-1][2].append(code)
    settings = settings_of(cycle.settings)
    return _standalone("sheet.html", SHEET_POLICY, cycle=cycle, batch=batch, groups=groups,
                       page=Page(items=rows, page=number, per_page=PER_SHEET, total=total),
                       category=service.category_label(settings, batch.category), units=service.batch_units(batch),
                       unit_id=unit_id, unused=unused, css=SHEET_CSS.text, js=SHEET_JS.text)


# ----------------------------------------------------------------------------------- the public page

def _public_locale() -> str:
    """The answer page's language: ``?lang=`` (the page's switch), else the one chosen in the portal,
    else the tenant's, else Chinese. Never the account's: the page loads no user."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        return chosen
    if session.get("locale") in LANGUAGES:
        return session["locale"]
    tenant = g.get("tenant")
    return tenant.locale if tenant is not None and tenant.locale in LANGUAGES else "zh"


def _public_response(body: str, status: int):
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = PUBLIC_POLICY
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _public(template: str, status: int = 200, **context):
    return _public_response(render_template(f"{TEMPLATES}/public/{template}", css=PUBLIC_CSS.text,
                                            js=PUBLIC_JS.text, **context), status)


THANKS_KEPT = 4096  # thank-you pages kept rendered per process (units × languages × 2)


def _thanks(link: service.Link, lang: str, again: bool):
    """The thank-you page: the same for every link of a unit, so it is rendered once per unit,
    language and wording and kept (it is most of what the intake's POST answers)."""
    tenant = g.tenant
    key = (tenant.id, tenant.name, tenant.name_en, lang, link.unit_name, again)
    pages = current_app.extensions.setdefault("township_links.thanks", {})
    body = pages.get(key)
    if body is None:
        if len(pages) >= THANKS_KEPT:
            pages.clear()
        body = pages[key] = render_template(f"{TEMPLATES}/public/thanks.html", css=PUBLIC_CSS.text,
                                            js=PUBLIC_JS.text, lang=lang, unit_name=link.unit_name, again=again)
    return _public_response(body, 200)


@bp.route("/survey/<token>", methods=["GET", "POST"])
@csrf.exempt
def answer(token: str):
    """The anonymous answer page of one link (no login): the unit and the questions, each answered
    satisfied / basically satisfied / dissatisfied / don't know. The POST takes the answers once: a
    repeat (double tap, retry after a lost reply) gets the same thank-you and writes nothing. A used
    link says it was answered; an unknown one (another tenant's too) is a friendly 404; a cycle that
    is not open says the survey is not (or no longer) open. A question left out re-shows the form
    with the other answers kept (422). Nothing about the respondent is stored."""
    lang = _public_locale()
    with force_locale(lang):
        return _answer(token, lang)


def _answer(raw: str, lang: str):
    token = service.normal_token(raw)
    link = service.find_link(token) if token else None
    if link is None:
        return _public("not_found.html", 404, lang=lang)
    if link.used:
        return _thanks(link, lang, again=request.method == "GET")
    context = dict(link=link, lang=lang, category=service.category_label(settings_of(link.settings), link.category))
    if link.state != "open":
        return _public("closed.html", 200 if link.state == "draft" else 410, **context)
    if request.method == "GET":
        return _answer_form(context, {}, set(), None)
    answers = service.answers_of(request.form)
    missing = {i for i in link.question_ids if answers.get(str(i)) not in ANSWER_KEYS}
    try:
        if not link.question_ids:
            raise SurveyError(_("The survey has no questions yet; try again later."))
        if missing:
            # the link carries the ids in no particular order: number them as the form asks them
            numbers = [str(n) for n, i in enumerate(service.question_ids(link.id), start=1) if i in missing]
            raise SurveyError(_("Not sent: %(n)s question(s) not answered (%(numbers)s). Choose one of the four "
                                "answers for each; your other answers are kept.", n=len(numbers),
                                numbers=", ".join(numbers)))
        service.take_answers(link, answers)
        db_session.commit()
    except SurveyError as exc:
        db_session.rollback()
        kept = {k: v for k, v in answers.items() if v in ANSWER_KEYS}
        return _answer_form(context, kept, {str(i) for i in missing}, str(exc), 422)
    return _thanks(link, lang, again=False)


def _answer_form(context: dict, answers: dict, missing: set, message: str | None, status: int = 200):
    link = context["link"]
    return _public("answer.html", status, **context, url=url_for(".answer", token=link.token),
                   questions=questions(link.id), answers=answers, missing=missing, labels=_answer_labels(),
                   message=message)


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """A township cycle links to its anonymous links (the office)."""
    if not may_issue_links(user):
        return []
    return [MenuItem(_("Survey links (QR codes)"), url_for("township_links.index", cycle_id=cycle.id),
                     "township_links.index", order=74)]


def menu_items(tenant, user) -> list:
    """None: the links are reached from a cycle's page."""
    return []
