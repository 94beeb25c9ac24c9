"""The demo tenant's sales year (`jixiao sales demo-year`): made through the scheme's own services,
its training and transfer listings are exactly what `jixiao score` computes from the same history,
and its payroll export matches the pay formula to the cent.

The year is made once per database into a template of its own; each test gets a copy."""
from __future__ import annotations

import io
import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.cycles import service as cycles
from core.models import Cycle, CycleResult, CycleSubject
from core.plugins import get_schemes
from core.scoring import score_case
from core.scoring.case import build_case
from core.scoring.cli import score_file
from plugins.sales_attitude.competence.models import ImprovementPlan
from plugins.sales_attitude.events.models import EventImport, SalesEvent
from tests.conftest import BACKENDS, AuthActions, copied_app
from tests.test_cycles import tenant

YEAR = 2025
CURRENT = f"{YEAR + 1}-10"
YEAR_COMMAND = ("sales", "demo-year", "xiaoshou", "--year", str(YEAR), "--current", CURRENT)


@pytest.fixture(params=BACKENDS)
def year_app(request, tmp_path, command_templates):
    """A fresh copy of the sales demo year for one test (the year is made once per database)."""
    with copied_app(request.param, command_templates(request.param, YEAR_COMMAND), tmp_path) as app:
        yield app


def published(db) -> list[Cycle]:
    return list(db.scalars(select(Cycle).where(Cycle.scheme_id == "sales-attitude", Cycle.state.in_(("published", "closed")))
                           .order_by(Cycle.period)))


def stored(db, cycle) -> dict[str, tuple]:
    """Each person's stored score, flags and pay."""
    rows = db.execute(select(CycleSubject.code, CycleResult.score, CycleResult.flags, CycleResult.extra)
                      .join(CycleResult, CycleResult.subject_id == CycleSubject.id)
                      .where(CycleResult.cycle_id == cycle.id, CycleSubject.kind == "person")).all()
    return {code: (None if score is None else Decimal(str(score)).quantize(Decimal("0.01")), sorted(flags),
                   (extra or {}).get("pay")) for code, score, flags, extra in rows}


def scored(result) -> dict[str, tuple]:
    return {p.id: (None if p.score is None else Decimal(str(p.score)).quantize(Decimal("0.01")), sorted(p.flags),
                   None if "pay" not in p.extra else str(p.extra["pay"])) for p in result.people}


def test_the_year_is_there_with_its_stories(year_app):
    with tenant(year_app, "xiaoshou") as db:
        months = published(db)
        assert [c.period for c in months] == [f"{YEAR}-{m:02d}" for m in range(1, 13)] + \
               [f"{YEAR + 1}-{m:02d}" for m in range(1, 10)]
        current = db.scalar(select(Cycle).where(Cycle.period == CURRENT))
        assert current.state == "open"
        assert db.scalar(select(EventImport.id).limit(1)) is not None  # last year's attendance exports
        assert {s for (s,) in db.execute(select(SalesEvent.source).distinct())} == {"imported", "entered"}
        flags = {c.period: stored(db, c) for c in months}
        assert flags[f"{YEAR}-06"]["X016"][1] == ["training"] and flags[f"{YEAR}-05"]["X016"][1] == []
        assert "transfer" in flags[f"{YEAR}-10"]["X024"][1]
        assert all(flags[f"{YEAR + 1}-{m:02d}"]["X021"][1] == [] for m in (3, 5, 7))
        assert all(flags[f"{YEAR + 1}-{m:02d}"]["X021"][0] < Decimal(80) for m in (3, 5, 7))
        assert flags[f"{YEAR + 1}-09"]["X013"][1] == ["training"]
        for status, number in (("intern", "X019"), ("probation", "X025"), ("transfer", "X027")):
            assert flags[f"{YEAR}-01"][number] == (None, [f"excluded:{status}"], None)
        plans = {(p.kind, p.period): p for p in db.scalars(select(ImprovementPlan))}
        assert plans[("training", f"{YEAR}-06")].decision == "return_to_post"
        assert plans[("transfer", f"{YEAR}-10")].decision == "new_post"
        assert plans[("training", f"{YEAR + 1}-09")].state == "open"
        # the training plan's months pay 80%
        for period in (f"{YEAR}-07", f"{YEAR}-08"):
            subject = db.scalar(select(CycleSubject).join(Cycle, Cycle.id == CycleSubject.cycle_id)
                                .where(Cycle.period == period, CycleSubject.code == "X016"))
            assert subject.inputs["training"] is True


