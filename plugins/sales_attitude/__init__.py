"""Built-in scheme `sales-attitude`: attitude-weighted monthly scoring of sales staff (schemes.md §2)."""
from __future__ import annotations

from pathlib import Path

from core import hookimpl
from core.schemes import Scheme, SchemeSettings
from core.schemes_web import scheme_home_panel

PLUGIN = "plugins.sales_attitude"


class SalesAttitudeSettings(SchemeSettings):
    """Settings arrive with the scoring rules (formulas, bases, pay factors)."""


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
    staff_classes=("supervisor", "staff"),
    settings_model=SalesAttitudeSettings,
)


@hookimpl
def jixiao_load_schemes():
    return [SCHEME]


@hookimpl
def jixiao_load_template_folders():
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def jixiao_tpl_home_panels(tenant, user):
    return scheme_home_panel(SCHEME, tenant, "sales_attitude/home_panel.html")
