"""Entering a cycle's inputs: the forms each scheme declares, with htmx autosave, the live total
of scorecards, the scheme's own checks next to the fields, and optimistic locking."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from flask import Blueprint, Flask, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from core.cycles import after, bulk
from core.cycles import inputs as forms
from core.cycles import service
from core.cycles.after import AfterError
from core.cycles.service import CycleError
from core.cycles.views import get_cycle
from core.db import db_session
from core.i18n import current_locale
from core.models import Appeal, CycleResult, CycleSubject
from core.plugins import get_schemes
from core.policy import (can, is_own_result, may_edit_field, may_enter_inputs, may_see_confidential,
                         permission_required, tenant_user)
from core.scoring.case import Period
from core.web import paginate_list, render_page

bp = Blueprint("cycle_inputs", __name__, url_prefix="/t/<tenant>/cycles/<int:cycle_id>/inputs")


MAX_ID = 2**31 - 1  # the largest id or version a column holds


def get_input_cycle(cycle_id: int):
    """The cycle, or 404 — also when its scheme takes nothing on the input form (the township's
    inputs come from its own pages: points, the survey, findings, reports)."""
    cycle = get_cycle(cycle_id)
    scheme = get_schemes().get(cycle.scheme_id)
    if scheme is None or scheme.input_fields is None:
        abort(404)
    return cycle


def whole_number(raw: str | None) -> int | None:
    """A request's whole number written in ASCII digits that a column can hold, else None
    (``str.isdigit`` alone also accepts "²" or "٣", which ``int`` refuses or reads; a longer number
    than a column holds makes the database driver fail)."""
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if value <= MAX_ID else None


def get_subject(cycle, subject_id: int) -> CycleSubject:
    """A subject of this cycle in the current tenant, or 404; 403 when the user may not enter its inputs."""
    subject = db_session.get(CycleSubject, subject_id)
    if subject is None or subject.cycle_id != cycle.id:
        abort(404)
    if not (_as_staff(cycle, subject) or _own_with_self_fields(cycle, subject)):
        abort(403)
    return subject


def get_correction(cycle, subject: CycleSubject) -> Appeal | None:
    """The appeal for which the form corrects this subject's inputs in a published cycle
    (``?appeal=<id>``), else None. 404: an unknown appeal, or one not about this subject's result;
    403: not HR, or HR's own result; 409: not now (the cycle is not published, or the appeal is not
    being investigated)."""
    raw = request.args.get("appeal")
    if raw is None:
        return None
    appeal_id = whole_number(raw)
    appeal = db_session.get(Appeal, appeal_id) if appeal_id is not None else None
    result = db_session.get(CycleResult, appeal.result_id) if appeal is not None else None
    if result is None or result.subject_id != subject.id:
        abort(404)
    if not can(current_user, "appeals.investigate") or is_own_result(current_user, subject.person_id):
        abort(403)
    problem = after.correction_problem(appeal, cycle, subject)
    if problem:
        abort(409, problem)
    return appeal


def _correction_urls(appeal_id: int):
    """``url_for`` for the correction page: the form's own address keeps ``?appeal=`` (the form
    template builds it without), so each autosave is a correction too."""
    def build(endpoint: str, **values):
        if endpoint == "cycle_inputs.subject_form":
            values.setdefault("appeal", appeal_id)
        return url_for(endpoint, **values)
    return build


def _field_roles(cycle) -> frozenset[str]:
    """The roles the cycle's scheme asks for inputs (a field's role and those who may enter it too)."""
    cache = g.setdefault("_field_roles", {})
    if cycle.id not in cache:
        fields = get_schemes()[cycle.scheme_id].input_fields
        cache[cycle.id] = frozenset(r for f in (fields(cycle.settings) if fields else ()) for r in f.roles)
    return cache[cycle.id]


def _as_staff(cycle, subject: CycleSubject) -> bool:
    """May the user open the subject's form as staff? Never their own record (there, only what is
    asked of the person themselves), and committee members, leaders and surveyors only in a cycle
    whose scheme asks them for something."""
    if is_own_result(current_user, subject.person_id):
        return False
    return may_enter_inputs(current_user, subject.unit_id, _field_roles(cycle))


def _own_with_self_fields(cycle, subject: CycleSubject) -> bool:
    """The person's own subject, when the scheme asks them for something there."""
    return is_own_result(current_user, subject.person_id) and service.asks_self(cycle, subject.kind, subject.staff_class)


def _context(cycle, subject: CycleSubject):
    scheme = get_schemes()[cycle.scheme_id]
    period = Period.parse(cycle.period)
    fields = scheme.fields_for(cycle.settings, subject.kind, subject.staff_class, period.kind)
    return scheme, fields


def _unit_codes(cycle) -> dict[str, str]:
    return dict(db_session.execute(select(CycleSubject.code, CycleSubject.name).where(
        CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "unit", CycleSubject.eligible.is_(True))).all())


