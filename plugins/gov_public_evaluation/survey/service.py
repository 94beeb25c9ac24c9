"""The survey of a cycle: its questions and quotas, and the responses of both ways in.

Setting up (the office, before the first response arrives): the questions (when the cycle is
created, :func:`prepare_survey` copies those of the scheme's most recent earlier cycle, else the
defaults of :mod:`.questions`; then edited, added, removed, reordered, or replaced by another cycle's
with :func:`copy_questions`) and each respondent category's quota (target respondents per unit).
Once a response has arrived the questions are fixed, so that every answer refers to the same
questions; they are also fixed once the cycle has left data collection (draft, open). Every change
of the questions takes the cycle's row lock, and a response that reads the questions takes a share
of it, so the two cannot cross; every change says what it saw (a question's stamp, or the stamp of
all of them), a missing stamp included, so a concurrent change is a conflict. A change of the
quotas locks the row too (:func:`lock_for_quotas`) and reads the state under the lock.

Taking responses: :func:`record_response` (both ways in; once per ``submission_key``), and for
surveyors :func:`check_interview` and :func:`record_interview` (household and telephone surveys,
audited with their answers) and :func:`delete_interview`. The anonymous links
(:mod:`plugins.gov_public_evaluation.links`) call :func:`record_response` themselves; nothing here
writes a link's answers into the audit trail.

Reading: :func:`progress` counts the responses per unit, category and channel in one grouped query;
:func:`shortfalls` counts, for several cycles at once, the units without a (scorable) answer and
below quota (the home page's to-dos). Messages name choices as people read them, never the keys.

Nothing here commits.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, Mapping

from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import InvalidRequestError

from core.audit import record, snapshot
from core.db import db_session
from core.models import Cycle, CycleSubject, OrgUnit
from core.models.base import utcnow
from plugins.gov_public_evaluation import settings_of
from plugins.gov_public_evaluation.survey.models import (ANSWER_KEYS, CHANNELS, SurveyQuestion, SurveyQuota,
                                                        SurveyResponse)
from plugins.gov_public_evaluation.survey.questions import DEFAULT_QUESTIONS

SCHEME_ID = "gov-public-evaluation"
INTERVIEW_CHANNELS = ("household", "phone")  # what a surveyor enters; "link" is the anonymous way in
INTERVIEW_KEY = re.compile(r"^[0-9a-f]{32}$")
INTERVIEW_KEY_PREFIX = "interview:"
SETUP_STATES = ("draft", "open")  # questions and quotas are set up before and during data collection
NOTE_MAX = 500
TOPIC_MAX = 60
TEXT_MAX = 500
QUESTIONS_MAX = 60
QUOTA_MAX = 10_000
AUDITED_RESPONSE = ("cycle_id", "unit_id", "category", "channel", "answers", "satisfied", "basically_satisfied",
                    "dissatisfied", "dont_know", "note", "entered_by", "created_at")
AUDITED_QUESTION = ("cycle_id", "position", "topic", "text_zh", "text_en")
# What looks like personal data in a note: a mobile number, a landline, an identity card number.
PERSONAL = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|\d{17}[\dXx]|\d{15}|0\d{2,3}-?\d{7,8})(?![\dXx])")


def prepare_survey(cycle: Cycle) -> None:
    """A new cycle's survey: the questions of the scheme's most recent earlier cycle (by creation
    time, then id) when there is one with questions, else the default questions; and each
    category's quota from the cycle's settings (``survey_categories[].quota``). Does nothing twice.
    Three queries at most."""
    if db_session.scalar(select(SurveyQuestion.id).where(SurveyQuestion.cycle_id == cycle.id).limit(1)) is None:
        source = previous_cycle(cycle)
        asked = ([(q.topic, q.text_zh, q.text_en) for q in questions(source.id)] if source is not None
                 else list(DEFAULT_QUESTIONS))
        db_session.execute(insert(SurveyQuestion), [
            dict(tenant_id=cycle.tenant_id, cycle_id=cycle.id, position=i, topic=topic, text_zh=zh, text_en=en)
            for i, (topic, zh, en) in enumerate(asked, start=1)])
    have = set(db_session.scalars(select(SurveyQuota.category).where(SurveyQuota.cycle_id == cycle.id)))
    rows = [dict(tenant_id=cycle.tenant_id, cycle_id=cycle.id, category=c.code, per_unit=c.quota, version=1)
            for c in settings_of(cycle.settings).survey_categories if c.code not in have]
    if rows:
        db_session.execute(insert(SurveyQuota), rows)


def _has_questions(cycle_id_column):
    return select(SurveyQuestion.id).where(SurveyQuestion.cycle_id == cycle_id_column).exists()


def previous_cycle(cycle: Cycle) -> Cycle | None:
    """The scheme's most recent cycle created before ``cycle`` (by ``created_at``, then id) that has
    questions: where a new cycle's questions come from. One query."""
    C = Cycle
    if cycle.created_at is None:
        earlier = C.id < cycle.id
    else:
        earlier = or_(C.created_at < cycle.created_at, and_(C.created_at == cycle.created_at, C.id < cycle.id))
    return db_session.scalar(select(C).where(C.scheme_id == SCHEME_ID, C.id != cycle.id, earlier,
                                             _has_questions(C.id))
                             .order_by(C.created_at.desc(), C.id.desc()).limit(1))


class SurveyError(ValueError):
    """A response (or a change of the survey) that cannot be taken; the message names the field, the
    value and what is allowed. ``errors`` maps form fields to their message (a form with several
    problems); ``status`` is 422 for a bad input, 409 for a state or a concurrent change."""

    status = 422

    def __init__(self, message: str, field: str | None = None, errors: dict[str, str] | None = None,
                 status: int | None = None):
        super().__init__(message)
        self.field = field
        self.errors = errors or ({field: message} if field else {})
        if status is not None:
            self.status = status


