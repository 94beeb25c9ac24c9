"""Built-in scheme `gov-public-evaluation`: township indicators and public evaluation (schemes.md §3)."""
from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.schemes import Scheme, SchemeSettings
from core.schemes_web import scheme_home_panel

PLUGIN = "plugins.gov_public_evaluation"


class GovPublicEvaluationSettings(SchemeSettings):
    """Settings (the indicator tree, survey categories, weights) arrive with the scoring rules."""


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
)


@hookimpl
def jixiao_load_schemes():
    return [SCHEME]


@hookimpl
def jixiao_load_template_folders():
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def jixiao_tpl_home_panels(tenant, user):
    return scheme_home_panel(SCHEME, tenant, "gov_public_evaluation/home_panel.html")
