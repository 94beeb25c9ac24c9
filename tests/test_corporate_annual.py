"""corporate-grading, the annual cycle and the outputs: the year's monthly results collected into an
annual cycle (month order, final scores after appeals, the latest published cycle of a month), the
letters' and 360 reviews' inputs, the annual results agreeing with
`jixiao score` on the cycle's case, rankings per class, best units and staff, promotion candidates,
and the bonus distribution table to the cent; who may see what."""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from fractions import Fraction

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select, update

from core.cycles import after, service
from core.cycles.service import CycleError
from core.models import AuditLog, Cycle, CycleResult, CycleSubject, Person, TenantScheme
from core.plugins import get_schemes
from core.scoring import score_case
from core.scoring.case import build_case
from core.scoring.numbers import text
from plugins.corporate_grading import SCHEME, features
features()  # the feature packages in the plugin's order (policy.py imports organisation's service)
from plugins.corporate_grading.annual import service as annual  # noqa: E402
from plugins.corporate_grading.annual.models import BonusBase  # noqa: E402
from tests.test_cycles import fill_corporate_inputs, tenant  # noqa: E402

GRADES = "ABCD"
QUALITY_GROUP = {"A": "president", "B": "leader", "C": "superior"}


# ----------------------------------------------------------------------------------- building a year

def published_month(period: str, name: str, tweak=None) -> Cycle:
    """A monthly cycle of jituan: created, filled, computed and published."""
    cycle = service.create_cycle("corporate-grading", period, name, {}, "test")
    service.transition(cycle, "open", "test")
    fill_corporate_inputs(cycle)
    if tweak:
        tweak(cycle)
    service.compute(cycle, "test")
    service.transition(cycle, "review", "test")
    service.transition(cycle, "published", "test")
    return cycle


def result_of(cycle: Cycle, kind: str, code: str) -> CycleResult:
    from core.db import db_session

    return db_session.scalar(select(CycleResult).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                             .where(CycleResult.cycle_id == cycle.id, CycleSubject.kind == kind,
                                    CycleSubject.code == code))


def raise_units(cycle: Cycle) -> None:
    """February's second cycle: every unit's form score raised, so its results differ from the first's."""
    for row in service.subjects(cycle):
        if row.kind == "unit":
            service.set_inputs(row, cycle, {**row.inputs, "form_score": "5"}, row.inputs_version, "test")


def build_year(db) -> dict:
    """January, February (twice: the later published counts), March published; April still open.
    One appeal in January adjusts a person's score. Returns the cycles and the appealed person."""
    jan = published_month("2026-01", "1月")
    feb_first = published_month("2026-02", "2月")
    mar = published_month("2026-03", "3月")
    feb_again = published_month("2026-02", "2月(重算)", tweak=raise_units)
    april = service.create_cycle("corporate-grading", "2026-04", "4月", {}, "test")
    service.transition(april, "open", "test")
    fill_corporate_inputs(april)
    service.compute(april, "test")
    # an appeal in January: the person's final score is the adjusted one
    appealed = result_of(jan, "person", "J0043")
    appeal = after.file_appeal(jan, appealed, "my extra work was not counted", "user:employee")
    after.investigate(appeal, jan, "the extra work is documented", "user:hr")
    new_score = "4.97" if appealed.score != Decimal("4.97") else "4.96"
    after.decide(appeal, jan, "adjusted", new_score, "counted the extra work", "user:president", [])
    db.flush()
    return {"jan": jan, "feb_first": feb_first, "feb": feb_again, "mar": mar, "april": april,
            "appealed": "J0043", "appealed_score": Decimal(new_score)}


def fill_annual(cycle: Cycle) -> None:
    """A target score and 360 ratings for every subject, keeping what was collected."""
    for i, row in enumerate(service.subjects(cycle)):
        inputs = dict(row.inputs)
        inputs["target_score"] = ["5", "4.8", "4.5", "4.2", "3.9"][i % 5]
        if row.kind == "person":
            inputs["quality"] = [{"group": QUALITY_GROUP[row.staff_class], "score": "4.5"},
                                 {"group": "peer", "score": ["5", "4", "3.5"][i % 3]}]
        service.set_inputs(row, cycle, inputs, row.inputs_version, "test")


