"""Competence lists (培训对象 / 转岗对象) of a month and across the year, and improvement plans
(改进计划): opening one from a listing, progress notes, editing, and the final evaluation with HR's
decision. Who may do what is decided in plugins/sales_attitude/policy.py; the lists are read from the
computed results (plugins/sales_attitude/competence/service.py).

Pages answer htmx requests with the block their target names (``#results``, ``#plan``,
``#plan-form``); a plain POST redirects after success.
"""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from core.audit import history
from core.cycles.service import CycleError
from core.db import db_session
from core.models import OrgUnit, Person, User
from core.org.forms import STATUS_LABELS
from core.policy import permission_required, tenant_user
from core.slots import MenuItem
from core.web import paginate, paginate_list, redirect_after, render_page
from plugins.sales_attitude.competence import models, service  # noqa: F401 (models: the tables register)
from plugins.sales_attitude.competence.models import DECISIONS, KINDS, STATES, ImprovementPlan
from plugins.sales_attitude.competence.service import PlanError
from plugins.sales_attitude.policy import (may_edit_person_record, may_manage_plans, may_note_plan, may_see_plan_pay,
                                           may_view_listings, may_view_plan, may_view_provisional_listings, plan_scope,
                                           unit_scope)
from plugins.sales_attitude.web import account, actor, cycle_state_name, get_sales_cycle, require_scheme

bp = Blueprint("sales_competence", __name__, url_prefix="/t/<tenant>/sales")

LABELS = dict(kind_label=service.kind_label, kinds_label=service.kinds_label, list_title=service.list_title,
              outcome_label=service.outcome_label, decision_label=service.decision_label,
              state_label=service.state_label, plan_label=service.plan_label)


def _htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def _version() -> int | None:
    return service.as_id(request.form.get("version"))


def _stale_message() -> str:
    return _("The plan was changed by someone else since this page was loaded; your entries are kept below: reload "
             "the plan to see the changes, then enter them again.")


# ----------------------------------------------------------------------------------- loaders

def _cycle(cycle_id: int):
    """A sales cycle of the current tenant (404 otherwise) whose lists the user may see (403)."""
    require_scheme()
    cycle = get_sales_cycle(cycle_id)
    if not may_view_listings(account()):
        abort(403)
    return cycle


def _plan(plan_id: int) -> tuple[ImprovementPlan, Person]:
    """A plan of the current tenant (404 otherwise, another tenant's too) the user may see (403)."""
    require_scheme()
    plan = db_session.get(ImprovementPlan, plan_id)
    if plan is None:
        abort(404)
    person = db_session.get(Person, plan.person_id)
    if person is None:
        abort(404)
    if not may_view_plan(account(), person.id, person.unit_id, plan.owner_id):
        abort(403)
    return plan, person


def _person(raw: str | None) -> Person:
    """The person a new plan is for (404 unknown or another tenant's; 403 unless HR may open it)."""
    require_scheme()
    number = service.as_id(raw)
    person = db_session.get(Person, number) if number is not None else None
    if person is None:
        abort(404)
    if not may_manage_plans(account(), person.id):
        abort(403)
    return person


# ----------------------------------------------------------------------------------- the lists

def _lists_context(cycle, user):
    scope = unit_scope(user)
    published = cycle.state in service.FINAL_STATES
    shown = published or may_view_provisional_listings(user)
    found = service.listings(cycle, scope) if shown else None
    people = {row.person_id for row in (found.training + found.transfer)} if found else set()
    plans = service.plans_by_person_kind(people, cycle.period) if published else {}
    return dict(cycle=cycle, lists=found, shown=shown, published=published, plans=plans,
                rules=service.rules_of(service.settings_of(cycle)),
                may_manage=lambda person_id: published and may_manage_plans(user, person_id),
                cycle_state_name=cycle_state_name(cycle.state), kinds=KINDS, **LABELS)


@bp.get("/cycles/<int:cycle_id>/competence")
@permission_required("tenant.home")
def lists(cycle_id: int):
    """The month's training and transfer lists as computed: each person with the month's total, the
    months that listed them and the months not counted because of approved personal leave. Provisional
    (HR only) until the month is published; unit heads see their units' people."""
    cycle = _cycle(cycle_id)
    return render_page("sales_attitude/competence/lists.html", **_lists_context(cycle, account()))


def _year(raw: str | None, default: str) -> str:
    raw = (raw or "").strip()
    return raw if len(raw) == 4 and raw.isascii() and raw.isdigit() and 2000 <= int(raw) <= 2100 else default


