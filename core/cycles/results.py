"""Reading a cycle's stored results: the ranking (filtered, sorted by rank), the grade distribution
and its chart geometry, and the ranking as an .xlsx workbook.

Set-based like the service: a few queries per page or export, never one per result.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from typing import Any, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import Select, func, select

from core.db import db_session
from core.models import Cycle, CycleResult, CycleSubject


@dataclass(frozen=True)
class RankingFilter:
    """What the ranking shows: one kind of subject (``unit`` | ``person``), optionally one class
    (a person's staff class, a unit's kind) and one grade."""

    kind: str
    group: str = ""
    grade: str = ""


def kind_counts(cycle: Cycle) -> dict[str, int]:
    """How many results each kind of subject has: ``{"unit": 12, "person": 80}`` (units first)."""
    rows = dict(db_session.execute(
        select(CycleSubject.kind, func.count()).join(CycleResult, CycleResult.subject_id == CycleSubject.id)
        .where(CycleResult.cycle_id == cycle.id).group_by(CycleSubject.kind)).all())
    return {kind: rows[kind] for kind in ("unit", "person") if kind in rows}


def _group_column(kind: str):
    return CycleSubject.unit_kind if kind == "unit" else CycleSubject.staff_class


def groups(cycle: Cycle, kind: str) -> list[str]:
    """The classes (people) or unit kinds (units) that have results, for the filter."""
    column = _group_column(kind)
    return list(db_session.scalars(
        select(column).join(CycleResult, CycleResult.subject_id == CycleSubject.id)
        .where(CycleResult.cycle_id == cycle.id, CycleSubject.kind == kind, column.is_not(None))
        .distinct().order_by(column)))


def grade_counts(cycle: Cycle, kind: str | None = None, group: str = "") -> list[tuple[str, int]]:
    """``[(grade, count)]`` best grade first (by the highest score that earned it); empty when the
    scheme gives no grades."""
    stmt = (select(CycleResult.grade, func.count(), func.max(CycleResult.score))
            .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
            .where(CycleResult.cycle_id == cycle.id, CycleResult.grade.is_not(None))
            .group_by(CycleResult.grade))
    if kind:
        stmt = stmt.where(CycleSubject.kind == kind)
    if kind and group:
        stmt = stmt.where(_group_column(kind) == group)
    rows = db_session.execute(stmt).all()
    rows.sort(key=lambda r: (-(r[2] if r[2] is not None else Decimal("-Infinity")), r[0]))
    return [(grade, count) for grade, count, _best in rows]


def ranking(cycle: Cycle, which: RankingFilter) -> Select:
    """The cycle's results of one kind as a statement over ``CycleResult``: ranked first by rank,
    then the unranked by score, then by code."""
    stmt = (select(CycleResult).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
            .where(CycleResult.cycle_id == cycle.id, CycleSubject.kind == which.kind)
            .order_by(CycleResult.rank.is_(None), CycleResult.rank, CycleResult.score.is_(None),
                      CycleResult.score.desc(), CycleSubject.code))
    if which.group:
        stmt = stmt.where(_group_column(which.kind) == which.group)
    if which.grade:
        stmt = stmt.where(CycleResult.grade == which.grade)
    return stmt


def subjects_of(results: Iterable[CycleResult]) -> dict[int, CycleSubject]:
    """The subjects of some results, by subject id: one query."""
    ids = {r.subject_id for r in results}
    if not ids:
        return {}
    return {s.id: s for s in db_session.scalars(select(CycleSubject).where(CycleSubject.id.in_(ids)))}


def ranking_rows(cycle: Cycle, which: RankingFilter) -> list[tuple[CycleResult, CycleSubject]]:
    """The whole filtered ranking with its subjects (for the export): one query."""
    stmt = ranking(cycle, which).add_columns(CycleSubject)
    return [(row[0], row[1]) for row in db_session.execute(stmt)]


# ----------------------------------------------------------------------------------- the chart

@dataclass(frozen=True)
class Bar:
    grade: str
    count: int
    percent: int
    x: int
    y: int
    width: int
    height: int
    label_x: int
    count_y: int


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: int
    grade_y: int
    bars: list[Bar]
    total: int


def grade_chart(counts: Sequence[tuple[str, int]], plot_height: int = 140, bar_width: int = 48,
                gap: int = 28) -> Chart | None:
    """Geometry of a bar chart of grade counts (server-rendered SVG: no script, no style
    attributes); None when there are no grades."""
    if not counts:
        return None
    top, bottom = 22, 26  # room for the counts above the bars, the grades below
    tallest = max(c for _g, c in counts) or 1
    total = sum(c for _g, c in counts)
    bars = []
    for i, (grade, count) in enumerate(counts):
        height = round(plot_height * count / tallest)
        x = gap + i * (bar_width + gap)
        y = top + plot_height - height
        bars.append(Bar(grade=grade, count=count, percent=round(100 * count / total) if total else 0, x=x, y=y,
                        width=bar_width, height=height, label_x=x + bar_width // 2, count_y=y - 6))
    width = gap + len(counts) * (bar_width + gap)
    return Chart(width=width, height=top + plot_height + bottom, baseline=top + plot_height,
                 grade_y=top + plot_height + 18, bars=bars, total=total)


# ----------------------------------------------------------------------------------- the export

def workbook(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], score_columns: Sequence[int] = ()) -> bytes:
    """An .xlsx file of one sheet: a bold header row, then ``rows``; the cells of ``score_columns``
    (0-based) are numbers shown with 2 decimals. Written in openpyxl's streaming mode."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=_sheet_title(title))
    sheet.freeze_panes = "A2"
    header = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=str(text))
        cell.font = Font(bold=True)
        header.append(cell)
    sheet.append(header)
    numeric = set(score_columns)
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            if index in numeric and value is not None:
                cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
                cell.number_format = "0.00"
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet_title(title: str) -> str:
    """Sheet titles: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip() or "Sheet"
    return cleaned[:31]
