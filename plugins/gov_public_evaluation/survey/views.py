"""The survey pages (公众评议) of a township cycle: setting up the questions and quotas, the
surveyors' household and telephone interviews, and the live progress against the quotas.

- ``/township/survey``: the index of the scheme's cycles' surveys (the menu's "Public evaluation"
  for the office and leaders, "Interviews" for surveyors when several cycles are open);
- ``/cycles/<id>/survey``: the office sets up the questions (until the first response arrives; a
  copy of another cycle's questions after a confirmation step) and each respondent category's quota;
- ``/survey/interviews`` and ``/survey/interviews/new``: a surveyor records interviews and lists
  their own (the office all of them); a form carries a random submission key, so a double submit
  or a retry records one interview; the form says how far the chosen unit and category are from
  their quota (htmx on change);
- ``/survey/progress``: responses so far per unit and category against the quotas, refreshed by
  htmx every few seconds, filtered to the units missing answers or below quota; the office and
  leaders also see how each unit was answered.

Every page answers htmx requests with the block its target names (``#questions``, ``#quotas``,
``#interview-form``, ``#quota-status``, ``#results``, ``#progress``, ``#delete``); a plain POST
redirects after success. The interview form's large answer buttons come from ``survey.css``
(served by :func:`stylesheet`: the CSP allows no inline style). Who may do what is decided in
plugins/gov_public_evaluation/policy.py; the rules live in :mod:`plugins.gov_public_evaluation.survey.service`.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

from flask import Blueprint, abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.db import db_session
from core.i18n import current_locale
from core.policy import permission_required
from core.slots import MenuItem
from core.web import actor_name, paginate, paginate_list, redirect_after, render_page
from plugins.gov_public_evaluation.policy import (has_interviews_menu, has_public_evaluation_menu,
                                                  may_delete_interview, may_enter_interviews, may_issue_links,
                                                  may_list_interviews, may_manage_survey, may_open_survey_index,
                                                  may_view_answer_distribution, may_view_survey_progress,
                                                  sees_all_interviews, sees_draft_surveys)
from plugins.gov_public_evaluation.survey import models, service  # noqa: F401 (models: the tables register)
from plugins.gov_public_evaluation.survey.models import ANSWER_KEYS, CHANNELS, SurveyQuestion, SurveyResponse
from plugins.gov_public_evaluation.survey.service import INTERVIEW_CHANNELS, SurveyConflict, SurveyError
from plugins.gov_public_evaluation.web import (account, actor, allowed, cycle_state_name, get_township_cycle,
                                               require_scheme)

bp = Blueprint("township_survey", __name__, url_prefix="/t/<tenant>/township")

POLL_SECONDS = 5
STYLESHEET = (Path(__file__).parent / "survey.css").read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------- helpers

def _context(cycle=None, **extra) -> dict:
    """What every page's template uses."""
    return dict(cycle=cycle, answer_label=service.answer_label, channel_label=service.channel_label,
                answer_keys=ANSWER_KEYS, channels=CHANNELS, interview_channels=INTERVIEW_CHANNELS,
                actor_name=actor_name, cycle_state_name=cycle_state_name, locale=current_locale(),
                question_text=service.question_text, tabs=_tabs(cycle, account()) if cycle is not None else [],
                **extra)


def _tabs(cycle, user) -> list:
    """The tabs between a cycle's survey pages the user may open: the cycle's survey links, and the
    anonymous links' page (评议链接) for whoever issues them."""
    tabs = cycle_links(cycle, user)
    if may_issue_links(user):
        tabs.append(MenuItem(_("Survey links"), url_for("township_links.index", cycle_id=cycle.id),
                             "township_links.index", order=75))
    return sorted(tabs, key=lambda tab: tab.order)


def _cycle(cycle_id: int, decision) -> object:
    """The township cycle (404 for another tenant's or scheme's), if the policy lets the user in (403)."""
    require_scheme()
    cycle = get_township_cycle(cycle_id)
    allowed(decision(account()))
    return cycle


