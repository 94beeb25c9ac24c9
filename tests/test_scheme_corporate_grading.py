"""Targeted tests of `corporate-grading` scoring (plugins/corporate_grading/scoring.py).

The worked examples in tests/cases/corporate-grading/ pin the results down; these tests pin the
breakdowns (down to the raw inputs), exactness, settings overrides and the engine contract.
"""
from __future__ import annotations

import gc
from decimal import Decimal
from fractions import Fraction

import pytest

from core.scoring.case import CaseError, build_case
from plugins.corporate_grading import SCHEME, CorporateGradingSettings

SCHEMES = {"corporate-grading": SCHEME}


def score(raw: dict):
    scheme, case = build_case(raw, SCHEMES)
    return scheme.compute(case)


def problems(raw: dict) -> list[str]:
    with pytest.raises(CaseError) as exc:
        build_case(raw, SCHEMES)
    return exc.value.problems


def by_id(subjects):
    return {s.id: s for s in subjects}


MONTHLY = {
    "scheme": "corporate-grading",
    "period": "2026-09",
    "units": [
        {"id": "FIN", "kind": "department", "inputs": {
            "plan_rate": "0.8",
            "form_items": [
                {"name": "资金计划", "weight": "0.5", "kind": "quantitative", "actual": "95", "threshold": "80",
                 "target": "90", "challenge": "100"},
                {"name": "协作", "weight": "0.5", "kind": "qualitative", "level": "very_satisfied"},
            ],
            "adjust": "0.2",
            "review": {"proposed": "4.505", "members": "7", "votes_for": "4", "votes_against": "3"}}},
        {"id": "HR", "kind": "department", "inputs": {"plan_rate": "1", "form_score": "4"}},
    ],
    "people": [
        {"id": "P1", "unit": "FIN", "class": "B", "inputs": {"personal_score": "4", "adjust": "-0.1"}},
        {"id": "P2", "class": "A", "inputs": {"personal_score": "4.5", "oversees": ["FIN", "HR"]}},
    ],
}


# ----------------------------------------------------------------------------------- breakdowns

def test_unit_breakdown_reaches_items_plan_rate_adjust_and_the_committee_vote():
    result = score(MONTHLY)
    fin = by_id(result.units)["FIN"]
    # plan 4 × 0.6 + form (0.5×4 + 0.5×5 = 4.5) × 0.4 + 0.2 = 2.4 + 1.8 + 0.2 = 4.4; vote 4 of 7 adopts 4.505
    assert fin.score == Decimal("4.51")
    root = fin.breakdown
    assert root.label == "monthly score after committee review"
    assert "adopted" in root.note
    vote = root.find("committee vote")
    assert vote.input == {"proposed": Fraction("4.505"), "members": 7, "for": 4, "against": 3, "chair": None}
    computed = root.find("monthly score")
    assert computed.value == Fraction("4.4")
    assert computed.formula == "plan_score * 0.6 + form_score * 0.4 + adjust"
    item = root.find("资金计划")
    assert item.value == 4 and item.note == "target" and item.weight == Fraction("0.5")
    assert item.input == {"kind": "quantitative", "actual": 95, "threshold": 80, "target": 90,
                          "challenge": 100, "better": "higher"}
    assert root.find("协作").input == {"kind": "qualitative", "level": "very_satisfied"}
    plan_rate = root.find("plan_rate")
    assert plan_rate.value == plan_rate.input == Fraction("0.8") and plan_rate.weight == 5
    adjust = computed.terms[-1]
    assert adjust.label == "adjust" and adjust.input == Fraction("0.2")


