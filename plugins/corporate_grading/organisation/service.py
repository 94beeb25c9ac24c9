"""Reading and changing the scheme's posts and oversight; every change is audited."""
from __future__ import annotations

from collections import defaultdict

from flask_babel import gettext as _
from sqlalchemy import delete, select

from core.audit import record
from core.db import db_session
from core.models import OrgUnit, Person, User
from plugins.corporate_grading.organisation.models import POSTS, CorporatePost, Oversight


class OrganisationError(ValueError):
    """A change to posts or oversight that is not allowed; the message says why."""


def post_holders() -> dict[str, list[int]]:
    """User ids per post (every post present, possibly empty)."""
    holders: dict[str, list[int]] = {post: [] for post in POSTS}
    for post, user_id in db_session.execute(select(CorporatePost.post, CorporatePost.user_id).order_by(CorporatePost.id)):
        holders.setdefault(post, []).append(user_id)
    return holders


def holds(user: User | None, post: str) -> bool:
    """Does ``user`` hold ``post``?"""
    if user is None:
        return False
    return db_session.scalar(select(CorporatePost.id).where(CorporatePost.post == post,
                                                            CorporatePost.user_id == user.id)) is not None


def set_post(post: str, user_ids: list[int], actor: str) -> None:
    """Replace the holders of ``post``."""
    if post not in POSTS:
        raise OrganisationError(_("%(value)s is not a post; allowed: %(allowed)s", value=repr(post),
                                  allowed=", ".join(POSTS)))
    wanted = list(dict.fromkeys(user_ids))
    known = set(db_session.scalars(select(User.id).where(User.id.in_(wanted), User.active.is_(True))))
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise OrganisationError(_("No active account has the id %(ids)s.", ids=", ".join(map(str, unknown))))
    if post in ("president", "committee_chair", "committee_vice_chair") and len(wanted) > 1:
        raise OrganisationError(_("%(post)s is held by one person; %(count)s were chosen.",
                                  post=post_label(post), count=len(wanted)))
    other = {"committee_chair": "committee_vice_chair", "committee_vice_chair": "committee_chair"}.get(post)
    if other and set(wanted) & set(post_holders()[other]):
        raise OrganisationError(_("%(post)s and %(other)s are two people: the vice-chair acts for an absent chair.",
                                  post=post_label(post), other=post_label(other)))
    before = post_holders()[post]
    db_session.execute(delete(CorporatePost).where(CorporatePost.post == post))
    if wanted:
        db_session.add_all(CorporatePost(post=post, user_id=u) for u in wanted)  # stamped with the tenant on flush
    record("corp.post", Post(post), before={"users": before}, after={"users": wanted}, actor=actor)


def oversight() -> dict[int, list[int]]:
    """Unit ids each overseeing person (class A leader) oversees, by person id."""
    mapping: dict[int, list[int]] = defaultdict(list)
    for person_id, unit_id in db_session.execute(select(Oversight.person_id, Oversight.unit_id).order_by(Oversight.id)):
        mapping[person_id].append(unit_id)
    return dict(mapping)


def overseers() -> dict[int, list[int]]:
    """Person ids of the leaders overseeing each unit, by unit id (a unit without one: absent)."""
    mapping: dict[int, list[int]] = defaultdict(list)
    for person_id, units in oversight().items():
        for unit_id in units:
            mapping[unit_id].append(person_id)
    return dict(mapping)


def supervising_leaders(unit_id: int) -> list[int]:
    """Person ids of the leaders overseeing ``unit_id`` or, failing that, its nearest ancestor that has one."""
    parents = dict(db_session.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())
    by_unit = overseers()
    seen = set()
    while unit_id is not None and unit_id not in seen:
        if unit_id in by_unit:
            return by_unit[unit_id]
        seen.add(unit_id)
        unit_id = parents.get(unit_id)
    return []


def set_oversight(person_id: int, unit_ids: list[int], actor: str) -> None:
    """Replace the units ``person_id`` oversees. Only class A staff oversee units."""
    person = db_session.get(Person, person_id)
    if person is None:
        raise OrganisationError(_("No person has the id %(id)s.", id=person_id))
    wanted = list(dict.fromkeys(unit_ids))
    if wanted and person.staff_class != "A":
        raise OrganisationError(_("%(name)s is class %(cls)s; only class A leaders oversee units.",
                                  name=person.name, cls=person.staff_class or "-"))
    known = set(db_session.scalars(select(OrgUnit.id).where(OrgUnit.id.in_(wanted))))
    unknown = [u for u in wanted if u not in known]
    if unknown:
        raise OrganisationError(_("No unit has the id %(ids)s.", ids=", ".join(map(str, unknown))))
    before = oversight().get(person_id, [])
    db_session.execute(delete(Oversight).where(Oversight.person_id == person_id))
    if wanted:
        db_session.add_all(Oversight(person_id=person_id, unit_id=u) for u in wanted)
    record("corp.oversight", person, before={"units": before}, after={"units": wanted}, actor=actor)


def post_label(post: str) -> str:
    from core.i18n import current_locale

    zh, en = POSTS[post]
    return zh if current_locale() == "zh" else en


class Post:
    """What the audit trail names when a post's holders change (``object_type`` Post, id the post)."""

    def __init__(self, post: str):
        self.id = post
