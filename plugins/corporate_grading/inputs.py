"""The inputs the portal collects for `corporate-grading` through its generic forms and bulk templates.

A unit's plan completion (``plan``) and every bonus/penalty (``adjust``) are not among them: they are
entered on the scheme's own pages, the monthly plan sheets and the adjustments page with their
reasons (plugins/corporate_grading/plans/), which write them into the inputs. The generic form
keeps keys it does not declare, so it never erases them.
"""
from __future__ import annotations

from typing import Any

from core.schemes import InputField


def input_fields(settings: dict[str, Any]) -> list[InputField]:
    return [
        InputField("form", "单位考评表", "Unit scorecard", "scorecard", "unit", periods=("month",),
                   minimum="2", maximum="5", required=True, role="tenant_admin",
                   help_zh="一个得分(2–5),或各项权重合计100%的考评项", help_en="One score (2–5), or items whose weights sum to 100%",
                   group_zh="考评表", group_en="Scorecard"),
        InputField("target", "年度目标责任书", "Annual responsibility letter", "scorecard", "unit", periods=("year",),
                   minimum="2", maximum="5", required=True, role="tenant_admin", group_zh="目标责任书", group_en="Letter"),
        InputField("personal", "个人考评表", "Personal scorecard", "scorecard", "person", periods=("month",),
                   minimum="2", maximum="5", required=True, role="unit_head", also=("self",),
                   help_zh="本人自评,单位负责人审核(可修改)", help_en="Self-scored, then checked (and corrected) by the unit head",
                   group_zh="考评表", group_en="Scorecard"),
        InputField("oversees", "分管单位", "Units overseen", "units", "person", classes=("A",), periods=("month",),
                   required=True, role="tenant_admin", help_zh="A类人员按分管单位的月度得分平均计入",
                   help_en="Class A staff are scored on the mean of these units' monthly scores", group_zh="分管", group_en="Oversight"),
        InputField("target", "个人年度目标责任书", "Personal responsibility letter", "scorecard", "person", periods=("year",),
                   minimum="2", maximum="5", required=True, role="tenant_admin", group_zh="目标责任书", group_en="Letter"),
    ]
