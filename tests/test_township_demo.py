"""The demo tenant's township year (`jixiao township demo-year`): made through the scheme's own
services, with survey answers from both ways in (surveyors' interviews and anonymous links), its
rankings, rewards and accountabilities are exactly what `jixiao score` computes from the same data:
a case file the test rebuilds from the records themselves, and the one `jixiao township export-case`
prints.

The year is made once per database into a template of its own; each test gets a copy."""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import Cycle, CycleResult, CycleSubject, OrgUnit
from core.plugins import get_schemes
from core.scoring.cli import score_file
from plugins.gov_public_evaluation.inspections.models import InspectionFinding
from plugins.gov_public_evaluation.points.models import IndicatorEntry
from plugins.gov_public_evaluation.reports.models import InfoReport
from plugins.gov_public_evaluation.survey.models import SurveyResponse
from tests.conftest import BACKENDS, AuthActions, copied_app
from tests.test_cycles import tenant

YEAR = 2026
YEAR_COMMAND = ("township", "demo-year", "zhen", "--year", str(YEAR))


@pytest.fixture(params=BACKENDS)
def year_app(request, tmp_path, command_templates):
    """A fresh copy of the township demo year for one test (the year is made once per database)."""
    with copied_app(request.param, command_templates(request.param, YEAR_COMMAND), tmp_path) as app:
        yield app


def computed(db) -> list[Cycle]:
    return list(db.scalars(select(Cycle).where(Cycle.scheme_id == "gov-public-evaluation",
                                               Cycle.computed_at.is_not(None)).order_by(Cycle.period)))


def stored(db, cycle) -> dict[str, tuple]:
    """Each unit's stored score, rank, flags and first-level subtotals."""
    rows = db.execute(select(CycleSubject.code, CycleResult.score, CycleResult.rank, CycleResult.flags,
                             CycleResult.extra)
                      .join(CycleResult, CycleResult.subject_id == CycleSubject.id)
                      .where(CycleResult.cycle_id == cycle.id)).all()
    return {code: (Decimal(str(score)).quantize(Decimal("0.01")), rank, sorted(flags),
                   {k: str(Decimal(str(v))) for k, v in extra["indicators"].items()})
            for code, score, rank, flags, extra in rows}


def scored(result) -> dict[str, tuple]:
    return {u.id: (Decimal(str(u.score)).quantize(Decimal("0.01")), u.rank, sorted(u.flags),
                   {k: str(Decimal(str(v))) for k, v in u.extra["indicators"].items()}) for u in result.units}


def rebuilt_case(db, cycle) -> dict:
    """The cycle's case file made by this test from the records alone (not the cycle's inputs):
    points entered, every answer of every response counted, findings dated in the period, reports
    of the year."""
    from plugins.gov_public_evaluation.derived import period_bounds

    first, following = period_bounds(cycle.period)
    units = {u.id: u for u in db.scalars(select(OrgUnit))}
    subjects = db.scalars(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id)).all()
    points = defaultdict(dict)
    for e in db.scalars(select(IndicatorEntry).where(IndicatorEntry.cycle_id == cycle.id)):
        points[e.unit_id][e.code] = e.points
    answers = defaultdict(lambda: defaultdict(Counter))
    for r in db.scalars(select(SurveyResponse).where(SurveyResponse.cycle_id == cycle.id)):
        answers[r.unit_id][r.category].update(r.answers.values())
    findings = defaultdict(list)
    for f in db.scalars(select(InspectionFinding).where(InspectionFinding.day >= first,
                                                        InspectionFinding.day < following)
                        .order_by(InspectionFinding.day, InspectionFinding.id)):
        findings[f.unit_id].append({"item": f.item, "points": f.points})
    reports = Counter(r.unit_id for r in db.scalars(select(InfoReport))
                      if r.day.year == int(cycle.period[:4]))
    case_units = []
    for s in subjects:
        inputs = {"indicators": points[s.unit_id],
                  "survey": {c: dict(n) for c, n in answers[s.unit_id].items()},
                  "inspection": findings[s.unit_id]}
        if len(cycle.period) == 4:
            inputs["info_reports"] = reports[s.unit_id]
        case_units.append({"id": units[s.unit_id].code, "kind": units[s.unit_id].kind, "inputs": inputs})
    return {"scheme": "gov-public-evaluation", "period": cycle.period, "settings": cycle.settings,
            "units": case_units}


