"""Cycle services: create, choose who is assessed, move through the states, compute.

Everything here works in the caller's transaction, is set-based (a few queries per cycle, never
one per subject), audits every transition, and never commits.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timezone
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select, update

from core.audit import record
from core.db import db_session
from core.models import Cycle, CycleResult, CycleSubject, OrgUnit, Person, Tenant, TenantScheme
from core.org.service import descendants
from core.plugins import get_schemes
from core.schemes import Scheme
from core.scoring import score_case
from core.scoring.case import CaseError, Period, build_case
from core.scoring.result import json_ready

# state -> states it may move to
TRANSITIONS = {
    "draft": ("open",),
    "open": ("review",),
    "review": ("open", "published"),
    "published": ("closed",),
    "closed": (),
}
EDITABLE_STATES = ("draft", "open")
CYCLE_FIELDS = ("name", "scheme_id", "period", "state")


class CycleError(ValueError):
    """A cycle action is not possible now; ``problems`` lists every reason; ``field`` names the
    input the message is about (``scheme``, ``period``, ``name``) when there is one."""

    def __init__(self, message: str, problems: list[str] | None = None, field: str | None = None):
        super().__init__(message)
        self.problems = problems or []
        self.field = field


def _hook():
    """The plugins' hooks (cycle events)."""
    return current_app.extensions["jixiao.plugins"].hook


def _state(state: str) -> str:
    """A state as users read it inside a sentence (审核中; in review)."""
    from core.cycles.views import state_label  # late: the service stays free of the web layer at import

    return state_label(state).lower()


def now() -> datetime:
    return datetime.now(timezone.utc)


# ----------------------------------------------------------------------------------- creating

def enabled_scheme(scheme_id: str) -> tuple[Scheme, dict]:
    """The scheme and the tenant's settings for it; the tenant must have it enabled."""
    row = db_session.scalar(select(TenantScheme).where(TenantScheme.scheme_id == scheme_id,
                                                       TenantScheme.enabled.is_(True)))
    scheme = get_schemes().get(scheme_id)
    if row is None or scheme is None or scheme.compute is None:
        raise CycleError(_("Scheme %(scheme)s is not enabled for this organisation.", scheme=scheme_id), field="scheme")
    return scheme, dict(row.settings)


def create_cycle(scheme_id: str, period_text: str, name: str, selection: dict[str, Any], actor: str,
                 inputs_due: date | None = None) -> Cycle:
    """A draft cycle bound to the scheme's current settings, with its subjects chosen."""
    scheme, settings = enabled_scheme(scheme_id)
    try:
        period = Period.parse(period_text)
    except ValueError:
        raise CycleError(_("%(value)s is not a period; allowed: YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-H2 or YYYY.",
                           value=repr(str(period_text).strip())), field="period") from None
    if period.kind not in scheme.periods:
        raise CycleError(_("%(scheme)s does not score a %(kind)s; it scores: %(allowed)s.", scheme=scheme.id,
                           kind=period.kind, allowed=", ".join(scheme.periods)), field="period")
    duplicate = db_session.scalar(select(func.count()).select_from(Cycle).where(
        Cycle.scheme_id == scheme_id, Cycle.period == period.text, Cycle.name == name))
    if duplicate:
        raise CycleError(_("A cycle named %(name)s for %(period)s already exists.", name=name, period=period.text),
                         field="name")
    cycle = Cycle(name=name, scheme_id=scheme.id, scheme_version=scheme.version, period=period.text,
                  state="draft", settings=settings, selection=selection, created_by=actor, inputs_due=inputs_due)
    db_session.add(cycle)
    db_session.flush()
    choose_subjects(cycle, scheme)
    _hook().jixiao_event_cycle_created(tenant=db_session.get(Tenant, cycle.tenant_id), cycle=cycle)
    record("create", cycle, after={"name": name, "scheme_id": scheme_id, "period": period.text,
                                   "selection": selection, "inputs_due": inputs_due.isoformat() if inputs_due else None})
    return cycle