def test_every_month_equals_jixiao_score_on_its_case_file(year_app, tmp_path):
    with tenant(year_app, "xiaoshou") as db:
        for cycle in published(db):
            path = tmp_path / f"{cycle.period}.json"
            path.write_text(json.dumps(cycles.case_of(cycle), ensure_ascii=False))
            assert stored(db, cycle) == scored(score_file(str(path), get_schemes())), cycle.period


def test_the_listings_equal_jixiao_score_with_the_history_rebuilt_from_the_earlier_case_files(year_app):
    """Independent of how the portal fills ``history``: each month is scored from its case file with
    the history made from the earlier months' scored case files (and those months scored again with
    personal leave at 0 for the totals without it)."""
    with tenant(year_app, "xiaoshou") as db:
        schemes = get_schemes()
        totals: dict[str, dict[str, tuple[str, str]]] = {}
        listed = 0
        for cycle in published(db):
            case = cycles.case_of(cycle)
            index = int(cycle.period[:4]) * 12 + int(cycle.period[5:]) - 1
            first = min(index - 5, int(cycle.period[:4]) * 12)
            for person in case["people"]:
                history = []
                for period in sorted(totals):
                    at = int(period[:4]) * 12 + int(period[5:]) - 1
                    if first <= at < index and person["id"] in totals[period]:
                        score, without = totals[period][person["id"]]
                        history.append({"period": period, "score": score,
                                        **({"score_without_leave": without} if without != score else {})})
                person["inputs"] = {**person["inputs"], "history": history}
            result = score_case(*build_case(case, schemes))
            mine = {code: value[1] for code, value in stored(db, cycle).items()}
            assert {p.id: sorted(p.flags) for p in result.people} == mine, cycle.period
            listed += sum(1 for flags in mine.values() if "training" in flags or "transfer" in flags)
            without = {**case, "people": [{**p, "inputs": {**p["inputs"], "history": [], "events": {
                **p["inputs"].get("events", {}), "personal_leave_days": 0}}} for p in case["people"]]}
            again = {p.id: p.score for p in score_case(*build_case(without, schemes)).people}
            totals[cycle.period] = {p.id: (f"{p.score:.2f}", f"{again[p.id]:.2f}") for p in result.people
                                    if p.score is not None}
        assert listed >= 8


def pay_formula(inputs: dict, total: Decimal) -> Decimal:
    value = Decimal(inputs["pay"]["base"]) * Decimal(inputs["pay"]["coefficient"]) * total / 100
    if inputs.get("training"):
        value *= Decimal("0.8")
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def test_the_payroll_export_matches_the_pay_formula_to_the_cent(year_app):
    with tenant(year_app, "xiaoshou") as db:
        months = [(c.id, c.period) for c in published(db)]
        inputs = {(period, s.code): (s.inputs, score) for period, s, score in db.execute(
            select(Cycle.period, CycleSubject, CycleResult.score).join(Cycle, Cycle.id == CycleSubject.cycle_id)
            .join(CycleResult, CycleResult.subject_id == CycleSubject.id).where(CycleSubject.kind == "person"))}
    client = year_app.test_client()
    AuthActions(client).login("xiaoshou", "admin")
    paid = trained = 0
    for cycle_id, period in months:
        response = client.get(f"/t/xiaoshou/sales/cycles/{cycle_id}/payroll.xlsx")
        assert response.status_code == 200
        rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(min_row=2, values_only=True))
        total = Decimal(0)
        for number, *_rest, pay, _note in rows[:-1]:
            person_inputs, score = inputs[(period, number)]
            if score is None or "pay" not in person_inputs:
                assert pay is None, (period, number)
                continue
            expected = pay_formula(person_inputs, Decimal(str(score)))
            assert Decimal(str(pay)) == expected, (period, number, pay, expected)
            total += expected
            paid += 1
            trained += bool(person_inputs.get("training"))
        assert Decimal(str(rows[-1][-2])) == total, period
    assert paid > 300 and trained == 2  # 吴婷's July and August (赵一鸣's training month is still open)


# ----------------------------------------------------------------------------------- who sees what

ROLES = ("admin", "manager", "wanghaijun", "zhanglijuan", "x016", "employee")  # HR, leader, S1 head, S2 head, 吴婷, S1 staff


