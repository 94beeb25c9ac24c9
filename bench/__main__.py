"""``make bench``: scoring figures on this machine, with ratios.

- corporate monthly case, 10,000 people in 500 units: time per subject, and the ratio to a
  plain-Python baseline that only reads the same inputs (every value of every subject, as
  Decimal) — how much the scoring itself costs on top of touching the data;
- the same at 100,000 people in 5,000 units: the ratio to the 10,000 figure (linear is 10);
- a township annual case of 200 units with 50,000 survey answers;
- a 10,000-person cycle computed from the database end to end, and the autosave request's p95
  at that size, on SQLite and PostgreSQL (bench/cycle.py);
- the annual cycle of those 10,000 people created with their twelve monthly scores collected from
  the year's published months (the corporate plugin's annual collection);
- the township survey's intake through gunicorn on PostgreSQL: anonymous link answers per second,
  their latency, and the database checked against what was acknowledged (bench/survey_load.py).

Each figure is the best of several runs (the least disturbed by other work on the machine).
"""
from __future__ import annotations

import gc
import json
import platform
import time
from decimal import Decimal
from pathlib import Path

from bench.generate import corporate_monthly, township_annual
from core.plugins import collect_schemes, make_plugin_manager
from core.scoring import score_case
from core.scoring.case import build_case

OUT = Path(__file__).parent / "out"


def best_of(runs: int, fn) -> float:
    """The fastest of ``runs`` runs. Each starts from a collected heap, and the result is dropped
    only after the clock stops: freeing it is not part of scoring."""
    times = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
        del result
    return min(times)


def read_everything(case: dict) -> Decimal:
    """The baseline: visit every input value of every subject and read numbers as Decimal."""
    total = Decimal(0)

    def visit(value):
        nonlocal total
        if isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif isinstance(value, list):
            for v in value:
                visit(v)
        elif isinstance(value, str) and value[:1].isdigit():
            total += Decimal(value)

    for section in ("units", "people"):
        for subject in case.get(section, []):
            visit(subject.get("inputs", {}))
    return total


def score(schemes, case: dict):
    scheme, built = build_case(case, schemes)
    return score_case(scheme, built)


def main() -> None:
    schemes = collect_schemes(make_plugin_manager())
    figures: dict[str, float | int | str] = {"python": platform.python_version(), "machine": platform.machine()}
    print(f"jixiao bench — Python {figures['python']} on {figures['machine']}")

    small = corporate_monthly(10_000, 500)
    result = score(schemes, small)
    assert len(result.people) == 10_000 and all(p.score is not None for p in result.people)
    t_small = best_of(9, lambda: score(schemes, small))
    t_base = best_of(5, lambda: read_everything(small))
    print(f"corporate monthly, 10,000 people / 500 units: {t_small:.3f} s "
          f"({t_small / 10_500 * 1e6:.1f} µs per subject); baseline read {t_base:.3f} s; "
          f"ratio to baseline {t_small / t_base:.1f}×   [target: under 1 s]")

    large = corporate_monthly(100_000, 5_000)
    t_large = best_of(5, lambda: score(schemes, large))
    print(f"corporate monthly, 100,000 people / 5,000 units: {t_large:.3f} s "
          f"({t_large / 105_000 * 1e6:.1f} µs per subject); ratio to 10,000: {t_large / t_small:.1f}×   [target: at most 11×]")

    town = township_annual(200, 50_000)
    t_town = best_of(5, lambda: score(schemes, town))
    t_town_base = best_of(5, lambda: read_everything(town))
    print(f"township annual, 200 units / 50,000 survey answers: {t_town * 1000:.1f} ms "
          f"({t_town / 200 * 1e6:.0f} µs per unit); baseline read {t_town_base * 1000:.1f} ms; "
          f"ratio to baseline {t_town / t_town_base:.1f}×")

    figures.update({
        "corporate_10k_s": round(t_small, 4), "corporate_10k_baseline_s": round(t_base, 4),
        "corporate_100k_s": round(t_large, 4), "corporate_100k_over_10k": round(t_large / t_small, 2),
        "township_200_units_s": round(t_town, 4), "township_baseline_s": round(t_town_base, 4),
    })
    from bench import cycle, sales, survey_load

    figures.update(cycle.main())
    figures.update(sales.main())
    figures.update(survey_load.main())
    OUT.mkdir(exist_ok=True)
    (OUT / "figures.json").write_text(json.dumps(figures, indent=2))
    print(f"figures written to {OUT / 'figures.json'}")


if __name__ == "__main__":
    main()
