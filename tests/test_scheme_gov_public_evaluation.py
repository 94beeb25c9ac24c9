"""Unit tests of the `gov-public-evaluation` scoring (schemes.md §3): the default tree, breakdowns that
reach the raw inputs, exactness, settings overrides, validation, flags and speed. The worked examples
are in tests/cases/gov-public-evaluation/ (run by tests/test_cases.py)."""
from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest

from core.scoring.case import CaseError, build_case
from core.scoring.result import to_json
from plugins.gov_public_evaluation import DEFAULT_TOTAL, SCHEME, GovPublicEvaluationSettings
from plugins.gov_public_evaluation.indicators import DEFAULT_INDICATORS
from core.scoring.numbers import as_decimal, exact_sum
from core.scoring.numbers import text as num

SCHEMES = {SCHEME.id: SCHEME}


def unit(uid="V1", kind="village", **inputs):
    inputs.setdefault("survey", {"rural": {"satisfied": "1"}})
    return {"id": uid, "kind": kind, "inputs": inputs}


def score(units, period="2026", settings=None):
    raw = {"scheme": SCHEME.id, "period": period, "units": units}
    if settings is not None:
        raw["settings"] = settings
    scheme, case = build_case(raw, SCHEMES)
    return scheme.compute(case)


def problems(units, period="2026", settings=None, people=None):
    raw = {"scheme": SCHEME.id, "period": period, "units": units}
    if settings is not None:
        raw["settings"] = settings
    if people is not None:
        raw["people"] = people
    with pytest.raises(CaseError) as info:
        build_case(raw, SCHEMES)
    return info.value.problems


# ----------------------------------------------------------------------------------- the scheme

def test_the_scheme_scores_cases():
    assert SCHEME.build_case is not None and SCHEME.compute is not None
    assert SCHEME.periods == ("quarter", "year")
    assert SCHEME.unit_kinds == ("village", "department")


def test_default_tree_has_3_first_level_over_23_second_level_summing_to_100():
    assert [(g["code"], g["name"]) for g in DEFAULT_INDICATORS] == [
        ("S", "可持续发展"), ("H", "和谐社会构建"), ("D", "勤政廉政")]
    leaves = [c for g in DEFAULT_INDICATORS for c in g["children"]]
    assert len(leaves) == 23
    assert sum(Fraction(c["max"]) for c in leaves) == 100
    codes = [g["code"] for g in DEFAULT_INDICATORS] + [c["code"] for c in leaves]
    assert len(codes) == len(set(codes))
    assert all(c["name"].strip() for c in leaves)


def test_default_settings_are_the_spec_defaults_and_survive_a_round_trip():
    defaults = SCHEME.default_settings()
    assert defaults["total_formula"] == DEFAULT_TOTAL == (
        "indicator_points * 0.7 + public_score * 0.3 - inspection - reporting_shortfall")
    assert [c["code"] for c in defaults["survey_categories"]] == ["npc_deputy", "business", "urban", "rural"]
    assert [c["name"] for c in defaults["survey_categories"]] == ["人大代表", "企业经营者", "城镇居民", "农村居民"]
    assert defaults["info_report_minimum"] == {"village": 5, "department": 6}
    assert defaults["reward_top"] == 3 and defaults["accountability_bottom"] == 3
    again = GovPublicEvaluationSettings.model_validate(json.loads(json.dumps(defaults)))
    assert again.answer_values.satisfied == 100 and again.answer_values.basically_satisfied == 75
    assert again.answer_values.dissatisfied == 55
    assert sum(c.max for g in again.indicators for c in g.children) == 100


# ----------------------------------------------------------------------------------- breakdown

