"""Tenant files: ``jixiao tenant check|load``, read strictly, validated whole, written all or nothing.

Malformed files are built under ``tmp_path`` from ``SMALL``, a small valid tenant, changed in one
place per case.
"""
from __future__ import annotations

import copy
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml
from sqlalchemy import func, select

from core.db import db_session
from core.models import AuditLog, OrgUnit, Person, RoleMembership, Tenant, TenantScheme, User
from core.plugins import get_schemes
from core.tenancy import all_tenants, set_tenant
from core.tenant_files import TenantFileError, load_folders, read_folder
from core.yamlio import load_strict
from tests.conftest import DEMO_TENANTS, ROOT

SMALL: dict[str, Any] = {
    "slug": "werk",
    "name": "示范工厂",
    "name_en": "Demo Works",
    "locale": "en",
    "schemes": {"corporate-grading": {"enabled": True, "settings": {"letter_rules": "enforce"}}},
    "units": [
        {"code": "WK", "name": "Works", "kind": "company", "parent": None},
        {"code": "WK-A", "name": "Assembly", "kind": "department", "parent": "WK"},
        {"code": "WK-Q", "name": "Quality", "kind": "team", "parent": "WK-A", "active": True},
    ],
    "people": [
        {"number": "W001", "name": "Wang Fang", "unit": "WK", "position": "Director", "class": "A"},
        {"number": "W002", "name": "Li Na", "unit": "WK-A", "class": "B", "status": "probation"},
        {"number": "W003", "name": "Zhou Qiang", "unit": "WK-Q", "class": "C"},
    ],
    "accounts": [
        {"username": "wangfang", "person": "W001", "roles": ["tenant_admin", "leader"]},
        {"username": "lina", "person": "W002", "roles": ["unit_head"], "units": ["WK-A"]},
        {"username": "auditor", "display_name": "External auditor", "email": "audit@example.com",
         "roles": ["committee"]},
    ],
}
COUNTED = (Tenant, TenantScheme, OrgUnit, Person, User, RoleMembership, AuditLog)


# ------------------------------------------------------------------------------------- helpers

def dump(data: dict) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def write_folder(parent: Path, content: dict | str | None, slug: str = "werk") -> Path:
    """``parent/slug/tenant.yaml`` holding ``content`` (a dict is dumped; None: no file at all)."""
    folder = parent / slug
    folder.mkdir(parents=True, exist_ok=True)
    if content is not None:
        (folder / "tenant.yaml").write_text(content if isinstance(content, str) else dump(content), encoding="utf-8")
    return folder


def tenant_cli(runner, command: str, *folders: Path | str, demo: bool = False):
    return runner.invoke(args=["tenant", command, *map(str, folders), *(["--demo"] if demo else [])])


def row_counts(app) -> dict[str, int]:
    """Rows per table over every tenant (the platform's view)."""
    with app.app_context(), all_tenants(db_session):
        return {m.__tablename__: db_session.scalar(select(func.count()).select_from(m)) for m in COUNTED}


@contextmanager
def tenant_db(app, slug: str):
    """The ORM session scoped to one tenant."""
    with app.app_context():
        tenant = db_session.scalar(select(Tenant).where(Tenant.slug == slug))
        assert tenant is not None, f"tenant {slug} does not exist"
        set_tenant(db_session, tenant.id)
        yield db_session


def people_by_number(session) -> dict[str, Person]:
    return {p.number: p for p in session.scalars(select(Person))}


# Changes that turn SMALL into a broken file.

def set_key(path: str, value: Any) -> Callable[[dict], dict]:
    """Set a value by a dotted path; list indexes are numbers: ``units.1.kind``."""
    def change(data: dict) -> dict:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = data
        for part in parents:
            node = node[part]
        node[last] = value
        return data
    return change


def append(section: str, entry: dict) -> Callable[[dict], dict]:
    def change(data: dict) -> dict:
        data[section].append(entry)
        return data
    return change


