"""The indicator tree (指标体系) of the tenant: reading it, and every change the efficiency office
makes to it (add, edit, remove, move a first- or second-level indicator; restore the default tree).

The tree lives in the tenant's scheme settings, ``TenantScheme.settings["indicators"]``; the settings
hold only the tenant's overrides, so without that key the default tree of
:mod:`plugins.gov_public_evaluation.indicators` applies. Every change starts from the tree as
:func:`plugins.gov_public_evaluation.settings_of` reads it, is applied to a copy, and the whole new
tree is validated through the settings model (``GovPublicEvaluationSettings``) together with the
tenant's other overrides; the unit codes an indicator names must be villages or departments of the
tenant. A problem is reported on the form's field it comes from (the model's error location → the
field), with the value and what is allowed.

Concurrent edits: every form carries the version of the settings it was read from (a hash of the
stored settings); a change over a newer version is refused. The settings row is locked while a change
is written. Each change is audited. A cycle keeps the tree it was created with (``cycle.settings``),
so a change applies to the cycles created afterwards; the office may then apply the current tree to
the cycles not yet under way (draft or open, no points entered: :func:`apply_to_cycles`).
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from flask_babel import gettext as _
from pydantic import ValidationError
from sqlalchemy import delete, func, select

from core.audit import record
from core.db import db_session
from core.cycles.service import CycleError
from core.models import AuditLog, Cycle, CycleResult, OrgUnit, TenantScheme
from core.scoring.numbers import exact_sum, text
from plugins.gov_public_evaluation import GovPublicEvaluationSettings, settings_of
from plugins.gov_public_evaluation import derived
from plugins.gov_public_evaluation.derived import SCHEME_ID
from plugins.gov_public_evaluation.indicators import applies

UNIT_KINDS = ("village", "department")
NAME_MAX = 100
NUMBER_MAX = 16  # characters of a maximum as stored (the points entered up to it are stored in 16 too)
UNITS_SPLIT = re.compile(r"[\s,;，、；]+")
AUDIT_PREFIX = "township.tree."


class TreeError(Exception):
    """A change is refused: ``message`` for the page, ``errors`` by form field, HTTP ``status``
    (422: the values; 409: someone changed the tree meanwhile; 404: the indicator is gone)."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None, status: int = 422):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status


# ----------------------------------------------------------------------------------- reading

@dataclass
class Tree:
    """The tenant's tree as read: the plain tree (``code``, ``name``, ``children`` with ``code``,
    ``name``, ``max`` as exact decimal text and ``units`` when not empty), whether it differs from
    the default tree, and the version the forms carry."""

    row: TenantScheme
    groups: list[dict[str, Any]]
    custom: bool
    version: str

    def find(self, code: str) -> tuple[int, int | None] | None:
        """(group index, child index or None for a group) of ``code``, or None."""
        for i, group in enumerate(self.groups):
            if group["code"] == code:
                return i, None
            for j, child in enumerate(group["children"]):
                if child["code"] == code:
                    return i, j
        return None

    def item(self, code: str) -> dict[str, Any] | None:
        where = self.find(code)
        if where is None:
            return None
        i, j = where
        return self.groups[i] if j is None else self.groups[i]["children"][j]

    def label(self, code: str) -> str:
        """How an indicator is named in a message: its level, code and name."""
        where = self.find(code)
        if where is None:
            return code
        item = self.item(code)
        if where[1] is None:
            return _("first-level indicator %(code)s %(name)s", code=item["code"], name=item["name"])
        return _("second-level indicator %(code)s %(name)s", code=item["code"], name=item["name"])


