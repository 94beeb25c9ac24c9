"""`sales-attitude` scoring (schemes.md §2): breakdowns down to the raw inputs, exact arithmetic,
settings overrides, pay and competence details the worked examples in tests/cases/sales-attitude/
do not show."""
from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from core.scoring.case import CaseError, build_case
from core.scoring.result import to_json
from plugins.sales_attitude import DEFAULT_TOTAL_FORMULA, SCHEME

SCHEMES = {SCHEME.id: SCHEME}
RATINGS_80 = {"basic_ability": "80", "proficiency": "80", "coordination": "80", "service": "80"}


def person(pid="P1", ratings=None, **inputs):
    return {"id": pid, "inputs": {"ratings": ratings or dict(RATINGS_80), **inputs}}


def score(people, period="2026-05", settings=None, units=None):
    raw = {"scheme": "sales-attitude", "period": period, "people": people}
    if settings is not None:
        raw["settings"] = settings
    if units is not None:
        raw["units"] = units
    scheme, case = build_case(raw, SCHEMES)
    return scheme.compute(case)


def problems(people, period="2026-05", settings=None):
    with pytest.raises(CaseError) as info:
        score(people, period, settings)
    return info.value.problems


def by_id(result):
    return {p.id: p for p in result.people}


# ----------------------------------------------------------------------------------- breakdown

def test_breakdown_reaches_every_raw_input():
    # attitude 100 − 3 − 1 − 2 + 4 + 1 + 1 − 1 = 99; responsibility 88 + 2 − 1 = 89
    # total 99×0.15 + 81×0.15 + 82×0.2 + 89×0.25 + 83×0.25 = 14.85 + 12.15 + 16.4 + 22.25 + 20.75 = 86.40
    events = {"late": "3", "early_leave": "1", "personal_leave_days": "2", "sick_leave_days": "1.5", "overtime": "4",
              "extra_work": "1", "proactive": "1", "shirking": "1", "praise": "2", "complaint": "1"}
    ratings = {"basic_ability": "81", "proficiency": "82", "coordination": "83", "service": "88"}
    result = score([person(ratings=ratings, events=events, pay={"base": "5000", "coefficient": "1.2"},
                           history=[{"period": "2026-04", "score": "79.5", "score_without_leave": "80.5"}])])
    p = result.people[0]
    assert p.score == Decimal("86.40")
    tree = p.breakdown.to_dict()
    assert tree["value"] == 86.4
    total = p.breakdown.find("total")
    assert total.formula == DEFAULT_TOTAL_FORMULA
    weights = {t.label: t.weight for t in total.terms}
    assert weights == {"attitude": Fraction("0.15"), "basic_ability": Fraction("0.15"), "proficiency": Fraction("0.2"),
                       "responsibility": Fraction("0.25"), "coordination": Fraction("0.25")}
    # each rating is shown as entered
    rated = {t.label: (t.value, t.input) for t in total.terms
             if t.label in ("basic_ability", "proficiency", "coordination")}
    assert rated == {"basic_ability": (81, 81), "proficiency": (82, 82), "coordination": (83, 83)}
    # each event with its count, its points and its sign
    attitude = total.terms[0].terms[0]
    assert attitude.label == "attitude" and attitude.value == 99
    events_shown = {t.label: (t.input, t.weight) for t in attitude.terms if isinstance(t.input, dict)}
    assert events_shown["late"] == ({"count": 3, "points": 1}, -1)
    assert events_shown["overtime"] == ({"count": 4, "points": 1}, 1)
    assert events_shown["personal_leave_days"] == ({"count": 2, "points": 1}, -1)
    # sick leave: recorded, 0 points
    sick = attitude.find("sick_leave_days")
    assert sick.value == 0 and sick.input == {"count": Fraction(3, 2), "points": 0}
    responsibility = total.terms[3].terms[0]
    assert responsibility.label == "responsibility" and responsibility.value == 89
    assert {t.label: t.input for t in responsibility.terms} == {
        "service": 88, "praise": {"count": 2, "points": 1}, "complaint": {"count": 1, "points": 1}}
    # pay: from the rounded total, 5000 × 1.2 × 86.40 / 100 = 5184.00
    pay = p.breakdown.find("pay")
    assert p.extra["pay"] == Decimal("5184.00") and pay.input["total"] == Decimal("86.40")
    assert pay.input["base"] == 5000 and pay.input["coefficient"] == Fraction("1.2")
    # the competence windows with their months
    training = p.breakdown.find("training listing")
    assert training.input == {"counted": []}
    assert [t.label for t in training.terms] == ["2026-04", "2026-05"]
    assert "only because of personal leave" in training.terms[0].note
    transfer = p.breakdown.find("transfer listing")
    assert transfer.input == {"below 80": [], "below 70": []}
    json.loads(to_json(result))  # the whole tree serialises