def _question(cycle, question_id: int) -> SurveyQuestion:
    """A question of the cycle, or 404."""
    question = db_session.get(SurveyQuestion, question_id)
    if question is None or question.cycle_id != cycle.id:
        abort(404)
    return question


def _filter_value(name: str, allowed_values) -> str:
    value = request.args.get(name, "")
    return value if value in allowed_values else ""


# ----------------------------------------------------------------------------------- the open cycles

@bp.get("/survey")
@permission_required("tenant.home")
def index():
    """The surveys of the scheme's cycles, newest period first, paginated: each cycle's state and
    responses so far, and its survey pages the user may open (record an interview and the
    interviews, the progress, the setup, the anonymous links). Where the office's and leaders'
    "Public evaluation" menu entry leads, and the surveyors' "Interviews" when several cycles are
    open. Drafts are listed for the office only (their surveys are being set up)."""
    require_scheme()
    user = account()
    allowed(may_open_survey_index(user))
    page = paginate(service.index_statement(include_drafts=sees_draft_surveys(user)))
    counts = service.response_counts([c.id for c in page.items])
    rows = [(c, counts.get(c.id, 0), _index_actions(c, user)) for c in page.items]
    return render_page("gov_public_evaluation/survey/index.html", **_context(
        page=page, rows=rows, collecting=service.COLLECTING))


def _index_actions(cycle, user) -> list[tuple[str, str]]:
    """A cycle's survey pages the user may open from the index: (label, address)."""
    actions = []
    if may_enter_interviews(user) and cycle.state in service.COLLECTING:
        actions.append((_("Record an interview"), url_for(".new_interview", cycle_id=cycle.id)))
    if may_list_interviews(user):
        actions.append((_("Interviews"), url_for(".interviews", cycle_id=cycle.id)))
    if may_view_survey_progress(user):
        actions.append((_("Survey progress"), url_for(".progress", cycle_id=cycle.id)))
    if may_manage_survey(user):
        actions.append((_("Survey setup"), url_for(".setup", cycle_id=cycle.id)))
    if may_issue_links(user):
        actions.append((_("Survey links"), url_for("township_links.index", cycle_id=cycle.id)))
    return actions


@bp.get("/survey.css")
@permission_required("tenant.home")
def stylesheet():
    """The survey pages' styles (the CSP allows no inline style): the interview form's answers as
    large buttons for a surveyor's phone, one question per block; the quota line."""
    require_scheme()
    response = make_response(STYLESHEET)
    response.mimetype = "text/css"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# ----------------------------------------------------------------------------------- setup

def _setup_context(cycle, message: str | None = None, question_values: dict | None = None,
                   question_errors: dict | None = None, quota_values: dict | None = None,
                   quota_versions: dict | None = None, quota_errors: dict | None = None,
                   quota_message: str | None = None, copy_errors: dict | None = None,
                   copy_value: str = "") -> dict:
    asked = service.questions(cycle.id)
    responses = service.response_count(cycle.id)
    rows = service.quotas(cycle.id)
    cats = service.categories(cycle)
    fixed = service.questions_fixed(cycle, responses=responses)
    return _context(
        cycle, questions=asked, responses=responses, fixed=fixed,
        copy_sources=[] if fixed else service.copy_sources(cycle), copy_errors=copy_errors or {},
        copy_value=copy_value,
        quotas_fixed=service.quotas_fixed(cycle), categories=cats, stamp=service.question_stamp,
        message=message, question_values=question_values or {}, question_errors=question_errors or {},
        quota_values=quota_values if quota_values is not None else {
            code: str(rows[code].per_unit) if code in rows else "" for code, _name in cats},
        quota_versions=quota_versions if quota_versions is not None else {
            code: str(rows[code].version) if code in rows else "" for code, _name in cats},
        quota_errors=quota_errors or {}, quota_message=quota_message, units=len(service.cycle_units(cycle)),
        max_questions=service.QUESTIONS_MAX, max_quota=service.QUOTA_MAX)


