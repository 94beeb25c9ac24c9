"""The building blocks schemes compose: rounding, grades, ranks, scorecards, rater groups, votes."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from core.scoring.blocks import (GradeBands, Item, Vote, apply_review, bound_problem, committee_decision,
                                 competition_ranks, quantitative_problems, quantitative_score, rater_groups,
                                 ranks_from_bottom, scorecard, vote_problems, weight_problems)
from core.scoring.breakdown import Breakdown
from core.scoring.case import Period
from core.scoring.numbers import NumberError, exact, round_half_up

F = exact


@pytest.mark.parametrize("value, rounded", [
    (Fraction(27, 8), "3.38"), (F("-1.005"), "-1.01"), (F("2.675"), "2.68"), (F("4.6"), "4.60"),
    (Fraction(10, 3), "3.33"), (Fraction(-1, 300), "0.00"), (F("6"), "6.00"), (Fraction(1, 200), "0.01"),
])
def test_half_away_from_zero_once(value, rounded):
    assert str(round_half_up(value)) == rounded


def test_exact_reads_decimals_as_written():
    assert exact("0.1") == Fraction(1, 10)
    assert exact(Decimal("4.36")) == Fraction(436, 100)
    for bad in ("abc", "1e400", "nan", "inf", True, None, "1_0"):
        with pytest.raises(NumberError):
            exact(bad)


def test_grade_bands_use_lower_bounds():
    bands = GradeBands.from_mapping({"A": "4.6", "B": "4.0", "C": "3.6"}, lowest="D")
    assert [bands.grade(Decimal(s)) for s in ("6.00", "4.60", "4.59", "4.00", "3.99", "3.60", "3.59", "2")] == \
        ["A", "A", "B", "B", "C", "C", "D", "D"]


def test_competition_ranks_within_groups():
    ranks = competition_ranks([("a", "x", 5), ("b", "x", 4), ("c", "x", 4), ("d", "x", 3), ("e", "y", 1), ("f", "x", None)])
    assert ranks == {"a": 1, "b": 2, "c": 2, "d": 4, "e": 1}
    assert ranks_from_bottom([("a", 5), ("b", 1), ("c", 1), ("d", 3)]) == {"b": 1, "c": 1, "d": 3, "a": 4}


@pytest.mark.parametrize("actual, challenge, better, expected", [
    ("120", "120", "higher", 5), ("119", "120", "higher", 4), ("100", None, "higher", 4),
    ("100.01", None, "higher", 5), ("90", None, "higher", 3), ("89.9", None, "higher", 2),
    ("5", None, "lower", 4), ("4.9", None, "lower", 5), ("8", None, "lower", 3), ("8.1", None, "lower", 2),
])
def test_quantitative_item_scale(actual, challenge, better, expected):
    threshold, target = (F("90"), F("100")) if better == "higher" else (F("8"), F("5"))
    assert quantitative_score(F(actual), threshold, target, F(challenge) if challenge else None, better)[0] == expected


def test_quantitative_order_is_checked_against_the_direction():
    assert quantitative_problems(F("100"), F("90"), None, "higher") == ["target 90 must be above threshold 100 (better: higher)"]
    assert quantitative_problems(F("5"), F("8"), None, "lower") == ["target 8 must be below threshold 5 (better: lower)"]
    assert quantitative_problems(F("90"), F("100"), F("100"), "higher") == ["challenge 100 must be above target 100 (better: higher)"]


def test_scorecard_and_weights():
    items = [Item("营收", F("0.6"), "quantitative", actual=F("105"), threshold=F("90"), target=F("100")),
             Item("服务", F("0.4"), "qualitative", level="basically_satisfied")]
    total, breakdown = scorecard("form", items)
    assert total == F("0.6") * 5 + F("0.4") * 3
    assert breakdown.terms[0].input["actual"] == F("105") and breakdown.terms[1].note == "基础满意"
    assert weight_problems([F("0.5"), F("0.4")]) == ["weights sum to 0.9; they must sum to exactly 1"]
    assert weight_problems([Fraction(1, 3)] * 3) == []


def test_rater_groups_redistribute_missing_groups():
    weights = {"president": F("0.5"), "peer": F("0.3"), "unit_head": F("0.2")}
    value, breakdown = rater_groups("L", weights, {"president": [F("5")], "peer": [F("4"), F("3")]}, "L")
    # unit heads missing: 0.5/0.8 × 5 + 0.3/0.8 × 3.5 = 3.125 + 1.3125
    assert value == Fraction(5, 8) * 5 + Fraction(3, 8) * F("3.5")
    assert breakdown.find("unit_head").weight == 0 and "redistributed" in breakdown.find("unit_head").note
    assert breakdown.find("peer").terms[1].value == F("3")
    with pytest.raises(ValueError, match="no ratings in any rater group"):
        rater_groups("L", weights, {}, "L")


def test_bounds():
    assert bound_problem(F("1"), F("-1"), F("1")) is None
    assert bound_problem(F("1.5"), F("-1"), F("1")) == "1.5 is outside [-1, 1]"


@pytest.mark.parametrize("votes_for, against, chair, adopted", [
    (4, 3, None, True),     # 4 of 7: more than half
    (3, 3, "for", True),    # tie: the chair decides
    (3, 3, "against", False),
    (3, 3, None, False),    # tie without a casting vote: the score stands
    (3, 2, None, False),    # 3 of 7 is not more than half, and not a tie
])
def test_committee_votes(votes_for, against, chair, adopted):
    assert committee_decision(Vote(F("4.5"), 7, votes_for, against, chair))[0] is adopted


def test_review_applies_the_adopted_score_with_the_vote_on_record():
    value, breakdown = apply_review("unit", F("4.1"), Breakdown("computed", F("4.1")), Vote(F("4.5"), 6, 4, 2))
    assert value == F("4.5") and "adopted" in breakdown.note
    assert breakdown.terms[1].input["for"] == 4
    assert vote_problems(Vote(F("4"), 5, 4, 3)) == ["votes_for 4 + votes_against 3 exceed members 5"]


def test_periods():
    assert Period.parse("2026-09").kind == "month" and Period.parse("2026").kind == "year"
    assert Period.parse("2026-Q3").index == 3 and Period.parse("2026-H2").kind == "half"
    assert Period.parse("2026-02").months_back(3).text == "2025-11"
    assert Period.parse("2025-12") < Period.parse("2026-01")
    with pytest.raises(ValueError, match="not a period"):
        Period.parse("2026-13")
