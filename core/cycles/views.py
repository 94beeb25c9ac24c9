"""Cycle pages for administrators and leaders: list, create, follow, move through the states,
compute, and read the results with their breakdowns."""
from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, abort, flash, g, make_response, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.routing import BuildError
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from core.audit import current_actor, history
from core.cycles import results as ranking
from core.cycles import service
from core.cycles.service import CycleError
from core.db import db_session
from core.i18n import current_locale
from core.models import Cycle, CycleResult, CycleSubject, OrgUnit, Person
from core.org.forms import STATUS_LABELS, UNIT_KIND_LABELS, ChoiceField, choices
from core.plugins import get_schemes
from core.policy import can, permission_required, redact
from core.schemes_web import enabled_schemes
from core.scoring.case import PERIOD_FORMS
from core.web import Page, paginate, redirect_after, render_page, unit_tree

bp = Blueprint("cycles", __name__, url_prefix="/t/<tenant>/cycles")

STATE_LABELS = {"draft": _l("Draft"), "open": _l("Open"), "review": _l("In review"),
                "published": _l("Published"), "closed": _l("Closed")}
# (from, to) -> the button that makes the move
TRANSITION_LABELS = {("draft", "open"): _l("Open the cycle"), ("open", "review"): _l("Send to review"),
                     ("review", "open"): _l("Reopen for inputs"), ("review", "published"): _l("Publish the results"),
                     ("published", "closed"): _l("Close the cycle")}
TRANSITION_CONFIRMS = {"published": _l("Publish the results? People will be able to see them."),
                       "closed": _l("Close the cycle? A closed cycle can no longer be changed.")}
KIND_LABELS = {"unit": _l("Units"), "person": _l("People")}
MAX_PROBLEMS = 20  # problems listed after a refused action; the rest are counted


# ------------------------------------------------------------------------------------- loaders

def get_cycle(cycle_id: int) -> Cycle:
    """The cycle with this id in the current tenant, or 404."""
    cycle = db_session.get(Cycle, cycle_id)
    if cycle is None:
        abort(404)
    return cycle


def get_result(cycle: Cycle, result_id: int) -> CycleResult:
    """A result of this cycle in the current tenant, or 404."""
    result = db_session.get(CycleResult, result_id)
    if result is None or result.cycle_id != cycle.id:
        abort(404)
    return result


# ------------------------------------------------------------------------------------- helpers

def scheme_name(scheme_id: str) -> str:
    """The scheme's name in the current language; its id when the plugin is no longer loaded."""
    scheme = get_schemes().get(scheme_id)
    return scheme.name(current_locale()) if scheme else scheme_id