def version_of(settings: dict[str, Any] | None) -> str:
    """The version of stored settings: a hash of their canonical JSON (any change makes a new one)."""
    canonical = json.dumps(settings or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def plain_tree(settings: GovPublicEvaluationSettings) -> list[dict[str, Any]]:
    """The validated tree as plain data, as it is stored: maxima as exact decimal text, ``units``
    only when the indicator does not apply to every unit."""
    groups = []
    for group in settings.indicators:
        children = []
        for child in group.children:
            item: dict[str, Any] = {"code": child.code, "name": child.name, "max": text(child.max, 30)}
            if child.units:
                item["units"] = list(child.units)
            children.append(item)
        groups.append({"code": group.code, "name": group.name, "children": children})
    return groups


def scheme_row(lock: bool = False) -> TenantScheme:
    """The tenant's row of the scheme (enabled: the pages check it first); locked for a change."""
    statement = select(TenantScheme).where(TenantScheme.scheme_id == SCHEME_ID, TenantScheme.enabled.is_(True))
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = db_session.scalar(statement)
    if row is None:  # pragma: no cover - the views require the scheme
        raise TreeError(_("The township scheme is not enabled for this organisation."), status=404)
    return row


def current(lock: bool = False) -> Tree:
    """The tenant's tree now (locked, read afresh, for a change)."""
    row = scheme_row(lock)
    settings = dict(row.settings or {})
    groups = plain_tree(settings_of(settings))
    return Tree(row=row, groups=groups, custom=groups != default_tree(), version=version_of(settings))


def tree_total(groups: list[dict[str, Any]]) -> Fraction:
    """The sum of every second-level maximum of a plain tree."""
    return exact_sum([Fraction(c["max"]) for g in groups for c in g["children"]])


def default_tree() -> list[dict[str, Any]]:
    """The default tree (indicators.DEFAULT_INDICATORS) as plain data."""
    return plain_tree(settings_of({}))


# ----------------------------------------------------------------------------------- sums

@dataclass
class KindTotal:
    """Units of one kind that are scored out of the same maxima: per first-level indicator and in all."""

    kind: str
    units: list[OrgUnit]
    by_group: dict[str, Fraction]
    total: Fraction


@dataclass
class Sums:
    by_group: dict[str, Fraction]  # every second-level maximum of the group
    total: Fraction
    kinds: list[KindTotal]  # per unit kind, one line per distinct set of maxima
    differ: bool  # villages and departments (or some units) are scored out of different totals
    unknown_units: dict[str, list[str]] = field(default_factory=dict)  # indicator code -> units not in the org


def scored_units() -> list[OrgUnit]:
    """The tenant's villages and departments (the units the scheme scores), active first, in the org's order."""
    return list(db_session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(UNIT_KINDS))
                                   .order_by(OrgUnit.active.desc(), OrgUnit.sort_order, OrgUnit.code)))


def sums(tree: Tree, units: list[OrgUnit]) -> Sums:
    """Each group's sum of maxima, the tree's, and the maxima that apply per active unit, grouped by
    unit kind and by equal totals (a unit an indicator names by code can be scored out of more)."""
    by_group = {g["code"]: exact_sum([Fraction(c["max"]) for c in g["children"]]) for g in tree.groups}
    lines: dict[tuple, KindTotal] = {}
    for unit in units:
        if not unit.active:
            continue
        per_group = {g["code"]: exact_sum([Fraction(c["max"]) for c in g["children"]
                                           if applies(c.get("units") or (), unit.code, unit.kind)])
                     for g in tree.groups}
        key = (unit.kind, tuple(per_group.values()))
        if key not in lines:
            lines[key] = KindTotal(unit.kind, [], per_group, exact_sum(list(per_group.values())))
        lines[key].units.append(unit)
    kinds = sorted(lines.values(), key=lambda k: (UNIT_KINDS.index(k.kind), -len(k.units)))
    known = {u.code for u in units} | set(UNIT_KINDS)
    unknown = {c["code"]: [u for u in c.get("units") or () if u not in known]
               for g in tree.groups for c in g["children"]}
    return Sums(by_group=by_group, total=exact_sum(list(by_group.values())), kinds=kinds,
                differ=len({k.total for k in kinds}) > 1, unknown_units={k: v for k, v in unknown.items() if v})


def last_change() -> AuditLog | None:
    """The newest audited change of the tree (who changed it and when), or None."""
    return db_session.scalar(select(AuditLog).where(AuditLog.object_type == "TenantScheme",
                                                    AuditLog.action.startswith(AUDIT_PREFIX))
                             .order_by(AuditLog.id.desc()).limit(1))


# ----------------------------------------------------------------------------------- form values

