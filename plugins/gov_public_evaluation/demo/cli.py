"""``jixiao township``: the township scheme's commands."""
from __future__ import annotations

import click
from flask.cli import AppGroup

township_cli = AppGroup("township", help="The township scheme (gov-public-evaluation).")