def computed_annual(db, year: dict, settings: dict | None = None) -> Cycle:
    if settings:
        row = db.scalar(select(TenantScheme).where(TenantScheme.scheme_id == "corporate-grading"))
        row.settings = {**row.settings, **settings}
        db.flush()
    cycle = service.create_cycle("corporate-grading", "2026", "2026年度", {}, "hr")
    fill_annual(cycle)
    service.transition(cycle, "open", "test")
    service.compute(cycle, "test")
    return cycle


# ----------------------------------------------------------------------------------- collection

def test_the_annual_cycle_collects_the_years_final_monthly_scores_in_month_order(app):
    with tenant(app) as db:
        year = build_year(db)
        cycle = service.create_cycle("corporate-grading", "2026", "2026年度", {}, "hr")  # collects on creation
        rows = {(r.kind, r.code): r for r in service.subjects(cycle)}
        months = [year["jan"], year["feb"], year["mar"]]
        for (kind, code), row in rows.items():
            expected = [text(Fraction(result_of(m, kind, code).score)) for m in months]
            assert row.inputs["monthly_scores"] == expected, (kind, code)
        # the later published February counts, not the first one (its units' scores differ)
        fin_first = result_of(year["feb_first"], "unit", "FIN").score
        assert rows[("unit", "FIN")].inputs["monthly_scores"][1] == text(Fraction(result_of(year["feb"], "unit", "FIN").score))
        assert result_of(year["feb"], "unit", "FIN").score != fin_first
        # January's appeal-adjusted score, not the computed one
        assert rows[("person", year["appealed"])].inputs["monthly_scores"][0] == text(Fraction(year["appealed_score"]))
        assert annual.monthly_cycles("2026") == months  # April is not published
        assert db.scalar(select(AuditLog.action).where(AuditLog.object_type == "Cycle",
                                                       AuditLog.object_id == str(cycle.id))) == "corp.annual.collect"


def test_the_annual_results_equal_jixiao_score_on_the_cycles_case(app):
    with tenant(app) as db:
        year = build_year(db)
        cycle = computed_annual(db, year)
        stored = {(s.kind, s.code): (r.score, r.grade, r.rank)
                  for r, s in db.execute(select(CycleResult, CycleSubject)
                                         .join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                                         .where(CycleResult.cycle_id == cycle.id)).all()}
        scheme, case = build_case(service.case_of(cycle), get_schemes())
        result = score_case(scheme, case)
    from_case = {(kind, s.id): (s.score, s.grade, s.rank)
                 for kind, section in (("unit", result.units), ("person", result.people)) for s in section}
    assert stored == from_case and len(stored) > 60
    assert all(len(case_subject.inputs.monthly_scores) == 3 for case_subject in case.units)


class Sources:
    """Stand-ins for the letters' and reviews' services (other features provide the real ones)."""

    def __init__(self, letters: dict, quality: dict):
        self.letters, self.quality, self.asked = letters, quality, []

    def install(self, monkeypatch):
        monkeypatch.setattr("plugins.corporate_grading.letters.service.letter_target_items",
                            lambda year: (self.asked.append(year), self.letters)[1])
        monkeypatch.setattr("plugins.corporate_grading.reviews.service.quality_inputs", lambda cycle: self.quality)


ITEMS = [{"name": "营业收入", "weight": "0.6", "kind": "quantitative", "actual": "120", "threshold": "80", "target": "100"},
         {"name": "团队建设", "weight": "0.4", "kind": "qualitative", "level": "satisfied"}]


