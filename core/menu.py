"""The core's own menu entries, contributed through the same hook plugins use."""
from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _

from core import hookimpl
from core.cycles.after import unread_count
from core.policy import can
from core.slots import MenuItem


@hookimpl
def jixiao_tpl_menu_items(tenant, user):
    if tenant is None:
        return []
    items = [MenuItem(_("Home"), url_for("tenant_home.home"), "tenant_home.home", order=0)]
    if can(user, "org.view"):
        items.append(MenuItem(_("Units"), url_for("org.units"), "org.units", order=10))
        items.append(MenuItem(_("People"), url_for("org.people"), "org.people", order=20))
    if can(user, "cycles.view"):
        items.append(MenuItem(_("Cycles"), url_for("cycles.index"), "cycles.index", order=30))
    if can(user, "results.mine"):
        items.append(MenuItem(_("My results"), url_for("results.mine"), "results.mine", order=40))
    if can(user, "appeals.decide"):
        items.append(MenuItem(_("Appeals"), url_for("results.appeals"), "results.appeals", order=50))
    if can(user, "results.mine"):
        unread = unread_count(user.id)
        label = _("Notifications (%(n)s)", n=unread) if unread else _("Notifications")
        items.append(MenuItem(label, url_for("results.notifications"), "results.notifications", order=80))
    if can(user, "audit.view"):
        items.append(MenuItem(_("Audit trail"), url_for("audit.index"), "audit.index", order=90))
    return items