def test_the_year_is_there_with_both_ways_into_the_survey(year_app):
    with tenant(year_app, "zhen") as db:
        states = {c.period: c.state for c in db.scalars(select(Cycle))}
        assert states == {f"{YEAR}-Q1": "closed", f"{YEAR}-Q2": "closed", f"{YEAR}-Q3": "published",
                          f"{YEAR}-Q4": "open", str(YEAR): "review"}
        annual = db.scalar(select(Cycle).where(Cycle.period == str(YEAR)))
        channels = Counter(db.scalars(select(SurveyResponse.channel).where(SurveyResponse.cycle_id == annual.id)))
        assert set(channels) == {"household", "phone", "link"} and channels["link"] >= 50
        assert all(r.entered_by is None for r in db.scalars(select(SurveyResponse)
                                                              .where(SurveyResponse.channel == "link")))
        entries = db.scalars(select(IndicatorEntry).where(IndicatorEntry.cycle_id == annual.id)).all()
        assert entries and all(e.verified_at is not None and e.evidence for e in entries)
        rounds = {f.day for f in db.scalars(select(InspectionFinding))}
        assert len(rounds) >= 2  # inspections at least twice a year
        results = stored(db, annual)
        flags = [f for row in results.values() for f in row[2]]
        assert any(f.startswith("reward:") for f in flags) and any(f.startswith("accountability:") for f in flags)
        shortfall = db.execute(select(CycleSubject.inputs).where(CycleSubject.cycle_id == annual.id)).scalars()
        assert any(i["info_reports"] < 5 for i in shortfall)  # some units fall short of the minimum


def test_every_computed_cycle_equals_jixiao_score_on_a_case_file_rebuilt_from_the_records(year_app, tmp_path):
    with tenant(year_app, "zhen") as db:
        cycles = computed(db)
        assert [c.period for c in cycles] == [str(YEAR), f"{YEAR}-Q1", f"{YEAR}-Q2", f"{YEAR}-Q3"]
        for cycle in cycles:
            path = tmp_path / f"{cycle.period}.json"
            path.write_text(json.dumps(rebuilt_case(db, cycle), ensure_ascii=False))
            assert stored(db, cycle) == scored(score_file(str(path), get_schemes())), cycle.period


def test_the_exported_case_file_scores_to_the_same_rankings_with_the_jixiao_score_command(year_app, tmp_path):
    runner = year_app.test_cli_runner()
    exported = runner.invoke(args=["township", "export-case", "zhen", str(YEAR)])
    assert exported.exit_code == 0, exported.output
    path = tmp_path / "annual.json"
    path.write_text(exported.output)
    result = runner.invoke(args=["score", str(path)])
    assert result.exit_code == 0, result.output
    output = json.loads(result.output)
    with tenant(year_app, "zhen") as db:
        annual = db.scalar(select(Cycle).where(Cycle.period == str(YEAR)))
        results = stored(db, annual)
    assert {u["id"]: (u["rank"], sorted(u["flags"])) for u in output["units"]} == \
           {code: (rank, flags) for code, (_score, rank, flags, _ind) in results.items()}
    assert runner.invoke(args=["township", "export-case", "zhen", "1999"]).exit_code != 0


def test_the_office_reads_the_annual_rankings_the_scoring_made(year_app):
    client = year_app.test_client()
    client.post("/lang", data={"locale": "en"})
    assert AuthActions(client).login("zhen", "admin").status_code == 302
    with tenant(year_app, "zhen") as db:
        annual = db.scalar(select(Cycle).where(Cycle.period == str(YEAR)))
        first = db.execute(select(OrgUnit.name).join(CycleSubject, CycleSubject.unit_id == OrgUnit.id)
                           .join(CycleResult, CycleResult.subject_id == CycleSubject.id)
                           .where(CycleResult.cycle_id == annual.id, CycleResult.rank == 1)).scalar()
    page = client.get(f"/t/zhen/township/cycles/{annual.id}/rankings")
    assert page.status_code == 200
    assert first in page.get_data(as_text=True)


def test_a_unit_head_reads_the_published_unit_result_with_no_interview_and_no_input_form(year_app):
    """A unit's result has nobody to interview or sign; the township takes nothing on the core input
    form (its inputs come from its own pages), so that form is not offered and its pages are 404."""
    client = year_app.test_client()
    client.post("/lang", data={"locale": "en"})
    assert AuthActions(client).login("zhen", "qichanglin").status_code == 302
    with tenant(year_app, "zhen") as db:
        q1 = db.scalar(select(Cycle).where(Cycle.period == f"{YEAR}-Q1"))
        result_id = db.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                              .where(CycleResult.cycle_id == q1.id, CycleSubject.code == "V01"))
    page = client.get(f"/t/zhen/results/{result_id}")
    assert page.status_code == 200
    assert f"/t/zhen/results/{result_id}/interview" not in page.get_data(as_text=True)
    assert client.post(f"/t/zhen/results/{result_id}/interview", data={"record": "x"}).status_code in (403, 404)
    assert AuthActions(client).login("zhen", "admin").status_code == 302
    assert client.get(f"/t/zhen/cycles/{q1.id}/inputs/").status_code == 404
    assert f"/t/zhen/cycles/{q1.id}/inputs/" not in client.get(f"/t/zhen/cycles/{q1.id}").get_data(as_text=True)