def test_breakdown_reaches_every_raw_input():
    result = score([unit(indicators={"S1": "6", "H4": "2.5"},
                         survey={"urban": {"satisfied": "2", "basically_satisfied": "1", "dont_know": "3"},
                                 "rural": {"dissatisfied": "1"}},
                         inspection=[{"item": "窗口脱岗", "points": "1.5"}], info_reports="3")])
    u = result.units[0]
    b = u.breakdown
    assert b.formula == DEFAULT_TOTAL
    # public (275/3 + 55)/2 = 220/3; total = 8.5×0.7 + (220/3)×0.3 − 1.5 − 2 = 5.95 + 22 − 3.5 = 24.45
    assert u.score == Decimal("24.45")
    weights = {t.label: t.weight for t in b.terms}
    assert weights == {"indicator_points": Fraction(7, 10), "public_score": Fraction(3, 10),
                       "inspection": -1, "reporting_shortfall": -1}

    s1 = b.find("S1 地区生产总值增长")
    assert s1.value == 6 and s1.input == 6 and s1.note == "max 6"
    missing = b.find("S2 财政一般预算收入")
    assert missing.value == 0 and missing.input is None and "no entry" in missing.note
    assert b.find("H 和谐社会构建").value == Fraction(5, 2)
    assert b.find("H 和谐社会构建").note == "max 35"
    assert b.find("indicator points 指标考核").value == Fraction(17, 2)

    urban = b.find("urban 城镇居民")
    assert urban.value == Fraction(275, 3) and urban.weight == Fraction(1, 2)
    assert urban.formula == "(100 × 2 + 75 × 1 + 55 × 0) ÷ 3"
    answers = {t.label: (t.value, t.input) for t in urban.terms}
    assert answers == {"satisfied 满意": (100, 2), "basically_satisfied 基本满意": (75, 1),
                       "dissatisfied 不满意": (55, 0), "dont_know 不了解": (None, 3)}
    assert b.find("npc_deputy 人大代表").note == "no answers; left out"
    assert b.find("public score 公众评议").value == (Fraction(275, 3) + 55) / 2

    finding = b.find("窗口脱岗")
    assert finding.value == Fraction(3, 2) and finding.input == Fraction(3, 2)
    shortfall = b.find("reporting shortfall 信息报送")
    assert shortfall.value == 2
    assert shortfall.input == {"reported": 3, "minimum": 5, "points_per_missing": 1}
    assert shortfall.formula == "max(0, 5 − 3) × 1"

    out = json.loads(to_json(result))["units"][0]
    assert out["indicators"] == {"S": 6, "H": 2.5, "D": 0}
    assert out["public"] == 73.33  # (275/3 + 55)/2 = 73.3333…
    assert out["grade"] is None


def test_a_category_with_only_dont_know_is_left_out_and_says_so():
    result = score([unit(survey={"urban": {"dont_know": "4"}, "rural": {"basically_satisfied": "2"}})])
    b = result.units[0].breakdown
    assert b.find("urban 城镇居民").note == "only dont_know answers; left out"
    assert b.find("rural 农村居民").weight == 1
    assert result.units[0].extra["public"] == Decimal("75.00")


# ----------------------------------------------------------------------------------- exactness

def test_public_score_is_exact_where_floats_and_28_digit_decimals_round_wrongly():
    survey = {"npc_deputy": {"satisfied": "5", "basically_satisfied": "2", "dissatisfied": "5"},  # 925/12
              "business": {"satisfied": "3", "dissatisfied": "1"},                                # 355/4
              "urban": {"satisfied": "4", "basically_satisfied": "2", "dissatisfied": "6"},       # 220/3
              "rural": {"satisfied": "2", "basically_satisfied": "6", "dissatisfied": "1"}}       # 235/3
    result = score([unit(survey=survey)])
    assert result.units[0].breakdown.find("public score 公众评议").value == Fraction(635, 8)  # 79.375
    assert result.units[0].extra["public"] == Decimal("79.38")

    as_float = ((5 * 100 + 2 * 75 + 5 * 55) / 12 + (3 * 100 + 55) / 4 + (4 * 100 + 2 * 75 + 6 * 55) / 12
                + (2 * 100 + 6 * 75 + 55) / 9) / 4
    assert Decimal(repr(as_float)).quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("79.37")
    as_decimal28 = (Decimal(925) / 12 + Decimal(355) / 4 + Decimal(880) / 12 + Decimal(705) / 9) / 4
    assert as_decimal28.quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("79.37")