def test_collect_again_takes_letters_and_360_ratings_and_keeps_other_inputs(app, monkeypatch):
    with tenant(app) as db:
        published_month("2026-01", "1月")
        cycle = service.create_cycle("corporate-grading", "2026", "2026年度", {}, "hr")
        rows = {r.code: r for r in service.subjects(cycle)}
        fin, person = rows["FIN"], rows["J0043"]
        service.set_inputs(fin, cycle, {**fin.inputs, "target_score": "4", "adjust": "0.5",
                                        "review": {"proposed": "4.5", "members": 5, "votes_for": 3, "votes_against": 2}},
                           fin.inputs_version, "hr")
        ratings = [{"group": "superior", "score": "4.5"}, {"group": "peer", "score": "4"}]
        sources = Sources({("unit", fin.unit_id): ITEMS, ("person", person.person_id): ITEMS},
                          {person.id: ratings})
        sources.install(monkeypatch)
        assert annual.collect(cycle, "user:hr") == 2
        db.refresh(fin)
        db.refresh(person)
        assert sources.asked == ["2026"]
        assert fin.inputs["target_items"] == ITEMS and "target_score" not in fin.inputs
        assert fin.inputs["adjust"] == "0.5" and fin.inputs["review"]["votes_for"] == 3
        assert len(fin.inputs["monthly_scores"]) == 1
        assert person.inputs["quality"] == ratings and person.inputs["target_items"] == ITEMS
        assert annual.collect(cycle, "user:hr") == 0  # nothing new: nothing written
        found = annual.collection(cycle)
        assert person not in [m.subject for m in found.missing]
        assert found.counts["letter"] == found.subjects - 2 and found.counts["months"] == 0


def test_collect_again_takes_the_answered_360_ratings_of_the_reviews_feature(app):
    reviews = pytest.importorskip("plugins.corporate_grading.reviews.service")
    with tenant(app) as db:
        published_month("2026-01", "1月")
        cycle = service.create_cycle("corporate-grading", "2026", "2026年度", {}, "hr")
        person = next(r for r in service.subjects(cycle) if r.code == "J0043")
        rater = db.scalar(select(Person.id).where(Person.number == "J0030"))
        assignment = reviews.add_rater(cycle, person, rater, "peer", "user:hr")
        assert "quality" not in person.inputs  # nothing answered when the cycle was made
        reviews.answer(cycle, assignment, "4.5", "", assignment.version, "user:liaosiyuan")
        assert annual.collect(cycle, "user:hr") == 1
        db.refresh(person)
        assert person.inputs["quality"] == [{"group": "peer", "score": "4.5"}]
        assert len(person.inputs["monthly_scores"]) == 1


def test_collect_is_refused_on_stale_inputs_and_outside_draft_and_open(app, monkeypatch):
    with tenant(app) as db:
        published_month("2026-01", "1月")
        cycle = service.create_cycle("corporate-grading", "2026", "2026年度", {}, "hr")
        first = service.subjects(cycle)[0]
        service.set_inputs(first, cycle, {}, first.inputs_version, "hr")  # someone cleared it: collect refills it
        real = annual.collected_inputs

        def meanwhile(subject, *args):
            if subject.id == first.id:  # another editor saves this subject while the year is collected
                db.execute(update(CycleSubject).where(CycleSubject.id == first.id)
                           .values(inputs_version=CycleSubject.inputs_version + 1)
                           .execution_options(synchronize_session=False))
            return real(subject, *args)

        monkeypatch.setattr(annual, "collected_inputs", meanwhile)
        with pytest.raises(CycleError, match="changed by someone else"):
            annual.collect(cycle, "user:hr")
        monkeypatch.setattr(annual, "collected_inputs", real)
        monthly = service.create_cycle("corporate-grading", "2026-05", "5月", {}, "hr")
        with pytest.raises(CycleError, match="Only an annual corporate cycle"):
            annual.collect(monthly, "user:hr")
        cycle.state = "review"
        with pytest.raises(CycleError, match="while the cycle is a draft or open"):
            annual.collect(cycle, "user:hr")


def test_without_monthly_cycles_the_missing_page_counts_everyone(app):
    with tenant(app) as db:
        cycle = service.create_cycle("corporate-grading", "2026", "2026年度", {}, "hr")
        found = annual.collection(cycle)
        people = sum(1 for r in service.subjects(cycle) if r.kind == "person")
        assert found.counts == {"months": found.subjects, "letter": found.subjects, "quality": people,
                                "subjects": found.subjects}
        assert found.months == []


