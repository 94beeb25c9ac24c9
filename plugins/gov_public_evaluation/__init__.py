"""Built-in scheme `gov-public-evaluation`: township indicators and public evaluation (schemes.md §3)."""
from __future__ import annotations

import importlib
import json
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, WrapValidator

from core import hookimpl
from core.schemes import Scheme, SchemeSettings
from core.schemes_web import scheme_home_panel
from core.scoring.settings import Exact, FormulaText
from plugins.gov_public_evaluation.indicators import (DEFAULT_INDICATORS, DEFAULT_SURVEY_CATEGORIES,
                                                       check_categories, check_tree)

PLUGIN = "plugins.gov_public_evaluation"

FORMULA_NAMES = {"indicator_points": "number", "public_score": "number", "inspection": "number",
                 "reporting_shortfall": "number"}
DEFAULT_TOTAL = "indicator_points * 0.7 + public_score * 0.3 - inspection - reporting_shortfall"


def _whole_number(value):
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is not a whole number")
    return value


Whole = Annotated[int, BeforeValidator(_whole_number), Field(ge=0)]
DEFAULT_QUOTA = 20


def _not_negative(value: Fraction) -> Fraction:
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


NonNegative = Annotated[Exact, AfterValidator(_not_negative)]


class Indicator(SchemeSettings):
    """A second-level indicator (二级指标): points earned from 0 up to ``max``."""

    code: str = Field(description="Code used in the units' inputs (indicators: {code: points}).")
    name: str = Field(description="Name shown in results and breakdowns.")
    max: Exact = Field(description="Maximum points (above 0).")
    units: list[str] = Field(default_factory=list,
                             description="The units it applies to: unit codes or unit kinds (village, department); "
                                         "empty: every unit. Points of a unit it does not apply to are an error.")


class IndicatorGroup(SchemeSettings):
    """A first-level indicator (一级指标): its subtotal is the sum of its children's points."""

    code: str = Field(description="Code used in the flags reward:<code> and accountability:<code>.")
    name: str
    children: list[Indicator] = Field(description="Its second-level indicators (at least one).")


class SurveyCategory(SchemeSettings):
    """A respondent category of the public evaluation (公众评议)."""

    code: str = Field(description="Key of the category in a unit's survey input.")
    name: str
    weight: Exact = Field(Fraction(1), description="Relative weight among the categories that have answers "
                                                   "(default: all equal).")
    quota: Whole = Field(DEFAULT_QUOTA, description="Target number of respondents per unit in a cycle (a portal "
                                                    "feature: the survey's progress is shown against it; default "
                                                    f"{DEFAULT_QUOTA}). Not used in scoring.")


class AnswerValues(SchemeSettings):
    """Value of each answer (default, a published provincial practice); don't know is left out."""

    satisfied: NonNegative = Field(Fraction(100), description="满意 satisfied (default 100).")
    basically_satisfied: NonNegative = Field(Fraction(75), description="基本满意 basically satisfied (default 75).")
    dissatisfied: NonNegative = Field(Fraction(55), description="不满意 dissatisfied (default 55).")


class InfoReportMinimum(SchemeSettings):
    """Fewest information items (信息报送) a unit reports per year, by unit kind."""

    village: Whole = Field(5, description="Villages: at least 5 items a year.")
    department: Whole = Field(6, description="Departments: at least 6 items a year.")


def _tree() -> list[IndicatorGroup]:
    return [IndicatorGroup.model_validate(group) for group in DEFAULT_INDICATORS]


def _categories() -> list[SurveyCategory]:
    return [SurveyCategory.model_validate(category) for category in DEFAULT_SURVEY_CATEGORIES]


