"""One test (at least) per hook spec in core/hookspecs.py; test_hookspecs.py checks that."""
from __future__ import annotations

import textwrap

import click
import pytest
from flask import Blueprint
from markupsafe import Markup
from sqlalchemy import inspect as sa_inspect

from core import hookimpl
from core.migrate import upgrade
from core.plugins import PluginError, collect_schemes, make_plugin_manager
from core.policy import permission_required
from core.schemes import Scheme
from core.slots import MenuItem
from core.tenant_files import load_folders
from core.web import render_page
from core.models import Tenant
from core.tenancy import set_tenant
from sqlalchemy import select
from tests.conftest import DEMO_TENANTS, make_test_app


class ProbePlugin:
    """A plugin exercising every hook, the way a consultant's package would."""

    def __init__(self, template_dir=None, migrations_dir=None):
        self.template_dir = template_dir
        self.migrations_dir = migrations_dir
        self.events: list[tuple] = []

    @hookimpl
    def jixiao_load_blueprints(self):
        bp = Blueprint("probe", __name__, url_prefix="/t/<tenant>/probe")

        @bp.get("/")
        @permission_required("tenant.home")
        def index():
            """The probe page."""
            return render_page("probe/hello.html", word="你好")

        return [bp]

    @hookimpl
    def jixiao_load_template_folders(self):
        return [str(self.template_dir)] if self.template_dir else []

    @hookimpl
    def jixiao_load_cli_commands(self):
        @click.command("probe-hello")
        def hello():
            """Say hello."""
            click.echo("hello from the probe plugin")

        return [hello]

    @hookimpl
    def jixiao_load_migrations(self):
        return [str(self.migrations_dir)] if self.migrations_dir else []

    @hookimpl
    def jixiao_event_tenant_loaded(self, tenant, created, changes):
        self.events.append(("tenant_loaded", tenant.slug, created, changes.get("units_created", 0)))

    @hookimpl
    def jixiao_event_user_logged_in(self, tenant, user):
        self.events.append(("user_logged_in", tenant.slug, user.username))

    @hookimpl
    def jixiao_tpl_menu_items(self, tenant, user):
        return [MenuItem("探针", f"/t/{tenant.slug}/probe/", "probe.index", order=50)] if tenant else []

    @hookimpl
    def jixiao_tpl_cycle_links(self, tenant, user, cycle):
        return [MenuItem(f"探针 {cycle.period}", f"/t/{tenant.slug}/probe/{cycle.id}", "probe.cycle", order=5)]

    @hookimpl
    def jixiao_tpl_home_panels(self, tenant, user):
        return [Markup("<section class='panel' id='probe-panel'>{}</section>").format(user.username)]


@pytest.fixture
def probe(tmp_path):
    templates = tmp_path / "templates" / "probe"
    templates.mkdir(parents=True)
    (templates / "hello.html").write_text(
        '{% extends "base.html" %}{% block main %}<p id="probe">{{ word }} {{ g.tenant.slug }}</p>{% endblock %}')
    return ProbePlugin(template_dir=tmp_path / "templates")


@pytest.fixture
def probe_app(database_url, probe):
    app = make_test_app(database_url, PLUGINS_EXTRA=[probe])
    yield app
    app.extensions["jixiao.engine"].dispose()


def login(client, tenant="jituan", username="hr"):
    return client.post(f"/t/{tenant}/login", data={"username": username, "password": "jixiao-demo"})


# --------------------------------------------------------------------------------- jixiao_load_*

def test_jixiao_load_schemes_collects_the_builtin_schemes():
    schemes = collect_schemes(make_plugin_manager())
    assert set(schemes) == {"corporate-grading", "sales-attitude", "gov-public-evaluation"}
    corporate = schemes["corporate-grading"]
    assert corporate.staff_classes == ("A", "B", "C")
    defaults = corporate.default_settings()
    assert defaults["letter_rules"] == "warn"
    assert defaults["unit_monthly_formula"] == "plan_score * 0.6 + form_score * 0.4 + adjust"
    assert corporate.validate_settings({"letter_rules": "sometimes"})[1] == [
        "settings.letter_rules: 'sometimes' is not allowed — Input should be 'warn' or 'enforce'"]


def test_jixiao_load_schemes_refuses_a_duplicate_id():
    class Copycat:
        @hookimpl
        def jixiao_load_schemes(self):
            return [Scheme(id="sales-attitude", name_zh="仿", name_en="Copy", version="0", plugin="copycat")]

    with pytest.raises(PluginError, match="'sales-attitude' is registered by both"):
        collect_schemes(make_plugin_manager(extra=[Copycat()]))


