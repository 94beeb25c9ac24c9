"""Generated cases for the benchmarks: deterministic (seeded), shaped like real tenants."""
from __future__ import annotations

import random


def corporate_monthly(people: int, units: int, seed: int = 7) -> dict:
    """A corporate-grading monthly case: units with 4-item form scorecards, people in classes
    A (overseeing two units), B and C with personal scorecards of 3 items or a direct score."""
    rng = random.Random(seed)
    unit_list = []
    for u in range(units):
        weights = ["0.4", "0.3", "0.2", "0.1"]
        items = []
        for i, weight in enumerate(weights):
            if i % 2 == 0:
                items.append({"name": f"指标{i}", "weight": weight, "kind": "quantitative",
                              "actual": str(rng.randint(80, 130)), "threshold": "90", "target": "100",
                              "challenge": "120"})
            else:
                items.append({"name": f"指标{i}", "weight": weight, "kind": "qualitative",
                              "level": rng.choice(["very_satisfied", "satisfied", "basically_satisfied", "needs_improvement"])})
        unit_list.append({"id": f"U{u:04d}", "kind": "department" if u % 10 else "subsidiary",
                          "inputs": {"plan_rate": f"0.{rng.randint(50, 99)}", "form_items": items,
                                     "adjust": rng.choice(["0", "0.2", "-0.3", "0.5"])}})
    people_list = []
    for p in range(people):
        cls = "A" if p % 100 == 0 else ("B" if p % 10 == 0 else "C")
        unit = unit_list[p % units]["id"]
        inputs: dict = {"adjust": rng.choice(["0", "0", "0.1", "-0.2"])}
        if p % 3:
            inputs["personal_score"] = f"{rng.randint(20, 50) / 10}"
        else:
            inputs["personal_items"] = [
                {"name": "计划完成", "weight": "0.5", "kind": "quantitative", "actual": str(rng.randint(70, 110)),
                 "threshold": "80", "target": "95"},
                {"name": "质量", "weight": "0.3", "kind": "qualitative", "level": rng.choice(["satisfied", "very_satisfied"])},
                {"name": "协作", "weight": "0.2", "kind": "qualitative", "level": "satisfied"},
            ]
        if cls == "A":
            inputs["oversees"] = [unit, unit_list[(p + 1) % units]["id"]]
        people_list.append({"id": f"P{p:06d}", "unit": unit, "class": cls, "inputs": inputs})
    return {"scheme": "corporate-grading", "period": "2026-09", "units": unit_list, "people": people_list}


def township_annual(units: int, answers: int, seed: int = 11) -> dict:
    """A gov-public-evaluation annual case: indicator points for every second-level indicator of
    the default tree, ``answers`` survey answers spread over units and categories, inspections."""
    from plugins.gov_public_evaluation.indicators import DEFAULT_INDICATORS

    rng = random.Random(seed)
    leaves = [(c["code"], c["max"]) for first in DEFAULT_INDICATORS for c in first["children"]]
    categories = ["npc_deputy", "business", "urban", "rural"]
    answer_kinds = ["satisfied", "basically_satisfied", "dissatisfied", "dont_know"]
    counts = [[{k: 0 for k in answer_kinds} for _c in categories] for _u in range(units)]
    for _ in range(answers):
        counts[rng.randrange(units)][rng.randrange(len(categories))][rng.choice(answer_kinds)] += 1
    unit_list = []
    for u in range(units):
        survey = {cat: {k: str(v) for k, v in counts[u][i].items()} for i, cat in enumerate(categories)}
        unit_list.append({
            "id": f"V{u:03d}", "kind": "village" if u % 4 else "department",
            "inputs": {
                "indicators": {code: str(rng.randint(0, int(float(maximum)))) for code, maximum in leaves},
                "survey": survey,
                "inspection": [{"item": "窗口效能", "points": "0.5"}] if u % 7 == 0 else [],
                "info_reports": str(rng.randint(2, 9)),
            }})
    return {"scheme": "gov-public-evaluation", "period": "2026", "units": unit_list}