def state_label(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


def _label(scheme_id: str, term: str) -> str:
    """A scheme term (a flag, a breakdown label) in the current language, else as written."""
    scheme = get_schemes().get(scheme_id)
    names = scheme.labels.get(term) if scheme else None
    return names.get(current_locale(), term) if names else term


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


# ------------------------------------------------------------------------------------- the list

@bp.get("/")
@permission_required("cycles.view")
def index():
    """The tenant's cycles, newest first, with their subject counts; ``state`` filters."""
    state = request.args.get("state", "")
    stmt = select(Cycle).order_by(Cycle.created_at.desc(), Cycle.id.desc())
    if state in STATE_LABELS:
        stmt = stmt.where(Cycle.state == state)
    page = paginate(stmt)
    counts: dict[tuple[int, bool], int] = {}
    if page.items:
        counts = {(cid, eligible): n for cid, eligible, n in db_session.execute(
            select(CycleSubject.cycle_id, CycleSubject.eligible, func.count())
            .where(CycleSubject.cycle_id.in_([c.id for c in page.items]))
            .group_by(CycleSubject.cycle_id, CycleSubject.eligible))}
    return render_page("cycles/index.html", page=page, counts=counts, state=state, states=STATE_LABELS,
                       scheme_name=scheme_name, can_manage=can(current_user, "cycles.manage"))


# ------------------------------------------------------------------------------------- creating

class DayField(DateField):
    """A date whose error names the value and the form expected."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_("%(value)s is not a date; write it as YYYY-MM-DD.", value=valuelist[0])) from None


class CycleForm(FlaskForm):
    scheme = ChoiceField(_l("Scheme"))
    period = StringField(_l("Period"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    inputs_due = DayField(_l("Inputs due"), validators=[Optional()],
                           description=_l("The day every input should be entered by (shown as a deadline)."))
    units = SelectMultipleField(_l("Units"), coerce=int, validators=[Optional()],
                                description=_l("None chosen: every unit. A unit includes its sub-units."))
    classes = SelectMultipleField(_l("Staff classes"), validators=[Optional()], description=_l("None chosen: every class."))
    statuses = SelectMultipleField(_l("Statuses"), validators=[Optional()], description=_l("None chosen: every status."))

    def selection(self) -> dict[str, Any]:
        """Who is assessed, as the service stores it (None: not narrowed)."""
        return {"units": list(self.units.data or []) or None, "classes": list(self.classes.data or []) or None,
                "statuses": list(self.statuses.data or []) or None}


def _computable_schemes() -> dict[str, Any]:
    """The tenant's enabled schemes that can score a cycle."""
    schemes = get_schemes()
    return {sid: schemes[sid] for sid in enabled_schemes(g.tenant) if sid in schemes and schemes[sid].compute}


def _cycle_form(schemes: dict[str, Any]) -> CycleForm:
    form = CycleForm()
    locale = current_locale()
    form.scheme.choices = choices((sid, s.name(locale)) for sid, s in sorted(schemes.items()))
    form.units.choices = [(n.unit.id, "\u2003" * n.depth + n.unit.name) for n in unit_tree()]
    classes = sorted({c for s in schemes.values() for c in s.staff_classes}
                     | set(db_session.scalars(select(Person.staff_class).where(Person.staff_class.is_not(None)).distinct())))
    form.classes.choices = [(c, c) for c in classes]
    form.statuses.choices = [(k, str(v)) for k, v in STATUS_LABELS.items()]
    if request.method == "GET":
        wanted = request.args.get("scheme", "")
        form.scheme.data = wanted if wanted in schemes else next(iter(sorted(schemes)), None)
    return form


def period_help(scheme) -> str:
    """The period forms a scheme accepts, e.g. ``YYYY-MM, YYYY``."""
    return ", ".join(PERIOD_FORMS[kind] for kind in scheme.periods if kind in PERIOD_FORMS) if scheme else ""


@bp.route("/new", methods=["GET", "POST"])
@permission_required("cycles.manage")
def new():
    """Create a draft cycle: scheme, period, name and who is assessed. A refusal of the service is
    shown next to the field it concerns (422) and nothing is written. ``?scheme=`` with
    ``HX-Target: period-help`` returns the period forms of that scheme (htmx)."""
    schemes = _computable_schemes()
    form = _cycle_form(schemes)
    if form.validate_on_submit():
        try:
            cycle = service.create_cycle(form.scheme.data, form.period.data.strip(), form.name.data.strip(),
                                         form.selection(), current_actor(), inputs_due=form.inputs_due.data)
            db_session.commit()
            flash(_("Cycle %(name)s created as a draft.", name=cycle.name), "success")
            return redirect(url_for("cycles.cycle", cycle_id=cycle.id))
        except CycleError as exc:
            db_session.rollback()
            getattr(form, exc.field or "name").errors.append(str(exc))
        except IntegrityError:  # the same name was taken at the same moment
            db_session.rollback()
            form.name.errors.append(_("A cycle named %(name)s for %(period)s already exists.",
                                      name=form.name.data.strip(), period=form.period.data.strip()))
    status = 422 if request.method == "POST" else 200
    return render_page("cycles/new.html", form=form, schemes=schemes,
                       period_help=period_help(schemes.get(form.scheme.data))), status


# ------------------------------------------------------------------------------------- one cycle

def _subject_filters() -> dict[str, str]:
    show = request.args.get("show", "")
    kind = request.args.get("kind", "")
    return {"show": show if show in ("eligible", "excluded") else "",
            "kind": kind if kind in ("unit", "person") else "", "q": request.args.get("q", "").strip()}


def _subjects_page(cycle: Cycle, filters: dict[str, str]) -> Page:
    stmt = (select(CycleSubject).where(CycleSubject.cycle_id == cycle.id)
            .order_by(CycleSubject.kind.desc(), CycleSubject.eligible.desc(), CycleSubject.code))
    if filters["show"]:
        stmt = stmt.where(CycleSubject.eligible.is_(filters["show"] == "eligible"))
    if filters["kind"]:
        stmt = stmt.where(CycleSubject.kind == filters["kind"])
    if filters["q"]:
        like = f"%{filters['q']}%"
        stmt = stmt.where(or_(CycleSubject.code.ilike(like), CycleSubject.name.ilike(like)))
    page = paginate(stmt)
    # links back to this page, also when it is shown in answer to a refused POST
    args = {k: v for k, v in filters.items() if v}
    page.url = lambda number: url_for("cycles.cycle", cycle_id=cycle.id, page=number, **args)  # type: ignore[method-assign]
    return page


def _inputs_url(cycle: Cycle) -> str | None:
    """Where this user enters the cycle's inputs, when they may (and the scheme takes any on the
    input form: some take all theirs on their own pages)."""
    scheme = get_schemes().get(cycle.scheme_id)
    if not can(current_user, "inputs.enter") or scheme is None or scheme.input_fields is None:
        return None
    try:
        return url_for("cycle_inputs.index", cycle_id=cycle.id)
    except BuildError:
        return None


def _reference_only(cycle: Cycle, subjects: list[CycleSubject]) -> dict[int, str]:
    """The people on the page assessed but scored for reference only, by subject id: the term
    ``excluded:<status>`` of their result's flags once computed; before that, when the scheme names
    their status ``excluded:<status>`` among its labels (one query)."""
    people = [s for s in subjects if s.kind == "person" and s.eligible]
    if not people:
        return {}
    scheme = get_schemes().get(cycle.scheme_id)
    labels = scheme.labels if scheme else {}
    flags = dict(db_session.execute(select(CycleResult.subject_id, CycleResult.flags).where(
        CycleResult.cycle_id == cycle.id, CycleResult.subject_id.in_([s.id for s in people]))).all())
    found = {}
    for subject in people:
        if subject.id in flags:
            term = next((str(f) for f in flags[subject.id] or () if str(f).startswith("excluded:")), None)
        else:
            term = f"excluded:{subject.status}" if f"excluded:{subject.status}" in labels else None
        if term:
            found[subject.id] = term
    return found


def _cycle_page(cycle: Cycle, error: CycleError | None = None, status: int = 200):
    filters = _subject_filters()
    page = _subjects_page(cycle, filters)
    unit_ids = {s.unit_id for s in page.items if s.unit_id}
    unit_names = dict(db_session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(unit_ids))).all()) if unit_ids else {}
    counts = {(kind, eligible): n for kind, eligible, n in db_session.execute(
        select(CycleSubject.kind, CycleSubject.eligible, func.count())
        .where(CycleSubject.cycle_id == cycle.id).group_by(CycleSubject.kind, CycleSubject.eligible))}
    results = db_session.scalar(select(func.count()).select_from(CycleResult).where(CycleResult.cycle_id == cycle.id))
    can_manage = can(current_user, "cycles.manage")
    moves = [(target, TRANSITION_LABELS.get((cycle.state, target), target), TRANSITION_CONFIRMS.get(target))
             for target in service.TRANSITIONS.get(cycle.state, ())] if can_manage else []
    problems = error.problems if error else []
    return render_page(
        "cycles/cycle.html", cycle=cycle, scheme_name=scheme_name(cycle.scheme_id), state_label=state_label,
        page=page, filters=filters, unit_names=unit_names, counts=counts,
        results=results, moves=moves, can_manage=can_manage, can_compute=can_manage and cycle.state in ("open", "review"),
        error=error, problems=problems[:MAX_PROBLEMS], more_problems=max(0, len(problems) - MAX_PROBLEMS),
        history=history(cycle) if can(current_user, "audit.view") else [], inputs_url=_inputs_url(cycle),
        statuses=STATUS_LABELS, kinds=UNIT_KIND_LABELS, reference_only=_reference_only(cycle, page.items),
        scheme_label=partial(_label, cycle.scheme_id),
    ), status


