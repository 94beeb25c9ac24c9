"""Who may do what on the sales scheme's own pages: the scheme's part of the access policy.

schemes.md §2: a person's results are visible only to that person, their unit head, HR and company
leaders; pay bases and coefficients are HR's alone. The records behind a result (events, listings,
improvement plans) keep to the same circle. Built on :mod:`core.policy`; views ask these functions
and never test roles themselves. One section per feature.
"""
from __future__ import annotations

from core.models import User
from core.policy import headed_units

# Events a unit head records for their own people (tasks and customer feedback); attendance comes
# from HR (the attendance export or HR's entry).
UNIT_HEAD_EVENT_KINDS = ("overtime", "extra_work", "proactive", "shirking", "praise", "complaint")


def is_hr(user: User | None) -> bool:
    """HR (tenant administrators) run the scheme."""
    return user is not None and "tenant_admin" in user.roles


def is_leader(user: User | None) -> bool:
    """Company leaders read every result."""
    return user is not None and "leader" in user.roles


def heads_unit(user: User | None, unit_id: int | None) -> bool:
    """A unit head answers for the unit (or a unit above it)."""
    return user is not None and unit_id is not None and "unit_head" in user.roles and unit_id in headed_units(user)


def is_self(user: User | None, person_id: int | None) -> bool:
    return user is not None and person_id is not None and user.person_id == person_id


def in_circle(user: User | None, person_id: int | None, unit_id: int | None) -> bool:
    """The circle that sees a person's results and what they are made of: the person, their unit
    head, HR and company leaders."""
    return is_hr(user) or is_leader(user) or heads_unit(user, unit_id) or is_self(user, person_id)


def sees_everyone(user: User | None) -> bool:
    """HR and leaders see every person's records; unit heads only their units' people."""
    return is_hr(user) or is_leader(user)


def may_list_people(user: User | None) -> bool:
    """Lists of people (events, ratings, listings, excluded staff): HR, leaders and unit heads
    (filtered to their units by :func:`unit_scope`)."""
    return sees_everyone(user) or (user is not None and "unit_head" in user.roles)


def unit_scope(user: User | None) -> set[int] | None:
    """The units whose people the user's lists show: None for all (HR, leaders), else the headed units."""
    if sees_everyone(user):
        return None
    return headed_units(user) if user is not None and "unit_head" in user.roles else set()


# ----------------------------------------------------------------------------- events

def may_view_events(user: User | None, person_id: int | None, unit_id: int | None) -> bool:
    """A person's event log: the circle of their results."""
    return in_circle(user, person_id, unit_id)


def may_record_event(user: User | None, kind: str, person_id: int | None, unit_id: int | None) -> bool:
    """HR records every kind; a unit head the tasks and customer feedback of their people, never
    their own."""
    if is_self(user, person_id) and not is_hr(user):
        return False
    if is_hr(user):
        return not is_self(user, person_id)
    return kind in UNIT_HEAD_EVENT_KINDS and heads_unit(user, unit_id)


def may_import_events(user: User | None) -> bool:
    """The attendance export is imported by HR."""
    return is_hr(user)


def may_undo_import(user: User | None) -> bool:
    """HR undoes a whole import (while none of its months is final: the service refuses that)."""
    return may_import_events(user)


def has_own_event_log(user: User | None, staff_class: str | None) -> bool:
    """"My events" is for the people the scheme assesses: an account whose person has a staff class
    of the scheme (supervisor, staff). Others (HR, leaders without one) are not assessed by it."""
    from plugins.sales_attitude.scoring import STAFF_CLASSES

    return user is not None and user.person_id is not None and staff_class in STAFF_CLASSES


def may_list_events(user: User | None) -> bool:
    """The month's event log of many people: HR, leaders, unit heads (their units' people, see
    :func:`unit_scope`). Employees reach only their own log."""
    return may_list_people(user)


def recordable_event_kinds(user: User | None) -> tuple[str, ...]:
    """The kinds the user may record at all (for whom: :func:`may_record_event`): every kind for HR,
    :data:`UNIT_HEAD_EVENT_KINDS` for a unit head, none otherwise."""
    from plugins.sales_attitude.events.models import KINDS

    if is_hr(user):
        return KINDS
    if user is not None and "unit_head" in user.roles:
        return UNIT_HEAD_EVENT_KINDS
    return ()


def may_delete_event(user: User | None, person_id: int | None, unit_id: int | None, created_by: str | None) -> bool:
    """HR, or whoever entered the event while they may still see the person's log; never one's own
    events (the month must not be final either: the service refuses that for everyone)."""
    if user is None or is_self(user, person_id):
        return False
    return is_hr(user) or (created_by == f"user:{user.username}" and may_view_events(user, person_id, unit_id))


# ----------------------------------------------------------------------------- ratings

def may_rate(user: User | None, person_id: int | None, unit_id: int | None) -> bool:
    """The monthly ratings: the person's unit head, or HR; nobody rates themselves."""
    return not is_self(user, person_id) and (is_hr(user) or heads_unit(user, unit_id))