def test_total_is_rounded_once_from_the_exact_value():
    # public (230/3 + 55)/2 = 395/6; × 0.3 = 19.75 exactly; points 49.25 × 0.7 = 34.475 → 54.225 → 54.23
    indicators = {"S1": "6", "S2": "5", "S3": "6", "S4": "4", "S5": "5", "S6": "3", "S7": "4",
                  "H1": "5", "H2": "5", "H3": "4", "H4": "2.25"}
    survey = {"urban": {"satisfied": "1", "basically_satisfied": "1", "dissatisfied": "1"},
              "rural": {"dissatisfied": "1"}}
    result = score([unit(indicators=indicators, survey=survey, info_reports="5")])
    assert result.units[0].breakdown.value == Fraction(54225, 1000)
    assert result.units[0].score == Decimal("54.23")
    assert result.units[0].extra["public"] == Decimal("65.83")  # 65.8333…, not 65.84 from rounded means
    assert round(0.7 * 49.25 + 0.3 * ((230 / 3 + 55) / 2), 2) == 54.22  # what floats would publish


def test_negative_totals_round_half_away_from_zero():
    result = score([unit(kind="department", indicators={"S1": "0.25"}, survey={"rural": {"dissatisfied": "2"}},
                         inspection=[{"item": "a", "points": "10"}, {"item": "b", "points": "7.68"}],
                         info_reports="6")])
    assert result.units[0].score == Decimal("-1.01")  # −1.005 exactly


def test_helpers_write_exact_numbers():
    assert num(Fraction(15, 2)) == "7.5" and num(Fraction(10)) == "10" and num(Fraction(-1, 4)) == "-0.25"
    assert num(Fraction(230, 3)) == "76.666667"
    assert str(as_decimal(Fraction(3085, 100))) == "30.85"
    assert str(as_decimal(Fraction(0))) == "0"
    assert str(as_decimal(Fraction(5, 10 ** 7))) == "0.000001"  # no exponent notation in the output
    assert exact_sum([Fraction("0.1"), Fraction("0.2"), Fraction(1, 3)]) == Fraction(19, 30)
    assert exact_sum([]) == 0


# ----------------------------------------------------------------------------------- settings

def test_a_formula_override_changes_the_total():
    units = [unit(indicators={"S1": "6", "H1": "4"}, survey={"urban": {"satisfied": "1"}}, info_reports="4")]
    default = score(units).units[0]
    assert default.score == Decimal("36.00")  # 10×0.7 + 100×0.3 − 1
    override = score(units, settings={"total_formula": "indicator_points * 0.5 + public_score * 0.5 - inspection"}
                     ).units[0]
    assert override.score == Decimal("55.00")  # 10×0.5 + 100×0.5, no reporting shortfall
    assert override.breakdown.formula == "indicator_points * 0.5 + public_score * 0.5 - inspection"


def test_a_bad_formula_override_is_refused_with_the_evaluators_message():
    settings, errors = SCHEME.validate_settings({"total_formula": "indicator_points * 0.7 + publc_score * 0.3"})
    assert settings is None
    assert len(errors) == 1
    assert errors[0].startswith("settings.total_formula: ")
    assert "unknown name `publc_score` — did you mean `public_score`?" in errors[0]
    found = problems([unit()], settings={"total_formula": "indicator_points * 0.7 + import(1)"})
    assert len(found) == 1 and found[0].startswith("settings.total_formula:")


