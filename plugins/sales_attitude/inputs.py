"""The inputs the portal collects for `sales-attitude` (forms, bulk templates)."""
from __future__ import annotations

from typing import Any

from core.schemes import InputField

RATINGS = (("basic_ability", "基础能力", "Basic ability"), ("proficiency", "业务熟练程度", "Business proficiency"),
           ("coordination", "协调性", "Coordination"), ("service", "服务规范", "Service norms"))
EVENTS = (("late", "迟到(次)", "Late arrivals"), ("early_leave", "早退(次)", "Early leaves"),
          ("personal_leave_days", "事假(天)", "Personal leave (days)"), ("sick_leave_days", "病假(天)", "Sick leave (days)"),
          ("overtime", "主动加班(次)", "Voluntary overtime"), ("extra_work", "接受计划外工作(次)", "Accepted unplanned work"),
          ("proactive", "主动承担临时任务(次)", "Proactive tasks"), ("shirking", "无故推诿(次)", "Tasks shirked"),
          ("praise", "客户表扬(次)", "Customer praise"), ("complaint", "客户投诉(次)", "Customer complaints"))


def input_fields(settings: dict[str, Any]) -> list[InputField]:
    fields = [InputField(f"ratings.{key}", zh, en, "number", "person", minimum="0", maximum="100", required=True,
                         role="unit_head", group_zh="主管评分", group_en="Manager ratings") for key, zh, en in RATINGS]
    fields += [InputField(f"events.{key}", zh, en, "number" if key.endswith("_days") else "count", "person",
                          minimum="0", role="tenant_admin", group_zh="考勤与客户事件", group_en="Attendance and customer events")
               for key, zh, en in EVENTS]
    fields += [
        InputField("pay.base", "绩效工资基数", "Pay base", "number", "person", minimum="0", role="tenant_admin",
                   group_zh="绩效工资(仅人力资源)", group_en="Pay (HR only)"),
        InputField("pay.coefficient", "绩效工资系数", "Pay coefficient", "number", "person", minimum="0", role="tenant_admin",
                   group_zh="绩效工资(仅人力资源)", group_en="Pay (HR only)"),
        InputField("training", "培训期(绩效工资×80%)", "In training (pay × 80%)", "bool", "person", role="tenant_admin",
                   group_zh="绩效工资(仅人力资源)", group_en="Pay (HR only)"),
    ]
    return fields
