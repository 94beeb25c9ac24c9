"""Plan sheets and adjustments: the rules, the writes into the cycle's inputs, and the audit trail.

A unit's monthly plan sheet goes draft → submitted (its head, or HR) → checked (the plan supervisor
or HR, once every item is judged); checking writes ``plan: {planned, completed}`` into the unit's
inputs, so the plan rate is exactly completed ÷ planned. HR may return a submitted sheet to draft
with a reason. An adjustment (加减分) carries a reason category and a written reason and is mirrored
into ``inputs.adjust``. Everything works in the caller's transaction, audits and never commits.
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from core.audit import record
from core.cycles import service as cycles
from core.cycles.service import CycleError
from core.db import db_session
from core.models import Cycle, CycleSubject
from core.scoring.numbers import NumberError, exact, text
from plugins.corporate_grading.web import cycle_state_name
from plugins.corporate_grading.plans.models import (BONUS_KINDS, COMPLETIONS, PENALTY_KINDS, Adjustment, PlanItem,
                                                    PlanSheet)

TITLE_MAX, STANDARD_MAX, OWNER_MAX, EVIDENCE_MAX, REASON_MAX = 200, 500, 100, 1000, 2000
MAX_PLACES = 6  # decimal places of an adjustment
MAX_ITEMS = 100  # items of one plan sheet
ITEM_FIELDS = ("title", "standard", "owner", "due", "completion", "evidence")


class PlanError(ValueError):
    """A change that is not allowed now; the message says why. ``errors`` maps form fields to
    their messages when the problem is with what was entered (then the answer is 422, else 409)."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.errors = errors or {}


def now() -> datetime:
    return datetime.now(timezone.utc)


# ----------------------------------------------------------------------------------- labels

def state_labels() -> dict[str, str]:
    return {"draft": _("Draft"), "submitted": _("Submitted"), "checked": _("Checked")}


def completion_labels() -> dict[str, str]:
    return {"pending": _("Not judged"), "done": _("Done"), "not_done": _("Not done")}


def kind_labels() -> dict[str, str]:
    """Reason categories of schemes.md §1 (source 002)."""
    return {"beyond_standard": _("Beyond the highest standard"),
            "unplanned_key_work": _("Key work outside the plan"),
            "honour": _("Honour won for the group"),
            "loss": _("Economic loss or bad consequences"),
            "fraud": _("Fraud in the assessment")}


# ----------------------------------------------------------------------------------- reading

def current_monthly_cycle() -> Cycle | None:
    """The latest monthly corporate cycle still taking inputs (the month under way), or None."""
    from core.cycles.service import EDITABLE_STATES

    return db_session.scalar(select(Cycle).where(Cycle.scheme_id == "corporate-grading", func.length(Cycle.period) == 7,
                                                 Cycle.state.in_(EDITABLE_STATES))
                             .order_by(Cycle.period.desc(), Cycle.id.desc()).limit(1))


def unit_subjects(cycle: Cycle) -> list[CycleSubject]:
    """The units assessed in the cycle, in code order."""
    return [s for s in cycles.subjects(cycle) if s.kind == "unit"]


def sheets_by_subject(cycle: Cycle) -> dict[int, PlanSheet]:
    return {s.subject_id: s for s in db_session.scalars(select(PlanSheet).where(PlanSheet.cycle_id == cycle.id))}


def counts_by_sheet(cycle: Cycle) -> dict[int, tuple[int, int, int]]:
    """(planned, completed, not judged) per sheet of the cycle: one grouped query."""
    rows = db_session.execute(
        select(PlanItem.sheet_id, func.count(),
               func.sum(case((PlanItem.completion == "done", 1), else_=0)),
               func.sum(case((PlanItem.completion == "pending", 1), else_=0)))
        .join(PlanSheet, PlanSheet.id == PlanItem.sheet_id)
        .where(PlanSheet.cycle_id == cycle.id)
        .group_by(PlanItem.sheet_id))
    return {sheet_id: (int(n), int(done or 0), int(pending or 0)) for sheet_id, n, done, pending in rows}


