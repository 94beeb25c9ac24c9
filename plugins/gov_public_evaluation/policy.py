"""Who may do what on the township scheme's own pages: the scheme's part of the access policy.

The efficiency office (效能办, the tenant administrators) runs the scheme: the indicator tree, the
points, the survey and its links, inspections and information reports. Leaders read everything.
Surveyors enter interviews and see the survey's progress, never scores. A unit head reads their own
unit's records, and the rankings once a cycle is published (the bulletin, 分析通报). Anonymous
respondents reach only the answer page of their own link. Built on :mod:`core.policy`; views ask
these functions and never test roles themselves. One section per feature.
"""
from __future__ import annotations

from core.models import User
from core.policy import headed_units

PUBLISHED = ("published", "closed")


def is_office(user: User | None) -> bool:
    """The efficiency office (效能办): the tenant administrators."""
    return user is not None and "tenant_admin" in user.roles


def is_leader(user: User | None) -> bool:
    return user is not None and "leader" in user.roles


def is_surveyor(user: User | None) -> bool:
    return user is not None and "surveyor" in user.roles


def heads_unit(user: User | None, unit_id: int | None) -> bool:
    """A unit head answers for the unit (or a unit above it)."""
    return user is not None and unit_id is not None and "unit_head" in user.roles and unit_id in headed_units(user)


def reads_everything(user: User | None) -> bool:
    """The office and the leaders read every unit's records and scores, whatever the cycle's state."""
    return is_office(user) or is_leader(user)


def readable_units(user: User | None) -> set[int] | None:
    """The units whose records the user reads: None for every unit, else the headed units (maybe none)."""
    if reads_everything(user):
        return None
    if user is not None and "unit_head" in user.roles:
        return set(headed_units(user))
    return set()


def may_open_scheme_pages(user: User | None) -> bool:
    """The township pages are for the office, leaders, surveyors and unit heads; not other staff."""
    return user is not None and bool(user.roles & {"tenant_admin", "leader", "surveyor", "unit_head"})


# ----------------------------------------------------------------------------------- indicator tree

def may_edit_tree(user: User | None) -> bool:
    return is_office(user)


def may_view_tree(user: User | None) -> bool:
    return reads_everything(user) or (user is not None and "unit_head" in user.roles)


def may_apply_tree_to_cycles(user: User | None) -> bool:
    """Giving the current tree to the cycles not yet under way (draft or open, no points entered)
    changes those cycles' settings: the office, who runs the scheme."""
    return is_office(user)


# ----------------------------------------------------------------------------------- points

def may_enter_points(user: User | None) -> bool:
    """Points are entered from collected data, and verified at year end, by the office alone."""
    return is_office(user)


def may_view_points(user: User | None, unit_id: int) -> bool:
    return reads_everything(user) or heads_unit(user, unit_id)


def may_open_points(user: User | None) -> bool:
    """A cycle's points overview: the office and leaders (every unit), unit heads (their own units' rows)."""
    return reads_everything(user) or bool(readable_units(user))


# ----------------------------------------------------------------------------------- survey

def may_manage_survey(user: User | None) -> bool:
    """Questions, quotas and links: the office."""
    return is_office(user)


def may_enter_interviews(user: User | None) -> bool:
    """Household and telephone interviews: surveyors, and the office."""
    return is_surveyor(user) or is_office(user)


def may_view_survey_progress(user: User | None) -> bool:
    """Counts per unit and category (no answers, no scores)."""
    return is_surveyor(user) or reads_everything(user)


def may_delete_interview(user: User | None, entered_by: str | None, actor_name: str) -> bool:
    """A surveyor withdraws their own interview while the survey is open; the office any interview."""
    return is_office(user) or (is_surveyor(user) and entered_by is not None and entered_by == actor_name)


def may_list_interviews(user: User | None) -> bool:
    """The interviews list: whoever enters interviews (a surveyor sees their own, the office all)."""
    return may_enter_interviews(user)


def sees_all_interviews(user: User | None) -> bool:
    """The office lists every surveyor's interviews; a surveyor only the ones they entered."""
    return is_office(user)