def field_label(name: str) -> str:
    base = name.removeprefix("child_")
    labels = {"code": _("Code"), "name": _("Name"), "max": _("Maximum points"), "units": _("Applies to"),
              "group": _("First-level indicator")}
    return labels.get(base, base)


def _say(field_name: str, problem: str) -> str:
    return _("%(field)s: %(problem)s", field=field_label(field_name), problem=problem)


def number_text(raw: str) -> str | None:
    """A decimal as exact text without needless zeros (``"4.50"`` → ``"4.5"``), or None when it is
    not a plain decimal. Never rounds."""
    value = raw.strip()
    if not value or len(value) > 40 or "e" in value.lower() or "_" in value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    if number == 0:
        return "0"
    result = format(number.normalize(), "f")
    return result


def unit_list(kinds: list[str], codes: str) -> list[str]:
    """The ``units`` setting from the form: the kinds ticked, then the codes typed (each once)."""
    listed: list[str] = []
    for unit in [k for k in UNIT_KINDS if k in kinds] + [c for c in UNITS_SPLIT.split(codes or "") if c]:
        if unit not in listed:
            listed.append(unit)
    return listed


def indicator_values(form: Any, prefix: str = "") -> dict[str, Any]:
    """A second-level indicator as the form gives it (the ``child_`` fields of a new group's form)."""
    raw_max = (form.get(prefix + "max") or "").strip()
    normal = number_text(raw_max)
    item: dict[str, Any] = {"code": (form.get(prefix + "code") or "").strip(),
                            "name": (form.get(prefix + "name") or "").strip(),
                            "max": normal if normal is not None else raw_max}
    kinds = form.getlist(prefix + "unit_kinds") if hasattr(form, "getlist") else form.get(prefix + "unit_kinds", [])
    units = unit_list(kinds, form.get(prefix + "unit_codes") or "")
    if units:
        item["units"] = units
    return item


def group_values(form: Any) -> dict[str, Any]:
    return {"code": (form.get("code") or "").strip(), "name": (form.get("name") or "").strip()}