def sheet_of(subject: CycleSubject) -> PlanSheet | None:
    return db_session.scalar(select(PlanSheet).where(PlanSheet.subject_id == subject.id))


def items_of(sheet: PlanSheet | None) -> list[PlanItem]:
    if sheet is None:
        return []
    return list(db_session.scalars(select(PlanItem).where(PlanItem.sheet_id == sheet.id).order_by(PlanItem.id)))


def tally(items: list[PlanItem]) -> tuple[int, int, int]:
    """(planned, completed, not judged) of a sheet's items."""
    return (len(items), sum(1 for i in items if i.completion == "done"),
            sum(1 for i in items if i.completion == "pending"))


def rate_text(planned: int, completed: int) -> str:
    """``2/3 (66.67%)``: the exact fraction and its percentage for reading."""
    if not planned:
        return "—"
    return f"{completed}/{planned} ({text(Fraction(100 * completed, planned), 2)}%)"


def deadlines(cycle: Cycle) -> tuple[date, date]:
    """When the month's plan is due (the 27th of the month before) and due at the administration
    office (the 30th of that month, or its last day)."""
    year, month = int(cycle.period[:4]), int(cycle.period[5:7])
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return date(year, month, 27), date(year, month, min(30, calendar.monthrange(year, month)[1]))


def is_late(cycle: Cycle, sheet: PlanSheet | None) -> bool:
    if sheet is None or sheet.submitted_at is None:
        return False
    return sheet.submitted_at.date() > deadlines(cycle)[1]


# ----------------------------------------------------------------------------------- rules

def _editable_cycle(cycle: Cycle) -> None:
    if cycle.state not in cycles.EDITABLE_STATES:
        raise PlanError(_("The cycle is %(state)s: its plan sheets and adjustments can no longer be changed.",
                          state=cycle_state_name(cycle.state)))


def _touch(sheet: PlanSheet) -> None:
    """Bump the sheet's version with every change of its items: a state change racing with an item
    change (or two changes at once) fails with StaleDataError instead of passing unnoticed."""
    sheet.updated_at = now()


def _state(sheet: PlanSheet | None) -> str:
    return sheet.state if sheet is not None else "draft"


def _check_version(obj: Any, version: Any, name: str) -> None:
    if str(version) != str(obj.version):
        raise PlanError(_("%(name)s was changed by someone else since you opened it; reload to see the changes.",
                          name=name))


def parse_item(form: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The planned item's fields from a form: title, completion standard, owner, optional due date."""
    errors: dict[str, list[str]] = {}
    values = {key: str(form.get(key, "")).strip() for key in ("title", "standard", "owner", "due")}
    for key, label, limit, required in (("title", _("Title"), TITLE_MAX, True),
                                        ("standard", _("Completion standard"), STANDARD_MAX, False),
                                        ("owner", _("Owner"), OWNER_MAX, False)):
        if required and not values[key]:
            errors.setdefault(key, []).append(_("%(field)s is required.", field=label))
        elif len(values[key]) > limit:
            errors.setdefault(key, []).append(_("%(field)s has %(count)s characters; at most %(max)s are allowed.",
                                                field=label, count=len(values[key]), max=limit))
    due = values.pop("due")
    values["due"] = None
    if due:
        try:
            values["due"] = date.fromisoformat(due)
        except ValueError:
            errors.setdefault("due", []).append(_("Due date: %(value)s is not a date; write it like 2026-09-25.",
                                                  value=repr(due)))
    return values, errors


def parse_judgement(form: Any) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    completion = str(form.get("completion", "")).strip()
    evidence = str(form.get("evidence", "")).strip()
    if completion not in COMPLETIONS:
        errors["completion"] = [_("Completion: %(value)s is not allowed; allowed: %(allowed)s.", value=repr(completion),
                                  allowed=", ".join(COMPLETIONS))]
    if len(evidence) > EVIDENCE_MAX:
        errors["evidence"] = [_("%(field)s has %(count)s characters; at most %(max)s are allowed.",
                                field=_("Evidence"), count=len(evidence), max=EVIDENCE_MAX)]
    return {"completion": completion, "evidence": evidence}, errors


def _snapshot(item: PlanItem) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k in ITEM_FIELDS for v in [getattr(item, k)]}


