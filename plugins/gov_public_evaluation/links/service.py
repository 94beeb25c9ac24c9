"""Anonymous one-time links (匿名评议二维码): issuing a batch of tokens for one respondent category,
reading the batches back with their used counts, the printable sheet's rows, and the public answer
page's lookup and intake.

A token is 20 characters of lowercase Crockford base32 (100 random bits from :mod:`secrets`; no
``i``, ``l``, ``o``, ``u``), so the address under a printed QR code can be typed: it is shown in
groups of five joined by dashes, and :func:`normal_token` reads it back whatever the case, with or
without the dashes, with ``o`` read as 0 and ``i``/``l`` as 1. A token carries nothing about who
answers it; the response it makes (``submission_key = "link:<token>"``) stores no address, no
browser and no account, and is not audited (the audit trail keeps the client's address).

Nothing here commits.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, Iterable

from flask_babel import gettext as _
from sqlalchemy import String, and_, bindparam, case, cast, func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.audit import record
from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit, TenantScheme
from core.models.base import utcnow
from core.tenancy import TenantScopeError, current_tenant_id
from plugins.gov_public_evaluation import SCHEME, settings_of
from plugins.gov_public_evaluation.links.models import SurveyToken, TokenBatch
from plugins.gov_public_evaluation.survey.models import ANSWER_KEYS, SurveyQuestion, SurveyResponse
from plugins.gov_public_evaluation.survey.service import SurveyError

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32, lowercase: nothing to mistake
TOKEN_LENGTH = 20  # 100 random bits
GROUP = 5  # shown as xxxxx-xxxxx-xxxxx-xxxxx
MAX_PER_UNIT = 500
MAX_BATCH = 5_000
ISSUING_STATES = ("draft", "open")  # links are printed before and while the survey collects answers
KEY_PREFIX = "link:"

_TYPED = str.maketrans({"o": "0", "i": "1", "l": "1", "-": None, " ": None})
_VALID = re.compile(f"^[{ALPHABET}]{{{TOKEN_LENGTH}}}$")

# English names of the default categories (a tenant's own categories show their settings' name)
_DEFAULT_CATEGORY_NAMES = {"npc_deputy": "人大代表", "business": "企业经营者", "urban": "城镇居民", "rural": "农村居民"}


class LinkError(ValueError):
    """A batch that is not issued: ``errors`` maps the form's fields to their message; ``status``
    is 422 for a bad input, 409 when the cycle's state does not allow it."""

    def __init__(self, message: str, errors: dict[str, str] | None = None, status: int = 422):
        super().__init__(message)
        self.errors = errors or {}
        self.status = status


# ----------------------------------------------------------------------------------- tokens

def new_token() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(TOKEN_LENGTH))


def normal_token(raw: str) -> str | None:
    """The token a person typed or scanned (any case, dashes or spaces anywhere, ``o`` for 0,
    ``i``/``l`` for 1), or None when it cannot be one."""
    if not raw or len(raw) > 64:
        return None
    value = raw.lower().translate(_TYPED)
    return value if _VALID.match(value) else None


def grouped(token: str) -> str:
    """A token as printed for typing: ``abcde-fghjk-mnpqr-stvwx``."""
    return "-".join(token[i:i + GROUP] for i in range(0, len(token), GROUP))


# ----------------------------------------------------------------------------------- labels

def category_label(settings: Any, code: str) -> str:
    """A respondent category as people read it (the page's language): the name in the cycle's
    settings; in English, the default categories' English names while they keep their default name."""
    from core.i18n import current_locale

    names = {c.code: c.name for c in settings.survey_categories}
    name = names.get(code, code)
    if current_locale() == "en" and _DEFAULT_CATEGORY_NAMES.get(code) == name:
        return {"npc_deputy": _("NPC deputies"), "business": _("Business operators"),
                "urban": _("Urban residents"), "rural": _("Rural residents")}[code]
    return name


# ----------------------------------------------------------------------------------- issuing