@bp.get("/cycles/<int:cycle_id>/survey")
@permission_required("tenant.home")
def setup(cycle_id: int):
    """The survey's setup: its questions (edited, added, removed and reordered until the first
    response arrives; then fixed, and the page says why) and each respondent category's quota."""
    cycle = _cycle(cycle_id, may_manage_survey)
    return render_page("gov_public_evaluation/survey/setup.html", **_setup_context(cycle))


@bp.post("/cycles/<int:cycle_id>/survey/quotas")
@permission_required("tenant.home")
def save_quotas(cycle_id: int):
    """Save every category's quota at once (a whole number of respondents per unit, 0 or more);
    the form carries each quota's version, so a change by someone else meanwhile is a 409 that
    names their values and keeps the user's."""
    cycle = _cycle(cycle_id, may_manage_survey)
    cats = service.categories(cycle)
    values = {code: request.form.get(f"quota-{code}", "") for code, _name in cats}
    versions = {code: request.form.get(f"version-{code}", "") for code, _name in cats}
    try:
        changed = service.set_quotas(cycle, values, versions, actor())
        db_session.commit()
    except SurveyConflict as exc:
        db_session.rollback()
        return render_page("gov_public_evaluation/survey/setup.html", **_setup_context(
            cycle, quota_values=values, quota_message=str(exc))), 409
    except SurveyError as exc:
        db_session.rollback()
        return render_page("gov_public_evaluation/survey/setup.html", **_setup_context(
            cycle, quota_values=values, quota_versions=versions, quota_errors=exc.errors,
            quota_message=str(exc))), 422
    except (StaleDataError, IntegrityError):  # saved by someone else at the same moment
        db_session.rollback()
        return render_page("gov_public_evaluation/survey/setup.html", **_setup_context(
            cycle, quota_values=values, quota_message=_(
                "The quotas were changed by someone else at the same moment; your values are kept below: save again "
                "to replace theirs."))), 409
    flash(_("Quotas saved (%(n)s changed).", n=len(changed)), "success")
    return redirect_after(url_for(".setup", cycle_id=cycle.id, _anchor="quotas"))


@bp.post("/cycles/<int:cycle_id>/survey/questions")
@permission_required("tenant.home")
def add_question(cycle_id: int):
    """Add a question after the last one (topic, the question in Chinese, optionally in English)."""
    cycle = _cycle(cycle_id, may_manage_survey)
    values = request.form.to_dict()
    try:
        question = service.add_question(cycle, values, actor())
        position = question.position
        db_session.commit()
    except SurveyError as exc:
        db_session.rollback()
        return render_page("gov_public_evaluation/survey/setup.html", **_setup_context(
            cycle, message=str(exc), question_values=values, question_errors=exc.errors)), exc.status
    flash(_("Question %(n)s added.", n=position), "success")
    return redirect_after(url_for(".setup", cycle_id=cycle.id, _anchor="questions"))


