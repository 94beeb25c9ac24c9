"""`jixiao corporate ...`: commands of the corporate scheme."""
from __future__ import annotations

import click
from flask.cli import AppGroup


@click.group("corporate", cls=AppGroup)
def corporate_cli() -> None:
    """Commands of the corporate-grading scheme."""
