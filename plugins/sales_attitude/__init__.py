"""Built-in scheme `sales-attitude`: attitude-weighted monthly scoring of sales staff (schemes.md §2)."""
from __future__ import annotations

import importlib
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError

from flask_babel import gettext as _

from core import hookimpl
from core.schemes import Scheme, SchemeSettings
from core.schemes_web import scheme_home_panel
from core.scoring.blocks import weight_problems
from core.scoring.formula import FormulaError, compile_formula
from core.scoring.settings import Exact, FormulaText
from plugins.sales_attitude.inputs import input_fields
from plugins.sales_attitude.scoring import (ATTITUDE_NAMES, DEFAULT_ATTITUDE_FORMULA, DEFAULT_PAY_FORMULA,
                                            DEFAULT_RESPONSIBILITY_FORMULA, DIMENSIONS, PAY_NAMES,
                                            RESPONSIBILITY_NAMES, STAFF_CLASSES, TOTAL_NAMES, UNIT_KINDS,
                                            build_case, compute)

PLUGIN = "plugins.sales_attitude"


def _decimal_text(value: Fraction) -> str:
    """A terminating fraction written as its exact decimal (0.2, not 0.200000)."""
    for places in range(0, 16):
        scaled = value * 10 ** places
        if scaled.denominator == 1:
            digits = str(abs(scaled.numerator)).rjust(places + 1, "0")
            text = digits if places == 0 else f"{digits[:-places]}.{digits[-places:]}"
            return ("-" if value < 0 else "") + text
    raise ValueError(f"{float(value)} has more than 15 decimals")


class DimensionWeights(SchemeSettings):
    """Weights of the five dimensions (schemes.md §2); they must sum to exactly 1."""

    attitude: Exact = Fraction("0.15")        # 工作态度
    basic_ability: Exact = Fraction("0.15")   # 基础能力
    proficiency: Exact = Fraction("0.20")     # 业务熟练程度
    responsibility: Exact = Fraction("0.25")  # 责任感
    coordination: Exact = Fraction("0.25")    # 协调性

    @model_validator(mode="after")
    def _sum_to_one(self):
        problems = weight_problems([getattr(self, name) for name in DIMENSIONS])
        if problems:
            raise PydanticCustomError("weights", "; ".join(problems))
        return self

    def formula(self) -> str:
        return " + ".join(f"{name} * {_decimal_text(getattr(self, name))}" for name in DIMENSIONS)


class EventPoints(SchemeSettings):
    """Points per event (default 1 each; sick leave 0). The formulas give the sign: an event name in
    a formula stands for count × points."""

    late: Exact = Fraction(1)
    early_leave: Exact = Fraction(1)
    personal_leave_days: Exact = Fraction(1)
    sick_leave_days: Exact = Fraction(0)
    overtime: Exact = Fraction(1)
    extra_work: Exact = Fraction(1)
    proactive: Exact = Fraction(1)
    shirking: Exact = Fraction(1)
    praise: Exact = Fraction(1)
    complaint: Exact = Fraction(1)

    @field_validator("*")
    @classmethod
    def _not_negative(cls, value: Fraction) -> Fraction:
        if value < 0:
            raise PydanticCustomError("points", "points are a number, 0 or more; the formula gives the sign")
        return value


DEFAULT_TOTAL_FORMULA = DimensionWeights().formula()


def plain_weights(source: Any) -> dict[str, Fraction] | None:
    """The weights of a total formula that is a plain weighted sum of the five dimensions
    (``attitude * 0.15 + basic_ability * 0.15 + ...``, any order), else None."""
    if not isinstance(source, str):
        return None
    try:
        formula = compile_formula(source, TOTAL_NAMES)
        _value, node = formula.explain({name: Fraction(0) for name in DIMENSIONS}, "total")
    except FormulaError:
        return None
    weights: dict[str, Fraction] = {}
    for term in node.terms:
        if term.label not in DIMENSIONS or term.weight is None or term.label in weights:
            return None
        weights[term.label] = term.weight
    return weights if len(weights) == len(DIMENSIONS) else None


def _weights_text(weights: dict[str, Fraction]) -> str:
    return ", ".join(f"{name} {_decimal_text(weights[name])}" for name in DIMENSIONS)