def test_jixiao_load_blueprints_and_jixiao_load_template_folders(probe_app):
    client = probe_app.test_client()
    assert client.get("/t/jituan/probe/").status_code == 302  # the core's login rules apply
    login(client)
    page = client.get("/t/jituan/probe/").get_data(as_text=True)
    assert '<p id="probe">你好 jituan</p>' in page


def test_jixiao_load_cli_commands(probe_app):
    result = probe_app.test_cli_runner().invoke(args=["probe-hello"])
    assert result.exit_code == 0 and "hello from the probe plugin" in result.output


def test_jixiao_load_migrations_adds_the_plugins_tables(tmp_path):
    versions = tmp_path / "probe_migrations"
    versions.mkdir()
    (versions / "p001_probe_table.py").write_text(textwrap.dedent('''
        """probe table"""
        from alembic import op
        import sqlalchemy as sa

        revision = "p001"
        down_revision = None
        branch_labels = ("probe",)
        depends_on = "0001"

        def upgrade():
            op.create_table("probe_thing", sa.Column("id", sa.Integer, primary_key=True),
                            sa.Column("tenant_id", sa.Integer, sa.ForeignKey("tenant.id"), nullable=False))

        def downgrade():
            op.drop_table("probe_thing")
    '''))
    app = make_test_app(f"sqlite:///{tmp_path / 'fresh.sqlite'}", PLUGINS_EXTRA=[ProbePlugin(migrations_dir=versions)])
    with app.app_context():
        upgrade(app)
        tables = sa_inspect(app.extensions["jixiao.engine"]).get_table_names()
    assert {"probe_thing", "tenant", "person"} <= set(tables)
    app.extensions["jixiao.engine"].dispose()


# --------------------------------------------------------------------------------- jixiao_event_*

def test_jixiao_event_tenant_loaded(probe_app, probe):
    with probe_app.app_context():
        load_folders([DEMO_TENANTS[0]])
    assert probe.events == [("tenant_loaded", "jituan", False, 0)]


def test_jixiao_event_user_logged_in(probe_app, probe):
    login(probe_app.test_client(), "xiaoshou", "admin")
    assert ("user_logged_in", "xiaoshou", "admin") in probe.events


def test_jixiao_event_inputs_saving_sees_the_changed_fields_and_may_refuse(database_url):
    import io

    from core.cycles import service
    from core.cycles.service import CycleError
    from core.db import db_session
    from core.models import CycleSubject

    class Gate:
        """Refuses any change of the service-norm rating; records every call."""

        def __init__(self):
            self.calls: list[tuple] = []

        @hookimpl
        def jixiao_event_inputs_saving(self, tenant, cycle, subject, account, fields, inputs):
            self.calls.append((tenant.slug, subject.id, account.username if account else None, sorted(fields),
                               inputs.get("ratings", {}).get("basic_ability")))
            if "ratings.service" in fields:
                raise CycleError("service norms are frozen this month")

    gate = Gate()
    app = make_test_app(database_url, PLUGINS_EXTRA=[gate])
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "xiaoshou")))
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        person = next(s for s in service.subjects(cycle) if s.kind == "person")
        db_session.commit()
        cycle_id, person_id, code = cycle.id, person.id, person.code
    client = app.test_client()
    login(client, "xiaoshou", "admin")
    client.post("/lang", data={"locale": "en"})
    url = f"/t/xiaoshou/cycles/{cycle_id}/inputs/{person_id}"
    saved = client.post(url, headers={"HX-Request": "true"},
                        data={"inputs_version": "0", "ratings__basic_ability": "90", "ratings__proficiency": "80"})
    assert saved.status_code == 200
    assert gate.calls == [("xiaoshou", person_id, "admin", ["ratings.basic_ability", "ratings.proficiency"], "90")]
    refused = client.post(url, headers={"HX-Request": "true"},
                          data={"inputs_version": "1", "ratings__basic_ability": "90", "ratings__proficiency": "80",
                                "ratings__service": "70"})
    assert refused.status_code == 409 and "service norms are frozen this month" in refused.get_data(as_text=True)
    assert gate.calls[-1][3] == ["ratings.service"]
    csv = f"code,ratings.basic_ability,ratings.service\n{code},70,60\n".encode()
    imported = client.post(f"/t/xiaoshou/cycles/{cycle_id}/inputs/import", content_type="multipart/form-data",
                           data={"kind": "person", "file": (io.BytesIO(csv), "people.csv")})
    assert imported.status_code == 422 and "service norms are frozen this month" in imported.get_data(as_text=True)
    assert gate.calls[-1] == ("xiaoshou", person_id, "admin", ["ratings.basic_ability", "ratings.service"], "70")
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "xiaoshou")))
        assert db_session.get(CycleSubject, person_id).inputs == {"ratings": {"basic_ability": "90", "proficiency": "80"}}
    app.extensions["jixiao.engine"].dispose()