class SurveyConflict(SurveyError):
    """Refused because of the cycle's state or someone else's change meanwhile (409)."""

    status = 409


COLLECTING = ("open",)  # answers are taken while the cycle is open (data collection)


def questions(cycle_id: int) -> list[SurveyQuestion]:
    """The cycle's questions in the order asked."""
    return list(db_session.scalars(select(SurveyQuestion).where(SurveyQuestion.cycle_id == cycle_id)
                                   .order_by(SurveyQuestion.position)))


def check_answers(question_ids: list[int], answers: dict[str, str]) -> dict[str, str]:
    """Every question answered with one of the four answers; returns the answers keyed by question id text.
    :raises SurveyError: naming the first question left out or answered with something else."""
    checked: dict[str, str] = {}
    for position, question_id in enumerate(question_ids, start=1):
        value = answers.get(str(question_id))
        if value is None or value == "":
            raise SurveyError(_("Question %(n)s is not answered; choose one of the four answers.", n=position),
                              field=f"q{question_id}")
        if value not in ANSWER_KEYS:
            raise SurveyError(_("Question %(n)s: %(value)s is not an answer; allowed: %(allowed)s.", n=position,
                                value=value[:40], allowed=answers_allowed()), field=f"q{question_id}")
        checked[str(question_id)] = value
    unknown = set(answers) - set(checked)
    if unknown:
        raise SurveyError(_("%(keys)s are not questions of this survey.", keys=", ".join(sorted(unknown))))
    return checked


def record_response(cycle: Cycle, unit_id: int, category: str, channel: str, submission_key: str,
                    answers: dict[str, str], actor: str | None, note: str = "",
                    token_id: int | None = None, question_ids: list[int] | None = None) -> tuple[int, bool]:
    """Take one respondent's answers about one unit, once: a second submission with the same
    ``submission_key`` (a double tap, a retry after a lost reply, two surveyors' devices replaying)
    returns the first response and writes nothing. One INSERT .. ON CONFLICT DO NOTHING, so that two
    submissions at the same moment cannot both be taken.

    ``actor`` is None for an anonymous link. ``question_ids`` may be passed by a caller that has
    them already (the anonymous page). Without them, the cycle's row is share-locked first
    (:func:`lock_for_response`) and the state and questions are read under that lock, so that a
    change of the questions or a move to review cannot cross the response. The caller has checked
    the unit is one of the cycle's and the category one of its settings (:func:`check_target`).

    :return: (the response's id, whether it was taken now). :raises SurveyError: the cycle is not
        collecting, the channel is unknown or an answer is missing or not allowed.
    """
    state = cycle.state
    if question_ids is None:  # the questions are read under a share of the cycle's lock (see lock_for_response)
        state = lock_for_response(cycle)
        question_ids = [q.id for q in questions(cycle.id)]
    if state not in COLLECTING:
        raise SurveyError(_("The survey of %(cycle)s takes answers while the cycle is open; it is %(state)s.",
                            cycle=cycle.name, state=state_name(state)))
    if channel not in CHANNELS:
        raise SurveyError(_("%(value)s is not a way of answering; allowed: %(allowed)s.", value=channel,
                            allowed=_names(CHANNELS, channel_label)), field="channel")
    checked = check_answers(question_ids, answers)
    counts = {key: 0 for key in ANSWER_KEYS}
    for value in checked.values():
        counts[value] += 1
    table = SurveyResponse.__table__
    dialect = db_session.get_bind().dialect.name
    statement = (postgresql_insert(table) if dialect == "postgresql" else sqlite_insert(table)).values(
        tenant_id=cycle.tenant_id, cycle_id=cycle.id, unit_id=unit_id, category=category, channel=channel,
        submission_key=submission_key, token_id=token_id, answers=checked, note=note, entered_by=actor,
        created_at=utcnow(), **counts)
    new_id = db_session.execute(statement.on_conflict_do_nothing(
        index_elements=["tenant_id", "submission_key"]).returning(table.c.id)).scalar()
    if new_id is not None:
        return new_id, True
    existing = db_session.scalar(select(SurveyResponse.id).where(SurveyResponse.submission_key == submission_key))
    return existing, False


def check_target(cycle: Cycle, unit_id: int | None, category: str | None) -> None:
    """The unit is one of the cycle's (eligible) units and the category one of its settings'.
    :raises SurveyError: naming the value and what is allowed."""
    cats = categories(cycle)
    if category not in dict(cats):
        raise SurveyError(_("%(value)s is not a respondent category; allowed: %(allowed)s.", value=category or "",
                            allowed=_(", ").join(name for _code, name in cats)), field="category")
    found = db_session.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == cycle.id,
                                                           CycleSubject.unit_id == unit_id,
                                                           CycleSubject.kind == "unit",
                                                           CycleSubject.eligible.is_(True)))
    if found is None:
        raise SurveyError(_("The unit is not assessed in %(cycle)s; choose one of its units.", cycle=cycle.name),
                          field="unit")


# ----------------------------------------------------------------------------------- locks and states

def lock_for_response(cycle: Cycle) -> str:
    """Take a share of the cycle's row lock (``FOR KEY SHARE`` on PostgreSQL, the lock a response's
    foreign key takes anyway) and return the cycle's state as committed now. A change of the
    questions (:func:`lock_for_setup`) and a move of the cycle hold the row exclusively, so a
    response is either before them (and they see it) or after them (and reads what they wrote)."""
    state = db_session.scalar(select(Cycle.state).where(Cycle.id == cycle.id)
                              .with_for_update(read=True, key_share=True))
    return state if state is not None else cycle.state


def lock_for_setup(cycle: Cycle) -> str:
    """Lock the cycle's row before a change of its questions; return its state as committed now."""
    state = db_session.scalar(select(Cycle.state).where(Cycle.id == cycle.id).with_for_update())
    return state if state is not None else cycle.state