@bp.get("/<int:cycle_id>")
@permission_required("cycles.view")
def cycle(cycle_id: int):
    """One cycle: its facts and settings, the moves its state allows, compute, its subjects
    (eligible or excluded with the reason; filtered live), a link to the results and the history."""
    return _cycle_page(get_cycle(cycle_id))


def _after_action(cycle: Cycle, action, done: str, location: str):
    """Run a service action and commit; a refusal re-shows the cycle page with every problem (422),
    a concurrent change is a 409. htmx requests are redirected with ``HX-Redirect``."""
    try:
        action()
        db_session.commit()
    except CycleError as exc:
        db_session.rollback()
        return _cycle_page(cycle, exc, 422)
    except StaleDataError:
        db_session.rollback()
        db_session.refresh(cycle)
        return _cycle_page(cycle, CycleError(_("The cycle was changed by someone else; reload the page.")), 409)
    flash(done, "success")
    return redirect_after(location)


@bp.post("/<int:cycle_id>/transition")
@permission_required("cycles.manage")
def transition(cycle_id: int):
    """Move the cycle to the posted ``target`` state, if the posted ``version`` is still current and
    the preconditions hold (the service checks and audits)."""
    cycle = get_cycle(cycle_id)
    target = request.form.get("target", "")
    version = request.form.get("version", "")
    action = partial(service.transition, cycle, target, current_actor(), int(version) if version.isdigit() else -1)
    return _after_action(cycle, action, _("The cycle is now: %(state)s.", state=state_label(target)),
                         url_for("cycles.cycle", cycle_id=cycle.id))