@bp.route("/cycles/<int:cycle_id>/survey/questions/<int:question_id>/edit", methods=["GET", "POST"])
@permission_required("tenant.home")
def edit_question(cycle_id: int, question_id: int):
    """Change a question's topic and text; the form carries what it saw of the question, so a
    change by someone else meanwhile is a 409 naming the question's text now."""
    cycle = _cycle(cycle_id, may_manage_survey)
    question = _question(cycle, question_id)
    fixed = service.questions_fixed(cycle)
    template = "gov_public_evaluation/survey/question_edit.html"
    if request.method == "GET":
        values = {"topic": question.topic, "text_zh": question.text_zh, "text_en": question.text_en,
                  "stamp": service.question_stamp(question)}
        return render_page(template, **_context(cycle, question=question, values=values, errors={},
                                                message=fixed, fixed=fixed)), (409 if fixed else 200)
    values = request.form.to_dict()
    try:
        service.edit_question(cycle, question, values, values.get("stamp"), actor())
        position = question.position
        db_session.commit()
    except SurveyError as exc:
        db_session.rollback()
        fresh = db_session.get(SurveyQuestion, question_id)
        if fresh is None:
            abort(404)
        if isinstance(exc, SurveyConflict):  # the current stamp: saving again is a deliberate overwrite
            values["stamp"] = service.question_stamp(fresh)
        return render_page(template, **_context(cycle, question=fresh, values=values, errors=exc.errors,
                                                message=str(exc), fixed=service.questions_fixed(cycle))), exc.status
    flash(_("Question %(n)s saved.", n=position), "success")
    return redirect_after(url_for(".setup", cycle_id=cycle.id, _anchor="questions"))


@bp.post("/cycles/<int:cycle_id>/survey/questions/<int:question_id>/move")
@permission_required("tenant.home")
def move_question(cycle_id: int, question_id: int):
    """Move a question one place up or down (``direction``); the form carries what it saw of it."""
    cycle = _cycle(cycle_id, may_manage_survey)
    question = _question(cycle, question_id)
    try:
        service.move_question(cycle, question, request.form.get("direction", ""), request.form.get("stamp"), actor())
        db_session.commit()
    except SurveyError as exc:
        db_session.rollback()
        return render_page("gov_public_evaluation/survey/setup.html", **_setup_context(
            cycle, message=str(exc))), exc.status
    return redirect_after(url_for(".setup", cycle_id=cycle.id, _anchor="questions"))


@bp.route("/cycles/<int:cycle_id>/survey/questions/<int:question_id>/delete", methods=["GET", "POST"])
@permission_required("tenant.home")
def delete_question(cycle_id: int, question_id: int):
    """Remove a question after a confirmation step (the later ones move up a place)."""
    cycle = _cycle(cycle_id, may_manage_survey)
    question = _question(cycle, question_id)
    template = "gov_public_evaluation/survey/question_delete.html"
    fixed = service.questions_fixed(cycle)
    if request.method == "GET":
        return render_page(template, **_context(cycle, question=question, stamp=service.question_stamp(question),
                                                message=fixed)), (409 if fixed else 200)
    position = question.position
    try:
        service.remove_question(cycle, question, request.form.get("stamp"), actor())
        db_session.commit()
    except SurveyError as exc:
        db_session.rollback()
        fresh = db_session.get(SurveyQuestion, question_id)
        if fresh is None:
            abort(404)
        return render_page(template, **_context(cycle, question=fresh, stamp=service.question_stamp(fresh),
                                                message=str(exc))), exc.status
    flash(_("Question %(n)s removed.", n=position), "success")
    return redirect_after(url_for(".setup", cycle_id=cycle.id, _anchor="questions"))


@bp.route("/cycles/<int:cycle_id>/survey/questions/copy", methods=["GET", "POST"])
@permission_required("tenant.home")
def copy_questions(cycle_id: int):
    """Replace the cycle's questions by those of another of the scheme's cycles (``source``), after a
    confirmation step that shows both lists; while the questions are not fixed. The confirmation
    carries what it showed of this cycle's questions, so a change by someone else meanwhile is a
    409 (the page shows the questions as they are now)."""
    cycle = _cycle(cycle_id, may_manage_survey)
    template = "gov_public_evaluation/survey/question_copy.html"
    raw = (request.form if request.method == "POST" else request.args).get("source", "")
    try:
        source = service.copy_source(cycle, raw)
    except SurveyError as exc:
        return render_page("gov_public_evaluation/survey/setup.html", **_setup_context(
            cycle, copy_errors=exc.errors, copy_value=str(raw)[:20])), exc.status

    def confirm(message=None, status=200):
        asked = service.questions(cycle.id)
        return render_page(template, **_context(
            cycle, source=source, current=asked, copied=service.questions(source.id),
            stamp=service.questions_stamp(asked), message=message,
            fixed_message=service.questions_fixed(cycle))), status

    fixed = service.questions_fixed(cycle)
    if request.method == "GET":
        return confirm(fixed, 409 if fixed else 200)
    try:
        n = service.copy_questions(cycle, source, request.form.get("stamp"), actor())
        db_session.commit()
    except SurveyError as exc:
        db_session.rollback()
        return confirm(str(exc), exc.status)
    flash(_("%(n)s questions copied from %(cycle)s; they replace this cycle's questions.", n=n, cycle=source.name),
          "success")
    return redirect_after(url_for(".setup", cycle_id=cycle.id, _anchor="questions"))


