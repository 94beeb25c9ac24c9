"""Turning a scheme's declared input fields into form values and back into case-file inputs.

A subject's inputs are stored in case-file shape; a form edits the declared fields and leaves
every other key alone (a committee review, a month's history ...). Values are validated by the
field declaration first (a number, within its range) and then by the scheme itself on a case
holding just this subject, so the form shows the scheme's own messages next to the fields.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

from flask_babel import gettext as _

from core.schemes import InputField, Scheme
from core.scoring.blocks import LEVELS, Item, quantitative_problems, scorecard, weight_problems
from core.scoring.case import CaseError, build_case
from core.scoring.numbers import NumberError, exact, round_half_up, text

ITEM_FIELDS = ("name", "weight", "kind", "actual", "threshold", "target", "challenge", "better", "level")
MAX_ITEMS = 30


def get_value(inputs: Mapping[str, Any], path: str) -> Any:
    node: Any = inputs
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def set_value(inputs: dict[str, Any], path: str, value: Any) -> None:
    """Set (or, with ``None``, remove) a dotted path; empty parents are removed too."""
    parts = path.split(".")
    node = inputs
    trail = []
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            if value is None:
                return
            child = node[part] = {}
        trail.append((node, part))
        node = child
    if value is None:
        node.pop(parts[-1], None)
        for parent, key in reversed(trail):
            if not parent[key]:
                del parent[key]
    else:
        node[parts[-1]] = value


def form_name(path: str) -> str:
    return path.replace(".", "__")


@dataclass
class Parsed:
    inputs: dict[str, Any]
    errors: dict[str, list[str]] = field(default_factory=dict)  # form name -> messages

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _number(parsed: Parsed, name: str, raw: str, f: InputField, whole: bool = False) -> str | None:
    raw = raw.strip()
    if raw == "":
        return None
    try:
        value = exact(raw)
    except NumberError:
        parsed.add(name, _("%(value)s is not a number; write it like 4.5 or 80.", value=raw))
        return None
    if whole and value.denominator != 1:
        parsed.add(name, _("%(value)s is not a whole number.", value=raw))
        return None
    low = exact(f.minimum) if f.minimum is not None else None
    high = exact(f.maximum) if f.maximum is not None else None
    if (low is not None and value < low) or (high is not None and value > high):
        parsed.add(name, _("%(value)s is outside [%(low)s, %(high)s].", value=raw,
                           low=f.minimum if f.minimum is not None else "−∞", high=f.maximum if f.maximum is not None else "∞"))
        return None
    return raw


def parse(fields: list[InputField], form: Mapping[str, Any], current: Mapping[str, Any], unit_codes: set[str]) -> Parsed:
    """The new inputs from a submitted form: declared fields replaced, other keys kept."""
    import copy

    parsed = Parsed(copy.deepcopy(dict(current)))
    for f in fields:
        name = form_name(f.path)
        if f.kind == "scorecard":
            _parse_scorecard(parsed, f, form)
            continue
        if f.kind == "bool":
            set_value(parsed.inputs, f.path, True if form.get(name) in ("on", "true", "1") else None)
            continue
        if f.kind == "units":
            codes = [c for c in (form.getlist(name) if hasattr(form, "getlist") else form.get(name, [])) if c]
            unknown = [c for c in codes if c not in unit_codes]
            if unknown:
                parsed.add(name, _("%(codes)s are not units of this cycle.", codes=", ".join(unknown)))
            set_value(parsed.inputs, f.path, codes or None)
            continue
        value = _number(parsed, name, str(form.get(name, "")), f, whole=f.kind == "count")
        if name not in parsed.errors:
            set_value(parsed.inputs, f.path, value)
    return parsed


def _parse_scorecard(parsed: Parsed, f: InputField, form: Mapping[str, Any]) -> None:
    name = form_name(f.path)
    mode = form.get(f"{name}__mode", "score")
    score_key, items_key = f"{f.path}_score", f"{f.path}_items"
    if mode == "score":
        value = _number(parsed, f"{name}_score", str(form.get(f"{name}_score", "")), f)
        set_value(parsed.inputs, items_key, None)
        if f"{name}_score" not in parsed.errors:
            set_value(parsed.inputs, score_key, value)
        return
    items = []
    for index in range(MAX_ITEMS):
        prefix = f"{name}_items-{index}-"
        if not any(k.startswith(prefix) for k in form.keys()):
            continue
        item = {key: str(form.get(prefix + key, "")).strip() for key in ITEM_FIELDS}
        if not item["name"] and not item["weight"]:
            continue  # an empty row
        kept = {"name": item["name"], "weight": item["weight"], "kind": item["kind"] or "quantitative"}
        if kept["kind"] == "qualitative":
            kept["level"] = item["level"]
        else:
            for key in ("actual", "threshold", "target", "challenge"):
                if item[key]:
                    kept[key] = item[key]
            if item["better"] == "lower":
                kept["better"] = "lower"
        items.append(kept)
    set_value(parsed.inputs, score_key, None)
    set_value(parsed.inputs, items_key, items or None)


# ----------------------------------------------------------------------------------- checks

def scheme_problems(scheme: Scheme, cycle_case: dict[str, Any], subject_kind: str, code: str) -> dict[str, list[str]]:
    """The scheme's own problems with one subject, keyed by the input path they name.

    The subject is validated in a case holding it and the units it refers to (their own problems
    and references to units outside this little case are not this form's business).
    """
    from core.plugins import get_schemes

    try:
        build_case(cycle_case, get_schemes())
        return {}
    except CaseError as exc:
        lines = exc.problems
    mine: dict[str, list[str]] = {}
    prefix = f"{code}."
    for line in lines:
        if not line.startswith(prefix) or "is not a unit in this file" in line:
            continue
        where, _sep, message = line.partition(": ")
        path = where[len(prefix):]
        path = path[len("inputs."):] if path.startswith("inputs.") else path
        mine.setdefault(path, []).append(message)
    return mine


def mini_case(cycle_case_head: dict[str, Any], subject: dict[str, Any], kind: str, stub_units: list[str]) -> dict[str, Any]:
    units = [subject] if kind == "unit" else [{"id": c, "kind": "department", "inputs": {}} for c in stub_units]
    case = {**cycle_case_head, "units": units}
    if kind == "person":
        case["people"] = [subject]
    return case


# ----------------------------------------------------------------------------------- live totals

@dataclass
class LiveTotal:
    """A scorecard as the form stands: its total (Σ weight × item score), each item's score and
    weight, and what keeps it from counting (weights off, a missing value)."""

    total: str | None = None
    items: list[tuple[str, int, str]] = field(default_factory=list)  # (name, score 2-5, weight)
    problems: list[str] = field(default_factory=list)


def live_total(f: InputField, inputs: Mapping[str, Any]) -> LiveTotal:
    score = get_value(inputs, f"{f.path}_score")
    if score is not None:
        try:
            return LiveTotal(text(exact(score), 2))
        except NumberError:
            return LiveTotal()
    items = get_value(inputs, f"{f.path}_items") or []
    if not items:
        return LiveTotal()
    try:
        parsed = [Item(name=i["name"], weight=exact(i["weight"]),
                       kind=i.get("kind", "quantitative"), actual=_maybe(i.get("actual")),
                       threshold=_maybe(i.get("threshold")), target=_maybe(i.get("target")),
                       challenge=_maybe(i.get("challenge")), better=i.get("better"), level=i.get("level"))
                  for i in items]
    except (NumberError, KeyError, TypeError):
        return LiveTotal(problems=[_("Fill in every item's name and weight as numbers.")])
    problems = weight_problems([p.weight for p in parsed])
    for p in parsed:
        if p.kind == "qualitative" and p.level not in LEVELS:
            return LiveTotal(problems=problems + [_("Choose a level for %(name)s.", name=p.name)])
        if p.kind != "qualitative":
            if None in (p.actual, p.threshold, p.target):
                return LiveTotal(problems=problems + [_("%(name)s needs actual, threshold and target.", name=p.name)])
            problems += [f"{p.name}: {m}" for m in quantitative_problems(p.threshold, p.target, p.challenge, p.better or "higher")]
    total, breakdown = scorecard(f.path, parsed)
    return LiveTotal(str(round_half_up(total)), [(t.label, int(t.value), text(t.weight)) for t in breakdown.terms], problems)


def _maybe(value: Any) -> Fraction | None:
    return None if value in (None, "") else exact(value)