@bp.get("/competence")
@permission_required("tenant.home")
def overview():
    """The latest published month's lists, and each person's listings across a year (``?year=``)."""
    require_scheme()
    user = account()
    if not may_view_listings(user):
        abort(403)
    latest = service.latest_published_cycle()
    year = _year(request.args.get("year"), latest.period[:4] if latest else str(date.today().year))
    cycles, people = service.year_history(year, unit_scope(user))
    years = sorted(set(service.published_years()) | {year}, reverse=True)
    context = _lists_context(latest, user) if latest else dict(lists=None, **LABELS)
    context.setdefault("rules", service.rules_of(service.tenant_settings()))
    context.update(latest=latest, year=year, years=years, months=cycles, page=paginate_list(people))
    return render_page("sales_attitude/competence/overview.html", **context)


# ----------------------------------------------------------------------------------- plans: list

@bp.get("/plans")
@permission_required("tenant.home")
def plans():
    """The improvement plans the user may see (HR and leaders all; unit heads their units' people's;
    everyone the plans they own and their own), filtered by state and kind, paginated."""
    require_scheme()
    user = account()
    state = request.args.get("state", "")
    state = state if state in STATES else ""
    kind = request.args.get("kind", "")
    kind = kind if kind in KINDS else ""
    page = paginate(service.plans_statement(plan_scope(user), state, kind))
    person_ids = {p.person_id for p in page.items}
    people = {p.id: p for p in db_session.scalars(select(Person).where(Person.id.in_(person_ids)))} if person_ids else {}
    unit_ids = {p.unit_id for p in people.values()}
    units = dict(db_session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(unit_ids))).all()) \
        if unit_ids else {}
    owner_ids = {p.owner_id for p in page.items if p.owner_id}
    owners = {u.id: u for u in db_session.scalars(select(User).where(User.id.in_(owner_ids)))} if owner_ids else {}
    return render_page("sales_attitude/competence/plans.html", page=page, state=state, kind=kind, states=STATES,
                       kinds=KINDS, people=people, units=units, owners=owners,
                       rules=service.rules_of(service.tenant_settings()),
                       may_view_lists=may_view_listings(user), **LABELS)


# ----------------------------------------------------------------------------------- plans: new

def _source(person: Person):
    """What the new plan follows: ``after=<plan>`` (a training plan ended "placed on the transfer
    list"), else ``cycle=<cycle>`` (a published month's listing; the latest published by default)."""
    raw_after = request.values.get("after", "")
    if raw_after:
        after_id = service.as_id(raw_after)
        after = db_session.get(ImprovementPlan, after_id) if after_id is not None else None
        if after is None:
            abort(404)
        return service.source_after_plan(after, person)
    raw_cycle = request.values.get("cycle", "")
    if raw_cycle:
        cycle_id = service.as_id(raw_cycle)
        if cycle_id is None:
            abort(404)
        cycle = get_sales_cycle(cycle_id)
    else:
        cycle = service.latest_published_cycle()
        if cycle is None:
            raise PlanError(_("No month is published yet: a plan follows a published listing."))
    return service.source_from_listing(cycle, person)


def _form_context(person: Person, **extra):
    owners = service.owner_choices(person)
    unit = db_session.get(OrgUnit, person.unit_id)
    context = dict(person=person, unit=unit, owners=owners, values={}, errors={}, message=None, source=None,
                   plan=None, training_max=service.TRAINING_MAX_MONTHS, transfer_max=service.TRANSFER_MAX_MONTHS,
                   **LABELS)
    context.update(extra)
    return context


@bp.route("/plans/new", methods=["GET", "POST"])
@permission_required("tenant.home")
def new_plan():
    """HR opens an improvement plan for a listed person (``?person=<id>&kind=&cycle=<id>`` or
    ``&after=<plan id>``): kind preset from the listing, listed months copied, the unit head as owner."""
    person = _person(request.values.get("person"))
    try:
        source = _source(person)
    except PlanError as exc:
        return render_page("sales_attitude/competence/new.html", **_form_context(
            person, message=str(exc))), exc.status
    kind = request.values.get("kind", "")
    kind = kind if kind in source.kinds else source.kinds[0]
    existing = service.open_plan(person.id, kind)
    made = service.listing_plan(person.id, kind, source.period) if source.cycle is not None else None
    if request.method == "GET":
        message = None
        if existing is not None:
            message = service.open_plan_message(person, existing)
        elif made is not None:
            message = service.duplicate_message(person, made)
            existing = made
        return render_page("sales_attitude/competence/new.html", **_form_context(
            person, source=source, values=service.defaults(source, person, kind), message=message,
            existing=existing))
    try:
        plan = service.create_plan(person, source, request.form, actor())
        db_session.commit()
    except PlanError as exc:
        db_session.rollback()
        return render_page("sales_attitude/competence/new.html", **_form_context(
            person, source=source, values=request.form.to_dict(), errors=exc.errors, message=str(exc),
            existing=service.open_plan(person.id, kind) or made)), exc.status
    except (CycleError, IntegrityError) as exc:
        db_session.rollback()
        return render_page("sales_attitude/competence/new.html", **_form_context(
            person, source=source, values=request.form.to_dict(), message=str(exc) if isinstance(exc, CycleError)
            else _("Someone else changed the same records at the same time; nothing was saved. Try again."))), 409
    flash(_("Improvement plan #%(id)s opened for %(name)s.", id=plan.id, name=person.name), "success")
    return redirect_after(url_for(".plan", plan_id=plan.id))