# ----------------------------------------------------------------------------------- interviews

def _quota_status(cycle, values: dict, units, cats) -> dict | None:
    """How far the chosen unit and category are from their quota (responses so far, the quota), or
    None until both are chosen."""
    unit_id, category = str(values.get("unit_id") or ""), str(values.get("category") or "")
    unit = next((u for u in units if str(u.id) == unit_id), None)
    names = dict(cats)
    if unit is None or category not in names:
        return None
    row = service.quotas(cycle.id).get(category)
    return dict(unit=unit, category=names[category], n=service.unit_category_count(cycle.id, unit.id, category),
                quota=row.per_unit if row is not None else 0)


def _interview_context(cycle, values: dict, errors: dict, message: str | None = None, units=None) -> dict:
    units = units if units is not None else service.cycle_units(cycle)
    cats = service.categories(cycle)
    return _context(cycle, values=values, errors=errors, message=message, questions=service.questions(cycle.id),
                    units=units, categories=cats, closed=cycle.state not in service.COLLECTING,
                    note_max=service.NOTE_MAX, quota_status=_quota_status(cycle, values, units, cats))


@bp.route("/cycles/<int:cycle_id>/survey/interviews/new", methods=["GET", "POST"])
@permission_required("tenant.home")
def new_interview(cycle_id: int):
    """Record a household visit or telephone interview: the unit, the respondent's category, the
    channel, an answer to every question and an optional note (no personal data). The form carries
    a random submission key made when it is rendered: sent twice, it records one interview and says
    so. "Save and record another" comes back with the same unit, category and channel. ``unit_id``
    and ``category`` in the query choose them (the progress page's cells link here so); an htmx
    request for ``#quota-status`` gets the line "n so far / quota m" of the chosen unit and category."""
    cycle = _cycle(cycle_id, may_enter_interviews)
    template = "gov_public_evaluation/survey/interview_new.html"
    closed = None if cycle.state in service.COLLECTING else _(
        "The survey of %(cycle)s takes answers while the cycle is open; it is %(state)s.", cycle=cycle.name,
        state=cycle_state_name(cycle.state))
    if request.method == "GET":
        units = service.cycle_units(cycle)
        values = {"submission_key": service.new_submission_key(), "channel": "household"}
        unit_id = request.args.get("unit_id", "")
        if unit_id.isdigit() and int(unit_id) in {u.id for u in units}:
            values["unit_id"] = unit_id
        category = request.args.get("category", "")
        if category in dict(service.categories(cycle)):
            values["category"] = category
        if request.args.get("channel") in INTERVIEW_CHANNELS:
            values["channel"] = request.args["channel"]
        return render_page(template, **_interview_context(cycle, values, {}, closed, units)), (409 if closed else 200)
    values = request.form.to_dict()
    units = service.cycle_units(cycle)
    if closed:  # too late, unless this is a retry of a form recorded before the survey closed
        response = service.recorded_interview(values.get("submission_key", ""))
        if response is None or response.cycle_id != cycle.id:
            return render_page(template, **_interview_context(cycle, values, {}, closed, units)), 409
        created = False
    else:
        try:
            interview = service.check_interview(cycle, values, service.questions(cycle.id), units)
            response, created = service.record_interview(cycle, interview, actor())
            db_session.commit()
        except SurveyError as exc:
            db_session.rollback()
            return render_page(template, **_interview_context(cycle, values, exc.errors, str(exc), units)), exc.status
    described = service.describe(response, {u.id: u for u in units}, dict(service.categories(cycle)))
    if created:
        flash(_("Interview recorded: %(interview)s.", interview=described), "success")
    elif response.entered_by == actor():  # another's form key tells nothing about their interview
        flash(_("Already recorded: this form was sent before (%(interview)s); nothing was added.",
                interview=described), "success")
    else:
        flash(_("Already recorded: this form was sent before; nothing was added."), "success")
    if values.get("another") and not closed:
        return redirect_after(url_for(".new_interview", cycle_id=cycle.id, unit_id=response.unit_id,
                                      category=response.category, channel=response.channel))
    return redirect_after(url_for(".interviews", cycle_id=cycle.id))


