"""Exact, explainable scoring (the engine the schemes compose).

How a scheme scores (see plugins/*/scoring.py):

1. ``build_case(shape, period, settings)`` validates the subjects with pydantic models built on
   :class:`core.scoring.case.Strict` (``Num`` fields are exact), collects every problem as
   ``<subject id>.<field>: <found> — <allowed>`` and raises :class:`CaseError` listing all of them;
   otherwise returns a :class:`Case`.
2. ``compute(case)`` is pure: it evaluates the scheme's formulas (compiled from the settings with
   :func:`core.scoring.formula.compile_formula`), composes the blocks in :mod:`core.scoring.blocks`,
   rounds each final score once (:func:`core.scoring.numbers.round_half_up`), grades and ranks the
   rounded scores (:func:`finish`), and returns a :class:`CaseResult` whose breakdowns go down to
   the raw inputs.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Callable, Hashable, Iterable, Iterator

from core.scoring.blocks import GradeBands, competition_ranks
from core.scoring.breakdown import Breakdown
from core.scoring.numbers import round_half_up
from core.scoring.result import SubjectResult


# Shared, immutable defaults: a result without flags or extra keys costs no containers of its own
# (a scheme that adds them passes ``flags``/``extra`` functions returning its own).
_NO_FLAGS: tuple = ()
_NO_EXTRA = MappingProxyType({})


def finish(entries: Iterable[tuple[Any, Fraction | None, Breakdown | None]], bands: GradeBands | None = None,
           group: Callable[[Any], Hashable] = lambda subject: 0,
           flags: Callable[[Any], list[str]] | None = None,
           extra: Callable[[Any], dict] | None = None) -> list[SubjectResult]:
    """Round each score once, grade and rank the rounded scores, in input order.

    :param entries: ``(subject, exact score or None, breakdown)``; subjects need ``id`` and may have ``name``.
    :param group: the ranking group of a subject (competition ranks within it).
    """
    rows = []
    for subject, score, breakdown in entries:
        rounded = None if score is None else round_half_up(score)
        rows.append((subject, rounded, breakdown))
    ranks = competition_ranks((id(s), group(s), r) for s, r, _b in rows)
    return [SubjectResult(id=s.id, name=getattr(s, "name", None), score=r,
                          grade=bands.grade(r) if bands is not None and r is not None else None,
                          rank=ranks.get(id(s)), flags=flags(s) if flags else _NO_FLAGS, breakdown=b,
                          extra=extra(s) if extra else _NO_EXTRA)
            for s, r, b in rows]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a case is validated or scored.

    Scoring creates no reference cycles but allocates hundreds of thousands of small objects
    (Fractions, models, breakdown nodes); at 10,000 subjects the collector's repeated passes over
    them cost more than the scoring itself. Reference counting still frees everything; the
    collector is back on (if it was) as soon as the block ends. Callers of ``build_case`` and
    ``compute`` (the case-file command, the portal, the benchmarks) go through here.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def score_case(scheme: Any, case: Any):
    """``scheme.compute(case)`` with the collector paused."""
    with paused_gc():
        return scheme.compute(case)
