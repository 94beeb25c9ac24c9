"""The approvals feature's hook implementation, kept free of app imports at import time so the
scheme's plugin module can re-export it: ``from plugins.corporate_grading.approvals.hooks import
jixiao_event_inputs_saving``."""
from __future__ import annotations

from core import hookimpl


@hookimpl
def jixiao_event_inputs_saving(tenant, cycle, subject, account, fields, inputs):
    """Lock personal scorecards along their approval chain (see ``approvals.service.inputs_saving``)."""
    from plugins.corporate_grading.approvals.service import inputs_saving

    inputs_saving(tenant, cycle, subject, account, fields, inputs)