@bp.get("/cycles/<int:cycle_id>/survey/interviews")
@permission_required("tenant.home")
def interviews(cycle_id: int):
    """The interviews of the cycle: a surveyor's own, the office's all; filtered by unit, category
    and channel, newest first, paginated."""
    cycle = _cycle(cycle_id, may_list_interviews)
    user = account()
    everyone = sees_all_interviews(user)
    units = service.cycle_units(cycle)
    cats = service.categories(cycle)
    raw_unit = request.args.get("unit_id", "")
    unit_id = int(raw_unit) if raw_unit.isdigit() else None
    category = _filter_value("category", dict(cats))
    channel = _filter_value("channel", INTERVIEW_CHANNELS)
    page = paginate(service.interviews_statement(cycle, None if everyone else actor(), unit_id, category, channel))
    collecting = cycle.state in service.COLLECTING
    me = actor()
    return render_page("gov_public_evaluation/survey/interviews.html", **_context(
        cycle, page=page, units=units, units_by_id={u.id: u for u in units}, categories=cats,
        category_names=dict(cats), unit_id=unit_id, category=category, channel=channel, everyone=everyone,
        may_add=collecting, collecting=collecting, may_progress=may_view_survey_progress(user),
        may_delete=lambda r: collecting and may_delete_interview(user, r.entered_by, me)))


def _interview(cycle, response_id: int) -> SurveyResponse:
    """An interview of the cycle (not a link's response), or 404."""
    response = db_session.get(SurveyResponse, response_id)
    if response is None or response.cycle_id != cycle.id or not service.is_interview(response):
        abort(404)
    return response


@bp.route("/cycles/<int:cycle_id>/survey/interviews/<int:response_id>/delete", methods=["GET", "POST"])
@permission_required("tenant.home")
def delete_interview(cycle_id: int, response_id: int):
    """Delete an interview after a confirmation step: a surveyor their own, the office any, while
    the cycle is open."""
    cycle = _cycle(cycle_id, may_list_interviews)
    response = _interview(cycle, response_id)
    user = account()
    allowed(may_delete_interview(user, response.entered_by, actor()))
    units = {u.id: u for u in service.cycle_units(cycle)}
    names = dict(service.categories(cycle))
    back = url_for(".interviews", cycle_id=cycle.id)
    closed = None if cycle.state in service.COLLECTING else _(
        "Interviews are deleted while the cycle is open; %(cycle)s is %(state)s.", cycle=cycle.name,
        state=cycle_state_name(cycle.state))
    context = _context(cycle, response=response, unit=units.get(response.unit_id),
                       category_name=names.get(response.category, response.category), back=back, message=closed,
                       described=service.describe(response, units, names))
    template = "gov_public_evaluation/survey/interview_delete.html"
    if request.method == "GET":
        return render_page(template, **context), (409 if closed else 200)
    try:
        service.delete_interview(cycle, response, actor())
        db_session.commit()
    except SurveyError as exc:
        db_session.rollback()
        fresh = db_session.get(SurveyResponse, response_id)
        if fresh is None:
            abort(404)
        context.update(response=fresh, message=str(exc))
        return render_page(template, **context), exc.status
    flash(_("Interview deleted: %(interview)s.", interview=context["described"]), "success")
    return redirect_after(back)