def add_item(cycle: Cycle, subject: CycleSubject, form: Any, actor: str) -> PlanItem:
    """Add a planned item to a draft sheet (the sheet is made with its first item)."""
    _editable_cycle(cycle)
    sheet = sheet_of(subject)
    if _state(sheet) != "draft":
        raise PlanError(_("The plan sheet is %(state)s: items are added while it is a draft.",
                          state=state_labels()[_state(sheet)]))
    values, errors = parse_item(form)
    if errors:
        raise PlanError(_("Not saved: correct the fields marked."), errors)
    if sheet is not None and len(items_of(sheet)) >= MAX_ITEMS:
        raise PlanError(_("A plan sheet has at most %(max)s items.", max=MAX_ITEMS))
    if sheet is None:
        sheet = PlanSheet(cycle_id=cycle.id, subject_id=subject.id, state="draft")
        db_session.add(sheet)
        db_session.flush()
        record("corp.plan.create", sheet, after={"unit": subject.code, "cycle": cycle.id}, actor=actor)
    item = PlanItem(sheet_id=sheet.id, completion="pending", evidence="", **values)
    db_session.add(item)
    _touch(sheet)
    db_session.flush()
    record("corp.plan.item.add", item, after={"unit": subject.code, **_snapshot(item)}, actor=actor)
    return item


def edit_item(cycle: Cycle, sheet: PlanSheet, item: PlanItem, form: Any, actor: str) -> PlanItem:
    """Change a planned item of a draft sheet (title, standard, owner, due date)."""
    _editable_cycle(cycle)
    if sheet.state != "draft":
        raise PlanError(_("The plan sheet is %(state)s: its items are changed while it is a draft.",
                          state=state_labels()[sheet.state]))
    _check_version(item, form.get("version", ""), item.title)
    values, errors = parse_item(form)
    if errors:
        raise PlanError(_("Not saved: correct the fields marked."), errors)
    before = _snapshot(item)
    for key, value in values.items():
        setattr(item, key, value)
    _touch(sheet)
    db_session.flush()
    record("corp.plan.item.edit", item, before=before, after=_snapshot(item), actor=actor)
    return item


def judge_item(cycle: Cycle, sheet: PlanSheet, item: PlanItem, form: Any, actor: str) -> PlanItem:
    """Record at month end whether a submitted sheet's item was done, with the evidence."""
    _editable_cycle(cycle)
    if sheet.state != "submitted":
        raise PlanError(_("The plan sheet is %(state)s: items are judged while it is submitted.",
                          state=state_labels()[sheet.state]))
    _check_version(item, form.get("version", ""), item.title)
    values, errors = parse_judgement(form)
    if errors:
        raise PlanError(_("Not saved: correct the fields marked."), errors)
    before = _snapshot(item)
    item.completion, item.evidence = values["completion"], values["evidence"]
    _touch(sheet)
    db_session.flush()
    record("corp.plan.item.judge", item, before=before, after=_snapshot(item), actor=actor)
    return item


def delete_item(cycle: Cycle, sheet: PlanSheet, item: PlanItem, version: Any, actor: str) -> None:
    _editable_cycle(cycle)
    if sheet.state != "draft":
        raise PlanError(_("The plan sheet is %(state)s: its items are removed while it is a draft.",
                          state=state_labels()[sheet.state]))
    _check_version(item, version, item.title)
    record("corp.plan.item.delete", item, before=_snapshot(item), actor=actor)
    db_session.delete(item)
    _touch(sheet)
    db_session.flush()