def test_jixiao_event_cycle_computing_may_refresh_inputs_and_jixiao_tpl_result_panels(database_url):
    """A plugin refreshes inputs it derives right before the results are computed (they follow),
    and adds a panel under a result's breakdown on both result pages."""
    from core.cycles import service
    from core.db import db_session
    from core.models import CycleResult

    class Deriver:
        def __init__(self):
            self.computing: list[tuple] = []

        @hookimpl
        def jixiao_event_cycle_computing(self, tenant, cycle):
            self.computing.append((tenant.slug, cycle.state))
            changes = [(s, {**s.inputs, "ratings": {**s.inputs["ratings"], "service": "100"}})
                       for s in service.subjects(cycle) if s.kind == "person"]
            service.set_many_inputs(cycle, changes, "probe:derived")

        @hookimpl
        def jixiao_tpl_result_panels(self, tenant, user, cycle, subject, result):
            return [Markup(f"<section class='panel'>probe panel for {subject.code}</section>")]

    deriver = Deriver()
    app = make_test_app(database_url, PLUGINS_EXTRA=[deriver])
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "xiaoshou")))
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        for subject in service.subjects(cycle):
            if subject.kind == "person":
                service.set_inputs(subject, cycle, {"ratings": {"basic_ability": "80", "proficiency": "80",
                                                                "coordination": "80", "service": "0"}}, 0, "test")
        service.transition(cycle, "open", "test")
        service.compute(cycle, "test")
        db_session.commit()
        assert deriver.computing == [("xiaoshou", "open")]
        result = db_session.scalar(select(CycleResult).where(CycleResult.cycle_id == cycle.id,
                                                             CycleResult.score.is_not(None)).limit(1))
        # attitude 100 × 0.15 + 80 × 0.6 + responsibility 100 (refreshed from 0) × 0.25
        assert str(result.score) == "88.00"
        cycle_id, result_id = cycle.id, result.id
    client = app.test_client()
    login(client, "xiaoshou", "admin")
    assert "probe panel for X0" in client.get(f"/t/xiaoshou/cycles/{cycle_id}/results/{result_id}").get_data(as_text=True)
    assert "probe panel for X0" in client.get(f"/t/xiaoshou/results/{result_id}").get_data(as_text=True)
    app.extensions["jixiao.engine"].dispose()


def test_jixiao_event_results_changed_after_an_appeal_changed_published_results(database_url):
    """An appeal decided "corrected" re-scores the published cycle: the plugins are told its results
    changed (a scheme whose later months read them refreshes them); an upheld decision changes no
    result and tells nobody. While the cycle is re-scored, the computing hook can read which subject
    the appeal corrects (``correction_subject``), to refresh only that one's derived inputs."""
    from core.cycles import after, service
    from core.db import db_session
    from core.models import Appeal, CycleResult

    class Watcher:
        def __init__(self):
            self.changed: list[tuple] = []
            self.computing: list[tuple] = []

        @hookimpl
        def jixiao_event_cycle_computing(self, tenant, cycle):
            self.computing.append((cycle.state, service.correction_subject(cycle)))

        @hookimpl
        def jixiao_event_results_changed(self, tenant, cycle):
            result = db_session.scalar(select(CycleResult).where(CycleResult.cycle_id == cycle.id,
                                                                 CycleResult.subject_id == subject_id))
            self.changed.append((tenant.slug, cycle.id, cycle.state, str(result.score)))

    watcher = Watcher()
    app = make_test_app(database_url, PLUGINS_EXTRA=[watcher])
    with app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "xiaoshou")))
        cycle = service.create_cycle("sales-attitude", "2026-09", "九月", {}, "test")
        people = [s for s in service.subjects(cycle) if s.kind == "person"]
        for subject in people:
            service.set_inputs(subject, cycle, {"ratings": {"basic_ability": "80", "proficiency": "80",
                                                            "coordination": "80", "service": "80"}}, 0, "test")
        for target in ("open", "review"):
            service.transition(cycle, target, "test")
        service.compute(cycle, "test")
        service.transition(cycle, "published", "test")
        first, second = people[0], people[1]
        subject_id = first.id
        appeals = [Appeal(result_id=db_session.scalar(select(CycleResult.id).where(CycleResult.subject_id == s.id)),
                          filed_by="test", reason="评分录入有误。", state="investigating") for s in (first, second)]
        db_session.add_all(appeals)
        db_session.flush()
        after.decide(appeals[1], cycle, "upheld", None, "维持", "user:manager", [])
        assert watcher.changed == []  # no result changed
        after.correct_inputs(appeals[0], cycle, first, {"ratings": {"basic_ability": "100", "proficiency": "80",
                                                                    "coordination": "80", "service": "80"}},
                             first.inputs_version, "user:admin")
        after.decide(appeals[0], cycle, "corrected", None, "更正评分", "user:manager", [])
        # 15 + 100 × 0.15 + 80 × 0.20 + 80 × 0.25 + 80 × 0.25: the results as changed, inside the transaction
        assert watcher.changed == [("xiaoshou", cycle.id, "published", "86.00")]
        # before the move to review (its check scores the inputs), the compute, and the re-scoring
        assert watcher.computing == [("open", None), ("review", None), ("published", first.id)]
        db_session.rollback()
    app.extensions["jixiao.engine"].dispose()