def test_units_are_listed_unscored_with_their_people():
    result = score([dict(person("P1"), unit="S1"), dict(person("P2"), unit="S1", status="intern")],
                   units=[{"id": "S1", "kind": "department"}, {"id": "S2"}])
    s1, s2 = result.units
    assert (s1.score, s1.rank, s1.grade) == (None, None, None)
    assert [(t.label, t.value) for t in s1.breakdown.terms] == [("P1", Decimal("83.00")), ("P2", None)]
    assert s2.breakdown.terms == []


# ----------------------------------------------------------------------------------- exactness

def test_total_is_exact_where_floats_round_the_wrong_way():
    # attitude 100 − 13 = 87; 87×0.15 + 79×0.15 + 87×0.2 + 76×0.25 + 81.34×0.25
    #   = 13.05 + 11.85 + 17.4 + 19 + 20.335 = 81.635 → 81.64 (floats give 81.63499999999999 → 81.63)
    ratings = {"basic_ability": "79", "proficiency": "87", "coordination": "81.34", "service": "76"}
    as_float = 0.15 * 87 + 0.15 * 79 + 0.2 * 87 + 0.25 * 76 + 0.25 * 81.34
    assert Decimal(repr(as_float)).quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("81.63")
    p = score([person(ratings=ratings, events={"late": "13"})]).people[0]
    assert p.score == Decimal("81.64")
    assert p.breakdown.find("total").value == Fraction("81.635")


def test_a_tenant_mean_of_thirds_is_exact_where_default_decimal_is_not():
    # (100 + 79.81 + 70.585) / 3 = 250.395 / 3 = 83.465 exactly → 83.47; Decimal at 28 digits sums
    # 33.33… + 26.60… + 23.52… to 83.46499999999999999999999999 → 83.46
    settings = {"total_formula": "attitude / 3 + basic_ability / 3 + proficiency / 3"}
    ratings = {"basic_ability": "79.81", "proficiency": "70.585", "coordination": "0", "service": "0"}
    as_decimal = Decimal(100) / 3 + Decimal("79.81") / 3 + Decimal("70.585") / 3
    assert as_decimal.quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("83.46")
    assert score([person(ratings=ratings)], settings=settings).people[0].score == Decimal("83.47")


def test_history_is_rounded_before_comparing():
    # 79.995 → 80.00 is not below 80; 79.9949 → 79.99 is. Now 78.00 (15 + 12 + 16 + 17.5 + 17.5).
    ratings = {"basic_ability": "80", "proficiency": "80", "coordination": "70", "service": "70"}
    history = [{"period": "2026-03", "score": "79.995"}, {"period": "2026-04", "score": "79.9949"}]
    p = score([person(ratings=ratings, history=history)]).people[0]
    assert p.score == Decimal("78.00")
    assert p.breakdown.find("training listing").input == {"counted": ["2026-04", "2026-05"]}
    assert p.flags == []


# ----------------------------------------------------------------------------------- settings

def test_default_settings_are_the_spec_defaults():
    defaults = SCHEME.default_settings()
    assert defaults["total_formula"] == ("attitude * 0.15 + basic_ability * 0.15 + proficiency * 0.2 + "
                                         "responsibility * 0.25 + coordination * 0.25")
    assert defaults["attitude_formula"] == ("base - late - early_leave - personal_leave_days + overtime + "
                                            "extra_work + proactive - shirking")
    assert defaults["responsibility_formula"] == "service + praise - complaint"
    assert defaults["pay_formula"] == "base * coefficient * total / 100"
    assert Fraction(defaults["training_pay_factor"]) == Fraction("0.8")
    assert (defaults["training_months"], defaults["training_window_months"]) == (3, 6)
    assert (defaults["transfer_months"], defaults["transfer_low_months"]) == (5, 3)
    assert defaults["clamp_dimensions"] is True and defaults["leave_exception"] is True
    # the dumped settings load again unchanged (the portal stores them)
    assert SCHEME.validate_settings(defaults) == (defaults, [])


def test_weights_override_rebuilds_the_total_formula():
    settings, errors = SCHEME.validate_settings({"weights": {"attitude": "0.05", "basic_ability": "0.25"}})
    assert errors == []
    assert settings["total_formula"] == ("attitude * 0.05 + basic_ability * 0.25 + proficiency * 0.2 + "
                                         "responsibility * 0.25 + coordination * 0.25")
    # attitude 100 → 5; 80×0.25 + 80×0.2 + 80×0.25 + 80×0.25 = 20 + 16 + 20 + 20 → 81.00 (default: 83.00)
    result = score([person()], settings={"weights": {"attitude": "0.05", "basic_ability": "0.25"}})
    assert result.people[0].score == Decimal("81.00")


