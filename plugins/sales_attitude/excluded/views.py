"""Excluded staff (issue 6, item 6): the people of a sales month who are not assessed, each with
the reason: an excluded status (intern, probation, transfer, promotion, demotion: listed, not
ranked, no pay computed; these are the ones counted), and apart the people the cycle left out (no
staff class of the scheme ...)."""
from __future__ import annotations

from flask import Blueprint, abort, make_response, url_for
from flask_babel import gettext as _

from core.policy import permission_required, tenant_user
from core.slots import MenuItem
from core.web import paginate_list, render_page
from plugins.sales_attitude.excluded import service
from plugins.sales_attitude.policy import may_view_excluded
from plugins.sales_attitude.web import account, cycle_state_name, get_sales_cycle, require_scheme

bp = Blueprint("sales_excluded", __name__, url_prefix="/t/<tenant>/sales")
OUTSIDE_SHOWN = 500  # the people left out of the cycle listed at most (the count says how many there are)


def _cycle(cycle_id: int):
    """A sales cycle of the tenant (404 otherwise) whose excluded staff the user may see (403)."""
    require_scheme()
    cycle = get_sales_cycle(cycle_id)
    if not may_view_excluded(account()):
        abort(403)
    return cycle


@bp.get("/cycles/<int:cycle_id>/excluded")
@permission_required("tenant.home")
def index(cycle_id: int):
    """The month's excluded staff (an excluded status) with the reason, paginated; then, collapsed,
    the people the cycle left out (no staff class of the scheme ...) with theirs. HR and leaders:
    everyone; unit heads: their units."""
    cycle = _cycle(cycle_id)
    user = account()
    found = service.excluded(cycle, user)
    others = service.outside(cycle, user)
    response = make_response(render_page(
        "sales_attitude/excluded/index.html", cycle=cycle, page=paginate_list(found), total=len(found),
        outside=others[:OUTSIDE_SHOWN], outside_total=len(others), state_label=cycle_state_name,
        term_label=service.term_label,
        classes=service.join_terms(service.term_label(c) for c in service.STAFF_CLASSES)))
    response.headers["Cache-Control"] = "no-store"
    return response


def cycle_links(cycle, user) -> list:
    """"Excluded staff (n)" on a sales cycle (n: the excluded statuses), for HR, leaders and unit heads."""
    user = tenant_user(user)
    if not may_view_excluded(user):
        return []
    count = service.count_by_cycle([cycle.id], user)[cycle.id]
    return [MenuItem(_("Excluded staff (%(n)s)", n=count), url_for("sales_excluded.index", cycle_id=cycle.id),
                     "sales_excluded.index", order=40)]


def menu_items(tenant, user) -> list:
    """The excluded staff belong to a month: reached from the cycle's page or the ratings' months."""
    return []