# ----------------------------------------------------------------------------------- outputs

def monthly_grades(db, year: dict) -> dict[str, list[str]]:
    grades: dict[str, list[str]] = {}
    for month in (year["jan"], year["feb"], year["mar"]):
        for code, grade in db.execute(select(CycleSubject.code, CycleResult.grade)
                                      .join(CycleResult, CycleResult.subject_id == CycleSubject.id)
                                      .where(CycleResult.cycle_id == month.id, CycleSubject.kind == "person")):
            grades.setdefault(code, []).append(grade)
    return grades


def test_rankings_per_class_best_and_promotion_candidates(app):
    with tenant(app) as db:
        year = build_year(db)
        cycle = computed_annual(db, year)
        lists = annual.rankings(cycle)
        pairs = db.execute(select(CycleResult, CycleSubject).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                           .where(CycleResult.cycle_id == cycle.id)).all()
        for name in ("A", "B", "C"):
            members = [(r, s) for r, s in pairs if s.kind == "person" and s.staff_class == name]
            ranked = lists[name]
            assert {x.subject.code for x in ranked} == {s.code for _r, s in members} and members
            for x in ranked:  # competition rank within the class: 1 + how many in the class score higher
                assert x.rank == 1 + sum(1 for r, _s in members if r.score > x.result.score)
            assert [x.result.score for x in ranked] == sorted((x.result.score for x in ranked), reverse=True)
        assert [x.rank for x in lists["person"]] == sorted(r.rank for r, s in pairs if s.kind == "person")
        assert len(lists["unit"]) == sum(1 for _r, s in pairs if s.kind == "unit")

        best = annual.best(cycle, lists)
        for name in annual.BEST_LISTS:
            expected = {x.subject.code for x in lists[name] if x.result.grade == "A" and x.rank <= 3}
            assert {x.subject.code for x in best[name]} == expected
        assert any(best[name] for name in annual.BEST_LISTS)

        grades = monthly_grades(db, year)
        candidates = annual.promotion_candidates(cycle, lists)
        annual_a = {x.subject.code for x in lists["person"] if x.result.grade == "A"}
        expected = {code for code in annual_a if all(g in "AB" for g in grades[code])}
        assert {c.ranked.subject.code for c in candidates} == expected
        assert expected and annual_a - expected  # both sides of the monthly rule occur
        for c in candidates:
            assert [m.grade for m in c.months] == grades[c.ranked.subject.code]


def test_best_rule_and_promotion_rule_are_settings(app):
    with tenant(app) as db:
        year = build_year(db)
        cycle = computed_annual(db, year, {"best_rule": {"grade": "B", "top": 1},
                                           "promotion_rule": {"annual_grade": "A", "lowest_monthly_grade": "D"}})
        lists = annual.rankings(cycle)
        best = annual.best(cycle, lists)
        for name in annual.BEST_LISTS:
            assert {x.subject.code for x in best[name]} == {
                x.subject.code for x in lists[name] if x.rank == 1 and x.result.grade in "AB"}
        candidates = annual.promotion_candidates(cycle, lists)
        assert {c.ranked.subject.code for c in candidates} == {x.subject.code for x in lists["person"]
                                                               if x.result.grade == "A"}
        assert annual.promotion_candidates(year["jan"]) == []  # monthly cycles name no candidates