@dataclass
class Checks:
    """The problems found before the settings model is asked, by form field, and the codes already
    reported as taken (the model's own duplicate errors about them are not repeated)."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    duplicates: set[str] = field(default_factory=set)

    def add(self, name: str, problem: str) -> None:
        message = _say(name, problem)
        if message not in self.errors.setdefault(name, []):
            self.errors[name].append(message)


def _precheck(item: dict[str, Any], prefix: str, tree: Tree, own_code: str | None, units: list[OrgUnit] | None,
              checks: Checks) -> None:
    """What the settings model does not say as the form needs it: a code already used (naming the
    indicator that has it), lengths, and unit codes that are not villages or departments of the
    tenant (``units``: the tenant's; None for a first-level indicator)."""
    code = item.get("code", "")
    if code and code != own_code and (tree.find(code) is not None or code in checks.taken):
        other = tree.label(code) if tree.find(code) is not None else code
        checks.add(prefix + "code", _(
            "“%(value)s” is already the code of %(other)s; codes are unique across the tree (first and second level).",
            value=code, other=other))
        checks.duplicates.add(code)
    checks.taken.add(code)
    if len(item.get("name", "")) > NAME_MAX:
        checks.add(prefix + "name", _("%(length)s characters; allowed: at most %(max)s.",
                                      length=len(item["name"]), max=NAME_MAX))
    if units is None:
        return
    if number_text(str(item.get("max", ""))) is not None and len(str(item["max"])) > NUMBER_MAX:
        checks.add(prefix + "max", _("“%(value)s” is too long; allowed: at most %(max)s characters.",
                                     value=item["max"], max=NUMBER_MAX))
    known = {u.code for u in units}
    for unit in item.get("units") or ():
        if unit not in UNIT_KINDS and unit not in known:
            sample = _(", ").join(u.code for u in units[:8]) + (_(", ") + "…" if len(units) > 8 else "")
            checks.add(prefix + "units", _(
                "“%(value)s” is not the code of a village or department of this town; allowed: tick “All villages” "
                "or “All departments”, or list codes of villages and departments (%(codes)s).", value=unit,
                codes=sample))


def _message(error: dict[str, Any], where: str) -> str:
    """A settings model error in words: the value and what is allowed."""
    kind, value = error["type"], error.get("input")
    shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if kind in ("missing", "empty_name") or (kind in ("string_type", "code_pattern") and value in (None, "")):
        return _("required.")
    if kind == "code_pattern" and where == "units":
        return _("“%(value)s” is not allowed: a unit code is 1 to 32 letters, digits, “_”, “.” or “-”.", value=shown)
    if kind == "code_pattern":
        return _("“%(value)s” is not allowed: a code is 1 to 32 letters, digits, “_”, “.” or “-”.", value=shown)
    if kind == "max_not_positive":
        return _("%(value)s is not allowed: a maximum is above 0.", value=shown)
    if kind == "value_error" and where == "max":
        return _("“%(value)s” is not a number; allowed: an exact decimal above 0, such as 5 or 2.5.", value=shown)
    if kind == "duplicate_code":
        return _("“%(value)s” is used twice; codes are unique across the tree (first and second level).", value=shown)
    if kind == "no_children":
        return _("a first-level indicator needs at least one second-level indicator.")
    if kind == "empty_tree":
        return _("the tree needs at least one first-level indicator.")
    return _("“%(value)s”: %(problem)s", value=shown, problem=error["msg"])


def _place(tree_groups: list[dict[str, Any]], loc: tuple) -> str:
    """Where an error is, in words (for an error outside the form's fields)."""
    if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(tree_groups):
        group = tree_groups[loc[1]]
        if len(loc) >= 4 and loc[2] == "children" and isinstance(loc[3], int) and loc[3] < len(group["children"]):
            child = group["children"][loc[3]]
            return f"{child.get('code', '')} {child.get('name', '')}".strip()
        return f"{group.get('code', '')} {group.get('name', '')}".strip()
    return _("Indicator tree")


# ----------------------------------------------------------------------------------- writing

def _check_version(tree: Tree, version: str | None) -> None:
    if not version or version != tree.version:
        change = last_change()
        who = ""
        if change is not None:
            from core.web import actor_name

            who = _(" (last change: %(who)s, %(when)s)", who=actor_name(change.actor),
                    when=change.at.strftime("%Y-%m-%d %H:%M"))
        raise TreeError(_("The indicator tree was changed by someone else since this page was opened%(who)s. "
                          "Nothing was saved: reload the tree, then make your change again.", who=who), status=409)


def _validate(tree: Tree, groups: list[dict[str, Any]], fields: dict[tuple, str],
              checks: Checks) -> tuple[GovPublicEvaluationSettings | None, list[str]]:
    """Validate the whole new tree with the tenant's other overrides. The errors of the edited
    item's fields (``fields``: location prefix → form field prefix) are added to ``checks`` by field;
    the others are returned, each with its place. A duplicate code or an unknown unit the precheck
    named already is not repeated."""
    overrides = dict(tree.row.settings or {})
    others: list[str] = []
    try:
        validated = GovPublicEvaluationSettings.model_validate({**overrides, "indicators": groups})
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            if loc[:1] != ("indicators",):  # another setting of the tenant's that no longer validates
                others.append(f"{'.'.join(map(str, loc))}: {error['msg']}")
                continue
            if error["type"] == "duplicate_code" and error.get("input") in checks.duplicates:
                continue
            target = where = None
            for prefix, field_prefix in fields.items():
                rest = loc[len(prefix):]
                if loc[:len(prefix)] == prefix and rest and rest[0] in ("code", "name", "max", "units"):
                    target, where = field_prefix + rest[0], rest[0]
                    break
            if target is not None:
                if where == "units" and checks.errors.get(target):
                    continue
                checks.add(target, _message(error, where))
            else:
                last = loc[-1] if loc and isinstance(loc[-1], str) else ""
                others.append(f"{_place(groups, loc)}: {_message(error, last)}")
        return None, others
    return validated, others


def _write(tree: Tree, groups: list[dict[str, Any]], fields: dict[tuple, str], checks: Checks,
           action: str, before: dict[str, Any] | None, after_item: dict[str, Any] | None, actor: str) -> Tree:
    """Validate and store the new tree, audited; raise :class:`TreeError` with every problem."""
    validated, others = _validate(tree, groups, fields, checks)
    if validated is None or checks.errors or others:
        message = _("Not saved: correct the fields marked in the form.")
        if others:
            message = _("Not saved: %(problems)s", problems=" ".join(others))
        raise TreeError(message, checks.errors)
    stored = plain_tree(validated)
    settings = {**(tree.row.settings or {}), "indicators": stored}
    old_version = tree.version
    tree.row.settings = settings
    db_session.flush()
    new_version = version_of(settings)
    record(AUDIT_PREFIX + action, tree.row,
           before={"item": before, "version": old_version},
           after={"item": after_item, "version": new_version, "indicators": stored}, actor=actor)
    return Tree(row=tree.row, groups=stored, custom=stored != default_tree(), version=new_version)


def _start(version: str | None) -> Tree:
    tree = current(lock=True)
    _check_version(tree, version)
    return tree


def _require(tree: Tree, code: str, level: str | None = None) -> tuple[int, int | None]:
    where = tree.find(code)
    if where is None or (level == "group" and where[1] is not None) or (level == "child" and where[1] is None):
        raise TreeError(_("There is no indicator %(code)s in the tree any more: someone removed or renamed it. "
                          "Reload the tree.", code=code), status=404)
    return where


def add_group(form: Any, version: str | None, actor: str) -> Tree:
    """A new first-level indicator at the end of the tree, with its first second-level indicator
    (the ``child_`` fields): a group is never empty."""
    tree = _start(version)
    group, child = group_values(form), indicator_values(form, "child_")
    checks = Checks()
    _precheck(group, "", tree, None, None, checks)
    _precheck(child, "child_", tree, None, scored_units(), checks)
    groups = copy.deepcopy(tree.groups)
    i = len(groups)
    groups.append({**group, "children": [child]})
    return _write(tree, groups, {("indicators", i, "children", 0): "child_", ("indicators", i): ""}, checks,
                  "group_add", None, {**group, "children": [child]}, actor)


def edit_group(code: str, form: Any, version: str | None, actor: str) -> Tree:
    """A first-level indicator's new code and name (its children stay)."""
    tree = _start(version)
    i, _j = _require(tree, code, "group")
    group = group_values(form)
    checks = Checks()
    _precheck(group, "", tree, code, None, checks)
    groups = copy.deepcopy(tree.groups)
    before = {"code": groups[i]["code"], "name": groups[i]["name"]}
    groups[i].update(group)
    return _write(tree, groups, {("indicators", i): ""}, checks, "group_edit", before, group, actor)


def add_indicator(group_code: str, form: Any, version: str | None, actor: str) -> Tree:
    """A new second-level indicator at the end of a first-level one."""
    tree = _start(version)
    i, _j = _require(tree, group_code, "group")
    item = indicator_values(form)
    checks = Checks()
    _precheck(item, "", tree, None, scored_units(), checks)
    groups = copy.deepcopy(tree.groups)
    j = len(groups[i]["children"])
    groups[i]["children"].append(item)
    return _write(tree, groups, {("indicators", i, "children", j): ""}, checks, "indicator_add", None,
                  {**item, "group": group_code}, actor)


def edit_indicator(code: str, form: Any, version: str | None, actor: str) -> Tree:
    """A second-level indicator's code, name, maximum, the units it applies to, and its
    first-level indicator (moved to the end of another one)."""
    tree = _start(version)
    i, j = _require(tree, code, "child")
    item = indicator_values(form)
    checks = Checks()
    _precheck(item, "", tree, code, scored_units(), checks)
    groups = copy.deepcopy(tree.groups)
    before = {**groups[i]["children"][j], "group": groups[i]["code"]}
    target = (form.get("group") or groups[i]["code"]).strip()
    k = next((n for n, g in enumerate(groups) if g["code"] == target), None)
    if k is None:
        checks.add("group", _("“%(value)s” is not a first-level indicator of the tree; allowed: %(allowed)s.",
                              value=target, allowed=", ".join(g["code"] for g in groups)))
        k = i
    if k == i:
        groups[i]["children"][j] = item
        place = ("indicators", i, "children", j)
    elif len(groups[i]["children"]) == 1:
        checks.add("group", _("%(code)s is the only second-level indicator of %(group)s; a first-level indicator "
                              "keeps at least one. Add another one to %(group)s first, or remove %(group)s.",
                              code=code, group=f"{groups[i]['code']} {groups[i]['name']}"))
        groups[i]["children"][j] = item
        place = ("indicators", i, "children", j)
    else:
        del groups[i]["children"][j]
        groups[k]["children"].append(item)
        place = ("indicators", k, "children", len(groups[k]["children"]) - 1)
    return _write(tree, groups, {place: ""}, checks, "indicator_edit", before, {**item, "group": groups[k]["code"]},
                  actor)


def remove(code: str, version: str | None, actor: str) -> Tree:
    """Remove a first-level indicator with its children, or a second-level indicator (not the last
    one of its group: remove the group then). Cycles keep their own tree: their entries stay."""
    tree = _start(version)
    i, j = _require(tree, code)
    groups = copy.deepcopy(tree.groups)
    if j is None:
        if len(groups) == 1:
            raise TreeError(_("%(item)s is the only first-level indicator; the tree keeps at least one. Add another "
                              "one first.", item=tree.label(code)), status=409)
        before = groups.pop(i)
        action = "group_remove"
    else:
        if len(groups[i]["children"]) == 1:
            raise TreeError(_("%(item)s is the only second-level indicator of %(group)s; a first-level indicator keeps "
                              "at least one. Remove %(group)s instead, or add another one to it first.",
                              item=tree.label(code), group=f"{groups[i]['code']} {groups[i]['name']}"), status=409)
        before = {**groups[i]["children"].pop(j), "group": groups[i]["code"]}
        action = "indicator_remove"
    return _write(tree, groups, {}, Checks(), action, before, None, actor)


def move(code: str, direction: str, version: str | None, actor: str) -> Tree:
    """Move an indicator one place up or down among its siblings (nothing at either end)."""
    tree = _start(version)
    i, j = _require(tree, code)
    step = -1 if direction == "up" else 1
    groups = copy.deepcopy(tree.groups)
    siblings = groups if j is None else groups[i]["children"]
    at = i if j is None else j
    if not 0 <= at + step < len(siblings):
        return tree
    siblings[at], siblings[at + step] = siblings[at + step], siblings[at]
    return _write(tree, groups, {}, Checks(), "move", {"code": code, "position": at + 1},
                  {"code": code, "position": at + step + 1}, actor)


def restore_default(version: str | None, actor: str) -> Tree:
    """Drop the tenant's own tree: the default tree applies again (to cycles created afterwards)."""
    tree = _start(version)
    settings = {k: v for k, v in (tree.row.settings or {}).items() if k != "indicators"}
    before = tree.groups
    tree.row.settings = settings
    db_session.flush()
    new_version = version_of(settings)
    record(AUDIT_PREFIX + "restore_default", tree.row, before={"indicators": before, "version": tree.version},
           after={"indicators": None, "version": new_version}, actor=actor)
    return Tree(row=tree.row, groups=plain_tree(settings_of(settings)), custom=False, version=new_version)


# ----------------------------------------------------------------------------------- applying to cycles

APPLIED_STATES = ("draft", "open")  # a cycle in review is being checked; published ones are final


@dataclass
class CycleTree:
    """A cycle not yet published and the current tree: whether it has another tree, how many points
    are entered in it, and whether applying the current tree would change it (else why not)."""

    cycle: Cycle
    entries: int
    differs: bool
    groups: int  # its own tree: first-level and second-level indicators, and the sum of the maxima
    leaves: int
    total: Fraction

    @property
    def changes(self) -> bool:
        return self.differs and self.cycle.state in APPLIED_STATES and self.entries == 0

    @property
    def reason(self) -> str | None:
        """Why the current tree is not applied to this cycle (None: it would be)."""
        if not self.differs:
            return _("It has the current tree already.")
        if self.cycle.state not in APPLIED_STATES:
            return _("It is in review: its results are being checked with its own tree, which stays.")
        if self.entries:
            return _("%(n)s points entries were entered on its own tree, which stays (the points would no longer "
                     "match the indicators).", n=self.entries)
        return None


def cycles_and_tree(tree: Tree, lock: bool = False) -> list[CycleTree]:
    """The scheme's cycles not yet published (draft, open, review), oldest period first, each with
    its tree compared with ``tree`` and its count of points entries; two queries (the draft and open
    ones locked, read afresh, for :func:`apply_to_cycles`)."""
    from plugins.gov_public_evaluation.points.models import IndicatorEntry

    statement = (select(Cycle).where(Cycle.scheme_id == SCHEME_ID,
                                     Cycle.state.in_(APPLIED_STATES if lock else ("draft", "open", "review")))
                 .order_by(Cycle.period, Cycle.id))
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    found = list(db_session.scalars(statement))
    counts = dict(db_session.execute(select(IndicatorEntry.cycle_id, func.count())
                                     .where(IndicatorEntry.cycle_id.in_([c.id for c in found] or [-1]))
                                     .group_by(IndicatorEntry.cycle_id)).all())
    listed = []
    for cycle in found:
        own = plain_tree(settings_of(cycle.settings or {}))
        listed.append(CycleTree(cycle, int(counts.get(cycle.id, 0)), own != tree.groups, len(own),
                                sum(len(g["children"]) for g in own), tree_total(own)))
    return listed


def cycles_seen(listed: list[CycleTree]) -> str:
    """The cycles a confirmation page would change, as its form carries them: ``id:version``."""
    return " ".join(f"{c.cycle.id}:{c.cycle.version}" for c in listed if c.changes)


def apply_to_cycles(version: str | None, seen: str | None, actor: str) -> list[Cycle]:
    """Give the current tree to every cycle of the scheme that is a draft or open and has no points
    entered, when its tree differs: ``cycle.settings["indicators"]`` is replaced (its other
    settings stay), the results computed from its old tree (if any) are removed, its derived inputs
    are refreshed, and each change is audited on the cycle. All or nothing, and only if the tree is
    still the one the page showed (``version``) and the cycles to change are still those it listed
    (``seen``: :func:`cycles_seen`); a points entry is written under the cycle's lock, taken here.
    :raises TreeError: 409 (the tree or the cycles changed meanwhile), 422 (a cycle's settings).
    :return: the cycles changed."""
    tree = _start(version)
    listed = cycles_and_tree(tree, lock=True)
    if cycles_seen(listed) != " ".join((seen or "").split()):
        raise TreeError(_("The cycles changed since this page was opened (a cycle was created, opened or changed, or "
                          "points were entered); nothing was changed. Check the list below, then confirm again."),
                        status=409)
    changed = []
    for item in listed:
        if not item.changes:
            continue
        cycle = item.cycle
        before = plain_tree(settings_of(cycle.settings or {}))
        settings = {**(cycle.settings or {}), "indicators": copy.deepcopy(tree.groups)}
        try:
            GovPublicEvaluationSettings.model_validate(settings)
        except ValidationError as exc:
            raise TreeError(_("Nothing was changed: with the current tree, the settings of the cycle %(cycle)s are not "
                              "valid (%(problems)s).", cycle=cycle.name,
                              problems="; ".join(e["msg"] for e in exc.errors()))) from None
        cycle.settings = settings
        results = db_session.execute(delete(CycleResult).where(CycleResult.cycle_id == cycle.id)).rowcount
        computed = cycle.computed_at
        cycle.computed_at = None
        db_session.flush()
        record(AUDIT_PREFIX + "apply", cycle,
               before={"indicators": before, "computed_at": computed.isoformat() if computed else None},
               after={"indicators": settings["indicators"], "tree_version": tree.version,
                      "results_removed": results}, actor=actor)
        try:
            derived.refresh(cycle, actor)
        except CycleError as exc:
            raise TreeError(_("Nothing was changed: %(reason)s", reason=str(exc)), status=409) from None
        changed.append(cycle)
    return changed
