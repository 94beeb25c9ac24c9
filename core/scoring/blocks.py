"""Building blocks that schemes compose and never re-implement.

Each block is pure (plain values in, plain values out), exact (``Fraction``) and explains itself
with a :class:`~core.scoring.breakdown.Breakdown`. Validation helpers return messages naming the
value and what is allowed; callers prefix the subject and field.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Hashable, Iterable, Mapping, Sequence

from core.scoring.breakdown import Breakdown
from core.scoring.numbers import exact, text

# ----------------------------------------------------------------------------------- grades

@dataclass(frozen=True)
class GradeBands:
    """Grades by lower bound, highest first; a score below every bound gets the last grade."""

    bands: tuple[tuple[str, Fraction], ...]
    lowest: str

    @classmethod
    def from_mapping(cls, bounds: Mapping[str, Any], lowest: str) -> "GradeBands":
        ordered = sorted(((g, exact(v)) for g, v in bounds.items()), key=lambda b: b[1], reverse=True)
        return cls(tuple(ordered), lowest)

    def grade(self, score: Decimal | Fraction) -> str:
        """The grade of a (rounded) score; Decimal scores compare with Decimal bounds, exactly."""
        if isinstance(score, Decimal):
            bands = self._decimal_bands()
        else:
            bands = self.bands
        for grade, bound in bands:
            if score >= bound:
                return grade
        return self.lowest

    def _decimal_bands(self) -> tuple[tuple[str, Decimal], ...]:
        cached = self.__dict__.get("_decimals")
        if cached is None:
            # bounds are written as decimals, so they terminate and convert exactly
            cached = tuple((g, Decimal(b.numerator) / Decimal(b.denominator)) for g, b in self.bands)
            object.__setattr__(self, "_decimals", cached)
        return cached


# ----------------------------------------------------------------------------------- ranking

def competition_ranks(scores: Iterable[tuple[Hashable, Hashable, Any]]) -> dict[Hashable, int]:
    """Competition ranks (1, 2, 2, 4), highest score first, within each group.

    Linear in the number of subjects: a subject's rank is one more than the number of subjects in
    its group with a higher score, counted per distinct score (rounded scores repeat a lot), so
    only the distinct scores are sorted.

    :param scores: ``(key, group, score)``; a ``None`` score gets no rank.
    """
    members: dict[Hashable, list[tuple[Hashable, Any]]] = {}
    counts: dict[Hashable, dict[Any, int]] = {}
    for key, group, score in scores:
        if score is None:
            continue
        members.setdefault(group, []).append((key, score))
        tally = counts.setdefault(group, {})
        tally[score] = tally.get(score, 0) + 1
    ranks: dict[Hashable, int] = {}
    for group, tally in counts.items():
        rank_of, above = {}, 0
        for score in sorted(tally, reverse=True):
            rank_of[score] = above + 1
            above += tally[score]
        for key, score in members[group]:
            ranks[key] = rank_of[score]
    return ranks


def ranks_from_bottom(scores: Iterable[tuple[Hashable, Any]]) -> dict[Hashable, int]:
    """Competition ranks with the lowest score first (1 = lowest)."""
    return competition_ranks((key, 0, -score) for key, score in scores if score is not None)


# ----------------------------------------------------------------------------------- scorecards

LEVELS = {"very_satisfied": 5, "satisfied": 4, "basically_satisfied": 3, "needs_improvement": 2}
LEVEL_LABELS = {"very_satisfied": "很满意", "satisfied": "满意", "basically_satisfied": "基础满意",
                "needs_improvement": "待提升"}


def quantitative_score(actual: Fraction, threshold: Fraction, target: Fraction,
                       challenge: Fraction | None = None, better: str = "higher") -> tuple[int, str]:
    """Item scale 2-5 for a measured item; returns the score and which level was reached.

    Reaching includes equality; without a challenge value, strictly beyond the target scores 5.
    """
    beyond = (lambda a, b: a >= b) if better == "higher" else (lambda a, b: a <= b)
    strictly = (lambda a, b: a > b) if better == "higher" else (lambda a, b: a < b)
    if challenge is not None:
        if beyond(actual, challenge):
            return 5, "challenge"
    elif strictly(actual, target):
        return 5, "beyond target"
    if beyond(actual, target):
        return 4, "target"
    if beyond(actual, threshold):
        return 3, "threshold"
    return 2, "below threshold"


def quantitative_problems(threshold: Fraction, target: Fraction, challenge: Fraction | None, better: str) -> list[str]:
    """Threshold, target and challenge must be ordered the way the direction says."""
    word = "above" if better == "higher" else "below"
    problems = []
    ordered = (lambda a, b: a < b) if better == "higher" else (lambda a, b: a > b)
    if not ordered(threshold, target):
        problems.append(f"target {text(target)} must be {word} threshold {text(threshold)} (better: {better})")
    if challenge is not None and not ordered(target, challenge):
        problems.append(f"challenge {text(challenge)} must be {word} target {text(target)} (better: {better})")
    return problems


@dataclass(frozen=True)
class Item:
    """One scorecard item as validated input."""

    name: str
    weight: Fraction
    kind: str  # quantitative | qualitative
    actual: Fraction | None = None
    threshold: Fraction | None = None
    target: Fraction | None = None
    challenge: Fraction | None = None
    better: str | None = None  # None: higher is better
    level: str | None = None
    goal: str | None = None


def score_item(item: Item) -> tuple[int, Breakdown]:
    if item.kind == "qualitative":
        score = LEVELS[item.level]
        return score, Breakdown(item.name, Fraction(score), weight=item.weight,
                                input={"kind": "qualitative", "level": item.level}, note=LEVEL_LABELS[item.level])
    better = item.better or "higher"
    score, reached = quantitative_score(item.actual, item.threshold, item.target, item.challenge, better)
    raw = {"kind": "quantitative", "actual": item.actual, "threshold": item.threshold, "target": item.target,
           "better": better}
    if item.challenge is not None:
        raw["challenge"] = item.challenge
    return score, Breakdown(item.name, Fraction(score), weight=item.weight, input=raw, note=reached)


def scorecard(label: str, items: Sequence[Item]) -> tuple[Fraction, Breakdown]:
    """Σ weight × item score (weights sum to 1, checked by :func:`weight_problems`)."""
    total = Fraction(0)
    terms = []
    for item in items:
        score, node = score_item(item)
        total += item.weight * score
        terms.append(node)
    return total, Breakdown(label, total, formula="Σ weight × item score", terms=terms)


def weight_problems(weights: Sequence[Fraction], must_sum_to: Fraction = Fraction(1)) -> list[str]:
    problems = []
    total = sum(weights, Fraction(0))
    if total != must_sum_to:
        problems.append(f"weights sum to {text(total)}; they must sum to exactly {text(must_sum_to)}")
    for weight in weights:
        if weight <= 0:
            problems.append(f"weight {text(weight)} must be above 0")
    return problems


def direct_score(label: str, value: Fraction) -> tuple[Fraction, Breakdown]:
    return value, Breakdown(label, value, input=value, note="entered as one score")


# ----------------------------------------------------------------------------------- rater groups

def rater_groups(label: str, weights: Mapping[str, Fraction], ratings: Mapping[str, Sequence[Fraction]],
                 formula: str) -> tuple[Fraction, Breakdown]:
    """Weighted mean of rater groups, each group the mean of its raters' ratings.

    A group with no raters drops out and the others' weights are scaled up proportionally.
    :raises ValueError: when no group has a rater.
    """
    present = {g: w for g, w in weights.items() if ratings.get(g)}
    if not present:
        raise ValueError(f"no ratings in any rater group; groups: {', '.join(weights)}")
    scale = sum(present.values(), Fraction(0))
    total = Fraction(0)
    terms = []
    for group, weight in weights.items():
        values = list(ratings.get(group, ()))
        if not values:
            terms.append(Breakdown(group, None, weight=Fraction(0), note=f"no raters; weight {text(weight)} redistributed"))
            continue
        group_mean = sum(values, Fraction(0)) / len(values)
        effective = weight / scale
        total += effective * group_mean
        raters = [Breakdown(f"{group} rater {i}", v, input=v) for i, v in enumerate(values, start=1)]
        terms.append(Breakdown(group, group_mean, formula=f"mean of {len(values)} rating(s)", weight=effective,
                               terms=raters, note=None if effective == weight else f"weight {text(weight)} scaled to {text(effective, 6)}"))
    return total, Breakdown(label, total, formula=formula, terms=terms)


# ----------------------------------------------------------------------------------- adjustments

def bound_problem(value: Fraction, low: Fraction, high: Fraction) -> str | None:
    """``None`` when low ≤ value ≤ high, else the message naming the value and the bounds."""
    if low <= value <= high:
        return None
    return f"{text(value)} is outside [{text(low)}, {text(high)}]"


# ----------------------------------------------------------------------------------- committee

@dataclass(frozen=True)
class Vote:
    proposed: Fraction
    members: int
    votes_for: int
    votes_against: int
    chair: str | None = None  # "for" | "against" | None


def vote_problems(vote: Vote) -> list[str]:
    problems = []
    if vote.members < 1:
        problems.append(f"members: {vote.members} must be at least 1")
    if vote.votes_for < 0 or vote.votes_against < 0:
        problems.append("votes cannot be negative")
    if vote.votes_for + vote.votes_against > vote.members:
        problems.append(f"votes_for {vote.votes_for} + votes_against {vote.votes_against} exceed members {vote.members}")
    if vote.chair not in (None, "for", "against"):
        problems.append(f"chair: {vote.chair!r} is not allowed; allowed: for, against")
    return problems


def committee_decision(vote: Vote) -> tuple[bool, str]:
    """Adopted when more than half of the members vote for; on a tie the chair decides;
    otherwise (or on a tie without the chair's vote) the score stands."""
    if 2 * vote.votes_for > vote.members:
        return True, f"adopted: {vote.votes_for} of {vote.members} members for (more than half)"
    if vote.votes_for == vote.votes_against:
        if vote.chair == "for":
            return True, f"adopted: tie {vote.votes_for}:{vote.votes_against}, the chair's casting vote for"
        if vote.chair == "against":
            return False, f"rejected: tie {vote.votes_for}:{vote.votes_against}, the chair's casting vote against"
        return False, f"score stands: tie {vote.votes_for}:{vote.votes_against} and no casting vote"
    return False, f"score stands: {vote.votes_for} of {vote.members} members for (not more than half)"


def apply_review(label: str, score: Fraction, computed: Breakdown, vote: Vote) -> tuple[Fraction, Breakdown]:
    adopted, reason = committee_decision(vote)
    value = vote.proposed if adopted else score
    votes = {"proposed": vote.proposed, "members": vote.members, "for": vote.votes_for,
             "against": vote.votes_against, "chair": vote.chair}
    return value, Breakdown(label, value, formula="committee review", note=reason,
                            terms=[computed, Breakdown("committee vote", vote.proposed, input=votes, note=reason)])