def person_exclusion(scheme: Scheme, person: Person, selection: dict[str, Any]) -> str | None:
    """Why a person is not assessed in this cycle, or None when they are."""
    if scheme.staff_classes and person.staff_class not in scheme.staff_classes:
        return _("no staff class of this scheme (%(classes)s)", classes=", ".join(scheme.staff_classes))
    if selection.get("classes") and person.staff_class not in selection["classes"]:
        return _("class %(cls)s not selected for this cycle", cls=person.staff_class)
    if selection.get("statuses") and person.status not in selection["statuses"]:
        return _("status %(status)s not selected for this cycle", status=person.status)
    return None


def choose_subjects(cycle: Cycle, scheme: Scheme) -> None:
    """(Re)build the cycle's subject list from the org: two queries, one bulk insert.

    Units of the scheme's unit kinds are subjects; people are subjects when the scheme assesses
    people and they pass its eligibility (else they are listed as excluded, with the reason).
    """
    selection = cycle.selection or {}
    units = list(db_session.scalars(select(OrgUnit).where(OrgUnit.active.is_(True))))
    parents = {u.id: u.parent_id for u in units}
    chosen_units = descendants(set(selection["units"]), parents) if selection.get("units") else set(parents)
    rows: list[dict[str, Any]] = []
    scored_units = "unit" in scheme.subject_kinds
    for unit in units:
        if unit.id not in chosen_units:
            continue
        eligible = not scored_units or unit.kind in scheme.unit_kinds
        if scored_units and not eligible:
            continue  # the group root, offices ...: not units this scheme scores
        rows.append(dict(cycle_id=cycle.id, kind="unit", code=unit.code, name=unit.name, unit_id=unit.id,
                         unit_kind=unit.kind, eligible=True, inputs={}, tenant_id=cycle.tenant_id))
    if "person" in scheme.subject_kinds:
        people = db_session.scalars(select(Person).where(Person.active.is_(True), Person.unit_id.in_(chosen_units))
                                    .order_by(Person.number))
        for person in people:
            reason = person_exclusion(scheme, person, selection)
            rows.append(dict(cycle_id=cycle.id, kind="person", code=person.number, name=person.name,
                             unit_id=person.unit_id, person_id=person.id, staff_class=person.staff_class,
                             status=person.status, eligible=reason is None, excluded_reason=reason, inputs={},
                             tenant_id=cycle.tenant_id))
    if not scored_units:
        # units only group the people (a person's `unit` must name a unit of the case)
        used = {r["unit_id"] for r in rows if r["kind"] == "person" and r["eligible"]}
        rows = [r for r in rows if r["kind"] == "person" or r["unit_id"] in used]
    db_session.execute(delete(CycleSubject).where(CycleSubject.cycle_id == cycle.id))
    if rows:
        db_session.execute(insert(CycleSubject), rows)


# ----------------------------------------------------------------------------------- the case

def asks_self(cycle: Cycle, kind: str, staff_class: str | None) -> bool:
    """Whether the scheme asks something of the person assessed themselves (a self-score)."""
    fields = get_schemes()[cycle.scheme_id].fields_for(cycle.settings, kind, staff_class, Period.parse(cycle.period).kind)
    return any("self" in f.roles for f in fields)


def subjects(cycle: Cycle, eligible_only: bool = True) -> list[CycleSubject]:
    stmt = select(CycleSubject).where(CycleSubject.cycle_id == cycle.id).order_by(CycleSubject.kind.desc(), CycleSubject.code)
    if eligible_only:
        stmt = stmt.where(CycleSubject.eligible.is_(True))
    return list(db_session.scalars(stmt))