def test_the_bonus_table_is_exact_to_the_cent(app):
    with tenant(app) as db:
        year = build_year(db)
        cycle = computed_annual(db, year, {"bonus_coefficients": {"A": "1.25"}})
        lists = annual.rankings(cycle)
        by_grade = {}
        for x in lists["person"]:
            by_grade.setdefault(x.result.grade, x)
        a, b = by_grade["A"], by_grade["B"]
        annual.set_base(cycle, a.subject.person_id, "0.03", None, "user:hr")      # 0.0375 → 0.04
        annual.set_base(cycle, b.subject.person_id, "12345.67", None, "user:hr")  # 14814.804 → 14814.80
        table = annual.bonus_table(cycle)
        rows = {r.subject.code: r for r in table.rows}
        assert rows[a.subject.code].coefficient == Fraction("1.25") and rows[a.subject.code].bonus == Decimal("0.04")
        assert rows[b.subject.code].coefficient == Fraction("1.2") and rows[b.subject.code].bonus == Decimal("14814.80")
        assert table.total_bonus == Decimal("14814.84") and table.total_base == Decimal("12345.70")
        assert table.without_base == len(table.rows) - 2
        # half up, never half to even nor a float: 0.03 × 1.5 = 0.045 → 0.05
        assert annual.bonus_of(Decimal("0.03"), Fraction("1.5")) == Decimal("0.05")
        # changing and clearing, with the version the form saw
        row = db.scalar(select(BonusBase).where(BonusBase.person_id == a.subject.person_id))
        with pytest.raises(annual.StaleBase):
            annual.set_base(cycle, a.subject.person_id, "10", None, "user:hr")
        annual.set_base(cycle, a.subject.person_id, "10", row.version, "user:hr")
        assert annual.bonus_table(cycle).rows[0].base is not None
        annual.set_base(cycle, a.subject.person_id, "", row.version, "user:hr")
        assert db.scalar(select(BonusBase).where(BonusBase.person_id == a.subject.person_id)) is None
        actions = db.scalars(select(AuditLog.action).where(AuditLog.object_type == "BonusBase")).all()
        assert actions == ["corp.bonus_base"] * 4


@pytest.mark.parametrize("value", ["abc", "-5", "1.234", "1e3", "1000000000", ""])
def test_a_bad_bonus_base_is_refused_naming_the_field_the_value_and_what_is_allowed(value):
    with pytest.raises(annual.BonusError) as info:
        annual.parse_base(value)
    message = str(info.value)
    assert message.startswith("Bonus base: ") and repr(value) in message and "allowed: an amount from 0" in message


def test_bonus_coefficients_are_validated_settings():
    _merged, errors = SCHEME.validate_settings({"bonus_coefficients": {"A": "lots", "B": "-1", "E": "2"}})
    assert sorted(errors) == [
        "settings.bonus_coefficients.A: 'lots' is not allowed — not a number; allowed: a decimal number of 0 or more, such as 1.2",
        "settings.bonus_coefficients.B: -1 is not allowed — below 0; allowed: a decimal number of 0 or more, such as 1.2",
        "settings.bonus_coefficients.E: unknown key (value '2'); remove it or check its spelling",
    ]
    defaults = SCHEME.default_settings()
    assert defaults["bonus_coefficients"] == {"A": "1.5", "B": "1.2", "C": "1", "D": "0.5"}
    assert defaults["best_rule"] == {"grade": "A", "top": 3}
    assert defaults["promotion_rule"] == {"annual_grade": "A", "lowest_monthly_grade": "B"}
    assert SCHEME.validate_settings({"best_rule": {"top": 0}})[1] == [
        "settings.best_rule.top: 0 is not allowed — Input should be greater than or equal to 1"]


# ----------------------------------------------------------------------------------- pages

def login(client, username):
    client.post("/t/jituan/logout")
    response = client.post("/t/jituan/login", data={"username": username, "password": "jixiao-demo"})
    client.post("/lang", data={"locale": "en", "next": "/"})  # the messages asserted are the English ones
    return response


@pytest.fixture
def year_done(app):
    """A committed year: three published months and the computed annual cycle."""
    with tenant(app) as db:
        year = build_year(db)
        cycle = computed_annual(db, year)
        db.commit()
        person = db.scalar(select(CycleSubject).where(CycleSubject.cycle_id == cycle.id, CycleSubject.code == "J0043"))
        return {"annual": cycle.id, "jan": year["jan"].id, "person": person.person_id, "code": person.code}


