"""Every hook a Jixiao plugin can implement, in one place.

Families (FlaskBB style):
- ``jixiao_load_*``  register things at start-up: schemes, blueprints, templates, commands, migrations;
- ``jixiao_event_*`` are told that something happened (``jixiao_event_<noun>_<verb>``);
- ``jixiao_tpl_*``   fill a named slot in a page.

Every data-touching hook receives the ``tenant`` explicitly. A plugin implements any subset and may
accept only the arguments it needs (pluggy passes arguments by name), so new arguments can be added
to a spec without breaking existing plugins. ``tests/test_hookspecs.py`` checks that every spec
here has a test.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # imports for annotations only; plugins must not pull the app in at import time
    import click
    from flask import Blueprint
    from markupsafe import Markup

    from core.models import Tenant, User
    from core.schemes import Scheme
    from core.slots import MenuItem

hookspec = pluggy.HookspecMarker("jixiao")


# ---------------------------------------------------------------------------------------------
# Loading: what a plugin brings
# ---------------------------------------------------------------------------------------------

@hookspec
def jixiao_load_schemes() -> list["Scheme"]:
    """Register assessment schemes.

    :return: a list of :class:`core.schemes.Scheme` objects. Scheme ids must be unique across all
        loaded plugins; a duplicate stops the portal from starting.
    """


@hookspec
def jixiao_load_blueprints() -> list["Blueprint"]:
    """Register Flask blueprints. Tenant pages use a ``url_prefix`` starting with ``/t/<tenant>``
    so the tenant is resolved and every object loader is tenant-scoped.

    :return: a list of blueprints to register on the app.
    """


@hookspec
def jixiao_load_template_folders() -> list[str]:
    """Register template folders. A plugin keeps its templates in
    ``<package>/templates/<plugin name>/`` and returns ``<package>/templates``.

    :return: a list of absolute folder paths searched after the core's ``templates/``.
    """


@hookspec
def jixiao_load_cli_commands() -> list["click.Command"]:
    """Register commands under the ``jixiao`` console script.

    :return: a list of click commands or groups.
    """


@hookspec
def jixiao_load_migrations() -> list[str]:
    """Register Alembic version folders holding the plugin's own tables' migrations. Their
    revisions must depend on the core's base revision.

    :return: a list of absolute folder paths.
    """


# ---------------------------------------------------------------------------------------------
# Events: something happened
# ---------------------------------------------------------------------------------------------

@hookspec
def jixiao_event_tenant_loaded(tenant: "Tenant", created: bool, changes: dict[str, int]) -> None:
    """A tenant file was loaded (``jixiao tenant load``), inside the transaction that wrote it.

    :param tenant: the tenant created or updated.
    :param created: ``True`` when the tenant did not exist before.
    :param changes: counts of what changed, e.g. ``{"units_created": 3, "people_updated": 1}``.
    """


@hookspec
def jixiao_event_user_logged_in(tenant: "Tenant", user: "User") -> None:
    """A tenant user logged in.

    :param tenant: the tenant logged into.
    :param user: the account that logged in.
    """


@hookspec
def jixiao_event_cycle_created(tenant: "Tenant", cycle: Any) -> None:
    """A cycle was created and its subjects chosen, inside the transaction that created it. A
    scheme plugin may fill the subjects' inputs from its own records here (the units a class A
    leader oversees, a year's monthly scores); it must use :func:`core.cycles.service.set_inputs`.

    :param tenant: the cycle's tenant.
    :param cycle: the new :class:`core.models.Cycle`, in state ``draft``.
    """


@hookspec
def jixiao_event_cycle_published(tenant: "Tenant", cycle: Any) -> None:
    """A cycle's results were published, inside the transaction that published them (the core
    notifies the assessed people through this hook).

    :param tenant: the cycle's tenant.
    :param cycle: the :class:`core.models.Cycle`, now in state ``published``.
    """


@hookspec
def jixiao_event_cycle_computing(tenant: "Tenant", cycle: Any) -> None:
    """A cycle's inputs are about to be read for scoring: its results are computed, or it moves to
    review (whose check scores them), inside that transaction. A scheme plugin may refresh the inputs it derives from its own records here (the earlier months'
    totals a month's competence rules read), so that results follow the records as they are now;
    it must write them through :mod:`core.cycles.service` (``set_inputs`` or ``set_many_inputs``).

    :param tenant: the cycle's tenant.
    :param cycle: the :class:`core.models.Cycle`, open or in review.
    """


@hookspec
def jixiao_event_results_changed(tenant: "Tenant", cycle: Any) -> None:
    """A published cycle's results were changed after publication (an appeal decided adjusted, or
    corrected and the cycle re-scored from its corrected inputs), inside the transaction that
    changed them. A scheme whose later cycles read these results (a month's totals in the next
    months' history) refreshes them here, through :mod:`core.cycles.service` as in
    ``jixiao_event_cycle_computing``.

    :param tenant: the cycle's tenant.
    :param cycle: the :class:`core.models.Cycle`, published; its ``computed_at`` is the time of a
        re-scoring.
    """


@hookspec
def jixiao_event_inputs_saving(tenant: "Tenant", cycle: Any, subject: Any, account: "User | None",
                               fields: list[str], inputs: dict[str, Any]) -> None:
    """A subject's inputs are about to be saved from the input form or the bulk import, after they
    were checked and before anything is written, inside the transaction that writes them. Raise
    :class:`core.cycles.service.CycleError` to refuse, with a message saying why (and who may change
    them now): nothing is saved and the user sees the message (the form: as its save status; the
    import: as a problem of the row, and no row is imported). A plugin may also write its own rows
    here (they are rolled back with the save when it fails).

    :param tenant: the cycle's tenant.
    :param cycle: the :class:`core.models.Cycle`.
    :param subject: the :class:`core.models.CycleSubject`; its ``inputs`` are still the stored ones.
    :param account: the :class:`core.models.User` saving (``None`` outside a request).
    :param fields: the paths of the declared fields whose values change (a scorecard field such as
        ``personal`` covers both ``personal_score`` and ``personal_items``); may be empty.
    :param inputs: the subject's inputs as they are about to be saved (case-file shape).
    """


# ---------------------------------------------------------------------------------------------
# Template slots: fill a named place in a page
# ---------------------------------------------------------------------------------------------

@hookspec
def jixiao_tpl_menu_items(tenant: "Tenant", user: "User", **kwargs: Any) -> list["MenuItem"]:
    """Entries for a tenant's navigation menu. Only return entries the user may open; the
    access policy (:mod:`core.policy`) decides.

    :param tenant: the tenant whose pages are shown.
    :param user: the logged-in user.
    :return: a list of :class:`core.slots.MenuItem`.
    """


@hookspec
def jixiao_tpl_cycle_links(tenant: "Tenant", user: "User", cycle: Any, **kwargs: Any) -> list["MenuItem"]:
    """Links on a cycle's page to a scheme's own pages for that cycle (plan sheets, the committee
    meeting, 360 reviews ...). Return links only for cycles of your scheme that the user may open.

    :param tenant: the cycle's tenant.
    :param user: the logged-in user.
    :param cycle: the :class:`core.models.Cycle` whose page is shown.
    :return: a list of :class:`core.slots.MenuItem`.
    """


@hookspec
def jixiao_tpl_result_panels(tenant: "Tenant", user: "User", cycle: Any, subject: Any, result: Any,
                             **kwargs: Any) -> list["Markup"]:
    """Panels under a result's breakdown (the result page of HR and leaders, and the person's own):
    what the scheme's records add to the explanation (the events behind a month's counts). The page
    is shown only to those the access policy lets see the result; return nothing the scheme keeps
    from them.

    :param tenant: the cycle's tenant.
    :param user: the logged-in user.
    :param cycle: the :class:`core.models.Cycle`.
    :param subject: the :class:`core.models.CycleSubject` of the result.
    :param result: the :class:`core.models.CycleResult`.
    :return: a list of HTML fragments (``markupsafe.Markup``), already escaped.
    """


@hookspec
def jixiao_tpl_home_panels(tenant: "Tenant", user: "User", **kwargs: Any) -> list["Markup"]:
    """Panels for a tenant's home page, below the core's own.

    :param tenant: the tenant whose home page is shown.
    :param user: the logged-in user.
    :return: a list of HTML fragments (``markupsafe.Markup``), already escaped.
    """