def submit(cycle: Cycle, sheet: PlanSheet | None, version: Any, actor: str) -> PlanSheet:
    """The unit's head (or HR) hands in the draft plan (due by the 27th; at the office by the 30th)."""
    _editable_cycle(cycle)
    if sheet is None:
        raise PlanError(_("The plan sheet has no items: plan at least one item before submitting it."))
    if sheet.state != "draft":
        raise PlanError(_("The plan sheet is %(state)s: only a draft is submitted.", state=state_labels()[sheet.state]))
    _check_version(sheet, version, _("The plan sheet"))
    if not items_of(sheet):
        raise PlanError(_("The plan sheet has no items: plan at least one item before submitting it."))
    sheet.state, sheet.submitted_at, sheet.submitted_by = "submitted", now(), actor
    db_session.flush()
    record("corp.plan.submit", sheet, before={"state": "draft"}, after={"state": "submitted"}, actor=actor)
    return sheet


def return_to_draft(cycle: Cycle, sheet: PlanSheet, reason: str, version: Any, actor: str) -> PlanSheet:
    """HR sends a submitted sheet back to its unit, saying why."""
    _editable_cycle(cycle)
    if sheet.state != "submitted":
        raise PlanError(_("The plan sheet is %(state)s: only a submitted sheet is returned to draft.",
                          state=state_labels()[sheet.state]))
    _check_version(sheet, version, _("The plan sheet"))
    reason = (reason or "").strip()
    if not reason:
        raise PlanError(_("Not returned: say why."), {"reason": [_("%(field)s is required.", field=_("Reason"))]})
    if len(reason) > REASON_MAX:
        raise PlanError(_("Not returned: say why."), {"reason": [_(
            "%(field)s has %(count)s characters; at most %(max)s are allowed.", field=_("Reason"),
            count=len(reason), max=REASON_MAX)]})
    sheet.state, sheet.returned_reason = "draft", reason
    for item in items_of(sheet):  # judged again once it is submitted again: a return never keeps a judgement
        item.completion, item.evidence = "pending", ""
    db_session.flush()
    record("corp.plan.return", sheet, before={"state": "submitted"}, after={"state": "draft", "reason": reason},
           actor=actor)
    return sheet


def check(cycle: Cycle, subject: CycleSubject, sheet: PlanSheet, version: Any, actor: str) -> tuple[int, int]:
    """Close the month's sheet once every item is judged, and write its counts into the unit's
    inputs (``plan``; a ``plan_rate`` entered before is removed). Returns (planned, completed)."""
    _editable_cycle(cycle)
    if sheet.state != "submitted":
        raise PlanError(_("The plan sheet is %(state)s: only a submitted sheet is checked.",
                          state=state_labels()[sheet.state]))
    _check_version(sheet, version, _("The plan sheet"))
    items = items_of(sheet)
    planned, completed, pending = tally(items)
    if pending:
        names = ", ".join(i.title for i in items if i.completion == "pending")
        raise PlanError(_("%(count)s item(s) are not judged yet: %(names)s. Judge every item as done or not done "
                          "before checking the sheet.", count=pending, names=names))
    inputs = {k: v for k, v in (subject.inputs or {}).items() if k != "plan_rate"}
    inputs["plan"] = {"planned": planned, "completed": completed}
    try:
        cycles.set_inputs(subject, cycle, inputs, subject.inputs_version, actor)
    except CycleError as exc:
        raise PlanError(str(exc)) from None
    sheet.state, sheet.checked_at, sheet.checked_by = "checked", now(), actor
    db_session.flush()
    record("corp.plan.check", sheet, before={"state": "submitted"},
           after={"state": "checked", "planned": planned, "completed": completed}, actor=actor)
    return planned, completed


