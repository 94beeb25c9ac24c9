"""What an assessment scheme declares about itself.

A scheme plugin returns :class:`Scheme` objects from ``jixiao_load_schemes``. Its settings are a
pydantic model: the defaults are the model's defaults and a tenant's overrides are validated by it
(unknown keys are errors).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError

PERIOD_KINDS = ("month", "quarter", "half", "year")


class SchemeSettings(BaseModel):
    """Base of every scheme's settings model: unknown keys are refused, values validated."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", frozen=True)


INPUT_KINDS = ("number", "count", "level", "bool", "scorecard", "units")


@dataclass(frozen=True)
class InputField:
    """One input a scheme collects for a subject; drives the portal's forms and bulk templates.

    ``path`` is where the value lives in the subject's case-file ``inputs`` (dots for nesting:
    ``ratings.basic_ability``). A ``scorecard`` field ``form`` stores ``form_score`` (one number)
    or ``form_items`` (weighted items). ``units`` is a list of unit codes (class A ``oversees``).
    """

    path: str
    label_zh: str
    label_en: str
    kind: str = "number"
    subject: str = "person"               # unit | person
    classes: tuple[str, ...] = ()         # empty: every class
    periods: tuple[str, ...] = ()         # empty: every period kind the scheme scores
    minimum: str | None = None
    maximum: str | None = None
    required: bool = False
    help_zh: str = ""
    help_en: str = ""
    role: str = "tenant_admin"            # who enters it: a role of core.models.ROLES, or "self"
    also: tuple[str, ...] = ()            # others who may enter it too (e.g. "self" for a self-score)
    group_zh: str = ""                    # a heading the form groups fields under
    group_en: str = ""

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_zh

    @property
    def roles(self) -> tuple[str, ...]:
        return (self.role, *self.also)

    def group(self, locale: str) -> str:
        return self.group_en if locale == "en" else self.group_zh

    def help(self, locale: str) -> str:
        return self.help_en if locale == "en" else self.help_zh

    def applies(self, subject_kind: str, staff_class: str | None, period_kind: str) -> bool:
        return (self.subject == subject_kind and (not self.classes or staff_class in self.classes)
                and (not self.periods or period_kind in self.periods))


@dataclass(frozen=True)
class Scheme:
    """Metadata of one assessment scheme."""

    id: str
    name_zh: str
    name_en: str
    version: str
    plugin: str
    description_zh: str = ""
    description_en: str = ""
    periods: tuple[str, ...] = ()
    subject_kinds: tuple[str, ...] = ()  # "unit", "person"
    unit_kinds: tuple[str, ...] = ()
    staff_classes: tuple[str, ...] = ()
    subject_fields: tuple[str, ...] = ()  # org fields a person carries into the case besides class: "status"
    settings_model: type[SchemeSettings] = SchemeSettings
    labels: dict[str, dict[str, str]] = field(default_factory=dict)  # term -> {zh, en}
    # Scoring (core/scoring): build_case(shape, period, settings) -> Case, raising CaseError;
    # compute(case) -> CaseResult, pure: no database, no Flask.
    build_case: Callable[..., Any] | None = None
    compute: Callable[..., Any] | None = None
    # The inputs the portal collects: input_fields(settings) -> list[InputField] (settings may
    # shape them, e.g. a township's indicator tree).
    input_fields: Callable[[dict[str, Any]], list[InputField]] | None = None
    # grade_of(settings, rounded score) -> grade or None: re-grades a score adjusted on appeal.
    grade_of: Callable[[dict[str, Any], Any], str | None] | None = None
    # Appeals: how long after publication a person may appeal, in working or calendar days.
    appeal_days: int = 5
    appeal_day_kind: str = "working"
    # adjust_refusal(subject kind, flags, extra) -> why an appeal may not simply change this score
    # (values derived from it, such as pay or other subjects' scores, would go stale), or None.
    adjust_refusal: Callable[[str, list, dict], str | None] | None = None
    # Input fields and result keys only HR and the person see (sales pay).
    confidential: tuple[str, ...] = ()
    # Individual raters' answers, which HR alone sees (not even the person rated): the inputs that
    # hold them, and the breakdown nodes (rater groups) whose terms are single answers; the group
    # values themselves stay visible (corporate 360 reviews).
    rater_answers: tuple[str, ...] = ()
    rater_groups: tuple[str, ...] = ()

    def fields_for(self, settings: dict[str, Any], subject_kind: str, staff_class: str | None,
                   period_kind: str) -> list[InputField]:
        if self.input_fields is None:
            return []
        return [f for f in self.input_fields(settings) if f.applies(subject_kind, staff_class, period_kind)]

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_zh

    def default_settings(self) -> dict[str, Any]:
        return self.settings_model().model_dump(mode="json")

    def validate_settings(self, overrides: dict[str, Any] | None) -> tuple[dict[str, Any] | None, list[str]]:
        """Merge a tenant's overrides over the defaults.

        :return: ``(settings, [])`` when valid, else ``(None, errors)`` with one message per problem,
            each naming the setting, the value found and what is allowed.
        """
        if overrides is None:
            overrides = {}
        if not isinstance(overrides, dict):
            return None, [f"settings: expected a mapping of setting names to values, found {overrides!r}"]
        try:
            return self.settings_model(**overrides).model_dump(mode="json"), []
        except ValidationError as exc:
            return None, [format_pydantic_error(err, prefix="settings") for err in exc.errors()]


def loc_path(loc: tuple | list, prefix: str = "") -> str:
    """``("units", 3, "kind")`` → ``units[3].kind``."""
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def format_pydantic_error(err: dict[str, Any], prefix: str = "", path: str | None = None) -> str:
    """One line per problem: ``field.path: value — what is allowed``."""
    path = path if path is not None else loc_path(err["loc"], prefix)
    if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        return f"{path}: unknown key (value {err['input']!r}); remove it or check its spelling"
    if err["type"] in ("missing", "missing_keyword_only_argument"):
        return f"{path}: required but missing"
    # pydantic's wording without its internals: no "Value error, " prefix, no model class names
    message = re.sub(r" or (an )?instance of \w+", "", err["msg"].removeprefix("Value error, "))
    return f"{path}: {_shown(err['input'])} is not allowed — {message}"


def _shown(value: Any) -> str:
    """A value as the user wrote it: numbers bare (``101``), other text quoted (``'castle'``)."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return value
    return repr(value)
