"""The schemes' `demo-year` commands share their checks (core/demo_year.py)."""
from __future__ import annotations

import pytest

from tests.conftest import make_test_app

COMMANDS = [("corporate", "demo-year", "jituan"), ("sales", "demo-year", "xiaoshou")]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_demo_year_is_refused_in_production_for_a_bad_month_and_an_unknown_tenant(database_url, command):
    production = make_test_app(database_url, ENV_MODE="production", SECRET_KEY="s" * 40)
    refused = production.test_cli_runner().invoke(args=list(command))
    assert refused.exit_code == 1 and "not allowed in production mode" in refused.output
    production.extensions["jixiao.engine"].dispose()
    app = make_test_app(database_url)
    runner = app.test_cli_runner()
    bad = runner.invoke(args=[*command, "--year", "2025", "--current", "2025-03"])
    assert bad.exit_code == 2 and "'2025-03' is not a month of 2026 written YYYY-MM" in bad.output
    unknown = runner.invoke(args=[command[0], "demo-year", "nosuch", "--year", "2025"])
    assert unknown.exit_code == 1 and "no tenant 'nosuch'" in unknown.output
    app.extensions["jixiao.engine"].dispose()