def test_staff_breakdowns_name_the_units_and_use_their_published_scores():
    result = score(MONTHLY)
    people = by_id(result.people)
    # B: 4×0.4 + 4.51×0.6 − 0.1 = 1.6 + 2.706 − 0.1 = 4.206 → 4.21
    assert people["P1"].score == Decimal("4.21")
    unit_term = people["P1"].breakdown.find("unit_score")
    assert unit_term.weight == Fraction("0.6")
    assert unit_term.terms[0].label == "FIN" and unit_term.terms[0].input == {"unit": "FIN"}
    assert unit_term.terms[0].value == Fraction("4.51")
    # A: units_mean = (4.51 + 5×0.6 + 4×0.4 = 4.60) / 2 = 4.555; 4.5×0.3 + 4.555×0.7 = 1.35 + 3.1885 = 4.5385 → 4.54
    assert people["P2"].score == Decimal("4.54")
    mean = people["P2"].breakdown.find("units_mean").terms[0]
    assert mean.value == Fraction("4.555")
    assert [(t.label, t.value) for t in mean.terms] == [("FIN", Fraction("4.51")), ("HR", Fraction("4.6"))]
    assert people["P2"].breakdown.find("personal").terms[0].note == "entered as one score"


ANNUAL = {
    "scheme": "corporate-grading",
    "period": "2026",
    "people": [
        {"id": "A1", "class": "A", "inputs": {
            "monthly_scores": ["4.5", "4.6", "4.7"], "target_score": "4.5",
            "quality": [{"group": "president", "score": "5"}, {"group": "peer", "score": "4"},
                        {"group": "peer", "score": "5"}]}},
        {"id": "C1", "class": "C", "inputs": {
            "monthly_scores": ["4"],
            "target_items": [
                {"name": "图纸审核", "weight": "0.31", "kind": "qualitative", "level": "satisfied"},
                {"name": "变更控制", "weight": "0.69", "kind": "quantitative", "better": "lower",
                 "actual": "3", "threshold": "5", "target": "3"}],
            "quality": [{"group": "superior", "score": "4"}]}},
    ],
}


def test_annual_breakdown_lists_months_raters_and_redistributed_weights():
    result = score(ANNUAL)
    a1 = by_id(result.people)["A1"]
    assert a1.score == Decimal("4.58")
    months = a1.breakdown.find("monthly_mean").terms[0]
    assert [t.input for t in months.terms] == [Fraction("4.5"), Fraction("4.6"), Fraction("4.7")]
    quality = a1.breakdown.find("quality (leadership L)")
    assert quality.value == Fraction("4.8125")
    groups = {t.label: t for t in quality.terms}
    assert groups["president"].weight == Fraction(5, 8) and groups["peer"].weight == Fraction(3, 8)
    assert groups["unit_head"].weight == 0 and "no raters" in groups["unit_head"].note
    assert [r.input for r in groups["peer"].terms] == [Fraction(4), Fraction(5)]


def test_letter_warnings_are_listed_and_noted_next_to_the_goal():
    result = score(ANNUAL)
    assert result.warnings == [
        "C1.inputs.target_items[0].weight: 0.31 is outside [0.05, 0.3] (goal '图纸审核'); "
        "responsibility-letter guidance: each goal weighs 0.05 to 0.3",
        "C1.inputs.target_items[1].weight: 0.69 is outside [0.05, 0.3] (goal '变更控制'); "
        "responsibility-letter guidance: each goal weighs 0.05 to 0.3",
    ]
    target = by_id(result.people)["C1"].breakdown.find("target").terms[0]
    assert target.terms[0].note.startswith("满意; guidance: 0.31 is outside")
    # lower is better, equal to the target, no challenge → 4 (not 5)
    assert target.terms[1].value == 4 and target.terms[1].note.startswith("target; guidance")
    enforced = dict(ANNUAL, settings={"letter_rules": "enforce"})
    assert problems(enforced) == result.warnings


# ----------------------------------------------------------------------------------- exactness

def test_exact_arithmetic_where_floats_round_the_wrong_way():
    # M = (0.5×4.2 + 0.2×3.5)/0.7 = 4 (weights 5/7 and 2/7 after the empty subordinate group drops out)
    # 4.02×0.25 + 4×0.6 + 4×0.15 = 1.005 + 2.4 + 0.6 = 4.005 exactly → 4.01
    raw = {"scheme": "corporate-grading", "period": "2026", "people": [
        {"id": "B1", "class": "B", "inputs": {
            "monthly_scores": ["4.02"], "target_score": "4",
            "quality": [{"group": "leader", "score": "4.2"}, {"group": "peer", "score": "3.5"}]}}]}
    naive = 4.02 * 0.25 + 4 * 0.6 + ((0.5 / 0.7) * 4.2 + (0.2 / 0.7) * 3.5) * 0.15
    assert Decimal(naive).quantize(Decimal("0.01"), "ROUND_HALF_UP") == Decimal("4.00")  # floats fail
    assert score(raw).people[0].score == Decimal("4.01")