def lock_for_quotas(cycle: Cycle) -> str:
    """Lock the cycle's row before a change of its quotas (``FOR NO KEY UPDATE`` on PostgreSQL: a
    move of the cycle waits, or is waited for, while responses, which take a key share, go on);
    return its state as committed now."""
    state = db_session.scalar(select(Cycle.state).where(Cycle.id == cycle.id).with_for_update(key_share=True))
    return state if state is not None else cycle.state


def state_name(state: str) -> str:
    from plugins.gov_public_evaluation.web import cycle_state_name

    return cycle_state_name(state)


def response_count(cycle_id: int) -> int:
    """How many responses the cycle has (both ways in)."""
    return db_session.scalar(select(func.count()).select_from(SurveyResponse)
                             .where(SurveyResponse.cycle_id == cycle_id)) or 0


def questions_fixed(cycle: Cycle, state: str | None = None, responses: int | None = None) -> str | None:
    """Why the cycle's questions can no longer change, or None while they can (the cycle is a draft
    or open and no response has arrived)."""
    state = state or cycle.state
    if state not in SETUP_STATES:
        return _("The questions are fixed: the cycle is %(state)s; they are set up while it is a draft or open.",
                 state=state_name(state))
    responses = response_count(cycle.id) if responses is None else responses
    if responses:
        return _("The questions are fixed: %(n)s response(s) have arrived, and every answer must refer to the same "
                 "questions. Their text, order and number no longer change in this cycle.", n=responses)
    return None


def quotas_fixed(cycle: Cycle, state: str | None = None) -> str | None:
    """Why the quotas can no longer change (the cycle has left data collection), or None. ``state``:
    the cycle's state as read under its lock (else the state it was loaded with)."""
    state = state or cycle.state
    if state not in SETUP_STATES:
        return _("The quotas are fixed: the cycle is %(state)s; they are set while it is a draft or open.",
                 state=state_name(state))
    return None


# ----------------------------------------------------------------------------------- labels

def answer_label(key: str) -> str:
    """An answer as people read it (the page's language)."""
    return {"satisfied": _("Satisfied"), "basically_satisfied": _("Basically satisfied"),
            "dissatisfied": _("Dissatisfied"), "dont_know": _("Don't know")}.get(key, key)


def channel_label(channel: str) -> str:
    return {"household": _("Household visit"), "phone": _("Telephone interview"),
            "link": _("Anonymous link")}.get(channel, channel)


def _names(keys, label) -> str:
    """Allowed values for a message, as people read them (``满意、基本满意 ...`` in the page's language),
    never the stored keys."""
    return _(", ").join(label(k) for k in keys)


def answers_allowed() -> str:
    """The four answers by name, for a message."""
    return _names(ANSWER_KEYS, answer_label)


def categories(cycle: Cycle) -> list[tuple[str, str]]:
    """The cycle's respondent categories: (code, name), in the order of its settings."""
    return [(c.code, c.name) for c in settings_of(cycle.settings).survey_categories]


def question_text(question: SurveyQuestion, locale: str) -> str:
    """The question in the page's language (the Chinese text when there is no English one)."""
    return question.text_en if locale == "en" and question.text_en else question.text_zh


@dataclass(frozen=True)
class Unit:
    """A unit the cycle assesses (an eligible unit subject)."""

    id: int
    code: str
    name: str
    kind: str | None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.code})"


def cycle_units(cycle: Cycle) -> list[Unit]:
    """The units the cycle assesses, in the organisation's order; one query."""
    rows = db_session.execute(
        select(CycleSubject.unit_id, CycleSubject.code, CycleSubject.name, CycleSubject.unit_kind)
        .outerjoin(OrgUnit, OrgUnit.id == CycleSubject.unit_id)
        .where(CycleSubject.cycle_id == cycle.id, CycleSubject.kind == "unit", CycleSubject.eligible.is_(True),
               CycleSubject.unit_id.is_not(None))
        .order_by(OrgUnit.sort_order, CycleSubject.code))
    return [Unit(*row) for row in rows]


def survey_cycles() -> list[Cycle]:
    """The township cycles collecting answers now (open), newest period first."""
    return list(db_session.scalars(select(Cycle).where(Cycle.scheme_id == SCHEME_ID, Cycle.state.in_(COLLECTING))
                                   .order_by(Cycle.period.desc(), Cycle.id.desc())))


# ----------------------------------------------------------------------------------- questions

def question_stamp(question: SurveyQuestion) -> str:
    """What a form saw of a question (its place and text): a change by someone else meanwhile shows
    as another stamp (the questions have no version column; this is their optimistic lock)."""
    seen = "\x1f".join((str(question.id), str(question.position), question.topic, question.text_zh, question.text_en))
    return hashlib.sha256(seen.encode()).hexdigest()[:16]


def _clean(value: Any) -> str:
    return " ".join(str(value or "").split())


def check_question(cycle: Cycle, values: Mapping[str, Any], question_id: int | None = None) -> dict[str, str]:
    """A question's topic, Chinese and English text, checked. :raises SurveyError: every field's problem."""
    topic, text_zh, text_en = _clean(values.get("topic")), _clean(values.get("text_zh")), _clean(values.get("text_en"))
    errors: dict[str, str] = {}
    if not topic:
        errors["topic"] = _("Topic: empty; name the question's topic (for example 社会治安), at most %(max)s "
                            "characters.", max=TOPIC_MAX)
    elif len(topic) > TOPIC_MAX:
        errors["topic"] = _("Topic: %(n)s characters; at most %(max)s are allowed.", n=len(topic), max=TOPIC_MAX)
    if not text_zh:
        errors["text_zh"] = _("Question (Chinese): empty; write the question as it is asked, at most %(max)s "
                              "characters.", max=TEXT_MAX)
    elif len(text_zh) > TEXT_MAX:
        errors["text_zh"] = _("Question (Chinese): %(n)s characters; at most %(max)s are allowed.", n=len(text_zh),
                              max=TEXT_MAX)
    else:
        same = db_session.scalar(select(SurveyQuestion.position).where(
            SurveyQuestion.cycle_id == cycle.id, SurveyQuestion.text_zh == text_zh,
            *([SurveyQuestion.id != question_id] if question_id is not None else [])).limit(1))
        if same is not None:
            errors["text_zh"] = _("Question (Chinese): “%(value)s” is already question %(n)s; each question is asked "
                                  "once.", value=text_zh, n=same)
    if len(text_en) > TEXT_MAX:
        errors["text_en"] = _("Question (English): %(n)s characters; at most %(max)s are allowed.", n=len(text_en),
                              max=TEXT_MAX)
    if errors:
        raise SurveyError(_("The question is not saved: correct the fields marked below."), errors=errors)
    return {"topic": topic, "text_zh": text_zh, "text_en": text_en}