@dataclass(frozen=True)
class CycleUnit:
    unit_id: int
    code: str
    name: str


def cycle_units(cycle: Cycle) -> list[CycleUnit]:
    """The units the cycle assesses (eligible unit subjects), in the org tree's order: one query."""
    rows = db_session.execute(
        select(CycleSubject.unit_id, CycleSubject.code, CycleSubject.name)
        .join(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
        .where(CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "unit", CycleSubject.eligible.is_(True))
        .order_by(OrgUnit.sort_order, OrgUnit.code)).all()
    return [CycleUnit(*row) for row in rows]


def check_batch(cycle: Cycle, category: str | None, per_unit: str | None, unit_ids: Iterable[str] | None,
                units: list[CycleUnit] | None = None) -> tuple[str, int, list[int]]:
    """The form's values checked: the category one of the cycle's, a whole number of links per unit
    from 1 to 500, the units among the cycle's (None: all of them), at most 5,000 links in all.

    :return: (category, links per unit, unit ids). :raises LinkError: naming every field that is wrong.
    """
    if cycle.state not in ISSUING_STATES:
        from plugins.gov_public_evaluation.web import cycle_state_name

        raise LinkError(_("Links are issued while the cycle is in draft or open; %(cycle)s is %(state)s.",
                          cycle=cycle.name, state=cycle_state_name(cycle.state)), status=409)
    settings = settings_of(cycle.settings)
    errors: dict[str, str] = {}
    codes = [c.code for c in settings.survey_categories]
    category = (category or "").strip()
    if category not in codes:
        errors["category"] = _("Category: %(value)s is not a respondent category of this cycle; allowed: %(allowed)s.",
                               value=category or "—", allowed=", ".join(
                                   f"{c} ({category_label(settings, c)})" for c in codes))
    raw = (per_unit or "").strip()
    number = int(raw) if raw.isascii() and raw.isdigit() else None
    if number is None or not 1 <= number <= MAX_PER_UNIT:
        errors["per_unit"] = _("Links per unit: %(value)s is not allowed; enter a whole number from 1 to %(max)s.",
                               value=raw or "—", max=MAX_PER_UNIT)
    units = cycle_units(cycle) if units is None else units
    known = {u.unit_id: u for u in units}
    if unit_ids is None:
        chosen = list(known)
    else:
        chosen, wrong = [], []
        for value in unit_ids:
            value = str(value).strip()
            if value.isascii() and value.isdigit() and int(value) in known:
                if int(value) not in chosen:
                    chosen.append(int(value))
            else:
                wrong.append(value or "—")
        if wrong:
            errors["units"] = _("Units: %(value)s is not a unit assessed in this cycle; choose among its units.",
                                value=", ".join(wrong[:5]))
        elif not chosen:
            errors["units"] = _("Units: none chosen; choose at least one unit, or all the cycle's units.")
    if not known and "units" not in errors:
        errors["units"] = _("Units: the cycle assesses no unit, so there is nothing to issue links for.")
    if not errors and number * len(chosen) > MAX_BATCH:
        errors["per_unit"] = _("Links per unit: %(n)s links for each of %(units)s units make %(total)s, more than "
                               "%(max)s in one batch; issue fewer per unit or choose fewer units (or issue "
                               "several batches).", n=number, units=len(chosen), total=number * len(chosen),
                               max=f"{MAX_BATCH:,}")
    if errors:
        raise LinkError(_("The links are not issued: correct the fields marked below."), errors)
    order = {u.unit_id: i for i, u in enumerate(units)}
    return category, number, sorted(chosen, key=order.__getitem__)


def issue_batch(cycle: Cycle, category: str, per_unit: int, unit_ids: list[int], actor: str) -> TokenBatch:
    """Issue ``per_unit`` links for each unit in ``unit_ids`` (checked by :func:`check_batch`), all
    for ``category``: one batch row and one bulk insert of the tokens; audited."""
    batch = TokenBatch(cycle_id=cycle.id, category=category, size=per_unit * len(unit_ids), created_by=actor)
    db_session.add(batch)
    db_session.flush()
    tokens: set[str] = set()
    while len(tokens) < batch.size:
        tokens.add(new_token())
    values = iter(tokens)
    db_session.execute(insert(SurveyToken), [
        dict(tenant_id=cycle.tenant_id, token=next(values), cycle_id=cycle.id, batch_id=batch.id, unit_id=unit_id,
             category=category) for unit_id in unit_ids for _n in range(per_unit)])
    record("links.issue", batch, after={"cycle_id": cycle.id, "category": category, "per_unit": per_unit,
                                        "units": len(unit_ids), "size": batch.size}, actor=actor)
    return batch


# ----------------------------------------------------------------------------------- reading

@dataclass(frozen=True)
class BatchCounts:
    units: int
    used: int


def _used_join():
    """Tokens outer-joined to the response each made (the unique (tenant, submission_key) index)."""
    return and_(SurveyResponse.tenant_id == SurveyToken.tenant_id,
                SurveyResponse.submission_key == literal(KEY_PREFIX) + SurveyToken.token)


def batch_counts(batch_ids: Iterable[int]) -> dict[int, BatchCounts]:
    """Per batch: its units and its used links (answered): one grouped query."""
    ids = sorted(set(batch_ids))
    if not ids:
        return {}
    rows = db_session.execute(
        select(SurveyToken.batch_id, func.count(func.distinct(SurveyToken.unit_id)), func.count(SurveyResponse.id))
        .outerjoin(SurveyResponse, _used_join())
        .where(SurveyToken.batch_id.in_(ids)).group_by(SurveyToken.batch_id)).all()
    return {batch_id: BatchCounts(units, used) for batch_id, units, used in rows}


def category_totals(cycle_id: int) -> dict[str, tuple[int, int]]:
    """Per category: (links issued, links answered) in the cycle: one grouped query."""
    rows = db_session.execute(
        select(SurveyToken.category, func.count(SurveyToken.id), func.count(SurveyResponse.id))
        .outerjoin(SurveyResponse, _used_join())
        .where(SurveyToken.cycle_id == cycle_id).group_by(SurveyToken.category)).all()
    return {category: (issued, used) for category, issued, used in rows}


@dataclass(frozen=True)
class SheetRow:
    token: str
    unit_id: int
    unit_code: str
    unit_name: str
    used: bool


def sheet_rows(batch: TokenBatch, unit_id: int | None = None, unused_only: bool = False,
               offset: int = 0, limit: int | None = None) -> tuple[list[SheetRow], int]:
    """The batch's links grouped by unit (the org tree's order), optionally of one unit or only the
    unanswered ones, one slice of them. :return: (the rows, how many match in all): two queries."""
    used = case((SurveyResponse.id.is_(None), False), else_=True)
    statement = (select(SurveyToken.token, SurveyToken.unit_id, OrgUnit.code, OrgUnit.name, used)
                 .join(OrgUnit, OrgUnit.id == SurveyToken.unit_id)
                 .outerjoin(SurveyResponse, _used_join())
                 .where(SurveyToken.batch_id == batch.id))
    if unit_id is not None:
        statement = statement.where(SurveyToken.unit_id == unit_id)
    if unused_only:
        statement = statement.where(SurveyResponse.id.is_(None))
    total = db_session.scalar(select(func.count()).select_from(statement.subquery())) or 0
    statement = statement.order_by(OrgUnit.sort_order, OrgUnit.code, SurveyToken.id).offset(offset)
    if limit is not None:
        statement = statement.limit(limit)
    return [SheetRow(*row) for row in db_session.execute(statement).all()], total


def batch_units(batch: TokenBatch) -> list[tuple[int, str, str, int]]:
    """The units of a batch with their number of links: (unit id, code, name, links), one grouped query."""
    return [tuple(row) for row in db_session.execute(
        select(SurveyToken.unit_id, OrgUnit.code, OrgUnit.name, func.count())
        .join(OrgUnit, OrgUnit.id == SurveyToken.unit_id).where(SurveyToken.batch_id == batch.id)
        .group_by(SurveyToken.unit_id, OrgUnit.code, OrgUnit.name, OrgUnit.sort_order)
        .order_by(OrgUnit.sort_order, OrgUnit.code)).all()]


# ----------------------------------------------------------------------------------- the public page

@dataclass(frozen=True)
class Link:
    """What the answer page needs about a token, read in one query. ``tenant_id``, ``id``, ``name``
    and ``state`` are the cycle's (``cycle_id`` repeats ``id``): it stands for the cycle in
    :func:`plugins.gov_public_evaluation.survey.service.record_response`, which reads only those.
    ``question_ids`` are the cycle's questions in the order asked."""

    token_id: int
    token: str
    unit_id: int
    category: str
    id: int
    tenant_id: int
    name: str
    state: str
    settings: dict
    unit_name: str
    used: bool
    question_ids: tuple[int, ...]

    @property
    def cycle_id(self) -> int:
        return self.id


def _link_statement():
    """The token with its cycle, unit, whether it was answered, the cycle's questions (``position:id``
    pairs, aggregated portably and ordered in Python) and whether the tenant uses the scheme. Built
    once; every table is filtered on the tenant explicitly (it runs on the session's connection,
    below the ORM; PostgreSQL's row-level security still applies).

    On PostgreSQL the cycle's row is share-locked (``FOR KEY SHARE``, the lock the response's foreign
    key takes anyway, as :func:`~plugins.gov_public_evaluation.survey.service.lock_for_response`
    does): a move of the cycle (which locks it exclusively) is either before the read, and the page
    says the survey is closed, or waits for the answer's transaction, and counts it."""
    tenant, token, key = bindparam("tenant"), bindparam("token"), bindparam("key")
    answered = (select(SurveyResponse.id)
                .where(SurveyResponse.tenant_id == tenant, SurveyResponse.submission_key == key).exists())
    enabled = (select(TenantScheme.id).where(TenantScheme.tenant_id == tenant, TenantScheme.scheme_id == SCHEME.id,
                                             TenantScheme.enabled.is_(True)).exists())
    asked = (select(func.aggregate_strings(cast(SurveyQuestion.position, String) + literal(":")
                                           + cast(SurveyQuestion.id, String), ","))
             .where(SurveyQuestion.tenant_id == tenant, SurveyQuestion.cycle_id == SurveyToken.cycle_id)
             .scalar_subquery())
    return (select(SurveyToken.id, SurveyToken.token, SurveyToken.unit_id, SurveyToken.category, Cycle.id,
                   Cycle.tenant_id, Cycle.name, Cycle.state, Cycle.settings, OrgUnit.name, answered, asked)
            .join(Cycle, and_(Cycle.tenant_id == tenant, Cycle.id == SurveyToken.cycle_id))
            .join(OrgUnit, and_(OrgUnit.tenant_id == tenant, OrgUnit.id == SurveyToken.unit_id))
            .where(SurveyToken.tenant_id == tenant, SurveyToken.token == token, Cycle.scheme_id == SCHEME.id, enabled)
            .with_for_update(read=True, key_share=True, of=Cycle.__table__))


_LINK = _link_statement()


def find_link(token: str) -> Link | None:
    """The current tenant's link with this (normalised) token, with its cycle, unit, questions and
    whether it has been answered; None when there is none (another tenant's token too) or the
    tenant no longer uses the scheme: one query.

    The answer page's POST is the hot path of the survey intake (bench/survey_load.py): this query
    is built once and runs on the session's connection, skipping the ORM's per-statement work
    (about 0.4 ms of CPU each); the tenant is a bound parameter of every table's filter."""
    tenant_id = current_tenant_id(db_session)
    if tenant_id is None:
        raise TenantScopeError("a link was looked up with no current tenant")
    row = db_session.connection().execute(_LINK, {"tenant": tenant_id, "token": token,
                                                  "key": KEY_PREFIX + token}).first()
    if row is None:
        return None
    pairs = sorted(tuple(int(n) for n in pair.split(":")) for pair in row[-1].split(",")) if row[-1] else []
    return Link(*row[:-1], question_ids=tuple(question_id for _position, question_id in pairs))


def question_ids(cycle_id: int) -> list[int]:
    """The ids of the cycle's questions in the order asked."""
    return list(db_session.scalars(select(SurveyQuestion.id).where(SurveyQuestion.cycle_id == cycle_id)
                                   .order_by(SurveyQuestion.position)))


def answers_of(form: Any) -> dict[str, str]:
    """The answers a form sent: fields ``q<question id>``; every other field is ignored."""
    return {key[1:]: value for key, value in form.items()
            if key[:1] == "q" and key[1:].isascii() and key[1:].isdigit()}


_RESPONSE_COLUMNS = ("tenant_id", "cycle_id", "unit_id", "category", "channel", "submission_key", "token_id",
                     "answers", "satisfied", "basically_satisfied", "dissatisfied", "dont_know", "note", "entered_by",
                     "created_at")
_INSERTS: dict[str, Any] = {}


def _insert(dialect: str):
    """``INSERT .. ON CONFLICT (tenant_id, submission_key) DO NOTHING RETURNING id`` into the survey's
    responses, built once per dialect with every value a bound parameter."""
    statement = _INSERTS.get(dialect)
    if statement is None:
        table = SurveyResponse.__table__
        make = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = _INSERTS[dialect] = (
            make(table).values({c: bindparam(c, type_=table.c[c].type) for c in _RESPONSE_COLUMNS})
            .on_conflict_do_nothing(index_elements=["tenant_id", "submission_key"]).returning(table.c.id))
    return statement


def take_answers(link: Link, answers: dict[str, str]) -> tuple[int, bool]:
    """One anonymous response for the link, once: the answers checked against the link's questions
    (:func:`~plugins.gov_public_evaluation.survey.service.check_answers`); a repeat (a double tap, a
    retry after a lost reply, two tabs at once) writes nothing.

    The same row and the same single ``INSERT .. ON CONFLICT DO NOTHING`` on (tenant, submission key)
    as :func:`~plugins.gov_public_evaluation.survey.service.record_response` makes for the link
    channel (channel "link", ``submission_key`` "link:<token>", the token's id, no account, no note),
    with the statement built once and run on the session's connection: the intake's hot path
    (bench/survey_load.py). Not audited: the response is the record, and the audit trail would keep
    the client's address.

    :return: (response id, taken now). :raises SurveyError: the cycle is not open, an answer is missing,
        not one of the four, or for a question that is not the survey's.
    """
    from plugins.gov_public_evaluation.survey.service import COLLECTING, check_answers

    if link.state not in COLLECTING:
        raise SurveyError(_("The survey of %(cycle)s takes answers while the cycle is open; it is %(state)s.",
                            cycle=link.name, state=link.state))
    checked = check_answers(list(link.question_ids), answers)
    counts = dict.fromkeys(ANSWER_KEYS, 0)
    for value in checked.values():
        counts[value] += 1
    key = KEY_PREFIX + link.token
    connection = db_session.connection()
    new_id = connection.execute(_insert(connection.dialect.name), dict(
        tenant_id=link.tenant_id, cycle_id=link.id, unit_id=link.unit_id, category=link.category, channel="link",
        submission_key=key, token_id=link.token_id, answers=checked, note="", entered_by=None, created_at=utcnow(),
        **counts)).scalar()
    if new_id is not None:
        return new_id, True
    return connection.execute(select(SurveyResponse.id).where(SurveyResponse.tenant_id == link.tenant_id,
                                                              SurveyResponse.submission_key == key)).scalar(), False