class SalesAttitudeSettings(SchemeSettings):
    """The scoring rules of schemes.md §2, each overridable by a tenant.

    - ``weights``: dimension weights, summing to exactly 1. ``total_formula`` is built from them
      unless a tenant sets it. A total formula that is a plain weighted sum of the five dimensions
      must agree with ``weights`` (when only the formula is set, the weights are read from it); any
      other total formula is used as written and ``weights`` do not enter it.
    - ``attitude_base`` (default 100) and ``points`` per event; in ``attitude_formula`` and
      ``responsibility_formula`` an event name stands for count × points, ``base`` for attitude_base,
      ``service`` for the service-norm rating.
    - ``clamp_dimensions`` (default on): each dimension kept within [dimension_min, dimension_max].
      The final total is never clamped.
    - ``pay_formula`` over ``base``, ``coefficient`` and the rounded ``total``; × ``training_pay_factor``
      while the person is in training; rounded half-up to the cent.
    - Competence: training at ``training_months`` months below ``training_line`` within the rolling
      ``training_window_months`` ending with the month; transfer within the calendar year at
      ``transfer_months`` months below ``transfer_line`` or ``transfer_low_months`` below
      ``transfer_low_line``. ``leave_exception`` (default on): a month below a line only because of
      personal leave does not count for that line.
    """

    weights: DimensionWeights = Field(default_factory=DimensionWeights)
    attitude_base: Exact = Fraction(100)
    points: EventPoints = Field(default_factory=EventPoints)
    attitude_formula: FormulaText(ATTITUDE_NAMES) = DEFAULT_ATTITUDE_FORMULA
    responsibility_formula: FormulaText(RESPONSIBILITY_NAMES) = DEFAULT_RESPONSIBILITY_FORMULA
    total_formula: FormulaText(TOTAL_NAMES) = DEFAULT_TOTAL_FORMULA
    clamp_dimensions: bool = True
    dimension_min: Exact = Fraction(0)
    dimension_max: Exact = Fraction(100)
    pay_formula: FormulaText(PAY_NAMES) = DEFAULT_PAY_FORMULA
    training_pay_factor: Exact = Fraction("0.8")
    training_line: Exact = Fraction(80)
    training_months: int = Field(3, ge=1, le=12)
    training_window_months: int = Field(6, ge=1, le=12)
    transfer_line: Exact = Fraction(80)
    transfer_months: int = Field(5, ge=1, le=12)
    transfer_low_line: Exact = Fraction(70)
    transfer_low_months: int = Field(3, ge=1, le=12)
    leave_exception: bool = True

    @model_validator(mode="before")
    @classmethod
    def _one_source_of_weights(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        total, weights = data.get("total_formula"), data.get("weights")
        if total is None and weights is not None:
            try:
                weights = DimensionWeights.model_validate(weights)
            except ValidationError:
                return data  # the weights field reports it
            return {**data, "total_formula": weights.formula()}
        if total is not None and weights is None:
            plain = plain_weights(total)
            if plain is not None and not weight_problems(list(plain.values())):
                return {**data, "weights": {name: _decimal_text(plain[name]) for name in DIMENSIONS}}
        return data

    @field_validator("total_formula")
    @classmethod
    def _agrees_with_weights(cls, value: str, info: ValidationInfo) -> str:
        plain = plain_weights(value)
        if plain is None:
            return value  # not a plain weighted sum: used as written
        problems = weight_problems(list(plain.values()))
        if problems:
            raise PydanticCustomError("weights", "the formula's " + "; ".join(problems))
        weights = info.data.get("weights")
        if weights is not None:
            given = {name: getattr(weights, name) for name in DIMENSIONS}
            if given != plain:
                raise PydanticCustomError(
                    "weights", f"its weights ({_weights_text(plain)}) differ from settings.weights "
                               f"({_weights_text(given)}); change the weights only (the total formula follows "
                               f"them), or both alike")
        return value

    @field_validator("training_pay_factor")
    @classmethod
    def _factor(cls, value: Fraction) -> Fraction:
        if not 0 < value <= 1:
            raise PydanticCustomError("factor", "the training pay factor is above 0 and at most 1")
        return value

    @model_validator(mode="after")
    def _consistent(self):
        if self.dimension_min >= self.dimension_max:
            raise PydanticCustomError("range", "dimension_min must be below dimension_max")
        if self.training_months > self.training_window_months:
            raise PydanticCustomError("window", "training_months cannot exceed training_window_months")
        return self


def adjust_refusal(kind: str, flags: list, extra: dict) -> str | None:
    """A total with pay or competence listings derived from it is corrected through its inputs."""
    if "pay" in (extra or {}) or set(flags or ()) & {"training", "transfer"}:
        return _("This result's pay and competence listings follow from its total, so the total is not adjusted "
                 "alone: correct the inputs, then decide the appeal as corrected (recomputed from them).")
    return None


SCHEME = Scheme(
    id="sales-attitude",
    name_zh="销售人员态度加权考评",
    name_en="Sales attitude-weighted scoring",
    version="1.0",
    plugin=PLUGIN,
    description_zh="工作态度、基础能力、业务熟练程度、责任感、协调性五个维度加权,绩效工资与不称职认定。",
    description_en="Five weighted dimensions (attitude, basic ability, proficiency, responsibility, "
                   "coordination), performance pay and competence lists.",
    periods=("month",),
    subject_kinds=("person",),
    unit_kinds=UNIT_KINDS,
    staff_classes=STAFF_CLASSES,
    subject_fields=("status",),
    appeal_days=7,  # within 7 days of the result (source 004 part 4)
    # pay is HR's and the person's alone (issue 6, source 004); a training period is not: the unit head
    # and the leaders follow the person's improvement plan
    confidential=("pay", "pay.base", "pay.coefficient"),
    adjust_refusal=adjust_refusal,
    appeal_day_kind="calendar",
    settings_model=SalesAttitudeSettings,
    labels={
        "attitude": {"zh": "工作态度", "en": "Attitude"},
        "basic_ability": {"zh": "基础能力", "en": "Basic ability"},
        "proficiency": {"zh": "业务熟练程度", "en": "Business proficiency"},
        "responsibility": {"zh": "责任感", "en": "Responsibility"},
        "coordination": {"zh": "协调性", "en": "Coordination"},
        "training": {"zh": "培训对象", "en": "Listed for training"},
        "transfer": {"zh": "转岗对象", "en": "Listed for transfer"},
        "excluded:intern": {"zh": "不参与考评:实习期", "en": "Excluded: internship"},
        "excluded:probation": {"zh": "不参与考评:见习期", "en": "Excluded: probation"},
        "excluded:transfer": {"zh": "不参与考评:转岗期", "en": "Excluded: transfer period"},
        "excluded:promotion": {"zh": "不参与考评:晋升期", "en": "Excluded: promotion period"},
        "excluded:demotion": {"zh": "不参与考评:降职期", "en": "Excluded: demotion period"},
        "supervisor": {"zh": "销售主管", "en": "Sales supervisor"},
        "staff": {"zh": "销售业务员", "en": "Salesperson"},
        "pay": {"zh": "绩效工资", "en": "Performance pay"},
        "score": {"zh": "总分", "en": "Total"},
        "total": {"zh": "加权总分", "en": "Weighted total"},
        "ratings": {"zh": "主管评分", "en": "Manager ratings"},
        "service": {"zh": "服务规范", "en": "Service norms"},
        "events": {"zh": "考勤与客户事件", "en": "Attendance and customer events"},
        "history": {"zh": "以往月份总分", "en": "Earlier months' totals"},
        "late": {"zh": "迟到", "en": "Late arrivals"},
        "early_leave": {"zh": "早退", "en": "Early leaves"},
        "personal_leave_days": {"zh": "事假(天)", "en": "Personal leave (days)"},
        "sick_leave_days": {"zh": "病假(天)", "en": "Sick leave (days)"},
        "overtime": {"zh": "主动加班", "en": "Voluntary overtime"},
        "extra_work": {"zh": "服从计划外工作安排", "en": "Accepted unplanned work"},
        "proactive": {"zh": "主动承担临时任务", "en": "Proactive tasks"},
        "shirking": {"zh": "无故推卸", "en": "Tasks shirked"},
        "praise": {"zh": "顾客表扬", "en": "Customer praise"},
        "complaint": {"zh": "顾客投诉", "en": "Customer complaints"},
        "base": {"zh": "基数", "en": "Base"},
        "training listing": {"zh": "培训对象认定", "en": "Training listing"},
        "period": {"zh": "月份", "en": "Month"},
        "score_without_leave": {"zh": "不计事假总分", "en": "Total without personal leave"},
        "coefficient": {"zh": "系数", "en": "Coefficient"},
        "unrounded": {"zh": "未舍入", "en": "Unrounded"},
        "transfer listing": {"zh": "转岗对象认定", "en": "Transfer listing"},
    },
    build_case=build_case,
    input_fields=input_fields,
    compute=compute,
)


@hookimpl
def jixiao_load_schemes():
    return [SCHEME]


# The scheme's pages, one package per feature (a reader finds each by its folder name). Each
# package's views module has a blueprint ``bp``, ``cycle_links(cycle, user)`` and ``menu_items(tenant, user)``.
FEATURES = ("events", "ratings", "pay", "competence", "excluded")


def features() -> list:
    """The views modules of the features (imported on first use: they import this module back)."""
    return [importlib.import_module(f"{PLUGIN}.{name}.views") for name in FEATURES]


@hookimpl
def jixiao_load_blueprints():
    return [feature.bp for feature in features()]


@hookimpl
def jixiao_load_migrations():
    return [str(Path(__file__).parent / "migrations")]


@hookimpl
def jixiao_load_cli_commands():
    from plugins.sales_attitude.demo.cli import sales_cli

    return [sales_cli]


@hookimpl
def jixiao_load_template_folders():
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def jixiao_tpl_menu_items(tenant, user):
    from plugins.sales_attitude.web import scheme_enabled

    if tenant is None or not scheme_enabled():
        return []
    return [item for feature in features() for item in feature.menu_items(tenant, user)]


@hookimpl
def jixiao_tpl_cycle_links(tenant, user, cycle):
    if cycle.scheme_id != SCHEME.id:
        return []
    return [link for feature in features() for link in feature.cycle_links(cycle, user)]


@hookimpl
def jixiao_tpl_result_panels(tenant, user, cycle, subject, result):
    """The month's events under a sales result's breakdown."""
    if cycle.scheme_id != SCHEME.id or subject.kind != "person":
        return []
    from plugins.sales_attitude.events.views import result_panel

    return [result_panel(cycle, subject, user, result)]


@hookimpl
def jixiao_event_cycle_created(tenant, cycle):
    """Fill the new cycle's event counts, pay, training and history from the scheme's records."""
    if cycle.scheme_id == SCHEME.id:
        from plugins.sales_attitude.derived import refresh

        refresh(cycle, "system:prefill")


@hookimpl
def jixiao_event_cycle_published(tenant, cycle):
    """A month's totals are final: the later months not yet published read them in their history."""
    _refresh_later_months(cycle, "system:published")


@hookimpl
def jixiao_event_results_changed(tenant, cycle):
    """An appeal changed a published month's totals: the later months not yet published follow."""
    _refresh_later_months(cycle, "system:appeal")


def _refresh_later_months(cycle, actor: str) -> None:
    if cycle.scheme_id == SCHEME.id:
        from plugins.sales_attitude.derived import open_cycles, refresh

        for later in open_cycles():
            if later.period > cycle.period:
                refresh(later, actor)


@hookimpl
def jixiao_event_inputs_saving(tenant, cycle, subject, account, fields, inputs):
    """The ratings are the unit head's (or HR's), never the person's own: also on the bulk import."""
    if cycle.scheme_id != SCHEME.id or account is None or not any(f.startswith("ratings.") for f in fields):
        return
    from core.cycles.service import CycleError
    from plugins.sales_attitude.policy import may_rate

    if not may_rate(account, subject.person_id, subject.unit_id):
        raise CycleError(_("%(name)s's ratings are given by their unit head or HR, and nobody rates themselves.",
                           name=subject.name))


@hookimpl
def jixiao_event_cycle_computing(tenant, cycle):
    """Results follow the records as they are now (an appeal may have changed an earlier month)."""
    if cycle.scheme_id == SCHEME.id:
        from core.cycles.service import correction_subject
        from core.db import db_session
        from core.models import CycleSubject
        from plugins.sales_attitude.derived import refresh

        corrected = correction_subject(cycle)
        if corrected is None:
            refresh(cycle, "system:compute")
        else:  # an appeal re-scores a published month: only the appealed person follows the records
            refresh(cycle, "system:correction", [db_session.get(CycleSubject, corrected).person_id])


@hookimpl
def jixiao_tpl_home_panels(tenant, user):
    from plugins.sales_attitude.todo import todo

    return scheme_home_panel(SCHEME, tenant, "sales_attitude/home_panel.html", todo=lambda: todo(user))