@bp.post("/<int:cycle_id>/compute")
@permission_required("cycles.manage")
def compute(cycle_id: int):
    """Score the cycle from its stored inputs (while open or in review) and show the results."""
    cycle = get_cycle(cycle_id)
    return _after_action(cycle, partial(service.compute, cycle, current_actor()), _("The results were computed."),
                         url_for("cycles.results", cycle_id=cycle.id))


# ------------------------------------------------------------------------------------- results

def _ranking_filter(kinds: dict[str, int]) -> ranking.RankingFilter:
    """The ranking's filters from the query: ``kind`` (defaults to the first kind with results), ``class``, ``grade``."""
    kind = request.args.get("kind", "")
    if kind not in kinds:
        kind = next(iter(kinds), "person")
    return ranking.RankingFilter(kind=kind, group=request.args.get("class", "").strip(),
                                 grade=request.args.get("grade", "").strip())


def _group_labels(which: ranking.RankingFilter, values: list[str]) -> list[tuple[str, str]]:
    if which.kind == "unit":
        return [(v, str(UNIT_KIND_LABELS.get(v, v))) for v in values]
    return [(v, v) for v in values]


@bp.get("/<int:cycle_id>/results")
@permission_required("cycles.view")
def results(cycle_id: int):
    """The ranking of one kind of subject (tabs: units, people), filtered live by class and grade,
    sorted by rank, each score opening its breakdown; a grade-distribution chart when the scheme
    grades."""
    cycle = get_cycle(cycle_id)
    kinds = ranking.kind_counts(cycle)
    which = _ranking_filter(kinds)
    page = paginate(ranking.ranking(cycle, which))
    chart = ranking.grade_chart(ranking.grade_counts(cycle, which.kind, which.group))
    args = {k: v for k, v in (("kind", which.kind), ("class", which.group), ("grade", which.grade)) if v}
    response = render_page(
        "cycles/results.html", cycle=cycle, scheme_name=scheme_name(cycle.scheme_id), state_label=state_label,
        kinds=kinds, kind_labels=KIND_LABELS, which=which, page=page, subjects=ranking.subjects_of(page.items),
        groups=_group_labels(which, ranking.groups(cycle, which.kind)),
        grades=[grade for grade, _n in ranking.grade_counts(cycle, which.kind)], chart=chart,
        flag_label=partial(_label, cycle.scheme_id), unit_kinds=UNIT_KIND_LABELS,
        export_url=url_for("cycles.results_xlsx", cycle_id=cycle.id, **args))
    return _no_store(make_response(response))


@bp.get("/<int:cycle_id>/results/<int:result_id>")
@permission_required("cycles.view")
def result(cycle_id: int, result_id: int):
    """One result: score, grade, rank and flags, and its breakdown down to the raw inputs."""
    cycle = get_cycle(cycle_id)
    result = get_result(cycle, result_id)
    subject = db_session.get(CycleSubject, result.subject_id)
    unit = db_session.get(OrgUnit, subject.unit_id) if subject and subject.unit_id else None
    extra, breakdown, inputs = redact(current_user, get_schemes()[cycle.scheme_id], subject.person_id,
                                      result.extra, result.breakdown, subject.inputs or {})
    return _no_store(make_response(render_page(
        "cycles/result.html", cycle=cycle, result=result, subject=subject, unit=unit, extra=extra, breakdown=breakdown,
        inputs=inputs,
        scheme_name=scheme_name(cycle.scheme_id), state_label=state_label, term=partial(_label, cycle.scheme_id),
        statuses=STATUS_LABELS, unit_kinds=UNIT_KIND_LABELS)))


@bp.get("/<int:cycle_id>/results.xlsx")
@permission_required("cycles.view")
def results_xlsx(cycle_id: int):
    """The ranking (same kind, class and grade filters as the page) as an .xlsx download."""
    cycle = get_cycle(cycle_id)
    which = _ranking_filter(ranking.kind_counts(cycle))
    headers = [_("Rank"), _("Code"), _("Name"), _("Kind") if which.kind == "unit" else _("Class"), _("Score"),
               _("Grade"), _("Flags")]
    rows = ([r.rank, s.code, s.name,
             str(UNIT_KIND_LABELS.get(s.unit_kind, s.unit_kind or "")) if s.kind == "unit" else (s.staff_class or ""),
             r.score, r.grade or "", ", ".join(_label(cycle.scheme_id, f) for f in r.flags or [])]
            for r, s in ranking.ranking_rows(cycle, which))
    body = ranking.workbook(str(KIND_LABELS[which.kind]), headers, rows, score_columns=(4,))
    response = make_response(body)
    response.mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"{cycle.name}-{cycle.period}-{which.kind}.xlsx"
    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_.") else "_" for ch in filename)
    response.headers["Content-Disposition"] = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"
    return _no_store(response)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