def pages_of_wu_ting(db) -> dict[str, str]:
    """The pages about 吴婷 (X016, in S1) in June last year, when she was listed for training."""
    from core.models import Person

    june = db.scalar(select(Cycle).where(Cycle.period == f"{YEAR}-06"))
    person = db.scalar(select(Person).where(Person.number == "X016"))
    result = db.scalar(select(CycleResult.id).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                       .where(CycleResult.cycle_id == june.id, CycleSubject.person_id == person.id))
    plan = db.scalar(select(ImprovementPlan.id).where(ImprovementPlan.person_id == person.id))
    base = f"/t/xiaoshou/sales"
    return {"events": f"{base}/events?month={YEAR}-07&number=X016", "her events": f"{base}/events/people/{person.id}",
            "pay": f"{base}/pay", "payroll": f"{base}/cycles/{june.id}/payroll",
            "payroll.xlsx": f"{base}/cycles/{june.id}/payroll.xlsx", "lists": f"{base}/cycles/{june.id}/competence",
            "overview": f"{base}/competence?year={YEAR}", "plans": f"{base}/plans", "her plan": f"{base}/plans/{plan}",
            "excluded": f"{base}/cycles/{june.id}/excluded", "ratings": f"{base}/cycles/{june.id}/ratings",
            "her result": f"/t/xiaoshou/results/{result}", "result (staff view)": f"/t/xiaoshou/cycles/{june.id}/results/{result}"}


# page -> the accounts that open it and see 吴婷 on it ("shown"), open it without her ("empty"); others are refused
ACCESS = {
    "events": {"shown": {"admin", "manager", "wanghaijun"}, "empty": {"zhanglijuan"}},
    "her events": {"shown": {"admin", "manager", "wanghaijun", "x016"}},
    "pay": {"shown": {"admin"}},
    "payroll": {"shown": {"admin"}},
    "payroll.xlsx": {"shown": {"admin"}},
    "lists": {"shown": {"admin", "manager", "wanghaijun"}, "empty": {"zhanglijuan"}},
    "overview": {"shown": {"admin", "manager", "wanghaijun"}, "empty": {"zhanglijuan"}},
    "plans": {"shown": {"admin", "manager", "wanghaijun", "x016"}, "empty": {"zhanglijuan", "employee"}},
    "her plan": {"shown": {"admin", "manager", "wanghaijun", "x016"}},
    "excluded": {"shown": set(), "empty": {"admin", "manager", "wanghaijun", "zhanglijuan"}},
    "ratings": {"shown": {"admin", "wanghaijun"}, "empty": {"zhanglijuan"}},
    "her result": {"shown": {"admin", "manager", "wanghaijun", "x016"}},
    "result (staff view)": {"shown": {"admin", "manager"}},
}


def test_every_role_sees_only_what_schemes_md_allows(year_app):
    """The person, their unit head, HR and the leaders see her results and what they are made of;
    the other unit's head and other staff do not; pay bases are HR's alone (her own result shows her pay)."""
    with tenant(year_app, "xiaoshou") as db:
        pages = pages_of_wu_ting(db)
        base = db.scalar(select(CycleSubject.inputs).join(Cycle, Cycle.id == CycleSubject.cycle_id)
                         .where(Cycle.period == f"{YEAR}-06", CycleSubject.code == "X016"))["pay"]["base"]
    assert set(ACCESS) == set(pages)
    for username in ROLES:
        client = year_app.test_client()
        AuthActions(client).login("xiaoshou", username)
        for name, url in pages.items():
            response = client.get(url)
            allowed = ACCESS[name]["shown"] | ACCESS[name].get("empty", set())
            if username not in allowed:
                assert response.status_code in (403, 404), f"{username} opened {name}: {response.status_code}"
                continue
            assert response.status_code == 200, f"{username} could not open {name}: {response.status_code}"
            if name.endswith(".xlsx"):
                continue
            body = response.get_data(as_text=True)
            shown = "吴婷" in body
            assert shown == (username in ACCESS[name]["shown"]), f"{username} on {name}: 吴婷 shown={shown}"
            if username != "admin" and name != "her result":
                assert base not in body, f"{username} sees the pay base on {name}"


def test_the_command_run_again_makes_nothing(year_app):
    with tenant(year_app, "xiaoshou") as db:
        before = db.scalar(select(func.count()).select_from(SalesEvent))
    again = year_app.test_cli_runner().invoke(args=list(YEAR_COMMAND))
    assert again.exit_code == 0 and "the sales year 2025 is already there; nothing made" in again.output
    with tenant(year_app, "xiaoshou") as db:
        assert db.scalar(select(func.count()).select_from(SalesEvent)) == before