def test_weights_and_a_weighted_sum_total_formula_are_one_setting():
    formula = ("attitude * 0.2 + basic_ability * 0.1 + proficiency * 0.2 + responsibility * 0.25 + "
               "coordination * 0.25")
    # the formula alone: the weights are read from it, so the stored settings stay truthful
    settings, errors = SCHEME.validate_settings({"total_formula": formula})
    assert errors == [] and settings["weights"]["attitude"] == "0.2" and settings["weights"]["basic_ability"] == "0.1"
    assert SCHEME.validate_settings(settings) == (settings, [])
    # both, disagreeing: refused rather than one silently ignored
    stored = SCHEME.default_settings()
    _none, errors = SCHEME.validate_settings(dict(stored, weights=settings["weights"]))
    assert len(errors) == 1 and errors[0].startswith("settings.total_formula: ")
    assert "differ from settings.weights" in errors[0]
    # a weighted-sum formula must sum to 1 like the weights
    _none, errors = SCHEME.validate_settings({"total_formula": formula.replace("0.2 +", "0.1 +", 1)})
    assert errors and "the formula's weights sum to 0.9; they must sum to exactly 1" in errors[0]
    # any other total formula is used as written
    settings, errors = SCHEME.validate_settings({"total_formula": "max(attitude, coordination)"})
    assert errors == [] and settings["total_formula"] == "max(attitude, coordination)"


def test_a_tenant_formula_override_changes_the_result():
    assert score([person(events={"late": "4"})]).people[0].score == Decimal("82.40")  # 96×0.15 + 68
    # the tenant counts a late arrival double: attitude 100 − 8 = 92 → 13.8 + 68 = 81.80
    settings = {"attitude_formula": "base - late * 2 - early_leave - personal_leave_days + overtime + extra_work"
                                    " + proactive - shirking"}
    assert score([person(events={"late": "4"})], settings=settings).people[0].score == Decimal("81.80")
    # the same through the points setting
    assert score([person(events={"late": "4"})], settings={"points": {"late": "2"}}).people[0].score == Decimal("81.80")


def test_a_bad_formula_override_is_refused_with_the_evaluators_message():
    settings, errors = SCHEME.validate_settings({"responsibility_formula": "service + praise - complaints"})
    assert settings is None
    assert errors == ["settings.responsibility_formula: 'service + praise - complaints' is not allowed — "
                      "unknown name `complaints` — did you mean `complaint`? (names this formula may use: complaint, "
                      "praise, service)"]
    found = problems([person()], settings={"pay_formula": "base * coefficient * total / 100 + __import__('os')"})
    assert len(found) == 1 and found[0].startswith("settings.pay_formula: ")


@pytest.mark.parametrize("overrides, message", [
    ({"weights": {"attitude": "0.1"}}, "weights sum to 0.95; they must sum to exactly 1"),
    ({"weights": {"attitude": "0", "coordination": "0.4"}}, "weight 0 must be above 0"),
    ({"points": {"praise": "-1"}}, "points are a number, 0 or more"),
    ({"training_pay_factor": "0"}, "the training pay factor is above 0 and at most 1"),
    ({"training_months": 7}, "training_months cannot exceed training_window_months"),
    ({"dimension_min": "100", "dimension_max": "0"}, "dimension_min must be below dimension_max"),
    ({"clamp_dimensions": "maybe"}, "clamp_dimensions"),
])
def test_bad_settings_are_refused(overrides, message):
    settings, errors = SCHEME.validate_settings(overrides)
    assert settings is None and any(message in e for e in errors), errors


def test_narrower_dimension_range_clamps_ratings_too():
    # dimension_max 90: attitude 100 → 90, ratings 95 → 90: total 90.00
    ratings = {"basic_ability": "95", "proficiency": "95", "coordination": "95", "service": "95"}
    p = score([person(ratings=ratings)], settings={"dimension_max": "90"}).people[0]
    assert p.score == Decimal("90.00")
    weighted = p.breakdown.find("basic_ability")  # the weighted term, then its clamped rating
    node = weighted.terms[0]
    assert weighted.value == 90 and node.value == 90 and "clamped from 95 to 90" in node.note
    assert node.terms[0].input == 95


# ----------------------------------------------------------------------------------- pay, status, ranks