def _setup_lock(cycle: Cycle) -> None:
    """Lock the cycle and refuse when the questions are fixed (409, saying why)."""
    state = lock_for_setup(cycle)
    reason = questions_fixed(cycle, state)
    if reason:
        raise SurveyConflict(reason)


def _current(question: SurveyQuestion, stamp: str | None) -> SurveyQuestion:
    """The question as committed now (read again under the cycle's lock), if the form saw it so.
    A missing or empty ``stamp`` is a conflict too: every change says what it was made from.
    :raises SurveyConflict: removed or changed by someone else meanwhile, or no stamp (its text now named)."""
    try:
        db_session.refresh(question)
    except InvalidRequestError:
        raise SurveyConflict(_("The question was removed by someone else meanwhile.")) from None
    if not stamp:  # a form that does not say what it saw cannot be told apart from a stale one
        raise SurveyConflict(_("Question %(n)s: the form did not say which version of the question it was made from; "
                               "it now reads: %(topic)s · %(text)s. Open the page again and repeat the change.",
                               n=question.position, topic=question.topic, text=question.text_zh))
    if stamp != question_stamp(question):
        raise SurveyConflict(_("Question %(n)s was changed by someone else meanwhile; it now reads: %(topic)s · "
                               "%(text)s. Check it and save again.", n=question.position, topic=question.topic,
                               text=question.text_zh))
    return question


def add_question(cycle: Cycle, values: Mapping[str, Any], actor: str) -> SurveyQuestion:
    """Add a question after the last one; audited. :raises SurveyError: a bad field, too many
    questions; :raises SurveyConflict: the questions are fixed."""
    _setup_lock(cycle)
    checked = check_question(cycle, values)
    count, last = db_session.execute(select(func.count(), func.max(SurveyQuestion.position))
                                      .where(SurveyQuestion.cycle_id == cycle.id)).one()
    if count >= QUESTIONS_MAX:
        raise SurveyError(_("The survey has %(n)s questions; at most %(max)s are allowed.", n=count, max=QUESTIONS_MAX))
    question = SurveyQuestion(cycle_id=cycle.id, position=(last or 0) + 1, **checked)
    db_session.add(question)
    db_session.flush()
    record("survey.question_add", question, after=snapshot(question, AUDITED_QUESTION), actor=actor)
    return question


def edit_question(cycle: Cycle, question: SurveyQuestion, values: Mapping[str, Any], stamp: str | None,
                  actor: str) -> SurveyQuestion:
    """Change a question's topic and text, if nobody changed it since the form's ``stamp``; audited."""
    _setup_lock(cycle)
    question = _current(question, stamp)
    checked = check_question(cycle, values, question.id)
    before = snapshot(question, AUDITED_QUESTION)
    if all(getattr(question, k) == v for k, v in checked.items()):
        return question
    for key, value in checked.items():
        setattr(question, key, value)
    db_session.flush()
    record("survey.question_edit", question, before=before, after=snapshot(question, AUDITED_QUESTION), actor=actor)
    return question


def move_question(cycle: Cycle, question: SurveyQuestion, direction: str, stamp: str | None,
                  actor: str) -> SurveyQuestion:
    """Swap a question with the one before (``up``) or after (``down``) it; audited."""
    if direction not in ("up", "down"):
        raise SurveyError(_("%(value)s is not a direction; allowed: up, down.", value=direction[:20]),
                          field="direction")
    _setup_lock(cycle)
    question = _current(question, stamp)
    Q = SurveyQuestion
    neighbour = db_session.scalar(
        select(Q).where(Q.cycle_id == cycle.id,
                        Q.position < question.position if direction == "up" else Q.position > question.position)
        .order_by(Q.position.desc() if direction == "up" else Q.position).limit(1))
    if neighbour is None:
        raise SurveyConflict(_("Question %(n)s is already the first.", n=question.position) if direction == "up"
                             else _("Question %(n)s is already the last.", n=question.position))
    mine, theirs = question.position, neighbour.position
    # through a free place: the positions are unique, checked row by row
    db_session.execute(update(Q).where(Q.id == question.id).values(position=-mine)
                       .execution_options(synchronize_session=False))
    db_session.execute(update(Q).where(Q.id == neighbour.id).values(position=mine)
                       .execution_options(synchronize_session=False))
    db_session.execute(update(Q).where(Q.id == question.id).values(position=theirs)
                       .execution_options(synchronize_session=False))
    db_session.refresh(question)
    db_session.refresh(neighbour)
    record("survey.question_move", question, before={"position": mine}, after={"position": theirs}, actor=actor)
    return question


