"""Worked examples: every case file under tests/cases/ is scored by ``jixiao score`` and compared
with the results worked out by hand (the arithmetic is in the case file's comments).

- ``tests/cases/<scheme>/<name>.yaml`` (or ``.json``) with ``<name>.expected.json``: the command
  exits 0 and, for each subject listed in the expectation, the listed keys match exactly
  (``flags`` as a set); ``warnings`` match when listed.
- ``tests/cases/<scheme>/invalid/<name>.yaml`` with ``<name>.errors.txt``: the command exits 2 and
  prints exactly those lines (one per problem, any order) on stderr, nothing on stdout.
"""
from __future__ import annotations

import json
import os
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.scoring.case import read_case_file
from core.scoring.cli import score_command
from tests.conftest import make_test_app

CASES = Path(__file__).parent / "cases"
VALID = sorted(p for p in CASES.glob("*/*") if p.suffix in (".yaml", ".json") and not p.name.endswith(".expected.json"))
INVALID = sorted(p for p in CASES.glob("*/invalid/*") if p.suffix in (".yaml", ".json"))


@pytest.fixture(scope="module")
def score():
    app = make_test_app("sqlite://")  # scoring needs no database

    def run(path: Path):
        # from the case's folder, so messages naming the file are the same on every machine
        with app.app_context(), _cwd(path.parent):
            return CliRunner().invoke(score_command, [path.name], catch_exceptions=False)

    return run


@contextmanager
def _cwd(folder: Path):
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def _id(path: Path) -> str:
    return str(path.relative_to(CASES))


def test_there_are_worked_examples_for_every_scheme():
    schemes = {p.parent.name for p in VALID}
    assert {"corporate-grading", "sales-attitude", "gov-public-evaluation"} <= schemes
    assert {p.parent.parent.name for p in INVALID} >= {"corporate-grading", "sales-attitude", "gov-public-evaluation"}


def _compare(actual: dict, expected: dict, where: str) -> list[str]:
    """Both sides parsed with Decimal numbers, so 4.30 == 4.3 and nested values compare exactly."""
    problems = []
    for key, want in expected.items():
        got = actual.get(key, "<missing>")
        if key == "flags":
            got, want = sorted(got), sorted(want)
        if got != want:
            problems.append(f"{where}.{key}: expected {want!r}, got {got!r}")
    return problems


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_case_gives_the_results_worked_out_by_hand(score, path):
    expected_path = path.with_name(path.name.rsplit(".", 1)[0] + ".expected.json")
    assert expected_path.exists(), f"{_id(path)} has no {expected_path.name}"
    expected = json.loads(expected_path.read_text(encoding="utf-8"), parse_float=Decimal)
    result = score(path)
    assert result.exit_code == 0, result.output + (result.stderr if result.stderr_bytes else "")
    output = json.loads(result.stdout, parse_float=Decimal)
    problems = []
    for section in ("units", "people"):
        by_id = {s["id"]: s for s in output[section]}
        order = [s["id"] for s in output[section]]
        for want in expected.get(section, []):
            got = by_id.get(want["id"])
            if got is None:
                problems.append(f"{section}: {want['id']} missing from the output")
                continue
            problems += _compare(got, want, want["id"])
        written = [str(s["id"]) for s in (read_case_file(path).get(section) or [])]
        if order != written:
            problems.append(f"{section}: output order {order} differs from the input order {written}")
    if "warnings" in expected:
        if sorted(output["warnings"]) != sorted(expected["warnings"]):
            problems.append(f"warnings: expected {expected['warnings']}, got {output['warnings']}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", INVALID, ids=_id)
def test_invalid_case_exits_2_naming_each_problem(score, path):
    errors_path = path.with_name(path.name.rsplit(".", 1)[0] + ".errors.txt")
    assert errors_path.exists(), f"{_id(path)} has no {errors_path.name}"
    expected = [line for line in errors_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    result = score(path)
    assert result.exit_code == 2, result.stdout
    assert result.stdout == ""
    assert sorted(result.stderr.splitlines()) == sorted(expected)


@pytest.mark.parametrize("path", VALID, ids=_id)
def test_case_prints_as_a_table(path):
    """``--format table``: one row per subject, with its flags (tuples in the results) joined."""
    with make_test_app("sqlite://").app_context(), _cwd(path.parent):
        result = CliRunner().invoke(score_command, ["--format", "table", path.name], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    expected = json.loads(path.with_name(path.name.replace(".yaml", ".expected.json")).read_text())
    for subject in expected.get("units", []) + expected.get("people", []):
        row = next(line for line in result.output.splitlines() if f" {subject['id']} " in f" {line} ")
        assert all(flag in row for flag in subject.get("flags", [])), (row, subject.get("flags"))