def test_tree_validation_reports_every_problem():
    tree = [{"code": "A", "name": "甲", "children": [{"code": "A1", "name": "一", "max": "0"},
                                                     {"code": "A1", "name": "二", "max": "5"}]},
            {"code": "A1", "name": "乙", "children": []}]
    _settings, errors = SCHEME.validate_settings({"indicators": tree})
    assert sorted(errors) == sorted([
        "settings.indicators[0].children[0].max: 0 is not allowed — a maximum must be above 0",
        "settings.indicators[0].children[1].code: 'A1' is not allowed — code 'A1' is already used by "
        "indicators[0].children[0]; codes must be unique",
        "settings.indicators[1].code: 'A1' is not allowed — code 'A1' is already used by "
        "indicators[0].children[0]; codes must be unique",
        "settings.indicators[1].children: [] is not allowed — a first-level indicator needs at least one "
        "second-level indicator",
    ])
    _settings, errors = SCHEME.validate_settings({"indicators": []})
    assert errors == ["settings.indicators: [] is not allowed — the tree needs at least one first-level indicator"]


def test_a_tenant_tree_and_category_are_used_for_inputs_and_flags():
    settings = {"indicators": [{"code": "E", "name": "经济", "children": [{"code": "E1", "name": "产业", "max": "50"}]}],
                "survey_categories": [{"code": "visitors", "name": "来访群众"}]}
    result = score([unit(indicators={"E1": "50"}, survey={"visitors": {"satisfied": "1"}}, info_reports="5")],
                   settings=settings)
    u = result.units[0]
    assert u.score == Decimal("65.00") and u.extra["indicators"] == {"E": 50} and u.flags == ["reward:E"]
    found = problems([unit(indicators={"S1": "1"}, survey={"rural": {"satisfied": "1"}})], settings=settings)
    assert sorted(found) == sorted([
        "V1.inputs.indicators.S1: 1 is not allowed — S1 is not a second-level indicator code; allowed: E1",
        "V1.inputs.survey.rural: {'satisfied': '1'} is not allowed — rural is not a respondent category; "
        "allowed: visitors",
    ])


def test_unequal_category_weights_are_rescaled_over_the_categories_with_answers():
    settings = {"survey_categories": [{"code": "npc_deputy", "name": "人大代表", "weight": "3"},
                                      {"code": "urban", "name": "城镇居民", "weight": "1"},
                                      {"code": "rural", "name": "农村居民", "weight": "1"}]}
    result = score([unit(survey={"npc_deputy": {"satisfied": "1"}, "urban": {"dissatisfied": "1"}})],
                   settings=settings)
    b = result.units[0].breakdown
    assert b.find("npc_deputy 人大代表").weight == Fraction(3, 4)
    assert b.find("urban 城镇居民").weight == Fraction(1, 4)
    assert b.find("public score 公众评议").value == Fraction(3 * 100 + 55, 4)  # 88.75


# ----------------------------------------------------------------------------------- validation

def test_all_problems_of_a_unit_are_reported_at_once():
    found = problems([unit(indicators={"X1": "1", "S1": "7"},
                           survey={"rural": {"satisfied": "-1"}, "moon": {"satisfied": "1"}},
                           inspection=[{"item": "x", "points": "0"}], info_reports="1.5")])
    assert len(found) == 6
    assert any(p.startswith("V1.inputs.indicators.X1:") for p in found)
    assert any(p.startswith("V1.inputs.indicators.S1: 7 is not allowed — 7 is outside [0, 6]") for p in found)
    assert any(p.startswith("V1.inputs.survey.rural.satisfied:") for p in found)
    assert any(p.startswith("V1.inputs.survey.moon:") for p in found)
    assert any(p.startswith("V1.inputs.inspection[0].points:") for p in found)
    assert any(p.startswith("V1.inputs.info_reports:") for p in found)


def test_a_unit_without_answers_is_named():
    found = problems([unit("V7", survey={"rural": {"dont_know": "3"}}), unit("V8")])
    assert len(found) == 1 and found[0].startswith("V7.inputs.survey: ")
    assert "no answers" in found[0]


def test_people_and_wrong_periods_are_refused():
    assert problems([unit()], people=[{"id": "P1"}]) == [
        "P1: people are not used by gov-public-evaluation; it scores units only (kind village or department) "
        "— remove the people section"]
    assert problems([unit()], period="2026-03") == [
        "period: '2026-03' is a month; gov-public-evaluation scores YYYY-Qn or YYYY"]