def edit_text(edit: Callable[[str], str]) -> Callable[[dict], str]:
    """Change the YAML text itself, for what a dict cannot express."""
    return lambda data: edit(dump(data))


ERRORS = [
    pytest.param(set_key("colour", "red"),
                 ["colour: unknown key", "'red'", "allowed keys: slug, name, name_en, locale, schemes, units"],
                 id="unknown-top-level-key"),
    pytest.param(set_key("units.1.colour", "red"),
                 ["units[1](WK-A).colour: unknown key", "'red'", "allowed keys: code, name, kind, parent, active"],
                 id="unknown-unit-key"),
    pytest.param(set_key("units.1.kind", "castle"),
                 ["units[1](WK-A).kind", "'castle'",
                  "'group', 'company', 'subsidiary', 'department', 'office', 'village' or 'team'"],
                 id="bad-unit-kind"),
    pytest.param(set_key("units.1.parent", "NOPE"),
                 ["units[1](WK-A).parent", "'NOPE'", "allowed: one of the units' codes or null"],
                 id="parent-missing"),
    pytest.param(set_key("units.1.parent", "WK-A"),
                 ["units[1](WK-A).parent", "'WK-A' is the unit itself", "allowed: another unit's code or null"],
                 id="parent-is-itself"),
    pytest.param(set_key("units.0.parent", "WK-Q"),
                 ["units[0](WK).parent", "'WK-Q'", "loop WK → WK-Q → WK-A → WK", "null for a root"],
                 id="parent-loop"),
    pytest.param(append("units", {"code": "WK-A", "name": "Again", "kind": "team", "parent": "WK"}),
                 ["units[3].code", "'WK-A'", "already used by units[1]", "must be unique"],
                 id="duplicate-unit-code"),
    pytest.param(append("people", {"number": "W002", "name": "Twin", "unit": "WK"}),
                 ["people[3].number", "'W002'", "already used by people[1]", "must be unique"],
                 id="duplicate-person-number"),
    pytest.param(set_key("units.1.active", False),
                 ["units[1](WK-A).active", "false is not allowed while active people", "allowed: true"],
                 id="inactive-unit-still-in-use"),
    pytest.param(set_key("people.2.unit", "NOPE"),
                 ["people[2](W003).unit", "'NOPE'", "allowed: one of the units' codes"],
                 id="person-unit-missing"),
    pytest.param(set_key("people.0.class", "Z"),
                 ["people[0](W001).class", "'Z'", "allowed: A, B, C"],
                 id="class-not-of-enabled-schemes"),
    pytest.param(set_key("people.1.status", "retired"),
                 ["people[1](W002).status", "'retired'",
                  "'regular', 'probation', 'intern', 'transfer', 'promotion' or 'demotion'"],
                 id="status-not-allowed"),
    pytest.param(set_key("accounts.0.roles", ["tenant_admin", "king"]),
                 ["accounts[0](wangfang).roles[1]", "'king'",
                  "'tenant_admin', 'leader', 'committee', 'unit_head', 'employee' or 'surveyor'"],
                 id="role-unknown"),
    pytest.param(set_key("accounts.1.units", []),
                 ["accounts[1](lina).units", "required with role unit_head", "list the codes of the units headed"],
                 id="unit-head-without-units"),
    pytest.param(set_key("accounts.0.units", ["WK"]),
                 ["accounts[0](wangfang).units", "['WK']", "only goes with role unit_head"],
                 id="units-without-unit-head"),
    pytest.param(set_key("accounts.1.person", "W999"),
                 ["accounts[1](lina).person", "'W999'", "allowed: one of the people's numbers"],
                 id="account-person-unknown"),
    pytest.param(set_key("accounts.2.person", "W001"),
                 ["accounts[2](auditor).person", "'W001'", "already has the account 'wangfang'", "one account per person"],
                 id="two-accounts-for-one-person"),
    pytest.param(set_key("schemes.okr", {"enabled": True}),
                 ["schemes.okr: unknown scheme", "loaded schemes are", "corporate-grading"],
                 id="unknown-scheme"),
    pytest.param(set_key("schemes.corporate-grading.settings.letter_rules", "sometimes"),
                 ["schemes.corporate-grading.settings.letter_rules", "'sometimes'", "'warn' or 'enforce'"],
                 id="scheme-setting-invalid"),
    pytest.param(set_key("schemes.corporate-grading.settings.unit_monthly_formula", "plan_scor * 0.6 + form_score * 0.4"),
                 ["schemes.corporate-grading.settings.unit_monthly_formula", "'plan_scor * 0.6 + form_score * 0.4'",
                  "unknown name `plan_scor` — did you mean `plan_score`?"],
                 id="scheme-formula-invalid"),
    pytest.param(set_key("schemes.corporate-grading.settings.colour", "red"),
                 ["schemes.corporate-grading.settings.colour: unknown setting", "'red'", "allowed: letter_rules"],
                 id="scheme-setting-unknown"),
    pytest.param(edit_text(lambda text: text.replace("name: 示范工厂\n", "name: 示范工厂\nname: 又一个\n")),
                 ["line 3", "duplicate key 'name'"],
                 id="yaml-duplicate-key"),
    pytest.param(edit_text(lambda text: text.replace("active: true", "active: yes")),
                 ["units[2](WK-Q).active", "'yes'", "only true or false"],
                 id="yes-is-not-a-boolean"),
    pytest.param(set_key("slug", "other"),
                 ["slug: 'other' differs from the folder name 'werk'", "they must be equal"],
                 id="slug-differs-from-folder"),
    pytest.param(lambda data: dump(data["units"]),
                 ["tenant.yaml", "the file must be a mapping", "found list"],
                 id="not-a-mapping"),
    pytest.param(lambda data: None,
                 ["tenant.yaml: no such file", "a tenant folder holds tenant.yaml"],
                 id="missing-tenant-yaml"),
]


