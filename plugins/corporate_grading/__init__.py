"""Built-in scheme `corporate-grading`: A/B/C/D grading of a corporate group (schemes.md §1)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from core import hookimpl
from core.schemes import Scheme, SchemeSettings
from core.schemes_web import scheme_home_panel

PLUGIN = "plugins.corporate_grading"


class CorporateGradingSettings(SchemeSettings):
    # Responsibility-letter guidance: "warn" shows breaches, "enforce" makes them errors (default warn).
    letter_rules: Literal["warn", "enforce"] = "warn"


SCHEME = Scheme(
    id="corporate-grading",
    name_zh="集团A/B/C/D等级考评",
    name_en="Corporate A/B/C/D grading",
    version="1.0",
    plugin=PLUGIN,
    description_zh="单位月度计划与考评表、员工按A/B/C类加权,年度目标责任书与360度素质评价,考评小组表决。",
    description_en="Monthly unit plans and forms, staff weighted by class A/B/C; annual responsibility "
                   "letters, 360 quality reviews and committee votes.",
    periods=("month", "year"),
    subject_kinds=("unit", "person"),
    unit_kinds=("department", "subsidiary"),
    staff_classes=("A", "B", "C"),
    settings_model=CorporateGradingSettings,
)


@hookimpl
def jixiao_load_schemes():
    return [SCHEME]


@hookimpl
def jixiao_load_template_folders():
    return [str(Path(__file__).parent / "templates")]


@hookimpl
def jixiao_tpl_home_panels(tenant, user):
    return scheme_home_panel(SCHEME, tenant, "corporate_grading/home_panel.html")
