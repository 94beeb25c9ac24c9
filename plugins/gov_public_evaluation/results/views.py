"""The township's results pages (schemes.md §3): a cycle's rankings on the total and per first-level
indicator, its reward and accountability lists, a year's quarterly progress, and the half-year and
annual analysis bulletins (分析通报) that print on A4.

Who sees what is decided in plugins/gov_public_evaluation/policy.py (results section): the office
(效能办) and the leaders once a cycle is computed, unit heads once it is published (their own units
highlighted). The pages are confidential (``no-store``, no htmx history). The rankings page answers
htmx requests aimed at ``#rankings`` with that block (a tab, a page of the table).
"""
from __future__ import annotations

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.policy import permission_required, tenant_user
from core.scoring.numbers import text
from core.slots import MenuItem
from core.web import paginate_list, render_page
from plugins.gov_public_evaluation.policy import (highlighted_units, may_open_my_assessment, may_open_results,
                                                  may_view_rankings, my_assessment_units, readable_units,
                                                  result_page)
from plugins.gov_public_evaluation.results import service
from plugins.gov_public_evaluation.web import account, allowed, cycle_state_name, get_township_cycle, require_scheme

bp = Blueprint("township_results", __name__, url_prefix="/t/<tenant>/township")


# ----------------------------------------------------------------------------------- helpers

def _confidential(body, status: int = 200):
    """Results before publication are for the office and the leaders: kept out of shared caches
    and the browser's history."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _cycle(cycle_id: int):
    """A township cycle of the tenant (404 otherwise) whose rankings the user may see (403)."""
    require_scheme()
    cycle = get_township_cycle(cycle_id)
    allowed(may_view_rankings(account(), cycle.state))
    return cycle


def _year(year: int) -> None:
    require_scheme()
    if not service.valid_year(year):
        abort(404)
    allowed(may_open_results(account()))


def _visible():
    user = account()
    return lambda state: may_view_rankings(user, state)


def _link(user, cycle):
    """The core's page explaining a unit's result (down to its inputs), or None for this user."""
    def link(row) -> str | None:
        kind = result_page(user, cycle.state, row.unit_id)
        if kind == "cycle":
            return url_for("cycles.result", cycle_id=cycle.id, result_id=row.result_id)
        if kind == "own":
            return url_for("results.result", result_id=row.result_id)
        return None
    return link


def _context(**extra) -> dict:
    """What every results page's template uses."""
    return dict(number=service.number, score=service.score, text=text, state_label=cycle_state_name,
                period_label=service.period_label,
                flag_kind_label=service.flag_kind_label, flag_parts=service.flag_parts,
                own=highlighted_units(account()), **extra)


# ----------------------------------------------------------------------------------- one cycle

@bp.get("/cycles/<int:cycle_id>/rankings")
@permission_required("tenant.home")
def rankings(cycle_id: int):
    """A cycle's rankings: the units on the total (rank, score, indicator points, public score,
    inspection deductions, reporting shortfall, flags), or (``?view=<first-level code>``) on one
    first-level indicator (subtotal, rank, maximum); paginated, each unit opening the core's result
    page where the user may read it. Says when the cycle is not computed yet, and when its inputs or
    records changed after it was computed."""
    cycle = _cycle(cycle_id)
    table = service.rankings(cycle)
    view = request.args.get("view", "")
    group = table.group(view)
    view = group.code if group is not None else "total"
    rows = table.by_group(view) if group is not None else table.rows
    return _confidential(render_page(
        "gov_public_evaluation/results/rankings.html", **_context(
            cycle=cycle, table=table, view=view, group=group, page=paginate_list(rows),
            link=_link(account(), cycle))))


@bp.get("/cycles/<int:cycle_id>/rewards")
@permission_required("tenant.home")
def rewards(cycle_id: int):
    """The reward (奖励) and accountability (追究主要领导责任) lists of a computed cycle: per
    first-level indicator, the units its flags reward and those whose head is held accountable
    (with the head's name as recorded), under the rule of the cycle's settings."""
    cycle = _cycle(cycle_id)
    table = service.with_heads(service.rankings(cycle))
    return _confidential(render_page("gov_public_evaluation/results/rewards.html", **_context(
        cycle=cycle, table=table, link=_link(account(), cycle))))


# ----------------------------------------------------------------------------------- a year

@bp.get("/progress")
@permission_required("tenant.home")
def progress_index():
    """The progress of the latest year with a township cycle (this year when there is none)."""
    require_scheme()
    allowed(may_open_results(account()))
    found = service.years()
    return redirect(url_for(".progress", year=found[0] if found else service.today().year))