def may_open_ratings(user: User | None) -> bool:
    """The ratings grid of a month: HR (every unit) and unit heads (the people they may rate)."""
    return is_hr(user) or (user is not None and "unit_head" in user.roles)


def rating_scope(user: User | None) -> tuple[set[int] | None, int | None]:
    """What :func:`may_rate` allows, as a list filter: (the units whose people the user rates, None
    for every unit (HR); the person the user must not rate, their own). For queries counting and
    listing the ratings without loading every person."""
    if user is None:
        return set(), None
    if is_hr(user):
        return None, user.person_id
    return (headed_units(user) if "unit_head" in user.roles else set()), user.person_id


# ----------------------------------------------------------------------------- pay

def may_manage_pay(user: User | None) -> bool:
    """Pay bases, coefficients and the payroll export are HR's alone (schemes.md §2)."""
    return is_hr(user)


def may_set_pay(user: User | None, person_id: int | None) -> bool:
    """HR sets pay, never their own."""
    return is_hr(user) and not is_self(user, person_id)


def may_see_payroll(user: User | None) -> bool:
    """A month's payroll (the performance pay of each person, and its export): HR alone."""
    return may_manage_pay(user)


# ----------------------------------------------------------------------------- competence

def may_view_listings(user: User | None) -> bool:
    """The training and transfer lists of a month: HR, leaders, unit heads (their units)."""
    return may_list_people(user)


def may_manage_plans(user: User | None, person_id: int | None = None) -> bool:
    """HR opens improvement plans and records the final evaluation and decision; never their own."""
    return is_hr(user) and not is_self(user, person_id)


def may_own_plan(user: User | None, person_id: int | None, unit_id: int | None) -> bool:
    """Who may own a person's improvement plan: an active account of the circle that sees the
    person's results, other than the person: their unit heads (heading the person's unit or a unit
    above it), HR and company leaders. (A plan shows the listed months and notes: owning one must
    not open them to anyone else.) :func:`plugins.sales_attitude.competence.service.owner_choices`
    lists the same accounts in one query."""
    return (user is not None and user.active and not is_self(user, person_id)
            and (is_hr(user) or is_leader(user) or heads_unit(user, unit_id)))


def _owns(user: User | None, person_id: int | None, unit_id: int | None, owner_id: int | None) -> bool:
    """The plan's owner, while still one who may own it (a unit head moved elsewhere is no longer)."""
    return user is not None and owner_id is not None and user.id == owner_id and may_own_plan(user, person_id, unit_id)


def may_view_plan(user: User | None, person_id: int | None, unit_id: int | None, owner_id: int | None) -> bool:
    """A plan: the circle of the person's results. Its owner is one of them (:func:`may_own_plan`),
    so owning a plan opens nothing more: an owner who has left the circle (a unit head moved
    elsewhere, an owner set outside the portal) no longer sees it. ``owner_id`` is kept for the callers."""
    return in_circle(user, person_id, unit_id)


def may_note_plan(user: User | None, person_id: int | None, unit_id: int | None, owner_id: int | None) -> bool:
    """Progress notes: HR, the owner (while in the circle) and the person's unit head (not the person
    themselves)."""
    if is_self(user, person_id):
        return False
    return is_hr(user) or heads_unit(user, unit_id) or _owns(user, person_id, unit_id, owner_id)


def may_view_provisional_listings(user: User | None) -> bool:
    """A month's lists computed but not yet published (provisional): HR only."""
    return is_hr(user)


def may_edit_person_record(user: User | None) -> bool:
    """The person's record in the org pages (unit, status, active), where HR carries out a plan's
    decision (a new post, a transfer period, the end of the contract): whoever manages the org."""
    from core.policy import can

    return user is not None and can(user, "org.manage")


def may_see_plan_pay(user: User | None) -> bool:
    """Which months of a training plan are paid at the training factor: HR only (pay is confidential);
    everyone else who sees the plan sees its dates."""
    return may_manage_pay(user)


class PlanScope:
    """The plans a user's plan list shows: all of them (``everything``), else those of the people
    of ``unit_ids``, those the account owns (``user_id``) and the person's own (``person_id``)."""

    __slots__ = ("everything", "unit_ids", "user_id", "person_id")

    def __init__(self, everything: bool, unit_ids: set[int], user_id: int | None, person_id: int | None):
        self.everything, self.unit_ids, self.user_id, self.person_id = everything, unit_ids, user_id, person_id


def plan_scope(user: User | None) -> PlanScope:
    """What :func:`may_view_plan` allows, as a list filter: HR and leaders every plan; a unit head
    their units' people's; everyone their own. (The plans a user owns are among these: an owner is
    a unit head of the person, HR or a leader, :func:`may_own_plan`; ``user_id`` stays None so an
    owner who has left the circle is not listed plans they may no longer open.)"""
    if user is None:
        return PlanScope(False, set(), None, None)
    return PlanScope(sees_everyone(user), unit_scope(user) or set(), None, user.person_id)


# ----------------------------------------------------------------------------- excluded

def may_view_excluded(user: User | None) -> bool:
    """The people of a month not assessed, with the reason: HR, leaders, unit heads (their units,
    see :func:`unit_scope`)."""
    return may_list_people(user)
