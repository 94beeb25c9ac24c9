"""The inputs the portal collects for `gov-public-evaluation`: shaped by the tenant's indicator
tree and survey categories (settings)."""
from __future__ import annotations

from typing import Any

from core.schemes import InputField

ANSWERS = (("satisfied", "满意", "Satisfied"), ("basically_satisfied", "基本满意", "Basically satisfied"),
           ("dissatisfied", "不满意", "Dissatisfied"), ("dont_know", "不了解", "Don't know"))


def input_fields(settings: dict[str, Any]) -> list[InputField]:
    fields = []
    for group in settings.get("indicators", []):
        for leaf in group["children"]:
            fields.append(InputField(f"indicators.{leaf['code']}", f"{leaf['code']} {leaf['name']}",
                                     f"{leaf['code']} {leaf['name']}", "number", "unit", minimum="0",
                                     maximum=str(leaf["max"]), role="tenant_admin",
                                     group_zh=f"{group['code']} {group['name']}", group_en=f"{group['code']} {group['name']}"))
    for category in settings.get("survey_categories", []):
        for key, zh, en in ANSWERS:
            fields.append(InputField(f"survey.{category['code']}.{key}", zh, en, "count", "unit", minimum="0",
                                     role="surveyor", group_zh=f"公众评议:{category['name']}",
                                     group_en=f"Public evaluation: {category['name']}"))
    fields.append(InputField("info_reports", "信息报送(条)", "Information reports", "count", "unit", periods=("year",),
                             minimum="0", role="tenant_admin", group_zh="信息报送", group_en="Information reports"))
    return fields
