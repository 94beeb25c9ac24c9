"""A year of the township scheme for the demo tenant, made through the scheme's own services.

Every record is what the portal's pages would have made: the efficiency office (效能办) enters each
quarter's indicator points with their evidence, surveyors record household and telephone
interviews, residents answer anonymous links from the printed QR sheets, the office records the
findings of two inspection rounds and the units' information reports; each quarter is computed,
published (the bulletin) and closed. The year's cycles, as on the demo's "today" (late November):

- Q1 and Q2 published and closed, Q3 published (its appeal window has passed);
- Q4 open: points partly entered, the survey under way;
- the annual cycle (the November summary): every point entered and verified at year end, the survey
  complete from both ways in, computed and in review — its rankings are what `jixiao score` gives
  for its exported case file (tests/test_township_demo.py).

A seeded generator makes the same data on every run. Each unit has a standing (how well it does),
so the rankings, rewards and accountabilities are stable and plausible.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import bindparam, select, update

from core.cycles import service as cycles
from core.db import db_session
from core.demo_year import at
from core.models import Cycle, CycleResult, CycleSubject, OrgUnit
from core.scoring.numbers import text
from plugins.gov_public_evaluation import settings_of

SCHEME_ID = "gov-public-evaluation"
OFFICE = "user:admin"
SURVEYORS = ("user:surveyor1", "user:surveyor2")
ANSWERS = ("satisfied", "basically_satisfied", "dissatisfied", "dont_know")

# Inspection rounds (明察暗访, at least twice a year): the (month, day) and the findings (unit, item, points, evidence).
ROUNDS = (
    ((4, 16), (("V03", "窗口服务效率", "1", "便民服务代办点上午 9:10 仍未开门,现场照片 3 张"),
                         ("JFB", "工作作风", "0.5", "工作时间 2 人玩手机游戏,暗访视频 01:12"),
                         ("V09", "政务公开", "1", "村务公开栏一季度财务未公开,照片 2 张"))),
    ((9, 17), (("V03", "工作作风", "1.5", "值班人员脱岗,值班表与现场不符,暗访记录"),
                         ("SWB", "窗口服务效率", "1", "低保申请材料一次性告知不到位,群众反映,回访录音"),
                         ("V11", "安全生产", "2", "村办加工点消防通道堵塞,整改通知书编号 2026-017"),
                         ("V09", "窗口服务效率", "0.5", "代办员未佩戴工作牌,照片 1 张"))),
)
REPORT_TITLES = ("春耕生产进展", "人居环境整治", "防汛准备情况", "招商项目签约", "平安村居建设", "乡村振兴示范点",
                 "文明实践活动", "秸秆禁烧巡查", "养老服务站运营", "电商助农成效", "河长制巡河", "民生实事进度")
QUARTERS = ("Q1", "Q2", "Q3", "Q4")


@dataclass
class Made:
    """What was made, for the command's report."""

    cycles: list[str] = field(default_factory=list)
    entries: int = 0
    interviews: int = 0
    link_answers: int = 0
    findings: int = 0
    reports: int = 0


def build(year: int, today: date, seed: int | None = None) -> Made:
    """Make the township year ``year`` as it stands on ``today`` (a day of its November)."""
    rng = random.Random(seed if seed is not None else year)
    made = Made()
    units = list(db_session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(("village", "department")),
                                                          OrgUnit.active.is_(True)).order_by(OrgUnit.code)))
    standing = {u.id: rng.uniform(0.55, 0.97) for u in units}
    for unit in units:  # the office that keeps the score is not the one to come first in it
        if unit.code == "XNB":
            standing[unit.id] = 0.74
    _record_reports(year, units, standing, rng, made)
    for (month, day), found in ROUNDS:
        _record_findings(date(year, month, day), units, found, made)
    for number, quarter in enumerate(QUARTERS, start=1):
        first = date(year, 3 * number - 2, 1)
        if first > today:
            break
        period = f"{year}-{quarter}"
        cycle = cycles.create_cycle(SCHEME_ID, period, f"{year}年第{'一二三四'[number - 1]}季度绩效考评", {}, OFFICE)
        cycles.transition(cycle, "open", OFFICE)
        finished = number < 4
        _set_quotas(cycle, 3)
        _enter_points(cycle, units, standing, rng, made, share=1.0 if finished else 0.4, verify=False)
        _survey(cycle, units, standing, rng, made, per_category=3, share=1.0 if finished else 0.5)
        if finished:
            cycles.compute(cycle, OFFICE)
            cycles.transition(cycle, "review", OFFICE)
            cycles.transition(cycle, "published", OFFICE)
            if number < 3:
                cycles.transition(cycle, "closed", OFFICE)
        last = date(year + (number == 4), (3 * number) % 12 + 1, 1) - timedelta(days=1)
        _backdate(cycle, first, min(last, today), number)
        made.cycles.append(period)
    annual = cycles.create_cycle(SCHEME_ID, str(year), f"{year}年度绩效考评", {}, OFFICE)
    cycles.transition(annual, "open", OFFICE)
    _set_quotas(annual, 8)
    _enter_points(annual, units, standing, rng, made, share=1.0, verify=True)
    _survey(annual, units, standing, rng, made, per_category=8, share=1.0)
    cycles.compute(annual, OFFICE)
    cycles.transition(annual, "review", OFFICE)
    _stamp_records(annual, date(year, 10, 20), today - timedelta(days=1))
    annual.created_at = annual.opened_at = at(date(year, 10, 20), 9)
    annual.review_at = annual.computed_at = at(today - timedelta(days=1), 16)
    db_session.execute(update(CycleResult).where(CycleResult.cycle_id == annual.id)
                       .values(computed_at=annual.computed_at).execution_options(synchronize_session=False))
    _stamp_dated_records()
    made.cycles.append(str(year))
    return made