def test_plan_counts_give_an_exact_rate_shown_with_both_counts():
    # 2 of 3: plan_rate = 2/3 exactly; 5 × 2/3 × 0.6 = 2; 3.9875 × 0.4 = 1.595 → 3.595 → 3.60 (C).
    # A rate written as 0.6666 (or float arithmetic) lands below 3.595 and rounds to 3.59 (D).
    counted = {"scheme": "corporate-grading", "period": "2026-09", "units": [
        {"id": "U", "kind": "department", "inputs": {"plan": {"planned": 3, "completed": 2}, "form_score": "3.9875"}}]}
    unit = score(counted).units[0]
    assert unit.score == Decimal("3.60") and unit.grade == "C"
    assert unit.breakdown.value == Fraction("3.595")
    rate = unit.breakdown.find("plan_rate")
    assert rate.value == Fraction(2, 3) and rate.weight == 5 and rate.formula == "completed ÷ planned"
    assert [(t.label, t.input) for t in rate.terms] == [("completed", 2), ("planned", 3)]
    assert rate.to_dict()["terms"][0]["input"] == 2  # raw whole numbers in the output
    written = {**counted, "units": [{"id": "U", "kind": "department",
                                     "inputs": {"plan_rate": "0.6666", "form_score": "3.9875"}}]}
    assert score(written).units[0].score == Decimal("3.59")
    naive = 5 * (2 / 3) * 0.6 + 3.9875 * 0.4
    assert naive < 3.595  # floats fail


def test_plan_counts_from_the_portal_are_read_as_text_too():
    raw = {"scheme": "corporate-grading", "period": "2026-09", "units": [
        {"id": "U", "kind": "department", "inputs": {"plan": {"planned": "7", "completed": "5"}, "form_score": "4"}}]}
    assert score(raw).units[0].breakdown.find("plan_rate").value == Fraction(5, 7)


def test_plan_rate_and_plan_are_one_or_the_other():
    def unit(inputs):
        return {"scheme": "corporate-grading", "period": "2026-09",
                "units": [{"id": "U", "kind": "department", "inputs": {"form_score": "4", **inputs}}]}

    assert problems(unit({})) == ["U.inputs: plan_rate or plan is required; neither was given"]
    assert problems(unit({"plan_rate": "0.5", "plan": {"planned": 2, "completed": 1}})) == [
        "U.inputs: plan_rate and plan are both given; give one of them"]
    assert problems(unit({"plan": {"planned": 0, "completed": 0}})) == [
        "U.inputs.plan.planned: 0 is below 1; a plan sheet has at least one item"]
    assert problems(unit({"plan": {"planned": 2, "completed": 3}})) == [
        "U.inputs.plan.completed: 3 is outside [0, 2] (completed items of the 2 planned)"]


def test_a_mean_of_three_months_is_kept_exact():
    # (4.1 + 4.2 + 4.25)/3 = 12.55/3 → ×0.4 = 5.02/3 = 1.67333…; target 4.175 × 0.6 = 2.505
    # total 4.178333… → 4.18; the mean itself (4.18333…) never appears rounded
    raw = {"scheme": "corporate-grading", "period": "2026", "units": [
        {"id": "U", "kind": "department", "inputs": {"monthly_scores": ["4.1", "4.2", "4.25"], "target_score": "4.175"}}]}
    unit = score(raw).units[0]
    assert unit.score == Decimal("4.18")
    assert unit.breakdown.find("monthly_mean").value == Fraction(1255, 300)