def remove_question(cycle: Cycle, question: SurveyQuestion, stamp: str | None, actor: str) -> None:
    """Remove a question (the later ones move up a place); audited. The last question stays."""
    _setup_lock(cycle)
    question = _current(question, stamp)
    Q = SurveyQuestion
    count = db_session.scalar(select(func.count()).select_from(Q).where(Q.cycle_id == cycle.id)) or 0
    if count <= 1:
        raise SurveyConflict(_("Question %(n)s is the survey's only question; add another before removing it.",
                               n=question.position))
    position, before = question.position, snapshot(question, AUDITED_QUESTION)
    record("survey.question_remove", question, before=before, actor=actor)
    db_session.execute(delete(Q).where(Q.id == question.id).execution_options(synchronize_session=False))
    db_session.expunge(question)
    later = (Q.cycle_id == cycle.id) & (Q.position > position)
    # close the gap through negative places (the positions are unique, checked row by row)
    db_session.execute(update(Q).where(later).values(position=-(Q.position - 1))
                       .execution_options(synchronize_session=False))
    db_session.execute(update(Q).where(Q.cycle_id == cycle.id, Q.position < 0).values(position=-Q.position)
                       .execution_options(synchronize_session=False))


# ----------------------------------------------------------------------------------- copying the questions

def questions_stamp(asked: list[SurveyQuestion]) -> str:
    """What a form saw of all the cycle's questions (each one's place and text, in order): the
    optimistic lock of a change that replaces them all."""
    return hashlib.sha256("\x1e".join(question_stamp(q) for q in asked).encode()).hexdigest()[:16]


def copy_sources(cycle: Cycle) -> list[tuple[Cycle, int]]:
    """The scheme's other cycles whose questions may be copied into ``cycle`` (those that have
    questions), most recently created first, each with its number of questions; one query."""
    counts = (select(SurveyQuestion.cycle_id, func.count().label("n"))
              .group_by(SurveyQuestion.cycle_id).subquery())
    rows = db_session.execute(select(Cycle, counts.c.n).join(counts, counts.c.cycle_id == Cycle.id)
                              .where(Cycle.scheme_id == SCHEME_ID, Cycle.id != cycle.id)
                              .order_by(Cycle.created_at.desc(), Cycle.id.desc()))
    return [(source, int(n)) for source, n in rows]


def copy_source(cycle: Cycle, raw: Any) -> Cycle:
    """The cycle a copy's form names (``source``): another of the scheme's cycles, with questions.
    :raises SurveyError: naming the value and what is allowed."""
    value = str(raw or "").strip()
    if not value:
        raise SurveyError(_("Copy from: no cycle chosen; choose the cycle whose questions to copy."), field="source")
    source = db_session.get(Cycle, int(value)) if value.isdigit() and len(value) < 10 else None
    if source is None or source.scheme_id != SCHEME_ID or source.id == cycle.id or not questions(source.id):
        raise SurveyError(_("Copy from: “%(value)s” is not another township cycle with questions; choose one from "
                            "the list.", value=value[:20]), field="source")
    return source


def copy_questions(cycle: Cycle, source: Cycle, stamp: str | None, actor: str) -> int:
    """Replace the cycle's questions by copies of ``source``'s (same topics, texts and order), if the
    questions are not fixed and nobody changed them since the form's ``stamp``
    (:func:`questions_stamp`); audited once, on the cycle, with the questions before and after.
    :return: how many questions were copied. :raises SurveyConflict: fixed, or changed meanwhile."""
    _setup_lock(cycle)
    current = questions(cycle.id)
    if not stamp or stamp != questions_stamp(current):
        raise SurveyConflict(_("The questions of %(cycle)s were changed by someone else meanwhile (they are shown "
                               "below as they are now); check them and copy again.", cycle=cycle.name))
    copied = questions(source.id)
    if not copied:
        raise SurveyConflict(_("%(cycle)s has no questions any more; choose another cycle.", cycle=source.name))
    Q = SurveyQuestion
    db_session.execute(delete(Q).where(Q.cycle_id == cycle.id).execution_options(synchronize_session=False))
    for question in current:
        db_session.expunge(question)
    db_session.execute(insert(Q), [
        dict(tenant_id=cycle.tenant_id, cycle_id=cycle.id, position=i, topic=q.topic, text_zh=q.text_zh,
             text_en=q.text_en) for i, q in enumerate(copied, start=1)])
    as_listed = lambda asked: [[q.topic, q.text_zh, q.text_en] for q in asked]  # noqa: E731
    record("survey.questions_copy", cycle, before={"questions": as_listed(current)},
           after={"source_cycle": source.id, "source_name": source.name, "questions": as_listed(copied)}, actor=actor)
    return len(copied)


# ----------------------------------------------------------------------------------- quotas

def quotas(cycle_id: int) -> dict[str, SurveyQuota]:
    """The cycle's quota rows by category code; one query."""
    return {q.category: q for q in db_session.scalars(select(SurveyQuota).where(SurveyQuota.cycle_id == cycle_id))}


def parse_quota(raw: Any, name: str) -> int:
    """A quota: a whole number of respondents per unit, 0 to QUOTA_MAX. :raises SurveyError: the message."""
    value = str(raw if raw is not None else "").strip()
    if value == "":
        raise SurveyError(_("Quota of %(category)s: empty; give a whole number of respondents per unit from 0 to "
                            "%(max)s.", category=name, max=QUOTA_MAX))
    if not re.fullmatch(r"\d{1,6}", value) or int(value) > QUOTA_MAX:
        raise SurveyError(_("Quota of %(category)s: “%(value)s” is not allowed; give a whole number of respondents "
                            "per unit from 0 to %(max)s.", category=name, value=value[:20], max=QUOTA_MAX))
    return int(value)