# ----------------------------------------------------------------------------------- periods and flags

def test_information_reports_count_in_years_only():
    village, department = unit("V", info_reports="3"), unit("D", kind="department", info_reports="7")
    annual = score([village, department])
    assert [u.breakdown.find("reporting shortfall 信息报送").value for u in annual.units] == [2, 0]
    assert annual.warnings == []
    quarter = score([village, department], period="2026-Q3")
    assert [u.breakdown.find("reporting shortfall 信息报送").value for u in quarter.units] == [0, 0]
    assert quarter.warnings == [
        "V.inputs.info_reports: 3 ignored in 2026-Q3; information reporting is assessed in annual periods only",
        "D.inputs.info_reports: 7 ignored in 2026-Q3; information reporting is assessed in annual periods only"]
    assert score([unit("V")], period="2026-Q3").warnings == []  # not given → nothing to warn about


def test_rewarded_units_are_not_also_held_accountable():
    # six units with distinct S subtotals 6..1: ranks 1-3 rewarded, 4-6 (bottom 3) accountable
    units = [unit(f"U{i}", indicators={"S1": str(7 - i)}) for i in range(1, 7)]
    flags = [[f for f in u.flags if f.endswith(":S")] for u in score(units).units]
    assert flags == [["reward:S"]] * 3 + [["accountability:S"]] * 3
    # a single unit is first from the top and from the bottom on every indicator: rewarded only
    assert sorted(score([unit()]).units[0].flags) == ["reward:D", "reward:H", "reward:S"]


def test_ties_at_the_limits_include_every_tied_unit():
    subtotals = ["5", "4", "3", "3", "2", "1", "1"]
    units = [unit(f"U{i}", indicators={"S1": s}) for i, s in enumerate(subtotals)]
    flags = [[f for f in u.flags if f.endswith(":S")] for u in score(units).units]
    # top: 1, 2, 3, 3 → four rewarded; bottom: U5/U6 1, U4 3 → three accountable
    assert flags == [["reward:S"]] * 4 + [["accountability:S"]] * 3


def test_output_keeps_input_order_and_ranks_rounded_totals():
    # 62.495 → 62.50 and 62.5 → 62.50: tied at rank 1 although the exact totals differ
    a = unit("A", indicators={"S1": "6", "S2": "5", "S3": "6", "S4": "4", "S5": "5", "S7": "4", "S8": "0.85",
                              "H1": "5", "H2": "5", "H6": "5", "H7": "4", "H8": "1", "D4": "5"},
             survey={"business": {"satisfied": "2", "basically_satisfied": "2", "dissatisfied": "1"},
                     "npc_deputy": {"basically_satisfied": "1"}}, info_reports="5")
    b = unit("B", kind="department", indicators={"S1": "6", "S2": "5", "S3": "5", "S4": "4", "H1": "5", "H2": "5",
                                                  "H3": "4", "H4": "4", "H5": "2", "D1": "4", "D2": "5", "D6": "1"},
             survey={"rural": {"satisfied": "2", "basically_satisfied": "1"}}, info_reports="6")
    c = unit("C", info_reports="5")
    result = score([c, a, b])
    assert [u.id for u in result.units] == ["C", "A", "B"]
    assert [(u.score, u.rank) for u in result.units] == [(Decimal("30.00"), 3), (Decimal("62.50"), 1),
                                                         (Decimal("62.50"), 1)]


# ----------------------------------------------------------------------------------- the benchmark's case

def test_the_benchmark_case_of_fifty_thousand_answers_is_scored_whole():
    """Its speed is measured by `make bench`; here, that every answer is counted."""
    from bench.generate import township_annual

    raw = township_annual(200, 50_000)
    scheme, case = build_case(raw, SCHEMES)
    result = scheme.compute(case)
    assert len(result.units) == 200
    assert sum(sum(a.satisfied + a.basically_satisfied + a.dissatisfied + a.dont_know
                   for a in u.inputs.survey.values()) for u in case.units) == 50_000

