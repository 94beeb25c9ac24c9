"""The inputs the portal collects for `sales-attitude` on the cycle's forms and bulk templates: the
unit head's four monthly ratings. The rest of a month's inputs (event counts, pay, training, the
earlier months' totals) are derived from the scheme's records (:mod:`plugins.sales_attitude.derived`)."""
from __future__ import annotations

from typing import Any

from core.schemes import InputField

RATINGS = (("basic_ability", "基础能力", "Basic ability"), ("proficiency", "业务熟练程度", "Business proficiency"),
           ("coordination", "协调性", "Coordination"), ("service", "服务规范", "Service norms"))


def input_fields(settings: dict[str, Any]) -> list[InputField]:
    return [InputField(f"ratings.{key}", zh, en, "number", "person", minimum="0", maximum="100", required=True,
                       role="unit_head", group_zh="主管评分", group_en="Manager ratings") for key, zh, en in RATINGS]