def reopen_checked(cycle: Cycle, subject: CycleSubject, sheet: PlanSheet, reason: str, version: Any, actor: str) -> PlanSheet:
    """HR reopens a checked sheet to correct a judgement, saying why: it is submitted again, and its
    counts leave the unit's inputs until it is checked again. Not once the committee has voted on
    the unit's score (its vote would rest on the old counts)."""
    _editable_cycle(cycle)
    if sheet.state != "checked":
        raise PlanError(_("The plan sheet is %(state)s: only a checked sheet is reopened.", state=state_labels()[sheet.state]))
    _check_version(sheet, version, _("The plan sheet"))
    reason = (reason or "").strip()
    if not reason or len(reason) > REASON_MAX:
        raise PlanError(_("Not reopened: say why."), {"reason": [_("%(field)s is required.", field=_("Reason")) if not reason
                                                                else _("%(field)s has %(count)s characters; at most %(max)s are allowed.",
                                                                       field=_("Reason"), count=len(reason), max=REASON_MAX)]})
    if _committee_closed(subject):
        raise PlanError(_("The committee has voted on %(unit)s's score: HR reopens the committee's vote before the "
                          "plan sheet.", unit=subject.name))
    inputs = {k: v for k, v in (subject.inputs or {}).items() if k != "plan"}
    try:
        cycles.set_inputs(subject, cycle, inputs, subject.inputs_version, actor)
    except CycleError as exc:
        raise PlanError(str(exc)) from None
    sheet.state, sheet.checked_at, sheet.checked_by = "submitted", None, None
    db_session.flush()
    record("corp.plan.reopen", sheet, before={"state": "checked"}, after={"state": "submitted", "reason": reason},
           actor=actor)
    return sheet


# ----------------------------------------------------------------------------------- adjustments

def adjustment_reasons(cycle: Cycle) -> dict[int, dict]:
    """The cycle's adjustments with their reasons, by subject id (one query): ``{"value": Fraction,
    "kind": reason category, "reason": the written reason, "by": who entered it}``."""
    rows = db_session.scalars(select(Adjustment).where(Adjustment.cycle_id == cycle.id))
    return {a.subject_id: {"value": exact(a.value), "kind": a.kind, "reason": a.reason, "by": a.by} for a in rows}


def adjustments_by_subject(cycle: Cycle) -> dict[int, Adjustment]:
    return {a.subject_id: a for a in db_session.scalars(select(Adjustment).where(Adjustment.cycle_id == cycle.id))}


def bounds_key(subject: CycleSubject) -> str:
    """Which adjust bounds apply: ``unit``, or the person's class."""
    return "unit" if subject.kind == "unit" else (subject.staff_class or "C")


def adjust_bounds_table(cycle: Cycle) -> dict[str, tuple[Fraction, Fraction, str]]:
    """(low, high, how messages name them) of ``adjust`` per unit and class under the cycle's
    settings (unit_adjust_bounds, class_a_adjust_bounds, class_b_monthly/annual_adjust_bounds,
    class_c_adjust_bounds)."""
    from plugins.corporate_grading.scoring import _adjust_bounds, _settings

    settings = _settings(cycle.settings or {})
    monthly = len(cycle.period) == 7
    namings = {"unit": _("for units"), "A": _("for class %(cls)s", cls="A"), "C": _("for class %(cls)s", cls="C"),
               "B": _("for class B (monthly)") if monthly else _("for class B (annual)")}
    table = {}
    for key in ("unit", "A", "B", "C"):
        bounds, _naming = _adjust_bounds(settings, key, monthly)
        table[key] = (bounds.low, bounds.high, namings[key])
    return table


def adjust_bounds(cycle: Cycle, subject: CycleSubject) -> tuple[Fraction, Fraction, str]:
    return adjust_bounds_table(cycle)[bounds_key(subject)]


def _committee_closed(subject: CycleSubject) -> bool:
    from plugins.corporate_grading.committee.models import CommitteeItem

    return db_session.scalar(select(CommitteeItem.id).where(CommitteeItem.subject_id == subject.id,
                                                            CommitteeItem.state == "closed").limit(1)) is not None