def test_negative_half_rounds_away_from_zero():
    # 5×0.065×0.6 + 2×0.4 − 1 = 0.195 + 0.8 − 1 = −0.005 → −0.01
    raw = {"scheme": "corporate-grading", "period": "2026-01", "units": [
        {"id": "U", "kind": "subsidiary", "inputs": {"plan_rate": "0.065", "form_score": "2", "adjust": "-1"}}]}
    unit = score(raw).units[0]
    assert unit.score == Decimal("-0.01") and unit.grade == "D"


# ----------------------------------------------------------------------------------- settings

def test_default_settings_are_the_spec_defaults():
    defaults = SCHEME.default_settings()
    assert defaults["letter_rules"] == "warn"
    assert defaults["plan_score_formula"] == "5 * plan_rate"
    assert defaults["class_a_monthly_formula"] == "personal * 0.3 + units_mean * 0.7 + adjust"
    assert defaults["class_b_annual_formula"] == "monthly_mean * 0.25 + target * 0.6 + quality * 0.15 + adjust"
    settings = CorporateGradingSettings.model_validate(defaults)  # the JSON form reads back the same
    assert (settings.grade_bounds.A, settings.grade_bounds.B, settings.grade_bounds.C) == (
        Fraction("4.6"), Fraction(4), Fraction("3.6"))
    assert (settings.class_b_annual_adjust_bounds.low, settings.class_b_annual_adjust_bounds.high) == (-2, 2)
    assert settings.class_a_quality_weights.unit_head == Fraction("0.2")
    assert (settings.letter_goal_weight.low, settings.letter_goal_weight.high) == (Fraction("0.05"), Fraction("0.3"))
    assert (settings.letter_performance_goals.low, settings.letter_development_goals.high) == (5, 3)


def test_a_tenant_formula_override_changes_the_result():
    base = score(MONTHLY)
    override = dict(MONTHLY, settings={"plan_score_formula": "5 * plan_rate * plan_rate",
                                       "class_b_monthly_formula": "personal * 0.5 + unit_score * 0.5 + adjust"})
    changed = score(override)
    hr = by_id(changed.units)["HR"]
    assert hr.score == by_id(base.units)["HR"].score == Decimal("4.60")  # plan_rate 1: same either way
    # P1 now: 4×0.5 + 4.51×0.5 − 0.1 = 2 + 2.255 − 0.1 = 4.155 → 4.16 (default formula: 4.21)
    assert by_id(changed.people)["P1"].score == Decimal("4.16")
    assert by_id(changed.people)["P1"].breakdown.formula == "personal * 0.5 + unit_score * 0.5 + adjust"
    # FIN without its committee: plan 5×0.64 = 3.2 → 1.92 + 1.8 + 0.2 = 3.92 (default 4.4)
    no_review = dict(override, units=[dict(MONTHLY["units"][0], inputs={
        k: v for k, v in MONTHLY["units"][0]["inputs"].items() if k != "review"})])
    no_review["people"] = []
    assert score(no_review).units[0].score == Decimal("3.92")


def test_quality_weights_and_grade_bounds_can_be_overridden():
    raw = dict(ANNUAL, settings={"class_a_quality_weights": {"president": "0.6", "peer": "0.4", "unit_head": "0"},
                                 "grade_bounds": {"A": "4.5"}, "letter_rules": "warn"})
    a1 = by_id(score(raw).people)["A1"]
    # L = 0.6×5 + 0.4×4.5 = 4.8 → 0.92 + 2.7 + 0.96 = 4.58 → A under A ≥ 4.5
    assert a1.score == Decimal("4.58") and a1.grade == "A"


def test_a_misspelt_formula_name_is_refused_with_the_evaluators_message():
    _settings, errors = SCHEME.validate_settings({"plan_score_formula": "5 * plan_rat"})
    assert len(errors) == 1
    assert errors[0].startswith("settings.plan_score_formula: '5 * plan_rat' is not allowed")
    assert "unknown name `plan_rat` — did you mean `plan_rate`?" in errors[0]
    found = problems(dict(MONTHLY, settings={"unit_monthly_formula": "plan_scor * 0.6 + form_score * 0.4 + adjust"}))
    assert len(found) == 1 and "did you mean `plan_score`?" in found[0]


