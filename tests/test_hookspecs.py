"""Meta-tests: every hook spec has a test, every template slot names a real spec."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from core import hookspecs

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def spec_names() -> set[str]:
    return {name for name in dir(hookspecs) if name.startswith("jixiao_")}


def names_in_tests() -> set[str]:
    """Identifiers and words used inside test functions (their names, code and strings)."""
    found: set[str] = set()
    for path in TESTS.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                found.update(re.findall(r"jixiao_\w+", ast.unparse(node)))
    return found


def test_every_hookspec_has_a_test():
    missing = {name for name in spec_names() if not any(name in used for used in names_in_tests())}
    assert not missing, f"hook specs without a test: {sorted(missing)}"


def test_hookspecs_are_documented_and_typed():
    for name in spec_names():
        spec = getattr(hookspecs, name)
        assert spec.__doc__ and len(spec.__doc__.strip()) > 20, name
        assert "return" in spec.__annotations__, f"{name} has no return annotation"


def test_every_template_slot_names_a_spec():
    used = set()
    for folder in (ROOT / "templates", ROOT / "plugins"):
        for path in folder.rglob("*.html"):
            used.update(re.findall(r"""(?:render_)?slot\(\s*['"](\w+)['"]""", path.read_text(encoding="utf-8")))
    assert used, "no template uses a slot"
    unknown = {slot for slot in used if f"jixiao_tpl_{slot}" not in spec_names()}
    assert not unknown, f"templates use slots without a spec: {sorted(unknown)}"
