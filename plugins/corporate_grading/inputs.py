"""The inputs the portal collects for `corporate-grading` (forms, bulk templates)."""
from __future__ import annotations

from typing import Any

from core.schemes import InputField


def _bounds(settings: dict[str, Any], key: str) -> tuple[str, str]:
    bounds = settings.get(key) or {"low": "-1", "high": "1"}
    return str(bounds["low"]), str(bounds["high"])


def input_fields(settings: dict[str, Any]) -> list[InputField]:
    unit_low, unit_high = _bounds(settings, "unit_adjust_bounds")
    fields = [
        InputField("plan_rate", "计划完成率", "Plan completion rate", "number", "unit", periods=("month",),
                   minimum="0", maximum="1", required=True, role="tenant_admin",
                   help_zh="月计划进度/实际进度表:已完成项 ÷ 计划项,0–1", help_en="Completed ÷ planned items of the monthly plan sheet, 0–1",
                   group_zh="计划", group_en="Plan"),
        InputField("form", "单位考评表", "Unit scorecard", "scorecard", "unit", periods=("month",),
                   minimum="2", maximum="5", required=True, role="tenant_admin",
                   help_zh="一个得分(2–5),或各项权重合计100%的考评项", help_en="One score (2–5), or items whose weights sum to 100%",
                   group_zh="考评表", group_en="Scorecard"),
        InputField("target", "年度目标责任书", "Annual responsibility letter", "scorecard", "unit", periods=("year",),
                   minimum="2", maximum="5", required=True, role="tenant_admin", group_zh="目标责任书", group_en="Letter"),
        InputField("adjust", "加减分", "Bonus / penalty", "number", "unit", minimum=unit_low, maximum=unit_high,
                   role="tenant_admin", help_zh="计划督办提议,须写明理由", help_en="Proposed by the plan supervisor, with a reason",
                   group_zh="加减分", group_en="Adjustment"),
        InputField("personal", "个人考评表", "Personal scorecard", "scorecard", "person", periods=("month",),
                   minimum="2", maximum="5", required=True, role="unit_head", also=("self",),
                   help_zh="本人自评,单位负责人审核(可修改)", help_en="Self-scored, then checked (and corrected) by the unit head",
                   group_zh="考评表", group_en="Scorecard"),
        InputField("oversees", "分管单位", "Units overseen", "units", "person", classes=("A",), periods=("month",),
                   required=True, role="tenant_admin", help_zh="A类人员按分管单位的月度得分平均计入",
                   help_en="Class A staff are scored on the mean of these units' monthly scores", group_zh="分管", group_en="Oversight"),
        InputField("target", "个人年度目标责任书", "Personal responsibility letter", "scorecard", "person", periods=("year",),
                   minimum="2", maximum="5", required=True, role="unit_head", group_zh="目标责任书", group_en="Letter"),
    ]
    for klass, key_month, key_year in (("A", "class_a_adjust_bounds", "class_a_adjust_bounds"),
                                       ("B", "class_b_monthly_adjust_bounds", "class_b_annual_adjust_bounds"),
                                       ("C", "class_c_adjust_bounds", "class_c_adjust_bounds")):
        for period, key in (("month", key_month), ("year", key_year)):
            low, high = _bounds(settings, key)
            fields.append(InputField("adjust", "加减分", "Bonus / penalty", "number", "person", classes=(klass,),
                                     periods=(period,), minimum=low, maximum=high, role="tenant_admin",
                                     group_zh="加减分", group_en="Adjustment"))
    return fields
