"""The core's own reactions to cycle events (a built-in plugin, like any other)."""
from __future__ import annotations

from core import hookimpl
from core.cycles.after import notify_published


@hookimpl
def jixiao_event_cycle_published(tenant, cycle):
    notify_published(cycle, lambda result_id: f"/t/{tenant.slug}/results/{result_id}")