def test_a_formula_using_a_name_of_another_formula_is_refused():
    _settings, errors = SCHEME.validate_settings({"class_c_monthly_formula": "personal * 0.8 + units_mean * 0.2"})
    assert "unknown name `units_mean`" in errors[0] and "did you mean `unit_score`?" in errors[0]


@pytest.mark.parametrize("override, fragment", [
    ({"grade_bounds": {"A": "4", "B": "4", "C": "3.6"}}, "must descend A > B > C"),
    ({"class_b_quality_weights": {"leader": "0.5", "peer": "0.2", "subordinate": "0.2"}}, "weights sum to 0.9"),
    ({"letter_goal_weight": {"low": "0.3", "high": "0.05"}}, "low 0.3 is above high 0.05"),
    ({"letter_performance_goals": {"low": "7", "high": "5"}}, "low 7 is above high 5"),
    ({"class_c_adjust_bounds": {"low": "x", "high": "1"}}, "'x' is not a number"),
])
def test_bad_settings_are_refused(override, fragment):
    _settings, errors = SCHEME.validate_settings(override)
    assert len(errors) == 1 and fragment in errors[0]


# ----------------------------------------------------------------------------------- contract

def test_compute_is_repeatable_and_restores_the_collector():
    scheme, case = build_case(MONTHLY, SCHEMES)
    assert gc.isenabled()
    first = scheme.compute(case).to_dict()
    assert gc.isenabled()
    assert scheme.compute(case).to_dict() == first
    gc.disable()
    try:
        scheme.compute(case)
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_every_problem_is_reported_at_once():
    raw = {"scheme": "corporate-grading", "period": "2026-09",
           "units": [{"id": "U1", "kind": "department", "inputs": {"plan_rate": "1.2", "form_score": "4", "adjust": "2"}}],
           "people": [{"id": "P1", "class": "C", "inputs": {"personal_score": "6"}},
                      {"id": "P2", "unit": "U9", "class": "A", "inputs": {"personal_score": "4", "oversees": ["U1", "U8"]}}]}
    assert sorted(problems(raw)) == sorted([
        "U1.inputs.plan_rate: 1.2 is outside [0, 1] (completed ÷ planned items)",
        "U1.inputs.adjust: 2 is outside [-1, 1] for units",
        "P1.inputs.personal_score: 6 is outside [2, 5]",
        "P1.unit: required for class C (its unit's monthly score is in its formula); allowed: the id of a unit in this file",
        "P2.inputs.oversees[1]: 'U8' is not a unit in this file; allowed: U1",
        "P2.unit: 'U9' is not a unit in this file; allowed: U1",
    ])


def test_ten_thousand_people_in_five_hundred_units_are_all_scored_and_ranked():
    units = [{"id": f"U{u}", "kind": "department", "inputs": {
        "plan_rate": f"0.{10 + u % 90}", "adjust": "0.1",
        "form_items": [
            {"name": "a", "weight": "0.3", "kind": "quantitative", "actual": str(60 + u % 60), "threshold": "70",
             "target": "90", "challenge": "110"},
            {"name": "b", "weight": "0.3", "kind": "quantitative", "better": "lower", "actual": str(u % 40),
             "threshold": "30", "target": "20"},
            {"name": "c", "weight": "0.4", "kind": "qualitative", "level": "satisfied"}]}} for u in range(500)]
    people = []
    for p in range(10_000):
        klass = "ABCCC"[p % 5]
        inputs = {"personal_score": f"4.{p % 10}"} if p % 2 else {"personal_items": [
            {"name": "x", "weight": "0.5", "kind": "qualitative", "level": "satisfied"},
            {"name": "y", "weight": "0.5", "kind": "quantitative", "actual": "3", "threshold": "1", "target": "2"}]}
        if klass == "A":
            inputs["oversees"] = [f"U{p % 500}", f"U{(p + 1) % 500}"]
        people.append({"id": f"P{p}", "unit": f"U{p % 500}", "class": klass, "inputs": inputs})
    raw = {"scheme": "corporate-grading", "period": "2026-09", "units": units, "people": people}
    result = score(raw)  # speed is measured by `make bench`, not here
    assert len(result.people) == 10_000 and all(p.rank is not None for p in result.people)