def test_hr_reaches_the_annual_pages_from_the_cycle_page(client, year_done):
    login(client, "hr")
    cycle = year_done["annual"]
    page = client.get(f"/t/jituan/cycles/{cycle}").get_data(as_text=True)
    for url in (f"/t/jituan/corporate/annual/{cycle}/collection", f"/t/jituan/corporate/rankings/{cycle}",
                f"/t/jituan/corporate/annual/{cycle}/bonus"):
        assert url in page
        assert client.get(url).status_code == 200
    month = client.get(f"/t/jituan/cycles/{year_done['jan']}").get_data(as_text=True)
    assert f"/t/jituan/corporate/rankings/{year_done['jan']}" in month and "/bonus" not in month
    ranking = client.get(f"/t/jituan/corporate/rankings/{cycle}?list=B").get_data(as_text=True)
    assert "Promotion candidates" in ranking and "Best units and staff" in ranking
    assert client.get(f"/t/jituan/corporate/annual/{year_done['jan']}/bonus").status_code == 404  # monthly
    collection = client.get(f"/t/jituan/corporate/annual/{cycle}/collection").get_data(as_text=True)
    assert "2026-03" in collection


def test_collect_again_from_the_page(app, client, year_done):
    login(client, "hr")
    cycle = year_done["annual"]
    url = f"/t/jituan/corporate/annual/{cycle}/collect"
    with tenant(app) as db:
        version = db.get(Cycle, cycle).version
    done = client.post(url, data={"version": version}, follow_redirects=True).get_data(as_text=True)
    assert "Collected: 0 subject(s) updated" in done
    htmx = client.post(url, data={"version": version}, headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].endswith(f"/annual/{cycle}/collection")
    assert "Collected: 0" in client.get(htmx.headers["HX-Redirect"]).get_data(as_text=True)
    stale = client.post(url, data={"version": version + 9}, follow_redirects=True).get_data(as_text=True)
    assert "Collected:" not in stale and 'class="flash error"' in stale
    with tenant(app) as db:
        service.transition(db.get(Cycle, cycle), "review", "test")
        db.commit()
        version = db.get(Cycle, cycle).version
    refused = client.post(url, data={"version": version}, follow_redirects=True).get_data(as_text=True)
    assert "Collected:" not in refused and 'class="flash error"' in refused
    assert "Collect again" not in client.get(f"/t/jituan/corporate/annual/{cycle}/collection").get_data(as_text=True)


@pytest.mark.parametrize("username, rankings, bonus, collection", [
    ("president", 200, 403, 403),      # a leader: rankings, not the confidential bonus table
    ("fengzhiqiang", 403, 403, 403),   # a unit head
    ("employee", 403, 403, 403),
])
def test_who_may_open_the_outputs(client, year_done, username, rankings, bonus, collection):
    login(client, username)
    cycle = year_done["annual"]
    assert client.get(f"/t/jituan/corporate/rankings/{cycle}").status_code == rankings
    assert client.get(f"/t/jituan/corporate/annual/{cycle}/bonus").status_code == bonus
    assert client.get(f"/t/jituan/corporate/annual/{cycle}/bonus.xlsx").status_code == bonus
    assert client.post(f"/t/jituan/corporate/annual/{cycle}/bonus/{year_done['person']}",
                       data={"base": "1"}).status_code == bonus
    assert client.get(f"/t/jituan/corporate/annual/{cycle}/collection").status_code == collection
    links = client.get(f"/t/jituan/cycles/{cycle}")
    if links.status_code == 200:
        page = links.get_data(as_text=True)
        assert "/bonus" not in page and "/collection" not in page
        assert (f"/t/jituan/corporate/rankings/{cycle}" in page) == (rankings == 200)


def test_another_tenants_cycle_is_not_found(app, client, year_done):
    with tenant(app, "xiaoshou") as db:
        other = service.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        db.commit()
        other_id = other.id
    login(client, "hr")
    for url in (f"/t/jituan/corporate/rankings/{other_id}", f"/t/jituan/corporate/annual/{other_id}/bonus",
                f"/t/jituan/corporate/annual/{other_id}/collection"):
        assert client.get(url).status_code == 404
    assert client.post(f"/t/jituan/corporate/annual/{other_id}/bonus/{year_done['person']}",
                       data={"base": "1"}).status_code == 404
    client.post("/t/jituan/logout")
    assert client.post("/t/xiaoshou/login", data={"username": "admin", "password": "jixiao-demo"}).status_code == 302
    assert client.get(f"/t/xiaoshou/corporate/rankings/{other_id}").status_code == 404  # scheme not enabled


