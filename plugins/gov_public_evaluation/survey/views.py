"""The survey pages (公众评议) of a township cycle: setting up the questions and quotas, the
surveyors' household and telephone interviews, and the live progress against the quotas.

- ``/survey``: the office sets up the questions (until the first response arrives) and each
  respondent category's quota;
- ``/survey/interviews`` and ``/survey/interviews/new``: a surveyor records interviews and lists
  their own (the office all of them); a form carries a random submission key, so a double submit
  or a retry records one interview;
- ``/survey/progress``: responses so far per unit and category against the quotas, refreshed by
  htmx every few seconds; the office and leaders also see how each unit was answered.

Every page answers htmx requests with the block its target names (``#questions``, ``#quotas``,
``#interview-form``, ``#results``, ``#progress``, ``#delete``); a plain POST redirects after
success. Who may do what is decided in plugins/gov_public_evaluation/policy.py; the rules live in
:mod:`plugins.gov_public_evaluation.survey.service`.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.db import db_session
from core.i18n import current_locale
from core.policy import permission_required
from core.slots import MenuItem
from core.web import actor_name, paginate, paginate_list, redirect_after, render_page
from plugins.gov_public_evaluation.policy import (has_interviews_menu, may_delete_interview, may_enter_interviews,
                                                  may_list_interviews, may_manage_survey, may_open_survey_index,
                                                  may_view_answer_distribution, may_view_survey_progress,
                                                  sees_all_interviews)
from plugins.gov_public_evaluation.survey import models, service  # noqa: F401 (models: the tables register)
from plugins.gov_public_evaluation.survey.models import ANSWER_KEYS, CHANNELS, SurveyQuestion, SurveyResponse
from plugins.gov_public_evaluation.survey.service import INTERVIEW_CHANNELS, SurveyConflict, SurveyError
from plugins.gov_public_evaluation.web import (account, actor, allowed, cycle_state_name, get_township_cycle,
                                               require_scheme)

bp = Blueprint("township_survey", __name__, url_prefix="/t/<tenant>/township")

POLL_SECONDS = 5


# ----------------------------------------------------------------------------------- helpers

def _context(cycle=None, **extra) -> dict:
    """What every page's template uses."""
    return dict(cycle=cycle, answer_label=service.answer_label, channel_label=service.channel_label,
                answer_keys=ANSWER_KEYS, channels=CHANNELS, interview_channels=INTERVIEW_CHANNELS,
                actor_name=actor_name, cycle_state_name=cycle_state_name, locale=current_locale(),
                question_text=service.question_text, tabs=cycle_links(cycle, account()) if cycle is not None else [],
                **extra)


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
    """The cycles whose survey is under way (open), each with its interviews, progress and setup:
    where the surveyors' "Interviews" menu entry leads when more than one cycle is open."""
    require_scheme()
    user = account()
    allowed(may_open_survey_index(user))
    cycles = service.survey_cycles()
    return render_page("gov_public_evaluation/survey/index.html", **_context(
        cycles=cycles, may_enter=may_enter_interviews(user), may_progress=may_view_survey_progress(user),
        may_manage=may_manage_survey(user)))


# ----------------------------------------------------------------------------------- setup

def _setup_context(cycle, message: str | None = None, question_values: dict | None = None,
                   question_errors: dict | None = None, quota_values: dict | None = None,
                   quota_versions: dict | None = None, quota_errors: dict | None = None,
                   quota_message: str | None = None) -> dict:
    asked = service.questions(cycle.id)
    responses = service.response_count(cycle.id)
    rows = service.quotas(cycle.id)
    cats = service.categories(cycle)
    return _context(
        cycle, questions=asked, responses=responses, fixed=service.questions_fixed(cycle, responses=responses),
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


# ----------------------------------------------------------------------------------- interviews

def _interview_context(cycle, values: dict, errors: dict, message: str | None = None, units=None) -> dict:
    return _context(cycle, values=values, errors=errors, message=message, questions=service.questions(cycle.id),
                    units=units if units is not None else service.cycle_units(cycle),
                    categories=service.categories(cycle), closed=cycle.state not in service.COLLECTING,
                    note_max=service.NOTE_MAX)


@bp.route("/cycles/<int:cycle_id>/survey/interviews/new", methods=["GET", "POST"])
@permission_required("tenant.home")
def new_interview(cycle_id: int):
    """Record a household visit or telephone interview: the unit, the respondent's category, the
    channel, an answer to every question and an optional note (no personal data). The form carries
    a random submission key made when it is rendered: sent twice, it records one interview and says
    so. "Save and record another" comes back with the same unit, category and channel."""
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
    and channel; the units without a scorable answer are named (the cycle cannot move to review
    while there are any). Refreshed every few seconds while the cycle is open (htmx gets the
    ``#progress`` block alone). The office and leaders also see how each unit was answered;
    surveyors see counts only. ``?missing=1``: only the units without a scorable answer."""
    cycle = _cycle(cycle_id, may_view_survey_progress)
    user = account()
    state = service.progress(cycle)
    missing = request.args.get("missing") == "1"
    rows = state.without_answers if missing else state.units
    return render_page("gov_public_evaluation/survey/progress.html", **_context(
        cycle, progress=state, page=paginate_list(rows), missing=missing,
        distribution=may_view_answer_distribution(user), polling=cycle.state in service.COLLECTING,
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
    """"Interviews" for surveyors (order 72): the open cycle's interviews, or the list of the open
    cycles when there are several (one small query)."""
    if not has_interviews_menu(user):
        return []
    open_ids = [c.id for c in service.survey_cycles()]
    if len(open_ids) == 1:
        return [MenuItem(_("Interviews"), url_for("township_survey.interviews", tenant=tenant.slug,
                                                  cycle_id=open_ids[0]), "township_survey.interviews", order=72)]
    return [MenuItem(_("Interviews"), url_for("township_survey.index", tenant=tenant.slug), "township_survey.index",
                     order=72)]