# ----------------------------------------------------------------------------------- plans: one plan

# The decisions HR carries out in the person's record (org pages) after closing a plan: nothing
# here changes the person's unit or status.
NEXT_STEPS = ("transfer_list", "new_post", "terminate_contract")


def _plan_context(plan: ImprovementPlan, person: Person, **extra):
    user = account()
    owner = db_session.get(User, plan.owner_id) if plan.owner_id else None
    unit = db_session.get(OrgUnit, person.unit_id)
    is_open = plan.state == "open"
    manage = may_manage_plans(user, person.id)
    pay_months = []
    factor = None
    if may_see_plan_pay(user) and plan.kind == "training":
        months = service.plan_training_months(plan)
        final = service.final_months(months)
        pay_months = [(m, m in final) for m in months]
        factor = service.percent_text(service.tenant_settings().training_pay_factor)
    follow_up = None
    if manage and plan.state == "closed" and plan.decision == "transfer_list":
        follow_up = service.open_plan(person.id, "transfer")
    may_view_lists = may_view_listings(user)
    context = dict(
        listing_cycle=service.published_cycle_of(plan.period) if may_view_lists else None,
        follows=service.followed_plan(plan),
        next_step=manage and plan.state == "closed" and plan.decision in NEXT_STEPS,
        may_edit_person=may_edit_person_record(user), status_label=STATUS_LABELS.get(person.status, person.status),
        plan=plan, person=person, unit=unit, owner=owner, notes=service.notes_of(plan), is_open=is_open,
        may_edit=is_open and manage, may_close=is_open and manage,
        may_note=is_open and may_note_plan(user, person.id, person.unit_id, plan.owner_id),
        may_view_lists=may_view_lists, pay_months=pay_months, factor=factor,
        offer_transfer=manage and plan.state == "closed" and plan.decision == "transfer_list",
        follow_up=follow_up, history=history(plan) if manage else [], outcomes=service.outcomes_for(plan.kind),
        decisions=DECISIONS, follows_outcome=service.FOLLOWS, today=date.today().isoformat(), note_values={}, note_errors={},
        close_values={}, close_errors={}, confirming=None, message=None, message_kind="error", **LABELS)
    context.update(extra)
    return context


def _plan_page(plan, person, status: int = 200, **extra):
    return render_page("sales_attitude/competence/plan.html", **_plan_context(plan, person, **extra)), status


def _reload(plan_id: int) -> tuple[ImprovementPlan, Person]:
    db_session.rollback()
    return _plan(plan_id)


@bp.get("/plans/<int:plan_id>")
@permission_required("tenant.home")
def plan(plan_id: int):
    """One plan: the listing it follows, goals, actions, owner, months (HR: which are at reduced pay),
    progress notes, the final evaluation and decision, and (HR) its history."""
    plan, person = _plan(plan_id)
    return _plan_page(plan, person)


@bp.post("/plans/<int:plan_id>/notes")
@permission_required("tenant.home")
def add_note(plan_id: int):
    """A dated progress note (HR, the owner, the person's unit head) on an open plan."""
    plan, person = _plan(plan_id)
    if not may_note_plan(account(), person.id, person.unit_id, plan.owner_id):
        abort(403)
    try:
        service.add_note(plan, request.form, actor())
        db_session.commit()
    except PlanError as exc:
        plan, person = _reload(plan_id)
        return _plan_page(plan, person, exc.status, message=str(exc), note_values=request.form.to_dict(),
                          note_errors=exc.errors)
    message = _("Progress note added.")
    if _htmx():
        return _plan_page(plan, person, message=message, message_kind="success")
    flash(message, "success")
    return redirect_after(url_for(".plan", plan_id=plan.id))