# ----------------------------------------------------------------------------------- progress

@bp.get("/cycles/<int:cycle_id>/survey/progress")
@permission_required("tenant.home")
def progress(cycle_id: int):
    """Responses so far per unit and category against the quotas, with totals per unit, category
    and channel; each unit × category cell opens the interview form for that unit and category
    (for whoever records interviews, while the cycle is open). Refreshed every few seconds while
    the cycle is open (htmx gets the ``#progress`` block alone). The office and leaders also see how
    each unit was answered, and the units without a scorable answer are named (the cycle cannot move
    to review while there are any); surveyors see counts only, and the units without any response.
    ``?missing=1``: only those units; ``?below=1``: only the units below the quota of some category."""
    cycle = _cycle(cycle_id, may_view_survey_progress)
    user = account()
    state = service.progress(cycle)
    distribution = may_view_answer_distribution(user)
    lacking = state.lacking(distribution)
    shown = "missing" if request.args.get("missing") == "1" else "below" if request.args.get("below") == "1" else ""
    rows = lacking if shown == "missing" else state.below_quota if shown == "below" else state.units
    return render_page("gov_public_evaluation/survey/progress.html", **_context(
        cycle, progress=state, page=paginate_list(rows), shown=shown, lacking=lacking,
        lacking_ids={u.unit.id for u in lacking}, distribution=distribution,
        polling=cycle.state in service.COLLECTING,
        poll_seconds=POLL_SECONDS, poll_url=request.full_path if request.query_string else request.path,
        now_text=datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        may_enter=may_enter_interviews(user) and cycle.state in service.COLLECTING,
        may_list=may_list_interviews(user), may_manage=may_manage_survey(user)))


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """A township cycle links to its survey: the setup for the office, the interviews for whoever
    enters them, the progress for whoever may follow it."""
    items = []
    if may_manage_survey(user):
        items.append(MenuItem(_("Survey setup"), url_for("township_survey.setup", cycle_id=cycle.id),
                              "township_survey.setup", order=72))
    if may_list_interviews(user):
        items.append(MenuItem(_("Interviews"), url_for("township_survey.interviews", cycle_id=cycle.id),
                              "township_survey.interviews", order=73))
    if may_view_survey_progress(user):
        items.append(MenuItem(_("Survey progress"), url_for("township_survey.progress", cycle_id=cycle.id),
                              "township_survey.progress", order=74))
    return items


def menu_items(tenant, user) -> list:
    """"Interviews" for surveyors (order 72): the open cycle's interviews, or the survey's index
    when there are none or several (one small query). "Public evaluation" for the office and
    leaders (order 73): the survey's index of the scheme's cycles."""
    items = []
    if has_interviews_menu(user):
        open_ids = [c.id for c in service.survey_cycles()]
        if len(open_ids) == 1:
            items.append(MenuItem(_("Interviews"), url_for("township_survey.interviews", tenant=tenant.slug,
                                                           cycle_id=open_ids[0]),
                                  "township_survey.interviews", order=72))
        else:
            items.append(MenuItem(_("Interviews"), url_for("township_survey.index", tenant=tenant.slug),
                                  "township_survey.index", order=72))
    if has_public_evaluation_menu(user):
        items.append(MenuItem(_("Public evaluation"), url_for("township_survey.index", tenant=tenant.slug),
                              "township_survey.index", order=73))
    return items