def set_quotas(cycle: Cycle, values: Mapping[str, Any], versions: Mapping[str, Any], actor: str) -> list[str]:
    """Set every category's quota at once (all or nothing), if nobody changed them since the form's
    ``versions`` (the rows' versions, by category code; empty for a category without a row).
    Audited per changed category. :return: the codes changed. :raises SurveyError: a bad value
    (every one named); :raises SurveyConflict: fixed, or changed by someone else (their values named).
    The cycle's row is locked first and its state read under the lock (:func:`lock_for_quotas`), so a
    move out of data collection at the same moment is either seen here or waits for this save."""
    reason = quotas_fixed(cycle, lock_for_quotas(cycle))
    if reason:
        raise SurveyConflict(reason)
    cats = categories(cycle)
    errors: dict[str, str] = {}
    parsed: dict[str, int] = {}
    for code, name in cats:
        try:
            parsed[code] = parse_quota(values.get(code), name)
        except SurveyError as exc:
            errors[code] = str(exc)
    if errors:
        raise SurveyError(_("The quotas are not saved: correct the values marked below."), errors=errors)
    rows = quotas(cycle.id)
    stale = [f"{name}: {rows[code].per_unit if code in rows else '—'}" for code, name in cats
             if str(versions.get(code) or "") != (str(rows[code].version) if code in rows else "")]
    if stale:
        raise SurveyConflict(_("The quotas were changed by someone else while you were editing. Now: %(current)s. "
                               "Your values are kept below: save again to replace theirs.", current="; ".join(stale)))
    changed: list[tuple[SurveyQuota, int | None]] = []
    for code, _name in cats:
        row = rows.get(code)
        if row is None:
            row = SurveyQuota(cycle_id=cycle.id, category=code, per_unit=parsed[code])
            db_session.add(row)
            changed.append((row, None))
        elif row.per_unit != parsed[code]:
            changed.append((row, row.per_unit))
            row.per_unit = parsed[code]
    db_session.flush()  # a row saved by someone else meanwhile raises StaleDataError here
    for row, before in changed:
        record("survey.quota_set", row, before={"category": row.category, "per_unit": before},
               after={"category": row.category, "per_unit": row.per_unit}, actor=actor)
    return [row.category for row, _before in changed]


# ----------------------------------------------------------------------------------- interviews

def unit_category_count(cycle_id: int, unit_id: int, category: str) -> int:
    """Responses so far about one unit in one category (both ways in); one query."""
    R = SurveyResponse
    return db_session.scalar(select(func.count()).select_from(R).where(
        R.cycle_id == cycle_id, R.unit_id == unit_id, R.category == category)) or 0


def new_submission_key() -> str:
    """The random key a surveyor's form carries (128 bits), made when the form is rendered."""
    return secrets.token_hex(16)


@dataclass
class Interview:
    """A surveyor's interview, checked."""

    unit_id: int
    category: str
    channel: str
    answers: dict[str, str]
    note: str
    submission_key: str


def _masked(found: str) -> str:
    return found[:3] + "*" * max(0, len(found) - 7) + found[-4:] if len(found) > 7 else "*" * len(found)


def check_note(raw: Any) -> str:
    """An interview's note: at most NOTE_MAX characters and no personal data (a phone or identity
    card number is refused, shown masked). :raises SurveyError: the message."""
    note = " ".join(str(raw or "").split())
    if len(note) > NOTE_MAX:
        raise SurveyError(_("Remark: %(n)s characters; at most %(max)s are allowed.", n=len(note), max=NOTE_MAX),
                          field="note")
    found = PERSONAL.search(note)
    if found:
        raise SurveyError(_("Remark: “%(value)s” looks like a phone or identity card number; the survey is anonymous "
                            "and a remark holds no personal data. Remove it.", value=_masked(found.group(0))),
                          field="note")
    return note


def check_interview(cycle: Cycle, form: Mapping[str, Any], asked: list[SurveyQuestion],
                    units: list[Unit] | None = None) -> Interview:
    """A surveyor's form checked field by field: the unit (one the cycle assesses), the category
    (one of its settings), the channel (household or phone), an answer to every question ``asked``,
    the note and the form's submission key. :raises SurveyError: every problem, each naming the
    field or question and the value, with what is allowed."""
    errors: dict[str, str] = {}
    key = str(form.get("submission_key") or "")
    if not INTERVIEW_KEY.fullmatch(key):
        errors["submission_key"] = _("The form's submission key “%(value)s” is not valid (32 hexadecimal "
                                     "characters); open the form again.", value=key[:40])
    units = cycle_units(cycle) if units is None else units
    raw_unit = str(form.get("unit_id") or "").strip()
    unit_ids = {u.id for u in units}
    if not raw_unit:
        errors["unit_id"] = _("Unit: not chosen; choose the unit the respondent was asked about.")
    elif not raw_unit.isdigit() or int(raw_unit) not in unit_ids:
        errors["unit_id"] = _("Unit: “%(value)s” is not a unit assessed in %(cycle)s; choose one from the list.",
                              value=raw_unit[:40], cycle=cycle.name)
    cats = categories(cycle)
    category = str(form.get("category") or "").strip()
    allowed_categories = _(", ").join(name for _code, name in cats)
    if not category:
        errors["category"] = _("Respondent category: not chosen; allowed: %(allowed)s.", allowed=allowed_categories)
    elif category not in dict(cats):
        errors["category"] = _("Respondent category: “%(value)s” is not a category of this survey; allowed: "
                               "%(allowed)s.", value=category[:40], allowed=allowed_categories)
    channel = str(form.get("channel") or "").strip()
    if channel not in INTERVIEW_CHANNELS:
        errors["channel"] = _("Channel: “%(value)s” is not a way of interviewing; allowed: %(allowed)s.",
                              value=channel[:40], allowed=_names(INTERVIEW_CHANNELS, channel_label))
    answers: dict[str, str] = {}
    for question in asked:
        value = str(form.get(f"q{question.id}") or "").strip()
        if not value:
            errors[f"q{question.id}"] = _("Question %(n)s (%(topic)s): not answered; choose one of %(allowed)s.",
                                          n=question.position, topic=question.topic, allowed=answers_allowed())
        elif value not in ANSWER_KEYS:
            errors[f"q{question.id}"] = _("Question %(n)s (%(topic)s): “%(value)s” is not an answer; allowed: "
                                          "%(allowed)s.", n=question.position, topic=question.topic,
                                          value=value[:40], allowed=answers_allowed())
        else:
            answers[str(question.id)] = value
    known = {f"q{q.id}" for q in asked}
    stray = sorted(k for k in form if re.fullmatch(r"q\d+", k) and k not in known)
    if stray:
        errors["questions"] = _("The questions changed since the form was opened (%(fields)s are no longer asked); "
                                "open the form again.", fields=", ".join(stray[:10]))
    try:
        note = check_note(form.get("note"))
    except SurveyError as exc:
        errors["note"], note = str(exc), ""
    if errors:
        raise SurveyError(_("The interview is not recorded: correct the fields marked below."), errors=errors)
    return Interview(int(raw_unit), category, channel, answers, note, key)