class GovPublicEvaluationSettings(SchemeSettings):
    """The tenant's settings; every default below is a default of schemes.md §3."""

    indicators: Annotated[list[IndicatorGroup], WrapValidator(check_tree)] = Field(
        default_factory=_tree,
        description="The indicator tree [{code, name, children: [{code, name, max}]}]; the default has "
                    "3 first-level and 23 second-level indicators whose maxima sum to 100 (a default).")
    survey_categories: Annotated[list[SurveyCategory], WrapValidator(check_categories)] = Field(
        default_factory=_categories,
        description="Respondent categories [{code, name, weight}]: npc_deputy 人大代表, business 企业经营者, "
                    "urban 城镇居民, rural 农村居民, equal weights (defaults; tenants may add categories).")
    answer_values: AnswerValues = Field(default_factory=AnswerValues,
                                        description="Values of the answers; dont_know is left out.")
    total_formula: FormulaText(FORMULA_NAMES) = Field(
        DEFAULT_TOTAL, description="Total = indicator points × 70% + public score × 30% − inspection deductions "
                                   "− reporting shortfall (default weights).")
    info_report_minimum: InfoReportMinimum = Field(default_factory=InfoReportMinimum,
                                                   description="Fewest information items a year per unit kind.")
    info_report_points_per_missing: NonNegative = Field(
        Fraction(1), description="Points deducted per missing information item (default 1); annual periods only.")
    reward_top: Whole = Field(3, description="Per first-level indicator, ranks 1..n are rewarded (default 3).")
    accountability_bottom: Whole = Field(3, description="Per first-level indicator, ranks 1..n from the bottom "
                                                        "face accountability unless rewarded (default 3).")


from plugins.gov_public_evaluation.labels import LABELS  # noqa: E402
from plugins.gov_public_evaluation.scoring import build_case, compute  # noqa: E402 - needs the settings above


def settings_of(settings: dict[str, Any]) -> GovPublicEvaluationSettings:
    """A cycle's (or tenant's) settings with every default filled in: the tree, the categories and
    their quotas, the rules. ``settings`` holds only the tenant's overrides; they were validated when saved."""
    return _settings(json.dumps(settings or {}, sort_keys=True, ensure_ascii=False))


@lru_cache(maxsize=64)
def _settings(key: str) -> GovPublicEvaluationSettings:
    return GovPublicEvaluationSettings.model_validate(json.loads(key))

SCHEME = Scheme(
    id="gov-public-evaluation",
    name_zh="政府绩效公众评议考评",
    name_en="Government public-evaluation scoring",
    version="1.0",
    plugin=PLUGIN,
    description_zh="一级、二级指标考核,公众评议,察访核验与信息报送,按总分与一级指标排名奖惩。",
    description_en="Indicator tree, public evaluation survey, inspections and information reports; "
                   "rankings with reward and accountability.",
    periods=("quarter", "year"),
    subject_kinds=("unit",),
    unit_kinds=("village", "department"),
    settings_model=GovPublicEvaluationSettings,
    labels=LABELS,
    build_case=build_case,
    compute=compute,
)


@hookimpl
def jixiao_load_schemes():
    return [SCHEME]


# The scheme's pages, one package per feature (a reader finds each by its folder name). Each
# package's views module has a blueprint ``bp``, ``cycle_links(cycle, user)`` and ``menu_items(tenant, user)``.
FEATURES = ("tree", "points", "survey", "links", "inspections", "reports", "results")


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
    from plugins.gov_public_evaluation.demo.cli import township_cli

    return [township_cli]


@hookimpl
def jixiao_load_template_folders():
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def jixiao_tpl_menu_items(tenant, user):
    from plugins.gov_public_evaluation.web import scheme_enabled

    if tenant is None or not scheme_enabled():
        return []
    return [item for feature in features() for item in feature.menu_items(tenant, user)]


@hookimpl
def jixiao_tpl_cycle_links(tenant, user, cycle):
    if cycle.scheme_id != SCHEME.id:
        return []
    return [link for feature in features() for link in feature.cycle_links(cycle, user)]


@hookimpl
def jixiao_tpl_home_panels(tenant, user):
    """The township card: each role's to-dos (plugins.gov_public_evaluation.todo)."""
    from plugins.gov_public_evaluation.todo import todo

    return scheme_home_panel(SCHEME, tenant, "gov_public_evaluation/home_panel.html", todo=lambda: todo(user))


@hookimpl
def jixiao_event_cycle_created(tenant, cycle):
    """A new cycle: its survey's questions and quotas, and its units' inputs from the records."""
    if cycle.scheme_id == SCHEME.id:
        from plugins.gov_public_evaluation.derived import refresh
        from plugins.gov_public_evaluation.survey.service import prepare_survey

        prepare_survey(cycle)
        refresh(cycle, "system:prefill")


@hookimpl
def jixiao_event_cycle_computing(tenant, cycle):
    """Results follow the records as they are now (answers are counted here, not one by one)."""
    if cycle.scheme_id == SCHEME.id and cycle.state not in ("published", "closed"):
        from plugins.gov_public_evaluation.derived import refresh

        refresh(cycle, "system:compute")