def _problems(cycle, scheme, subject: CycleSubject, inputs: dict) -> dict[str, list[str]]:
    """The scheme's checks of this subject alone (a small case: the subject and the units it names)."""
    unit_code = db_session.scalar(select(CycleSubject.code).where(
        CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "unit", CycleSubject.unit_id == subject.unit_id))
    raw = {"id": subject.code, "inputs": inputs}
    if subject.kind == "unit":
        raw.update(kind=subject.unit_kind)
        stubs: list[str] = []
    else:
        if unit_code:
            raw["unit"] = unit_code
        if subject.staff_class:
            raw["class"] = subject.staff_class
        if "status" in scheme.subject_fields and subject.status:
            raw["status"] = subject.status
        stubs = [unit_code] if unit_code else []
    head = {"scheme": cycle.scheme_id, "period": cycle.period, "settings": cycle.settings}
    return forms.scheme_problems(scheme, forms.mini_case(head, raw, subject.kind, stubs), subject.kind, subject.code)


@dataclass
class Saved:
    """What became of a submitted input form: the HTTP status (200 saved, 422 a bad value, 409 a
    stale or missing version or a plugin's refusal), the message, the errors by form field name, and
    the inputs to show again (the submitted ones unless the version was missing)."""

    status: int
    message: str
    field_errors: dict[str, list[str]] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)


def save_form(cycle, subject: CycleSubject, fields: list, form: Mapping[str, Any], account, unit_codes: set[str],
              appeal: Appeal | None = None) -> Saved:
    """Save a subject's submitted form: the one path every input form takes (the subject's form
    here, and a scheme's own grids such as the sales ratings). ``fields`` are the declared fields
    the account may edit; the values are checked by their declarations (:func:`core.cycles.inputs.parse`),
    the plugins are asked (``jixiao_event_inputs_saving``), and the inputs are written only if nobody
    saved them since the ``inputs_version`` the form carries (optimistic locking). With ``appeal``,
    the save is a correction of a published cycle's inputs for that appeal
    (:func:`core.cycles.after.correct_inputs`, audited as such). Commits on success, rolls back
    otherwise; the caller checks the cycle is editable (or the correction allowed) and the account may edit."""
    current = subject.inputs or {}
    parsed = forms.parse(fields, form, current, unit_codes)
    if parsed.errors:
        return Saved(422, _("Not saved: correct the fields marked below."), parsed.errors, parsed.inputs)
    version = whole_number(form.get("inputs_version", ""))
    if version is None:
        return Saved(409, _("The form did not say which version it edits; reload the page."), {}, current)
    actor = f"user:{account.username}"
    try:
        bulk.inputs_saving(cycle, subject, account, fields, parsed.inputs)
        if appeal is not None:
            after.correct_inputs(appeal, cycle, subject, parsed.inputs, version, actor)
        else:
            service.set_inputs(subject, cycle, parsed.inputs, version, actor)
        db_session.commit()
        saved = Saved(200, _("Correction saved; it counts once the appeal is decided as corrected.")
                      if appeal is not None else _("Saved."), {}, parsed.inputs)
    except (CycleError, AfterError) as exc:
        db_session.rollback()
        saved = Saved(409, str(exc), {}, parsed.inputs)
    except StaleDataError:  # the appeal (or another versioned row) was saved at the same moment
        db_session.rollback()
        saved = Saved(409, _("Someone else changed this appeal at the same moment; reload and check.")
                      if appeal is not None else
                      _("%(name)s's inputs were changed by someone else; reload to see them.", name=subject.name),
                      {}, parsed.inputs)
    db_session.refresh(subject)
    return saved


@bp.get("/")
@permission_required("results.mine")
def index(cycle_id: int):
    """The subjects whose inputs this user may enter, with what each still needs."""
    cycle = get_input_cycle(cycle_id)
    rows = [s for s in service.subjects(cycle)
            if _as_staff(cycle, s) or _own_with_self_fields(cycle, s)]
    missing: dict[str, int] = {}
    for line in service.problems_of(cycle):
        code = line.split(".", 1)[0]
        missing[code] = missing.get(code, 0) + 1
    todo = request.args.get("todo") == "1"
    if todo:
        rows = [r for r in rows if missing.get(r.code)]
    return render_page("cycles/inputs.html", cycle=cycle, page=paginate_list(rows), missing=missing, todo=todo,
                       editable=cycle.state in service.EDITABLE_STATES)