def record_interview(cycle: Cycle, interview: Interview, actor: str) -> tuple[SurveyResponse, bool]:
    """Record a checked interview once: the same form sent again (the same submission key: a double
    click, a retry after a lost reply) returns the response it recorded and writes nothing. Audited
    with its answers when recorded now. :return: (the response, whether it was recorded now).
    :raises SurveyError: the cycle is not open, or the questions changed meanwhile."""
    response_id, created = record_response(
        cycle, interview.unit_id, interview.category, interview.channel,
        INTERVIEW_KEY_PREFIX + interview.submission_key, interview.answers, actor, note=interview.note)
    response = db_session.get(SurveyResponse, response_id) if response_id is not None else None
    if response is None:  # recorded and deleted again between the two statements
        raise SurveyConflict(_("The interview could not be recorded; send the form again."))
    if created:
        record("survey.interview_add", response, after=snapshot(response, AUDITED_RESPONSE), actor=actor)
    return response, created


def recorded_interview(submission_key: str) -> SurveyResponse | None:
    """The interview a form's submission key recorded, if any (a retry that arrives after the
    survey closed is told its interview was recorded, not that it is too late)."""
    if not INTERVIEW_KEY.fullmatch(submission_key or ""):
        return None
    return db_session.scalar(select(SurveyResponse).where(
        SurveyResponse.submission_key == INTERVIEW_KEY_PREFIX + submission_key))


def is_interview(response: SurveyResponse) -> bool:
    return response.channel in INTERVIEW_CHANNELS


def delete_interview(cycle: Cycle, response: SurveyResponse, actor: str) -> None:
    """Delete an interview while the cycle is open; audited (its answers in the audit's before).
    :raises SurveyConflict: the cycle is not open, or the interview is gone already."""
    if not is_interview(response):  # an anonymous link's answers never reach the audit trail
        raise SurveyError(_("Only interviews (household visits, telephone interviews) are deleted here."))
    state = lock_for_response(cycle)
    if state not in COLLECTING:
        raise SurveyConflict(_("Interviews are deleted while the cycle is open; %(cycle)s is %(state)s.",
                               cycle=cycle.name, state=state_name(state)))
    record("survey.interview_delete", response, before=snapshot(response, AUDITED_RESPONSE), actor=actor)
    gone = db_session.execute(delete(SurveyResponse).where(SurveyResponse.id == response.id)
                              .execution_options(synchronize_session=False)).rowcount
    if gone != 1:
        raise SurveyConflict(_("This interview was deleted by someone else meanwhile."))
    db_session.expunge(response)


def interviews_statement(cycle: Cycle, entered_by: str | None = None, unit_id: int | None = None,
                         category: str | None = None, channel: str | None = None):
    """The cycle's interviews (not the anonymous links' responses), newest first, filtered."""
    R = SurveyResponse
    statement = select(R).where(R.cycle_id == cycle.id, R.channel.in_(INTERVIEW_CHANNELS))
    if entered_by is not None:
        statement = statement.where(R.entered_by == entered_by)
    if unit_id is not None:
        statement = statement.where(R.unit_id == unit_id)
    if category:
        statement = statement.where(R.category == category)
    if channel:
        statement = statement.where(R.channel == channel)
    return statement.order_by(R.created_at.desc(), R.id.desc())


def describe(response: SurveyResponse, units: Mapping[int, Unit], names: Mapping[str, str]) -> str:
    """An interview as a message names it: unit, category, channel, when."""
    unit = units.get(response.unit_id)
    when = response.created_at.strftime("%Y-%m-%d %H:%M") if response.created_at else ""
    return _("%(unit)s, %(category)s, %(channel)s, %(when)s", unit=unit.label if unit else str(response.unit_id),
             category=names.get(response.category, response.category), channel=channel_label(response.channel),
             when=when)


# ----------------------------------------------------------------------------------- progress

@dataclass
class UnitProgress:
    """A unit's responses: per category, per channel, its answers (all categories together)."""

    unit: Unit
    by_category: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    answers: dict[str, int] = field(default_factory=lambda: {k: 0 for k in ANSWER_KEYS})

    @property
    def responses(self) -> int:
        return sum(self.by_category.values())

    @property
    def scorable(self) -> int:
        """Answers that count in the public score (don't know is left out)."""
        return self.answers["satisfied"] + self.answers["basically_satisfied"] + self.answers["dissatisfied"]

    @property
    def answered(self) -> int:
        return sum(self.answers.values())

    def below(self, quotas: Mapping[str, int]) -> list[str]:
        """The categories whose quota this unit has not reached yet."""
        return [code for code, quota in quotas.items() if self.by_category.get(code, 0) < quota]