@bp.get("/progress/<int:year>")
@permission_required("tenant.home")
def progress(year: int):
    """A year's quarterly progress: per unit, the total and rank of each quarter (the latest
    computed cycle of the period the user may see, a published one first) and of the annual cycle,
    with the places gained or lost since the previous quarter; the year's cycles with their
    rankings and lists; the half-year and annual bulletins."""
    _year(year)
    visible = _visible()
    cycles = service.year_cycles(year)
    table = service.progress(year, visible, cycles=cycles)
    return _confidential(render_page("gov_public_evaluation/results/progress.html", **_context(
        year=year, table=table, page=paginate_list(table.rows), cycles=[c for c in cycles if visible(c.state)],
        years=service.years())))


def _bulletin(year: int, part: str):
    _year(year)
    bulletin = service.bulletin(year, part, _visible(), readable_units(account()))
    link = _link(account(), bulletin.main.cycle) if bulletin.main is not None else None
    return _confidential(render_page("gov_public_evaluation/results/summary.html", **_context(
        bulletin=bulletin, year=year, part=part, link=link)))


@bp.get("/summary/<int:year>/half")
@permission_required("tenant.home")
def half_summary(year: int):
    """The half-year analysis bulletin (June): the first two quarters' totals and ranks, the
    results of the latest, its first-level rankings, reward and accountability lists, the survey's
    participation, the inspection findings and the information items reported so far. Prints on A4."""
    return _bulletin(year, "half")


@bp.get("/summary/<int:year>/annual")
@permission_required("tenant.home")
def annual_summary(year: int):
    """The annual analysis bulletin (November): the year's quarters and the annual cycle, whose
    results, lists, survey participation, inspection findings and reporting shortfall it reports.
    Prints on A4."""
    return _bulletin(year, "annual")


# ----------------------------------------------------------------------------------- a unit head's units

@bp.get("/my-units")
@permission_required("tenant.home")
def my_units():
    """My unit's assessment (本单位考评), for unit heads: per unit they answer for, the township
    cycles it takes part in with, once a cycle is published, its total, rank and reward or
    accountability flags (opening the core's page that explains the result), and links to its
    points in the cycle, its inspection findings and its information reports of the period."""
    require_scheme()
    user = account()
    allowed(may_open_my_assessment(user))
    page = paginate_list(service.own_unit_list(my_assessment_units(user)))
    service.own_units(page.items)

    def result_link(row) -> str | None:
        if row.result_id is None:
            return None
        kind = result_page(user, row.cycle.state, row.unit_id)
        if kind == "own":
            return url_for("results.result", result_id=row.result_id)
        if kind == "cycle":
            return url_for("cycles.result", cycle_id=row.cycle.id, result_id=row.result_id)
        return None

    return _confidential(render_page("gov_public_evaluation/results/my_units.html", **_context(
        page=page, result_link=result_link, may_rankings=lambda c: may_view_rankings(user, c.state))))


@bp.get("/results.css")
@permission_required("tenant.home")
def stylesheet():
    """The results pages' styles: highlighted rows, movement, and the print layout of the
    bulletins (A4, no navigation, a page per section, tables that do not break rows)."""
    require_scheme()
    response = make_response(render_template("gov_public_evaluation/results/results.css"))
    response.mimetype = "text/css"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


# ----------------------------------------------------------------------------------- slots

def cycle_links(cycle, user) -> list:
    """"Rankings" and "Rewards and accountability" on a computed township cycle, for those who may
    see its rankings."""
    if cycle.computed_at is None or not may_view_rankings(tenant_user(user), cycle.state):
        return []
    return [MenuItem(_("Rankings"), url_for("township_results.rankings", cycle_id=cycle.id),
                     "township_results.rankings", order=76),
            MenuItem(_("Rewards and accountability"), url_for("township_results.rewards", cycle_id=cycle.id),
                     "township_results.rewards", order=77)]


def menu_items(tenant, user) -> list:
    """"Rankings" (the year's progress, its cycles' rankings and the bulletins), at 76 among the
    township's entries (71–79), for the office, leaders and unit heads; "My unit's assessment" at 77
    for unit heads."""
    account_ = tenant_user(user)
    items = []
    if may_open_results(account_):
        items.append(MenuItem(_("Rankings"), url_for("township_results.progress_index", tenant=tenant.slug),
                              "township_results.progress", order=76))
    if may_open_my_assessment(account_):
        items.append(MenuItem(_("My unit's assessment"), url_for("township_results.my_units", tenant=tenant.slug),
                              "township_results.my_units", order=77))
    return items