def case_of(cycle: Cycle) -> dict[str, Any]:
    """The cycle as a case file (casefile.md): what ``jixiao score`` would read. One query."""
    rows = subjects(cycle)
    scheme = get_schemes()[cycle.scheme_id]
    unit_codes = {r.unit_id: r.code for r in rows if r.kind == "unit"}
    units, people = [], []
    for row in rows:
        if row.kind == "unit":
            units.append({"id": row.code, "name": row.name, "kind": row.unit_kind, "inputs": row.inputs or {}})
        else:
            person: dict[str, Any] = {"id": row.code, "name": row.name}
            if row.unit_id in unit_codes:
                person["unit"] = unit_codes[row.unit_id]
            if row.staff_class:
                person["class"] = row.staff_class
            if "status" in scheme.subject_fields and row.status:
                person["status"] = row.status
            person["inputs"] = row.inputs or {}
            people.append(person)
    case: dict[str, Any] = {"scheme": cycle.scheme_id, "period": cycle.period, "settings": cycle.settings,
                            "units": units}
    if people:
        case["people"] = people
    return case


def problems_of(cycle: Cycle) -> list[str]:
    """Everything that keeps the cycle's case from being scored (missing or invalid inputs)."""
    try:
        build_case(case_of(cycle), get_schemes())
    except CaseError as exc:
        return exc.problems
    return []


def compute(cycle: Cycle, actor: str) -> int:
    """Score the cycle from its stored inputs and replace its results (idempotent).

    A few queries whatever the size: subjects, one bulk delete, one bulk insert.
    """
    if cycle.state not in ("open", "review"):
        raise CycleError(_("Results are computed while the cycle is open or in review; it is %(state)s.", state=_state(cycle.state)))
    rows, warnings = scored_rows(cycle)
    stamp = now()
    for row in rows:
        row.update(computed_at=stamp, adjusted=False)
    db_session.execute(delete(CycleResult).where(CycleResult.cycle_id == cycle.id))
    if rows:
        db_session.execute(insert(CycleResult), rows)
    cycle.computed_at = stamp
    record("compute", cycle, after={"subjects": len(rows), "warnings": warnings}, actor=actor)
    return len(rows)


def scored_rows(cycle: Cycle) -> tuple[list[dict[str, Any]], list[str]]:
    """The cycle scored from its stored inputs, as result rows (``tenant_id``, ``cycle_id``,
    ``subject_id``, ``score``, ``grade``, ``rank``, ``flags``, ``extra``, ``breakdown``), and the
    scheme's warnings. The plugins refresh the inputs they derive first
    (``jixiao_event_cycle_computing``). Writes no result. :raises CycleError: incomplete inputs."""
    _hook().jixiao_event_cycle_computing(tenant=db_session.get(Tenant, cycle.tenant_id), cycle=cycle)
    try:
        scheme, case = build_case(case_of(cycle), get_schemes())
    except CaseError as exc:
        raise CycleError(_("The inputs are not complete."), exc.problems) from None
    result = score_case(scheme, case)
    ids = {(r.kind, r.code): r.id for r in subjects(cycle)}
    rows = []
    for kind, section in (("unit", result.units), ("person", result.people)):
        for s in section:
            rows.append(dict(tenant_id=cycle.tenant_id, cycle_id=cycle.id, subject_id=ids[(kind, s.id)],
                             score=s.score, grade=s.grade, rank=s.rank, flags=list(s.flags),
                             extra=json_ready(s.extra), breakdown=s.breakdown.to_dict() if s.breakdown else None))
    return rows, list(result.warnings)


# ----------------------------------------------------------------------------------- corrections

# The published cycle and subject whose inputs are being corrected for an appeal (see
# :func:`correcting`), else None.
_correction: ContextVar[tuple[int, int] | None] = ContextVar("jixiao_correction", default=None)


@contextmanager
def correcting(cycle: Cycle, subject: CycleSubject):
    """While an appeal's decision re-scores a published cycle from corrected inputs: the plugins'
    derived inputs may follow their records for the appealed subject alone (see
    :func:`set_many_inputs`); every other subject keeps its inputs as published."""
    token = _correction.set((cycle.id, subject.id))
    try:
        yield
    finally:
        _correction.reset(token)


def correction_subject(cycle: Cycle) -> int | None:
    """The subject of ``cycle`` whose inputs an appeal is correcting now, else None."""
    current = _correction.get()
    return current[1] if current is not None and current[0] == cycle.id and cycle.state == "published" else None


