"""``jixiao score CASE.yaml [--format json|table]``: score a case file with no database."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from core.plugins import get_schemes
from core.scoring import score_case
from core.scoring.case import CaseError, build_case, read_case_file
from core.scoring.result import to_json, to_table


def score_file(path: str, schemes: dict):
    """Read, validate and score one case file. :raises CaseError: with every problem."""
    raw = read_case_file(path)
    scheme, case = build_case(raw, schemes)
    return score_case(scheme, case)


@click.command("score")
@click.argument("case_file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
@with_appcontext
def score_command(case_file: str, fmt: str) -> None:
    """Score CASE_FILE (YAML or JSON, see docs/casefile.md) and print the results.

    Exit status 2 with one line per problem on stderr when the input is invalid.
    """
    try:
        result = score_file(case_file, get_schemes())
    except CaseError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        sys.exit(2)
    click.echo(to_json(result) if fmt == "json" else to_table(result))