def set_adjustment(cycle: Cycle, subject: CycleSubject, form: Any, actor: str, by: str | None = None) -> Adjustment | None:
    """Record (or, with value 0, remove) a subject's adjustment and mirror it into ``inputs.adjust``.

    ``form`` holds ``value``, ``kind`` (reason category), ``reason`` and ``inputs_version`` (the
    subject's inputs version the form was opened at: a concurrent change is refused).
    """
    _editable_cycle(cycle)
    errors: dict[str, list[str]] = {}
    raw = str(form.get("value", "")).strip()
    kind = str(form.get("kind", "")).strip()
    reason = str(form.get("reason", "")).strip()
    low, high, naming = adjust_bounds(cycle, subject)
    value: Fraction | None = None
    if raw == "":
        errors["value"] = [_("Value is required; write 0 to remove the adjustment.")]
    else:
        try:
            value = exact(raw)
        except NumberError:
            errors["value"] = [_("Value: %(value)s is not a number; write it like 0.5 or -1.", value=repr(raw))]
        else:
            if -Decimal(raw).normalize().as_tuple().exponent > MAX_PLACES:
                errors["value"] = [_("Value: %(value)s has more than %(places)s decimal places.", value=raw,
                                     places=MAX_PLACES)]
            elif not low <= value <= high:
                errors["value"] = [_("Value: %(value)s is outside [%(low)s, %(high)s] %(naming)s.", value=raw,
                                     low=text(low), high=text(high), naming=naming)]
    labels = kind_labels()
    if value is not None and value != 0 and "value" not in errors:
        wanted, what = (BONUS_KINDS, _("a bonus")) if value > 0 else (PENALTY_KINDS, _("a penalty"))
        allowed = "; ".join(f"{k} ({labels[k]})" for k in wanted)
        if kind not in wanted:
            found = repr(kind) if kind else _("none")
            errors["kind"] = [_("Reason category: %(value)s does not fit %(what)s of %(number)s; allowed: %(allowed)s.",
                                value=found, what=what, number=raw, allowed=allowed)]
        if not reason:
            errors["reason"] = [_("Reason: required for a value other than 0; write why the score is changed.")]
        elif len(reason) > REASON_MAX:
            errors["reason"] = [_("%(field)s has %(count)s characters; at most %(max)s are allowed.",
                                  field=_("Reason"), count=len(reason), max=REASON_MAX)]
    if errors:
        raise PlanError(_("Not saved: correct the fields marked."), errors)
    version = str(form.get("inputs_version", ""))
    if not version.isdigit():
        raise PlanError(_("The form did not say which version it edits; reload the page."))
    if subject.kind == "unit" and _committee_closed(subject):
        raise PlanError(_("The committee has voted on %(unit)s's score after adjustment: a changed adjustment would "
                          "not count. HR reopens the committee's vote first.", unit=subject.name))

    current = db_session.scalar(select(Adjustment).where(Adjustment.subject_id == subject.id))
    before = ({"value": current.value, "kind": current.kind, "reason": current.reason} if current is not None
              else ({"value": subject.inputs.get("adjust")} if (subject.inputs or {}).get("adjust") is not None else None))
    inputs = dict(subject.inputs or {})
    if value == 0:
        inputs.pop("adjust", None)
        if current is not None:
            db_session.delete(current)
        current, after = None, {"value": None}
    else:
        stored = format(Decimal(raw).normalize(), "f")  # as written, without a sign or trailing zeros
        inputs["adjust"] = stored
        if current is None:
            current = Adjustment(cycle_id=cycle.id, subject_id=subject.id)
            db_session.add(current)
        current.value, current.kind, current.reason, current.by, current.at = stored, kind, reason, by or actor, now()
        after = {"value": stored, "kind": kind, "reason": reason}
    try:
        cycles.set_inputs(subject, cycle, inputs, int(version), actor)
    except CycleError as exc:
        raise PlanError(str(exc)) from None
    db_session.flush()
    record("corp.adjust", subject, before=before, after=after, actor=actor)
    return current