# ----------------------------------------------------------------------------------- states

def transition(cycle: Cycle, target: str, actor: str, version: int | None = None) -> Cycle:
    """Move the cycle to ``target`` when its preconditions hold; audited. The cycle's row is locked
    first (PostgreSQL), so that what the preconditions read cannot change before the move: a
    scheme recording into the cycle locks the same row."""
    db_session.flush()  # what this transaction changed stays; the lock then re-reads the row
    db_session.refresh(cycle, with_for_update=True)
    if version is not None and version != cycle.version:
        raise CycleError(_("The cycle was changed by someone else; reload the page."))
    if target not in TRANSITIONS.get(cycle.state, ()):
        raise CycleError(_("A %(state)s cycle cannot move to %(target)s.", state=_state(cycle.state), target=_state(target)))
    problems: list[str] = []
    if target == "open":
        eligible = db_session.scalar(select(func.count()).select_from(CycleSubject)
                                     .where(CycleSubject.cycle_id == cycle.id, CycleSubject.eligible.is_(True)))
        if not eligible:
            problems.append(_("nobody is assessed in this cycle"))
    if target == "review":
        # the check scores the inputs: the plugins bring what they derive from their records up to date first
        _hook().jixiao_event_cycle_computing(tenant=db_session.get(Tenant, cycle.tenant_id), cycle=cycle)
        problems.extend(problems_of(cycle))
    if target == "published":
        latest_input = db_session.scalar(select(func.max(CycleSubject.inputs_updated_at))
                                         .where(CycleSubject.cycle_id == cycle.id))
        if cycle.computed_at is None or (latest_input is not None and _aware(latest_input) > _aware(cycle.computed_at)):
            problems.append(_("compute the results after the last change of the inputs"))
    if target == "closed":
        from core.models import Appeal

        pending = db_session.scalar(select(func.count()).select_from(Appeal)
                                    .join(CycleResult, CycleResult.id == Appeal.result_id)
                                    .where(CycleResult.cycle_id == cycle.id, Appeal.state != "decided"))
        if pending:
            problems.append(_("%(n)s appeal(s) are not decided yet", n=pending))
    if problems:
        raise CycleError(_("The cycle cannot move to %(target)s yet.", target=_state(target)), problems)
    before = cycle.state
    cycle.state = target
    setattr(cycle, {"open": "opened_at", "review": "review_at", "published": "published_at",
                    "closed": "closed_at"}[target], now())
    record("transition", cycle, before={"state": before}, after={"state": target}, actor=actor)
    if target == "open":
        _notify_opened(cycle)
    if target == "published":
        _hook().jixiao_event_cycle_published(tenant=db_session.get(Tenant, cycle.tenant_id), cycle=cycle)
    return cycle


def _notify_opened(cycle: Cycle) -> None:
    """Tell those who enter inputs (HR, and the heads of the units in the cycle) that it is open.
    Nobody, when the scheme takes nothing on the input form (its inputs come from its own pages)."""
    from core.cycles.after import admins, notify
    from core.models import RoleMembership

    if get_schemes()[cycle.scheme_id].input_fields is None:
        return
    unit_ids = select(CycleSubject.unit_id).where(CycleSubject.cycle_id == cycle.id, CycleSubject.eligible.is_(True))
    heads = db_session.scalars(select(RoleMembership.user_id).where(RoleMembership.role == "unit_head",
                                                                     RoleMembership.unit_id.in_(unit_ids)))
    due = _(" Due %(day)s.", day=cycle.inputs_due.isoformat()) if cycle.inputs_due else ""
    notify(admins() + list(heads), _("%(cycle)s is open for inputs.", cycle=cycle.name) + due,
           f"/t/{_tenant_slug(cycle)}/cycles/{cycle.id}/inputs/?todo=1")


def _tenant_slug(cycle: Cycle) -> str:
    from core.models import Tenant

    return db_session.get(Tenant, cycle.tenant_id).slug


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# ----------------------------------------------------------------------------------- inputs