# ------------------------------------------------------------------------------------- checking

def test_demo_files_validate(runner):
    result = tenant_cli(runner, "check", *DEMO_TENANTS)
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok (") == 3
    assert "jituan: ok (18 units, 60 people, 12 accounts)" in result.output


@pytest.mark.parametrize("change, expected", ERRORS)
def test_invalid_file_is_refused_and_nothing_is_written(app, runner, tmp_path, change, expected):
    folder = write_folder(tmp_path, change(copy.deepcopy(SMALL)))
    before = row_counts(app)
    for command in ("check", "load"):
        result = tenant_cli(runner, command, folder)
        assert result.exit_code == 2, result.output
        assert result.stdout == ""
        problem, *summary = result.stderr.splitlines()  # one change, one problem line
        assert summary == ([] if command == "check" else ["1 problem(s); nothing was written."])
        assert problem.startswith(f"{folder / 'tenant.yaml'}: ")
        for fragment in expected:
            assert fragment in problem, f"{fragment!r} not in:\n{result.stderr}"
    assert row_counts(app) == before


def test_error_late_in_an_existing_tenant_file_changes_nothing(app, runner, tmp_path):
    data = load_strict((ROOT / "tenants" / "jituan" / "tenant.yaml").read_text(encoding="utf-8"))
    next(u for u in data["units"] if u["code"] == "HR")["name"] = "人事部"  # a valid change early on
    data["people"][-1]["class"] = "Z"  # and an error in the last person
    folder = write_folder(tmp_path, data, slug="jituan")
    before = row_counts(app)

    result = tenant_cli(runner, "load", folder)
    assert result.exit_code == 2, result.output
    assert "people[59](J0060).class: 'Z'" in result.stderr
    assert row_counts(app) == before
    with tenant_db(app, "jituan") as session:
        assert session.scalar(select(OrgUnit.name).where(OrgUnit.code == "HR")) == "人力资源部"

    # Without the error the same file renames the unit: the refusal above was not vacuous.
    data["people"][-1]["class"] = "C"
    write_folder(tmp_path, data, slug="jituan")
    result = tenant_cli(runner, "load", folder)
    assert result.exit_code == 0, result.output
    assert "tenant jituan updated — units updated: 1" in result.output
    with tenant_db(app, "jituan") as session:
        assert session.scalar(select(OrgUnit.name).where(OrgUnit.code == "HR")) == "人事部"


def test_scalars_are_strings_unless_true_false_or_null(app, runner, tmp_path):
    text = dump(SMALL).replace("W001", "0012").replace("position: Director", "position: 1.50")
    folder = write_folder(tmp_path, text)
    valid = read_folder(folder, get_schemes(app))
    assert valid.data.people[0].number == "0012"  # not the octal number 10
    assert valid.data.people[0].position == "1.50"
    assert valid.data.accounts[0].person == "0012"
    assert valid.data.units[2].active is True

    assert tenant_cli(runner, "load", folder).exit_code == 0
    with tenant_db(app, "werk") as session:
        person = people_by_number(session)["0012"]
        assert session.scalar(select(User.person_id).where(User.username == "wangfang")) == person.id


# ------------------------------------------------------------------------------------- loading

def test_loading_a_new_tenant_creates_it(app, runner, tmp_path):
    result = tenant_cli(runner, "load", write_folder(tmp_path, SMALL))
    assert result.exit_code == 0, result.output
    assert "tenant werk created" in result.output

    with tenant_db(app, "werk") as session:
        tenant = session.scalar(select(Tenant).where(Tenant.slug == "werk"))
        assert (tenant.name, tenant.name_en, tenant.locale) == ("示范工厂", "Demo Works", "en")

        units = {u.code: u for u in session.scalars(select(OrgUnit))}
        code_of = {u.id: code for code, u in units.items()}
        assert {c: (u.kind, code_of.get(u.parent_id), u.active) for c, u in units.items()} == {
            "WK": ("company", None, True), "WK-A": ("department", "WK", True), "WK-Q": ("team", "WK-A", True)}

        people = people_by_number(session)
        assert {n: (p.name, code_of[p.unit_id], p.staff_class, p.status) for n, p in people.items()} == {
            "W001": ("Wang Fang", "WK", "A", "regular"),
            "W002": ("Li Na", "WK-A", "B", "probation"),
            "W003": ("Zhou Qiang", "WK-Q", "C", "regular")}

        number_of = {p.id: n for n, p in people.items()}
        accounts = {a.username: a for a in session.scalars(select(User))}
        assert {u: (a.display_name, number_of.get(a.person_id), a.email) for u, a in accounts.items()} == {
            "wangfang": ("Wang Fang", "W001", None),
            "lina": ("Li Na", "W002", None),
            "auditor": ("External auditor", None, "audit@example.com")}
        assert {u: sorted((m.role, code_of.get(m.unit_id)) for m in a.memberships) for u, a in accounts.items()} == {
            "wangfang": [("leader", None), ("tenant_admin", None)],
            "lina": [("unit_head", "WK-A")],
            "auditor": [("committee", None)]}

        schemes = [(s.scheme_id, s.enabled, s.settings) for s in session.scalars(select(TenantScheme))]
        from plugins.corporate_grading import SCHEME

        # the tenant's override merged over every default, as the scheme validated it
        assert schemes == [("corporate-grading", True, SCHEME.validate_settings({"letter_rules": "enforce"})[0])]
        assert schemes[0][2]["letter_rules"] == "enforce"

        audit = list(session.scalars(select(AuditLog)))
        assert {a.actor for a in audit} == {"cli"}
        assert Counter((a.object_type, a.action) for a in audit) == Counter({
            ("Tenant", "create"): 1, ("TenantScheme", "create"): 1, ("OrgUnit", "create"): 3,
            ("Person", "create"): 3, ("User", "create"): 3, ("User", "roles"): 3})


def test_loading_the_same_files_again_changes_nothing(app, runner, tmp_path):
    folder = write_folder(tmp_path, SMALL)
    assert tenant_cli(runner, "load", folder).exit_code == 0
    before = row_counts(app)

    result = tenant_cli(runner, "load", folder)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "tenant werk updated — no changes"
    # the demo tenants were loaded with --demo when the test database was built
    result = tenant_cli(runner, "load", *DEMO_TENANTS, demo=True)
    assert result.exit_code == 0, result.output
    assert result.output.count("updated — no changes") == 3
    assert row_counts(app) == before


def test_changing_one_name_updates_only_that_person(app, runner, tmp_path):
    folder = write_folder(tmp_path, SMALL)
    assert tenant_cli(runner, "load", folder).exit_code == 0
    with tenant_db(app, "werk") as session:
        versions = {n: p.version for n, p in people_by_number(session).items()}
        last_audit = session.scalar(select(func.max(AuditLog.id)))
    before = row_counts(app)

    renamed = copy.deepcopy(SMALL)
    renamed["people"][2]["name"] = "Zhou Qiangwei"  # W003 has no account whose display name follows
    write_folder(tmp_path, renamed)
    result = tenant_cli(runner, "load", folder)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "tenant werk updated — people updated: 1"

    assert row_counts(app) == {**before, "audit_log": before["audit_log"] + 1}
    with tenant_db(app, "werk") as session:
        people = people_by_number(session)
        assert {n: p.version for n, p in people.items()} == {**versions, "W003": versions["W003"] + 1}
        [entry] = session.scalars(select(AuditLog).where(AuditLog.id > last_audit))
        assert (entry.actor, entry.action, entry.object_type, entry.object_id) == ("cli", "update", "Person", str(people["W003"].id))
        assert (entry.before["name"], entry.after["name"]) == ("Zhou Qiang", "Zhou Qiangwei")
        assert {k for k in entry.after if entry.after[k] != entry.before[k]} == {"name"}


def test_accounts_get_a_password_only_with_demo(app, runner, client, tmp_path):
    folder = write_folder(tmp_path, SMALL)
    assert tenant_cli(runner, "load", folder).exit_code == 0
    with tenant_db(app, "werk") as session:
        assert set(session.scalars(select(User.password_hash))) == {None}

    def login(username: str):
        return client.post("/t/werk/login", data={"username": username, "password": "jixiao-demo"})

    refused, unknown = login("wangfang"), login("nobody")
    assert refused.status_code == unknown.status_code == 200
    assert "Wrong username or password." in refused.get_data(as_text=True)
    assert "Wrong username or password." in unknown.get_data(as_text=True)  # the same generic answer

    result = tenant_cli(runner, "load", folder, demo=True)
    assert result.exit_code == 0, result.output
    assert "passwords set: 3" in result.output
    assert login("wangfang").status_code == 302


def test_several_folders_are_written_all_or_nothing(app, runner, tmp_path):
    good = write_folder(tmp_path / "a", SMALL)
    broken = copy.deepcopy(SMALL)
    broken["slug"] = "werk2"
    broken["units"][0]["kind"] = "castle"
    bad = write_folder(tmp_path / "b", broken, slug="werk2")
    before = row_counts(app)

    result = tenant_cli(runner, "load", good, bad)
    assert result.exit_code == 2, result.output
    assert f"{bad / 'tenant.yaml'}: units[0](WK).kind: 'castle'" in result.stderr
    assert str(good) not in result.stderr
    assert row_counts(app) == before

    with app.app_context():
        with pytest.raises(TenantFileError) as refused:
            load_folders([str(good), str(bad)])
        assert all(line.startswith(str(bad / "tenant.yaml")) for line in refused.value.problems)
    assert row_counts(app) == before