def test_pay_only_for_scored_people_who_have_pay():
    result = by_id(score([
        person("P1", pay={"base": "5000", "coefficient": "1"}),
        person("P2"),
        dict(person("P3", pay={"base": "5000", "coefficient": "1"}, training=True), status="probation"),
        person("P4", training=True),
    ]))
    assert result["P1"].extra == {"pay": Decimal("4150.00")}  # 5000 × 83.00 / 100
    assert result["P2"].extra == {} and result["P4"].extra == {}
    assert result["P3"].extra == {} and result["P3"].score is None
    assert "pay" not in json.loads(to_json(score([person("P2")])))["people"][0]


def test_pay_training_factor_and_half_cent():
    # 3050 × 1.25 × 85.35 / 100 × 0.8 = 2603.175 → 2603.18
    ratings = {"basic_ability": "85", "proficiency": "85", "coordination": "77.4", "service": "85"}
    p = score([person(ratings=ratings, pay={"base": "3050", "coefficient": "1.25"}, training=True)]).people[0]
    assert p.score == Decimal("85.35") and p.extra["pay"] == Decimal("2603.18")
    node = p.breakdown.find("pay")
    assert node.input["unrounded"] == Fraction("2603.175") and node.input["training"] is True
    assert node.formula == "(base * coefficient * total / 100) * 0.8"


def test_excluded_people_are_not_ranked_and_get_no_listings():
    low = {"basic_ability": "10", "proficiency": "10", "coordination": "10", "service": "10"}
    history = [{"period": "2026-03", "score": "10"}, {"period": "2026-04", "score": "10"}]
    people = [dict(person("I", ratings={k: "100" for k in RATINGS_80}), status="intern"),
              person("A"), person("B"),
              dict(person("T", ratings=low, history=history), status="transfer")]
    result = by_id(score(people))
    assert [(result[k].rank, result[k].score) for k in "AB"] == [(1, Decimal("83.00")), (1, Decimal("83.00"))]
    assert result["I"].flags == ["excluded:intern"] and result["I"].rank is None and result["I"].score is None
    assert result["T"].flags == ["excluded:transfer"]
    assert result["I"].breakdown.find("total").value == 100  # reference only
    assert result["I"].grade is None and result["A"].grade is None


def test_people_with_the_same_events_share_one_attitude_explanation():
    result = score([person("P1", events={"late": "2"}), person("P2", events={"late": "2"}), person("P3")])
    a1, a2, a3 = (p.breakdown.find("total").terms[0].terms[0] for p in result.people)
    assert a1 is a2 and a1 is not a3 and a1.value == 98 and a3.value == 100


def test_current_month_without_leave_is_recomputed_for_each_line():
    # attitude 100 − 2 = 98 → 14.7; 14.7 + 70×0.15 + 70×0.2 + 61×0.25 + 61×0.25 = 69.70;
    # without the leave 70.00: not below 70 (not counted), below 80 (counted)
    ratings = {"basic_ability": "70", "proficiency": "70", "coordination": "61", "service": "61"}
    p = score([person(ratings=ratings, events={"personal_leave_days": "2"})]).people[0]
    assert p.score == Decimal("69.70")
    transfer = p.breakdown.find("transfer listing")
    assert transfer.input == {"below 80": ["2026-05"], "below 70": []}
    assert transfer.terms[0].input == {"score": Decimal("69.70"), "score_without_leave": Decimal("70.00")}


# ----------------------------------------------------------------------------------- validation

def test_every_problem_is_reported_at_once():
    found = problems([
        person("P1", ratings={"basic_ability": "101", "proficiency": "80", "coordination": "80"}),
        dict(person("P2", events={"late": "-2"}), unit="NOPE"),
        person("P3", history=[{"period": "2026-05", "score": "70"}]),
    ])
    assert sorted(found) == sorted([
        "P1.inputs.ratings.basic_ability: 101 is not allowed — a rating is from 0 to 100",
        "P1.inputs.ratings.service: required but missing",
        "P2.inputs.events.late: -2 is not allowed — an event count is a whole number, 0 or more",
        "P2.unit: 'NOPE' is not a unit in this file; allowed: none (the file has no units)",
        "P3.inputs.history[0].period: 2026-05 is not earlier than the case's period 2026-05; "
        "history lists earlier months only",
    ])


def test_json_case_numbers_are_exact():
    raw = json.loads('{"scheme": "sales-attitude", "period": "2026-05", "people": [{"id": 7, "inputs": '
                     '{"ratings": {"basic_ability": 80, "proficiency": 80, "coordination": 80.12, "service": 80}}}]}',
                     parse_float=str, parse_int=str)
    scheme, case = build_case(raw, SCHEMES)
    p = scheme.compute(case).people[0]
    assert p.id == "7" and p.score == Decimal("83.03")  # 15 + 12 + 16 + 20 + 20.03
