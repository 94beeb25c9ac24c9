"""The ``jixiao`` console script: Flask's CLI on the portal's app factory."""
from __future__ import annotations

from flask.cli import FlaskGroup

from core.app import create_app


def main() -> None:
    cli = FlaskGroup(name="jixiao", create_app=lambda: create_app(), help="Jixiao (绩效) portal commands.")
    cli.main(prog_name="jixiao")


if __name__ == "__main__":
    main()