# ----------------------------------------------------------------------------------- the records

def _enter_points(cycle: Cycle, units, standing, rng, made: Made, share: float, verify: bool) -> None:
    """The office enters each applicable indicator's points with the evidence they come from
    (``share`` of the units when the quarter is still running); at year end, verifies them."""
    from plugins.gov_public_evaluation.points import service as points

    groups = points.tree_of(cycle)
    subjects = {s.unit_id: s for s in db_session.scalars(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id))}
    for unit in units[: max(1, round(len(units) * share))]:
        subject = subjects[unit.id]
        for _group, leaves in points.applicable(groups, unit.code, unit.kind):
            for leaf in leaves:
                level = min(1.0, max(0.0, standing[unit.id] + rng.uniform(-0.12, 0.08)))
                earned = Fraction(round(float(leaf.max) * level * 2), 2)  # in half points
                points.save(cycle, subject, leaf, text(earned), f"依据{unit.name}报送台账及统计数据核定", None, OFFICE)
                made.entries += 1
        if verify:
            entries = points.entries_of(cycle, [unit.id]).get(unit.id, {})
            points.verify_all(cycle, subject, groups, points.seen_text(entries), "年终核查：与统计年报一致", OFFICE)


def _answers(question_ids: list[int], level: float, rng) -> dict[str, str]:
    weights = (level, 1.05 - level, max(0.03, 0.9 - level) * 0.6, 0.06)
    return {str(q): rng.choices(ANSWERS, weights)[0] for q in question_ids}


def _survey(cycle: Cycle, units, standing, rng, made: Made, per_category: int, share: float) -> None:
    """Deputies and business operators by telephone and household visits (the surveyors); urban and
    rural residents half by visits, half through the anonymous links of the printed sheets."""
    from plugins.gov_public_evaluation.links import service as links
    from plugins.gov_public_evaluation.survey import service as survey

    question_ids = [q.id for q in survey.questions(cycle.id)]
    categories = [c.code for c in settings_of(cycle.settings).survey_categories]
    for category in categories:
        tokens: dict[int, list[str]] = {}
        if category in ("urban", "rural"):
            batch = links.issue_batch(cycle, category, per_category, [u.id for u in units], OFFICE)
            for row in links.sheet_rows(batch)[0]:
                tokens.setdefault(row.unit_id, []).append(row.token)
        for index, unit in enumerate(units):
            for n in range(max(1, round(per_category * share))):
                answers = _answers(question_ids, standing[unit.id], rng)
                if tokens and n % 2 == 0:
                    link = links.find_link(tokens[unit.id].pop())
                    links.take_answers(link, answers)
                    made.link_answers += 1
                else:
                    channel = "phone" if category in ("npc_deputy", "business") and n % 2 else "household"
                    survey.record_response(cycle, unit.id, category, channel,
                                           f"interview:demo-{cycle.period}-{unit.code}-{category}-{n}", answers,
                                           SURVEYORS[index % 2], question_ids=question_ids)
                    made.interviews += 1


def _record_findings(day: date, units, found, made: Made) -> None:
    from plugins.gov_public_evaluation.inspections import service as inspections

    by_code = {u.code: u for u in units}
    for code, item, points, evidence in found:
        inspections.record_finding({"day": day.isoformat(), "unit_id": by_code[code].id, "item": item,
                                    "points": points, "evidence": evidence}, OFFICE)
        made.findings += 1


