"""Results of a scored case, and their JSON and table forms (casefile.md, "Output")."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from core.scoring.breakdown import Breakdown


@dataclass(slots=True)
class SubjectResult:
    id: str
    score: Decimal | None
    grade: str | None = None
    rank: int | None = None
    flags: list[str] = field(default_factory=list)
    breakdown: Breakdown | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # scheme keys: pay, indicators, public ...
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "score": self.score, "grade": self.grade, "rank": self.rank,
                               "flags": list(self.flags)}
        out.update(self.extra)
        out["breakdown"] = self.breakdown.to_dict() if self.breakdown is not None else None
        return out


@dataclass
class CaseResult:
    scheme: str
    period: str
    units: list[SubjectResult] = field(default_factory=list)
    people: list[SubjectResult] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "period": self.period, "warnings": list(self.warnings),
                "units": [u.to_dict() for u in self.units], "people": [p.to_dict() for p in self.people]}


_DECIMAL = re.compile(r'"\\u0000D(-?[0-9.]+)"')


def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"\0D{value}"  # replaced by the bare number below: 4.30 stays 4.30
    if isinstance(value, Mapping):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    return value


def to_json(result: CaseResult, indent: int | None = 2) -> str:
    """JSON with scores printed exactly as rounded (``4.30``, not a binary float)."""
    text = json.dumps(_encode(result.to_dict()), ensure_ascii=False, indent=indent)
    return _DECIMAL.sub(r"\1", text)


def to_table(result: CaseResult) -> str:
    """A readable table: one line per subject, units first."""
    rows = [("", "id", "name", "score", "grade", "rank", "flags / notes")]
    for kind, subjects in (("unit", result.units), ("person", result.people)):
        for s in subjects:
            extras = [f"{k}={v}" for k, v in s.extra.items() if not isinstance(v, (dict, list))]
            rows.append((kind, s.id, s.name or "", "—" if s.score is None else str(s.score), s.grade or "",
                         "" if s.rank is None else str(s.rank), " ".join([*s.flags, *extras])))
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [f"{result.scheme} {result.period}"]
    for r in rows:
        lines.append("  ".join(cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(r)).rstrip())
    lines.extend(f"warning: {w}" for w in result.warnings)
    return "\n".join(lines)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def json_ready(value: Any) -> Any:
    """A value for a JSON column: Decimals as their exact text (``"5184.00"``), containers recursed."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    return value