# --------------------------------------------------------------------------------- jixiao_tpl_*

def test_jixiao_tpl_menu_items(probe_app):
    client = probe_app.test_client()
    login(client)
    page = client.get("/t/jituan/").get_data(as_text=True)
    assert '<a href="/t/jituan/probe/" >探针</a>' in page.replace("\n", "") or 'href="/t/jituan/probe/"' in page


def test_jixiao_tpl_home_panels_shows_the_tenants_own_schemes(client, auth):
    auth.login("jituan", "hr")
    jituan = client.get("/t/jituan/").get_data(as_text=True)
    assert "集团A/B/C/D等级考评" in jituan and "销售人员态度加权考评" not in jituan
    auth.logout("jituan")
    auth.login("xiaoshou", "admin")
    xiaoshou = client.get("/t/xiaoshou/").get_data(as_text=True)
    assert "销售人员态度加权考评" in xiaoshou and "集团A/B/C/D等级考评" not in xiaoshou


def test_jixiao_tpl_cycle_links_show_on_the_cycle_page(probe_app):
    from core.cycles import service
    from core.db import db_session

    with probe_app.app_context():
        set_tenant(db_session, db_session.scalar(select(Tenant.id).where(Tenant.slug == "jituan")))
        cycle = service.create_cycle("corporate-grading", "2026-09", "九月", {}, "test")
        db_session.commit()
        cycle_id = cycle.id
    client = probe_app.test_client()
    login(client)
    page = client.get(f"/t/jituan/cycles/{cycle_id}").get_data(as_text=True)
    assert f'href="/t/jituan/probe/{cycle_id}">探针 2026-09</a>' in page


def test_jixiao_tpl_home_panels_from_a_plugin(probe_app):
    client = probe_app.test_client()
    login(client)
    assert "<section class='panel' id='probe-panel'>hr</section>" in client.get("/t/jituan/").get_data(as_text=True)


# --------------------------------------------------------------------------------- external plugins

@pytest.fixture
def installed_probe_distribution(tmp_path, monkeypatch):
    """A distribution with an entry point in the ``jixiao`` group, installed on sys.path."""
    (tmp_path / "jixiao_probe_ext.py").write_text(textwrap.dedent('''
        from core import hookimpl
        from core.schemes import Scheme

        @hookimpl
        def jixiao_load_schemes():
            return [Scheme(id="okr", name_zh="目标与关键成果", name_en="OKR", version="0.1", plugin="okr")]
    '''))
    dist = tmp_path / "jixiao_probe_ext-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: jixiao-probe-ext\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[jixiao]\nokr = jixiao_probe_ext\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_external_plugins_load_only_when_allowed(installed_probe_distribution):
    assert "okr" not in collect_schemes(make_plugin_manager(load_entry_points=True, allowed=[]))
    assert "okr" in collect_schemes(make_plugin_manager(load_entry_points=True, allowed=["okr"]))
    with pytest.raises(PluginError, match="'missing'"):
        make_plugin_manager(load_entry_points=True, allowed=["missing"])


def test_jixiao_plugins_command_lists_plugins_and_their_tenants(runner):
    result = runner.invoke(args=["plugins"])
    assert result.exit_code == 0
    assert "plugins.corporate_grading  (built-in)" in result.output
    assert "used by: jituan" in result.output and "used by: xiaoshou" in result.output and "used by: zhen" in result.output
