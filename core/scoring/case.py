"""Case files (casefile.md): reading, the shape every scheme shares, periods, and problems.

A case holds everything one scheme needs to score one period. The same ``Case`` is built by the
portal from its database, so a case file and a portal cycle with the same inputs give identical
results.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Callable, Sequence, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic.dataclasses import dataclass as pydantic_dataclass

from core.schemes import format_pydantic_error, loc_path
from core.scoring.numbers import NumberError, exact
from core.yamlio import YamlError, load_strict

PERIOD_FORMS = {"month": "YYYY-MM", "quarter": "YYYY-Qn", "half": "YYYY-H1 / YYYY-H2", "year": "YYYY"}


class CaseError(ValueError):
    """Invalid input: one line per problem, each naming the subject, the field, what was found and
    what is allowed."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# ----------------------------------------------------------------------------------- values

def _number(value: Any) -> Fraction:
    try:
        return exact(value)
    except NumberError as exc:
        raise ValueError(str(exc)) from None


Num = Annotated[Fraction, BeforeValidator(_number)]
"""A number field: read as the decimal written, kept exact."""


def _string_id(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Id = Annotated[str, BeforeValidator(_string_id), Field(min_length=1, max_length=64)]


class Strict(BaseModel):
    """Base of case-file models that are few (the file's shape, settings): unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, populate_by_name=True)


STRICT_CONFIG = ConfigDict(extra="forbid", arbitrary_types_allowed=True, populate_by_name=True)


def record(cls: type | None = None, /, **config: Any):
    """Decorator for input records that come by the thousand (subjects, their inputs, items):
    a pydantic dataclass with slots — validated like a model, unknown keys refused, but a quarter
    of a model's memory and faster to build, which is what lets 100,000 subjects scale."""

    def wrap(klass: type) -> type:
        return pydantic_dataclass(klass, slots=True, kw_only=True, config=ConfigDict(**{**STRICT_CONFIG, **config}))

    return wrap(cls) if cls is not None else wrap


@lru_cache(maxsize=None)
def adapter(klass: type) -> TypeAdapter:
    """The (cached) validator of a record or model class."""
    return TypeAdapter(klass)


# ----------------------------------------------------------------------------------- periods

_PERIOD = re.compile(r"^(\d{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])|H([12])))?$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: str = field(compare=False)
    index: int  # month 1-12, quarter 1-4, half 1-2, 0 for a year
    text: str = field(compare=False)

    @classmethod
    def parse(cls, value: Any) -> "Period":
        text = str(value).strip()
        match = _PERIOD.match(text)
        if not match:
            raise ValueError(f"{text!r} is not a period; allowed: YYYY-MM, YYYY-Qn, YYYY-H1, YYYY-H2 or YYYY")
        year, month, quarter, half = match.groups()
        if month:
            return cls(int(year), "month", int(month), text)
        if quarter:
            return cls(int(year), "quarter", int(quarter), text)
        if half:
            return cls(int(year), "half", int(half), text)
        return cls(int(year), "year", 0, text)

    def __str__(self) -> str:
        return self.text

    def months_back(self, n: int) -> "Period":
        """The month ``n`` months before this one (months only)."""
        total = self.year * 12 + (self.index - 1) - n
        year, month = divmod(total, 12)
        return Period(year, "month", month + 1, f"{year:04d}-{month + 1:02d}")


# ----------------------------------------------------------------------------------- the shape

class CaseFile(Strict):
    scheme: str
    period: Annotated[str, BeforeValidator(_string_id)]
    settings: dict[str, Any] | None = None
    # Each subject is validated by the scheme's own models; here only "a list" (no copying).
    units: list[Any] = Field(default_factory=list)
    people: list[Any] = Field(default_factory=list)


@dataclass
class Case:
    """A validated case: typed subjects, the scheme's settings merged over its defaults."""

    scheme: str
    period: Period
    settings: dict[str, Any]
    units: list[Any]
    people: list[Any]


M = TypeVar("M", bound=BaseModel)


def subject_label(raw: Any, section: str, index: int) -> str:
    """How problems name a subject: its id, else its place in the file."""
    if isinstance(raw, dict) and isinstance(raw.get("id"), (str, int)) and not isinstance(raw.get("id"), bool):
        return str(raw["id"])
    return f"{section}[{index}]"


def validate_subjects(raws: list[Any], model: type[M] | Callable[[dict], type[M]], section: str,
                      problems: list[str]) -> list[M]:
    """Validate each subject with its model; problems read ``P7.inputs.adjust: ...``.

    ``model`` may be a function choosing the model from the raw subject (per class or kind)."""
    result = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(raws):
        label = subject_label(raw, section, index)
        if not isinstance(raw, dict):
            problems.append(f"{label}: expected a mapping with id and inputs, found {raw!r}")
            continue
        if label in seen:
            problems.append(f"{label}.id: {label!r} is already used by {section}[{seen[label]}]; ids must be unique")
        seen.setdefault(label, index)
        try:
            chosen = model if isinstance(model, type) else model(raw)
            result.append(adapter(chosen).validate_python(raw))
        except ValidationError as exc:
            problems.extend(format_pydantic_error(e, path=loc_path(e["loc"], label)) for e in exc.errors())
        except ValueError as exc:  # the model chooser refused (unknown class or kind)
            problems.append(f"{label}.{exc}")
    return result


def read_case_text(text: str, suffix: str = ".yaml") -> Any:
    """Parse a case file: YAML read strictly, or JSON with numbers kept as written."""
    if suffix.lower() == ".json" or text.lstrip().startswith("{"):
        def no_duplicates(pairs):
            keys = [k for k, _v in pairs]
            duplicate = next((k for k in keys if keys.count(k) > 1), None)
            if duplicate is not None:
                raise YamlError(f"duplicate key {duplicate!r}; each key may appear once in an object")
            return dict(pairs)

        try:
            return json.loads(text, parse_float=str, parse_int=str, object_pairs_hook=no_duplicates)
        except json.JSONDecodeError as exc:
            raise YamlError(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    return load_strict(text)


def read_case_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CaseError([f"{path}: no such file"]) from None
    except (UnicodeDecodeError, IsADirectoryError) as exc:
        raise CaseError([f"{path}: cannot be read as UTF-8 text ({exc.__class__.__name__})"]) from None
    try:
        return read_case_text(text, path.suffix)
    except YamlError as exc:
        raise CaseError([f"{path}: {exc}"]) from None


def build_case(raw: Any, schemes: dict) -> tuple[Any, Case]:
    """Validate the shared shape, pick the scheme, and let it validate its subjects.

    The collector is paused throughout (see :func:`core.scoring.paused_gc`): validating 100,000
    subjects with it running costs more than the validation, and grows faster than the case.

    :return: ``(scheme, case)``. :raises CaseError: listing every problem found.
    """
    from core.scoring import paused_gc

    with paused_gc():
        return _build_case(raw, schemes)


def _build_case(raw: Any, schemes: dict) -> tuple[Any, Case]:
    if not isinstance(raw, dict):
        raise CaseError([f"the case must be a mapping with scheme, period, units and people; found {type(raw).__name__}"])
    try:
        shape = CaseFile.model_validate(raw)
    except ValidationError as exc:
        raise CaseError([format_pydantic_error(e) for e in exc.errors()]) from None
    scheme = schemes.get(shape.scheme)
    if scheme is None or scheme.build_case is None:
        scorers = ", ".join(s for s, obj in schemes.items() if obj.build_case is not None)
        raise CaseError([f"scheme: {shape.scheme!r} is not a loaded scheme that scores cases; allowed: {scorers}"])
    problems: list[str] = []
    try:
        period = Period.parse(shape.period)
        if period.kind not in scheme.periods:
            allowed = " or ".join(PERIOD_FORMS[k] for k in scheme.periods)
            problems.append(f"period: {shape.period!r} is a {period.kind}; {scheme.id} scores {allowed}")
    except ValueError as exc:
        period = None
        problems.append(f"period: {exc}")
    settings, errors = scheme.validate_settings(shape.settings)
    problems.extend(errors)
    if problems:
        raise CaseError(problems)
    return scheme, scheme.build_case(shape, period, settings)


def unit_reference_problems(people: list[Any], unit_ids: set[str], required: bool) -> list[str]:
    """Each person's ``unit`` names a unit of the file (or may be absent where allowed)."""
    problems = []
    for person in people:
        unit = getattr(person, "unit", None)
        if unit is None:
            if required:
                problems.append(f"{person.id}.unit: required; allowed: the id of a unit in this file")
        elif unit not in unit_ids:
            allowed = ", ".join(sorted(unit_ids)) or "none (the file has no units)"
            problems.append(f"{person.id}.unit: {unit!r} is not a unit in this file; allowed: {allowed}")
    return problems