def set_inputs(subject: CycleSubject, cycle: Cycle, inputs: dict[str, Any], version: int, actor: str) -> int:
    """Replace a subject's inputs if nobody saved them since ``version`` (optimistic locking).

    :return: the new version. :raises CycleError: when the cycle is not editable or the version is stale.
    """
    if cycle.state not in EDITABLE_STATES:
        raise CycleError(_("Inputs can be changed while the cycle is a draft or open; it is %(state)s.", state=_state(cycle.state)))
    return write_inputs(subject, inputs, version, actor)


def write_inputs(subject: CycleSubject, inputs: dict[str, Any], version: int, actor: str) -> int:
    """Write a subject's inputs if nobody saved them since ``version``, whatever the cycle's state:
    the caller decides it may (:func:`set_inputs`; an appeal's correction, see
    :func:`core.cycles.after.correct_inputs`). :raises CycleError: the version is stale."""
    updated = db_session.execute(
        update(CycleSubject)
        .where(CycleSubject.id == subject.id, CycleSubject.inputs_version == version)
        .values(inputs=inputs, inputs_version=version + 1, inputs_updated_by=actor, inputs_updated_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if updated != 1:
        raise CycleError(_("%(name)s's inputs were changed by someone else; reload to see them.", name=subject.name))
    db_session.expire(subject)
    return version + 1


DERIVED_STATES = ("draft", "open", "review")


def set_many_inputs(cycle: Cycle, changes: list[tuple[CycleSubject, dict[str, Any]]], actor: str) -> int:
    """Replace many subjects' inputs at once, each only if nobody saved it since it was read: the
    inputs a scheme derives from its own records (event counts, earlier months' totals), kept in
    step with them. Allowed while the cycle is a draft, open or in review (derived inputs follow
    their records until the results are published), and, in a published cycle, for the subject an
    appeal is correcting while the cycle is re-scored (:func:`correcting`): the changes of the other
    subjects are left out (their inputs stay as published). One statement, whatever the number of subjects.

    ``changes`` pairs anything with the subject's ``id`` and the ``inputs_version`` it was read at
    (an ORM subject or a plain row) with its new inputs.

    :return: how many subjects changed. :raises CycleError: when the cycle is published or closed,
        or a subject was saved by someone else meanwhile (then some may be written: run it in a
        savepoint to retry, as :func:`plugins.sales_attitude.derived.refresh` does).
    """
    if cycle.state not in DERIVED_STATES:
        correcting_id = correction_subject(cycle)
        if correcting_id is None:
            if not changes:
                return 0
            raise CycleError(_("The inputs of a %(state)s cycle no longer change.", state=_state(cycle.state)))
        # an appeal's correction re-scores the published cycle: only the appealed subject follows its records
        changes = [(s, inputs) for s, inputs in changes if s.id == correcting_id]
    if not changes:
        return 0
    from sqlalchemy import bindparam

    table = CycleSubject.__table__
    stamp = now()
    # The version is checked (a form saved meanwhile is never overwritten) but not moved on: the
    # forms open on these subjects stay valid, and what a form then saves over a derived value is
    # derived again before the results are computed.
    statement = (update(table)
                 .where(table.c.id == bindparam("subject_id"), table.c.inputs_version == bindparam("version"))
                 .values(inputs=bindparam("new_inputs"), inputs_updated_by=actor, inputs_updated_at=stamp))
    rows = [{"subject_id": s.id, "version": s.inputs_version, "new_inputs": inputs} for s, inputs in changes]
    connection = db_session.connection()
    if connection.dialect.supports_sane_multi_rowcount:
        updated = connection.execute(statement, rows).rowcount
    else:
        updated = sum(connection.execute(statement, row).rowcount for row in rows)
    if updated != len(rows):
        raise CycleError(_("Some inputs were changed by someone else meanwhile; try again."))
    written = {s.id for s, _inputs in changes}  # the subjects may be plain rows: expire what the session holds
    for held in list(db_session.identity_map.values()):
        if isinstance(held, CycleSubject) and held.id in written:
            db_session.expire(held)
    return updated
