"""The annual cycle: its inputs collected from the year's records, its outputs (best, promotion, bonus)."""
from __future__ import annotations

from core.models import Cycle


def collect(cycle: Cycle, actor: str) -> int:
    """Fill every subject of an annual cycle from the year's monthly cycles, letters and 360 reviews.

    :return: the number of subjects whose inputs changed.
    """
    return 0