def test_bonus_bases_inline_with_bad_input_and_a_stale_version(app, client, year_done):
    login(client, "hr")
    cycle, person = year_done["annual"], year_done["person"]
    url = f"/t/jituan/corporate/annual/{cycle}/bonus/{person}"
    bad = client.post(url, data={"base": "12,5x", "version": ""}, headers={"HX-Request": "true", "HX-Target": "bonus-table"})
    assert bad.status_code == 422 and "&#39;12,5x&#39;" in bad.get_data(as_text=True)
    ok = client.post(url, data={"base": "8800.50", "version": ""}, headers={"HX-Request": "true", "HX-Target": "bonus-table"})
    assert ok.status_code == 200 and "8,800.50" in ok.get_data(as_text=True)
    assert "<html" not in ok.get_data(as_text=True)  # only the table block
    stale = client.post(url, data={"base": "9000", "version": ""})
    assert stale.status_code == 409
    with tenant(app) as db:
        row = db.scalar(select(BonusBase).where(BonusBase.cycle_id == cycle, BonusBase.person_id == person))
        assert row.base == Decimal("8800.50")
        version = row.version
    plain = client.post(url, data={"base": "9000", "version": str(version)})
    assert plain.status_code == 302
    book = load_workbook(io.BytesIO(client.get(f"/t/jituan/corporate/annual/{cycle}/bonus.xlsx").data))
    sheet = book.active
    header = [c.value for c in sheet[1]]
    rows = {r[1]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert len(header) == 10 and rows[year_done["code"]][7] == 9000
    assert client.get(f"/t/jituan/corporate/annual/{cycle}/bonus").headers["Cache-Control"] == "no-store"


def _csv(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_bonus_bases_import_all_or_nothing(app, client, year_done):
    login(client, "hr")
    cycle = year_done["annual"]
    url = f"/t/jituan/corporate/annual/{cycle}/bonus/import"
    bad = _csv([["number", "name", "bonus_base"], ["J0043", "x", "5000"], ["J0030", "y", "-1"],
                ["NOPE", "z", "1"], ["J0043", "x", "6000"]])
    response = client.post(url, data={"file": (io.BytesIO(bad), "bases.csv")}, content_type="multipart/form-data")
    text_ = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Row 3, column bonus_base: &#39;-1&#39; is not allowed; allowed: an amount from 0" in text_
    assert "Row 4, column number: NOPE is not a person assessed in this cycle." in text_
    assert "Row 5, column number: J0043 already appears in row 2." in text_
    with tenant(app) as db:
        assert db.scalar(select(BonusBase).where(BonusBase.cycle_id == cycle)) is None  # nothing partial
    template = client.get(f"/t/jituan/corporate/annual/{cycle}/bonus/template")
    sheet = load_workbook(io.BytesIO(template.data)).active
    assert [c.value for c in sheet[1]] == list(annual.IMPORT_COLUMNS)
    book = Workbook()
    book.active.append(["number", "bonus_base"])
    book.active.append(["J0043", 5000.5])
    book.active.append(["J0030", "12000"])
    book.active.append(["J0028", None])
    out = io.BytesIO()
    book.save(out)
    good = client.post(url, data={"file": (io.BytesIO(out.getvalue()), "bases.xlsx")}, content_type="multipart/form-data")
    assert good.status_code == 302
    with tenant(app) as db:
        stored = dict(db.execute(select(Person.number, BonusBase.base).join(Person, Person.id == BonusBase.person_id)
                                 .where(BonusBase.cycle_id == cycle)).all())
    assert stored == {"J0043": Decimal("5000.50"), "J0030": Decimal("12000.00")}
    unknown = _csv([["number", "salary"], ["J0043", "1"]])
    response = client.post(url, data={"file": (io.BytesIO(unknown), "b.csv")}, content_type="multipart/form-data")
    assert response.status_code == 422