@dataclass
class Progress:
    """The survey's progress against the quotas: every unit the cycle assesses × every category."""

    categories: list[tuple[str, str]]
    quotas: dict[str, int]
    units: list[UnitProgress]
    by_category: dict[str, int]
    by_channel: dict[str, int]
    answers: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_category.values())

    @property
    def unit_target(self) -> int:
        """Respondents wanted per unit: the quotas of all categories."""
        return sum(self.quotas.values())

    @property
    def target(self) -> int:
        return self.unit_target * len(self.units)

    @property
    def without_answers(self) -> list[UnitProgress]:
        """The units with no scorable answer yet: the cycle cannot move to review while there are any.
        For those who may see how units were answered (it tells that a unit's answers were all
        "don't know"); others get :attr:`without_responses`."""
        return [u for u in self.units if not u.scorable]

    @property
    def without_responses(self) -> list[UnitProgress]:
        """The units no respondent has answered about yet (counts only: tells nothing of the answers)."""
        return [u for u in self.units if not u.responses]

    @property
    def below_quota(self) -> list[UnitProgress]:
        """The units that have not reached the quota of some category yet (未达配额)."""
        return [u for u in self.units if u.below(self.quotas)]

    def lacking(self, distribution: bool) -> list[UnitProgress]:
        """The units to name as missing: without a scorable answer for whoever may see the answers
        (``distribution``), else without any response."""
        return self.without_answers if distribution else self.without_responses


def progress(cycle: Cycle) -> Progress:
    """Responses so far per unit, category and channel, and answers per unit; three queries whatever
    the number of units (the units, the quotas, one grouped count of the responses)."""
    R = SurveyResponse
    cats = categories(cycle)
    rows = quotas(cycle.id)
    quota = {code: (rows[code].per_unit if code in rows else 0) for code, _name in cats}
    units = [UnitProgress(u) for u in cycle_units(cycle)]
    by_id = {u.unit.id: u for u in units}
    by_category = {code: 0 for code, _name in cats}
    by_channel = {channel: 0 for channel in CHANNELS}
    answers = {k: 0 for k in ANSWER_KEYS}
    counted = db_session.execute(
        select(R.unit_id, R.category, R.channel, func.count(), func.sum(R.satisfied), func.sum(R.basically_satisfied),
               func.sum(R.dissatisfied), func.sum(R.dont_know))
        .where(R.cycle_id == cycle.id).group_by(R.unit_id, R.category, R.channel))
    for unit_id, category, channel, n, *sums in counted:
        row = by_id.get(unit_id)
        if row is None:  # a unit no longer assessed in the cycle
            continue
        row.by_category[category] = row.by_category.get(category, 0) + n
        row.by_channel[channel] = row.by_channel.get(channel, 0) + n
        by_category[category] = by_category.get(category, 0) + n
        by_channel[channel] = by_channel.get(channel, 0) + n
        for key, value in zip(ANSWER_KEYS, sums):
            row.answers[key] += int(value or 0)
            answers[key] += int(value or 0)
    return Progress(cats, quota, units, by_category, by_channel, answers)


@dataclass
class Shortfall:
    """How far a cycle's survey is from done, in units (for the home page's to-dos)."""

    units: int = 0
    without_answers: int = 0  # no scorable answer (the office and leaders may know this)
    without_responses: int = 0  # no response at all (counts only)
    below_quota: int = 0  # some category under its quota


def shortfalls(cycles: list[Cycle]) -> dict[int, Shortfall]:
    """Per cycle, its units without a scorable answer, without a response and below quota: three
    queries whatever the number of cycles, units and responses (the units, the quotas, one grouped
    count of the responses)."""
    ids = [c.id for c in cycles]
    found = {cycle_id: Shortfall() for cycle_id in ids}
    if not ids:
        return found
    units: dict[int, list[int]] = {cycle_id: [] for cycle_id in ids}
    for cycle_id, unit_id in db_session.execute(
            select(CycleSubject.cycle_id, CycleSubject.unit_id).where(
                CycleSubject.cycle_id.in_(ids), CycleSubject.kind == "unit", CycleSubject.eligible.is_(True),
                CycleSubject.unit_id.is_not(None))):
        units[cycle_id].append(unit_id)
    stored = {(cycle_id, code): n for cycle_id, code, n in db_session.execute(
        select(SurveyQuota.cycle_id, SurveyQuota.category, SurveyQuota.per_unit).where(SurveyQuota.cycle_id.in_(ids)))}
    quota = {c.id: {code: stored.get((c.id, code), 0) for code, _name in categories(c)} for c in cycles}
    R = SurveyResponse
    counted: dict[tuple[int, int], dict[str, int]] = {}
    scorable: dict[tuple[int, int], int] = {}
    for cycle_id, unit_id, category, n, scored in db_session.execute(
            select(R.cycle_id, R.unit_id, R.category, func.count(),
                   func.sum(R.satisfied + R.basically_satisfied + R.dissatisfied))
            .where(R.cycle_id.in_(ids)).group_by(R.cycle_id, R.unit_id, R.category)):
        counted.setdefault((cycle_id, unit_id), {})[category] = int(n)
        scorable[(cycle_id, unit_id)] = scorable.get((cycle_id, unit_id), 0) + int(scored or 0)
    for cycle_id in ids:
        row = found[cycle_id]
        for unit_id in units[cycle_id]:
            by_category = counted.get((cycle_id, unit_id), {})
            row.units += 1
            row.without_answers += not scorable.get((cycle_id, unit_id))
            row.without_responses += not by_category
            row.below_quota += any(by_category.get(code, 0) < n for code, n in quota[cycle_id].items())
    return found


def index_statement(include_drafts: bool):
    """The scheme's cycles for the survey's index, newest period first (drafts only for whoever
    sets surveys up)."""
    statement = select(Cycle).where(Cycle.scheme_id == SCHEME_ID)
    if not include_drafts:
        statement = statement.where(Cycle.state != "draft")
    return statement.order_by(Cycle.period.desc(), Cycle.id.desc())


def response_counts(cycle_ids: list[int]) -> dict[int, int]:
    """Responses per cycle (both ways in); one grouped query."""
    if not cycle_ids:
        return {}
    return dict(db_session.execute(select(SurveyResponse.cycle_id, func.count())
                                   .where(SurveyResponse.cycle_id.in_(cycle_ids))
                                   .group_by(SurveyResponse.cycle_id)).all())