@bp.post("/plans/<int:plan_id>/close")
@permission_required("tenant.home")
def close(plan_id: int):
    """HR's final evaluation: outcome and decision (the one schemes.md has follow the outcome), shown
    for confirmation first (``confirmed=1`` records it). It records the decision and sends nothing."""
    plan, person = _plan(plan_id)
    if not may_manage_plans(account(), person.id):
        abort(403)
    values = request.form.to_dict()
    try:
        if request.form.get("confirmed") != "1":
            checked = service.check_close(plan, request.form, _version())
            return _plan_page(plan, person, confirming=checked, close_values=values)
        service.close_plan(plan, request.form, _version(), actor())
        db_session.commit()
    except PlanError as exc:
        plan, person = _reload(plan_id)
        return _plan_page(plan, person, exc.status, message=str(exc), close_values=values, close_errors=exc.errors)
    except StaleDataError:
        plan, person = _reload(plan_id)
        return _plan_page(plan, person, 409, message=_stale_message(), close_values=values)
    except CycleError as exc:
        plan, person = _reload(plan_id)
        return _plan_page(plan, person, 409, message=str(exc), close_values=values)
    message = _("The final evaluation is recorded and the plan is closed: %(decision)s.",
                decision=service.decision_label(plan.decision))
    if _htmx():
        return _plan_page(plan, person, message=message, message_kind="success")
    flash(message, "success")
    return redirect_after(url_for(".plan", plan_id=plan.id))


def _edit_page(plan, person, status: int = 200, **extra):
    values = {key: getattr(plan, key) or "" for key in ("goals", "actions", "start_month", "end_month")}
    values["owner_id"] = str(plan.owner_id or "")
    values["version"] = str(plan.version)
    context = _form_context(person, plan=plan, values=values)
    context.update(extra)
    return render_page("sales_attitude/competence/edit.html", **context), status


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@permission_required("tenant.home")
def edit(plan_id: int):
    """HR changes an open plan's goals, actions, owner or months (optimistic locking: a plan changed
    meanwhile gives 409 with the entries kept)."""
    plan, person = _plan(plan_id)
    if not may_manage_plans(account(), person.id):
        abort(403)
    if plan.state != "open":
        return _plan_page(plan, person, 409, message=_("This plan is closed (%(decision)s): it is read-only.",
                                                       decision=service.decision_label(plan.decision)))
    if request.method == "GET":
        return _edit_page(plan, person)
    values = request.form.to_dict()
    try:
        changed = service.update_plan(plan, request.form, _version(), actor())
        db_session.commit()
    except PlanError as exc:
        plan, person = _reload(plan_id)
        return _edit_page(plan, person, exc.status, values=values, errors=exc.errors, message=str(exc))
    except (StaleDataError, CycleError) as exc:
        plan, person = _reload(plan_id)
        return _edit_page(plan, person, 409, values=values,
                          message=_stale_message() if isinstance(exc, StaleDataError) else str(exc))
    flash(_("Plan saved.") if changed else _("Nothing changed."), "success")
    return redirect_after(url_for(".plan", plan_id=plan.id))


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """"Competence lists (n)" on a published sales cycle (for HR also once computed: provisional)."""
    account_ = tenant_user(user)
    if not may_view_listings(account_):
        return []
    url = url_for("sales_competence.lists", cycle_id=cycle.id)
    count = service.listed_count(cycle, unit_scope(account_))
    if cycle.state in service.FINAL_STATES:
        return [MenuItem(_("Competence lists (%(n)s)", n=count), url, "sales_competence.lists", order=40)]
    if cycle.computed_at is not None and may_view_provisional_listings(account_):
        return [MenuItem(_("Competence lists (provisional, %(n)s)", n=count), url, "sales_competence.lists",
                         order=40)]
    return []


def menu_items(tenant, user) -> list:
    """The competence lists for those who read them; the plans for them and for anyone who owns or has one."""
    account_ = tenant_user(user)
    if account_ is None:
        return []
    items = []
    lists = may_view_listings(account_)
    if lists:
        items.append(MenuItem(_("Competence lists"), url_for("sales_competence.overview", tenant=tenant.slug),
                              "sales_competence.overview", order=64))
    if lists or service.any_plan(plan_scope(account_)):
        items.append(MenuItem(_("Improvement plans"), url_for("sales_competence.plans", tenant=tenant.slug),
                              "sales_competence.plans", order=65))
    return items
