"""The survey of a cycle: its questions and quotas, and the responses of both ways in."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db import db_session
from core.models import Cycle, CycleSubject
from core.models.base import utcnow
from plugins.gov_public_evaluation import settings_of
from plugins.gov_public_evaluation.survey.models import (ANSWER_KEYS, CHANNELS, SurveyQuestion, SurveyQuota,
                                                        SurveyResponse)
from plugins.gov_public_evaluation.survey.questions import DEFAULT_QUESTIONS


def prepare_survey(cycle: Cycle) -> None:
    """A new cycle's survey: the default questions, and each category's quota from the cycle's
    settings (``survey_categories[].quota``). Does nothing twice."""
    if db_session.scalar(select(SurveyQuestion.id).where(SurveyQuestion.cycle_id == cycle.id).limit(1)) is None:
        db_session.execute(insert(SurveyQuestion), [
            dict(tenant_id=cycle.tenant_id, cycle_id=cycle.id, position=i, topic=topic, text_zh=zh, text_en=en)
            for i, (topic, zh, en) in enumerate(DEFAULT_QUESTIONS, start=1)])
    have = set(db_session.scalars(select(SurveyQuota.category).where(SurveyQuota.cycle_id == cycle.id)))
    rows = [dict(tenant_id=cycle.tenant_id, cycle_id=cycle.id, category=c.code, per_unit=c.quota, version=1)
            for c in settings_of(cycle.settings).survey_categories if c.code not in have]
    if rows:
        db_session.execute(insert(SurveyQuota), rows)


class SurveyError(ValueError):
    """A response that cannot be taken; the message names the field, the value and what is allowed."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


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
                                value=value, allowed=", ".join(ANSWER_KEYS)), field=f"q{question_id}")
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
    them already (the anonymous page). The caller has checked the unit is one of the cycle's and the
    category one of its settings (:func:`check_target`).

    :return: (the response's id, whether it was taken now). :raises SurveyError: the cycle is not
        collecting, the channel is unknown or an answer is missing or not allowed.
    """
    if cycle.state not in COLLECTING:
        raise SurveyError(_("The survey of %(cycle)s takes answers while the cycle is open; it is %(state)s.",
                            cycle=cycle.name, state=cycle.state))
    if channel not in CHANNELS:
        raise SurveyError(_("%(value)s is not a way of answering; allowed: %(allowed)s.", value=channel,
                            allowed=", ".join(CHANNELS)), field="channel")
    if question_ids is None:
        question_ids = [q.id for q in questions(cycle.id)]
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
    codes = [c.code for c in settings_of(cycle.settings).survey_categories]
    if category not in codes:
        raise SurveyError(_("%(value)s is not a respondent category; allowed: %(allowed)s.", value=category or "",
                            allowed=", ".join(codes)), field="category")
    found = db_session.scalar(select(CycleSubject.id).where(CycleSubject.cycle_id == cycle.id,
                                                           CycleSubject.unit_id == unit_id,
                                                           CycleSubject.kind == "unit",
                                                           CycleSubject.eligible.is_(True)))
    if found is None:
        raise SurveyError(_("The unit is not assessed in %(cycle)s; choose one of its units.", cycle=cycle.name),
                          field="unit")