def _record_reports(year: int, units, standing, rng, made: Made) -> None:
    """Villages should report 5 items a year and departments 6: the weaker units fall short."""
    from plugins.gov_public_evaluation.reports import service as reports

    for unit in units:
        minimum = 5 if unit.kind == "village" else 6
        count = max(2, minimum + round((standing[unit.id] - 0.72) * 10))
        for n in range(count):
            day = date(year, 1, 10) + timedelta(days=int(300 * (n + 0.5) / count))
            reports.record_report({"day": day.isoformat(), "unit_id": unit.id,
                                   "title": f"{unit.name}{REPORT_TITLES[n % len(REPORT_TITLES)]}",
                                   "adopted_by": "县政府信息网" if n % 3 == 0 else ""}, OFFICE)
            made.reports += 1


# ----------------------------------------------------------------------------------- dates

def _set_quotas(cycle: Cycle, per_unit: int) -> None:
    """The office sets the sample the demo collects (a few respondents a quarter, more for the year)."""
    from plugins.gov_public_evaluation.survey import service as survey

    rows = survey.quotas(cycle.id)
    survey.set_quotas(cycle, {code: str(per_unit) for code in rows}, {code: str(q.version) for code, q in rows.items()},
                      OFFICE)


def _stamp_records(cycle: Cycle, first: date, last: date) -> None:
    """The cycle's points, answers and links made through its period, not at the load's moment:
    spread evenly from ``first`` to ``last`` (by id, so in the order they were made)."""
    from plugins.gov_public_evaluation.links.models import TokenBatch
    from plugins.gov_public_evaluation.points.models import IndicatorEntry
    from plugins.gov_public_evaluation.survey.models import SurveyResponse

    days = max(0, (last - first).days)
    for model, column in ((IndicatorEntry, "entered_at"), (SurveyResponse, "created_at"), (TokenBatch, "created_at")):
        ids = list(db_session.scalars(select(model.id).where(model.cycle_id == cycle.id).order_by(model.id)))
        if not ids:
            continue
        _set_times(model, column, [(i, at(first + timedelta(days=days * n // len(ids)), 10 + n % 8))
                                   for n, i in enumerate(ids)])
    verified = set(db_session.scalars(select(IndicatorEntry.id).where(IndicatorEntry.cycle_id == cycle.id,
                                                                      IndicatorEntry.verified_at.is_not(None))))
    if verified:  # the year-end check, on the last day
        _set_times(IndicatorEntry, "verified_at", [(i, at(last, 15)) for i in verified])


def _set_times(model, column: str, rows: list) -> None:
    """One executemany UPDATE of a time column by id (below the ORM: the versioned rows keep their
    version, a backdated time is not an edit)."""
    if rows:
        table = model.__table__
        db_session.execute(update(table).where(table.c.id == bindparam("row_id")).values({column: bindparam("moment")}),
                           [{"row_id": i, "moment": moment} for i, moment in rows])


def _stamp_dated_records() -> None:
    """Findings and reports recorded on their own day."""
    from plugins.gov_public_evaluation.inspections.models import InspectionFinding
    from plugins.gov_public_evaluation.reports.models import InfoReport

    for model in (InspectionFinding, InfoReport):
        rows = db_session.execute(select(model.id, model.day)).all()
        _set_times(model, "recorded_at", [(i, at(day, 17)) for i, day in rows])


def _backdate(cycle: Cycle, first: date, last: date, number: int) -> None:
    """A quarter's steps on the days they would have happened: opened on its first day, its records
    made through it, computed and published on the 10th of the following month (the bulletin),
    closed a month later."""
    cycle.created_at = cycle.opened_at = at(first, 9)
    _stamp_records(cycle, first, last)
    if cycle.state not in ("published", "closed"):
        return
    db_session.execute(update(CycleSubject).where(CycleSubject.cycle_id == cycle.id)
                       .values(inputs_updated_at=at(last, 17)).execution_options(synchronize_session=False))
    published = at(last + timedelta(days=10), 10)
    cycle.review_at = cycle.computed_at = published - timedelta(hours=1)
    cycle.published_at = published
    if cycle.state == "closed":
        cycle.closed_at = published + timedelta(days=30)
    db_session.execute(update(CycleResult).where(CycleResult.cycle_id == cycle.id)
                       .values(computed_at=cycle.computed_at).execution_options(synchronize_session=False))