def may_view_answer_distribution(user: User | None) -> bool:
    """How each unit was answered (satisfied, basically satisfied, ...): the office and leaders;
    surveyors see counts of responses only."""
    return reads_everything(user)


def has_interviews_menu(user: User | None) -> bool:
    """The "Interviews" menu entry: surveyors (the office and leaders have "Public evaluation")."""
    return is_surveyor(user)


def has_public_evaluation_menu(user: User | None) -> bool:
    """The "Public evaluation" menu entry (the survey's index of the scheme's cycles): the office and leaders."""
    return reads_everything(user)


def sees_draft_surveys(user: User | None) -> bool:
    """The survey's index lists draft cycles (their surveys are being set up) for the office only."""
    return may_manage_survey(user)


def may_open_survey_index(user: User | None) -> bool:
    """The list of the cycles whose survey is under way (where the menu entry leads)."""
    return may_enter_interviews(user) or may_view_survey_progress(user) or may_manage_survey(user)


# ----------------------------------------------------------------------------------- inspections & reports

def may_record_findings(user: User | None) -> bool:
    """Inspection findings and information reports are recorded by the office."""
    return is_office(user)


def may_view_unit_records(user: User | None, unit_id: int) -> bool:
    return reads_everything(user) or heads_unit(user, unit_id)


def may_list_unit_records(user: User | None) -> bool:
    """The inspection and information-report pages: the office and leaders (every unit), unit heads
    (their own units' rows only, see :func:`readable_units`). Surveyors and other staff: no."""
    return reads_everything(user) or (user is not None and "unit_head" in user.roles)


# ----------------------------------------------------------------------------------- results

def may_view_rankings(user: User | None, cycle_state: str) -> bool:
    """Rankings, reward and accountability lists, progress and summaries: the office and leaders
    once computed; unit heads once the cycle is published (the bulletin circulated to the units)."""
    if reads_everything(user):
        return True
    return user is not None and "unit_head" in user.roles and cycle_state in PUBLISHED


def may_open_results(user: User | None) -> bool:
    """The results pages without one cycle (progress of a year, the half-year and annual bulletins):
    whoever may view the rankings of some cycle (a published one at least). Each page then shows
    only the cycles :func:`may_view_rankings` allows."""
    return may_view_rankings(user, "published")


def highlighted_units(user: User | None) -> set[int]:
    """The units shown highlighted in rankings: the ones a unit head answers for (none for others)."""
    if user is None or "unit_head" not in user.roles:
        return set()
    return set(headed_units(user))


def result_page(user: User | None, cycle_state: str, unit_id: int | None) -> str | None:
    """Which of the core's pages explains a unit's result to this user, down to its inputs:
    ``"cycle"`` (the cycle's result page, for those who follow cycles: the office and leaders),
    ``"own"`` (the result page of :func:`core.policy.can_see_result`: a unit head's own units once
    published), or None (no link: the user may not open that result)."""
    from core.policy import can, can_see_result

    if user is None:
        return None
    if can(user, "cycles.view"):
        return "cycle"
    if can_see_result(user, cycle_state, None, unit_id):
        return "own"
    return None


def my_assessment_units(user: User | None) -> set[int]:
    """The units on a unit head's "My unit's assessment" page: the ones they answer for (a unit and
    those below it); none for anyone who heads no unit."""
    if user is None or "unit_head" not in user.roles:
        return set()
    return set(headed_units(user))


def may_open_my_assessment(user: User | None) -> bool:
    """"My unit's assessment" (本单位考评): for unit heads who head a unit. Results show there once a
    cycle is published (:func:`may_view_rankings`), their records through the pages that show them."""
    return bool(my_assessment_units(user))


# ----------------------------------------------------------------------------------- links

def may_issue_links(user: User | None) -> bool:
    """Anonymous one-time links (their batches, the printable sheets of QR codes): the office, who
    runs the survey. Nobody else sees a token: holding one is the right to answer once."""
    return may_manage_survey(user)