@bp.route("/<int:subject_id>", methods=["GET", "POST"])
@permission_required("results.mine")
def subject_form(cycle_id: int, subject_id: int):
    """One subject's inputs. htmx posts each change (autosave) and gets back the save status,
    the new version, live totals and the checks; a plain post saves and redirects. With
    ``?appeal=<id>`` (HR, from the appeal's page, while it is investigated): the correction of the
    appealed subject's inputs in the published cycle, each save audited as a correction."""
    cycle = get_input_cycle(cycle_id)
    subject = get_subject(cycle, subject_id)
    appeal = get_correction(cycle, subject)
    scheme, fields = _context(cycle, subject)
    if not _as_staff(cycle, subject):  # here only as the person assessed
        # the person assessed sees only what they enter themselves (never HR's fields, such as pay)
        fields = [f for f in fields if "self" in f.roles]
    if not may_see_confidential(current_user):
        fields = [f for f in fields if f.path not in scheme.confidential]
    editable = cycle.state in service.EDITABLE_STATES or appeal is not None
    locale = current_locale()
    status, message, field_errors = 200, None, {}
    inputs = subject.inputs or {}
    if request.method == "POST":
        if not editable:
            abort(409, _("This cycle is %(state)s: its inputs can no longer be changed.", state=cycle.state))
        allowed = [f for f in fields if may_edit_field(current_user, f.roles, subject.person_id)]
        saved = save_form(cycle, subject, allowed, request.form, tenant_user(current_user), set(_unit_codes(cycle)),
                          appeal=appeal)
        status, message, field_errors, inputs = saved.status, saved.message, saved.field_errors, saved.inputs
        if not request.headers.get("HX-Request") and status == 200:
            flash(message, "success")
            return redirect(url_for("cycle_inputs.subject_form", cycle_id=cycle.id, subject_id=subject.id,
                                    appeal=appeal.id if appeal is not None else None))
    problems = _problems(cycle, scheme, subject, inputs)
    totals = {f.path: forms.live_total(f, inputs) for f in fields if f.kind == "scorecard"}
    groups: dict[str, list] = {}
    for f in fields:  # in the order the scheme declares them
        groups.setdefault(f.group(locale), []).append(f)
    context = dict(cycle=cycle, subject=subject, scheme=scheme, fields=fields, groups=list(groups.items()),
                   inputs=inputs, editable=editable,
                   locale=locale, problems=problems, totals=totals, field_errors=field_errors, message=message,
                   status=status, get_value=forms.get_value, form_name=forms.form_name,
                   units=_unit_codes(cycle), may_edit=lambda f: editable and may_edit_field(current_user, f.roles, subject.person_id),
                   item_fields=forms.ITEM_FIELDS)
    if request.method == "POST" and request.headers.get("HX-Request"):
        return render_template("cycles/_inputs_saved.html", **context), status
    if appeal is not None:
        found = after.corrections(appeal, subject)
        return render_page("results/correct_inputs.html", appeal=appeal, corrections=found,
                           published_inputs=(found[0].before or {}).get("inputs") if found else None,
                           changed_inputs=after.changed_inputs, url_for=_correction_urls(appeal.id), **context), status
    return render_page("cycles/inputs_form.html", **context), status


@bp.get("/<int:subject_id>/item-row")
@permission_required("results.mine")
def item_row(cycle_id: int, subject_id: int):
    """A blank scorecard item row for the editor (htmx)."""
    cycle = get_input_cycle(cycle_id)
    get_subject(cycle, subject_id)
    field = request.args.get("field", "")
    index = whole_number(request.args.get("index", "0"))
    if not field.replace("_", "").isalnum() or index is None or index >= forms.MAX_ITEMS:
        abort(400)
    row = render_template("cycles/_item_row.html", name=field, index=index, item={}, editable=True)
    button = render_template("cycles/_add_item.html", name=field, index=index + 1, cycle_id=cycle.id,
                             subject_id=subject_id, oob=True)
    return row + button


@bp.get("/template.<fmt>")
@permission_required("cycles.manage")
def template(cycle_id: int, fmt: str):
    """The bulk-entry template of one kind of subject (``?kind=unit|person``), filled with what is entered."""
    cycle = get_input_cycle(cycle_id)
    kind = request.args.get("kind", "person")
    if kind not in bulk.kinds(cycle) or fmt not in ("xlsx", "csv"):
        abort(404)
    name = f"{cycle.scheme_id}-{cycle.period}-{kind}.{fmt}"
    if fmt == "xlsx":
        body, mimetype = bulk.template_xlsx(cycle, kind, current_locale()), \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mimetype = "\ufeff" + bulk.template_csv(cycle, kind, current_locale()), "text/csv; charset=utf-8"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}",
                                                      "Cache-Control": "no-store"})


@bp.route("/import", methods=["GET", "POST"])
@permission_required("cycles.manage")
def import_file(cycle_id: int):
    """Upload a filled template: every row is checked first; any problem and nothing is written."""
    cycle = get_input_cycle(cycle_id)
    problems: list[str] = []
    status = 200
    kind = request.values.get("kind", "person")
    if kind not in bulk.kinds(cycle):
        abort(404)
    if request.method == "POST":
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            problems, status = [_("Choose a file to upload.")], 422
        else:
            try:
                count = bulk.import_rows(cycle, kind, bulk.read_rows(upload.filename, upload.read()),
                                         f"user:{tenant_user(current_user).username}", tenant_user(current_user))
                db_session.commit()
                flash(_("%(n)s subject(s) updated from %(file)s.", n=count, file=upload.filename), "success")
                return redirect(url_for("cycle_inputs.index", cycle_id=cycle.id))
            except bulk.ImportError_ as exc:
                db_session.rollback()
                problems, status = exc.problems, 422
    return render_template("cycles/import.html", cycle=cycle, kind=kind, kinds=bulk.kinds(cycle),
                           problems=problems), status


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
