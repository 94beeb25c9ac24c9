"""A year of the sales scheme for the demo tenant, made through the scheme's own services.

Every record is what the portal's pages would have made: an account for every salesperson, pay
bases and coefficients set by HR, each month's attendance export imported (last year) or its events
entered one at a time (this year), the unit heads' ratings, the cycle computed, published and
closed; after each month the competence listings are read and HR opens improvement plans for
them (a training plan pays 80% while it runs) and closes them with the evaluation and decision.
A seeded generator makes the same data on every run.

The people whose months tell the scheme's stories:
- 吴婷 (X016) slips below 80 for three months last spring: listed for training in June, trained in
  July and August at 80% pay, passes and returns to her post;
- 吕晨 (X024) falls below 70 three months last autumn: listed for transfer in October, moved to a
  new post after his transfer plan;
- 冯雪 (X021) takes long personal leave three months this year: her totals fall below 80 only
  because of it, and those months do not count;
- 赵一鸣 (X013) is below 80 this summer: listed for training in September, his plan is under way.
"""
from __future__ import annotations

import calendar
import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select

from core.cycles import service as cycles
from core.db import db_session
from core.demo_year import at, month_end, read_old_notifications
from core.models import Cycle, CycleResult, CycleSubject, OrgUnit, Person, RoleMembership, User
from core.passwords import hash_password
from core.tenant_files import DEMO_PASSWORD

SCHEME_ID = "sales-attitude"
HR = "admin"
HEADS = {"S1": "wanghaijun", "S2": "zhanglijuan"}  # who rates each unit's people (HR rates the heads)

# (number, the months (YYYY-MM relative: ("last"|"this", month)) and the rating there)
STORIES = {
    "X016": {("last", 4): 72, ("last", 5): 71, ("last", 6): 73},
    "X024": {("last", 8): 60, ("last", 9): 62, ("last", 10): 61},
    "X021": {("this", 3): 78, ("this", 5): 78, ("this", 7): 78},
    "X013": {("this", 7): 74, ("this", 8): 75, ("this", 9): 73},
}
LONG_LEAVE = {"X021": {("this", 3), ("this", 5), ("this", 7)}}  # 10 days of personal leave, nothing else
PLANS = {  # listing month -> (number, kind, months of the plan, (outcome, decision) or None while under way)
    ("last", 6): ("X016", "training", 2, ("passed", "return_to_post")),
    ("last", 10): ("X024", "transfer", 2, ("passed", "new_post")),
    ("this", 9): ("X013", "training", 2, None),
}
NOTES = {
    "praise": ["客户来电表扬服务周到", "客户书面表扬响应及时", "老客户推荐新客户"],
    "complaint": ["客户投诉回访不及时", "客户投诉报价有误"],
    "shirking": ["推诿客户退货处理", "无故推诿临时盘点任务"],
    "extra_work": ["接受临时展会布展任务", "协助仓库盘点"],
    "proactive": ["主动承担新客户开发", "主动整理客户档案"],
    "overtime": ["月末冲量自愿加班"],
}


@dataclass
class Made:
    """What was made, for the command's report."""

    cycles: list[str] = field(default_factory=list)
    accounts: int = 0
    events: int = 0
    plans: int = 0


def build(year: int, current: str | None = None, seed: int | None = None, actor: str = "cli:demo") -> Made:
    """Make the sales year ``year`` (12 published monthly cycles, all but December closed) and, with
    ``current`` (``YYYY-MM`` of the following year), that year's months up to it: the months before
    published, ``current`` itself open with the ratings half entered."""
    rng = random.Random(seed if seed is not None else year)
    made = Made()
    made.accounts = _accounts()
    _pay(rng, year)
    months = [("last", year, m) for m in range(1, 13)]
    if current:
        months += [("this", year + 1, m) for m in range(1, int(current[5:7]) + 1)]
    for index, (which, y, m) in enumerate(months):
        last = index == len(months) - 1
        period = f"{y}-{m:02d}"
        made.events += _events(period, which, m, rng, imported=which == "last")
        cycle = _cycle(period, which, m, rng, finish=not last)
        made.cycles.append(period)
        if not last and index < len(months) - 2:
            cycles.transition(cycle, "closed", actor)
        _backdate(cycle, y, m, latest=index == len(months) - 2)
        if cycle.state in ("published", "closed"):
            made.plans += _plans(cycle, which, m, y)
        _close_plans(period)
        if not last:
            read_old_notifications()
    return made


# ----------------------------------------------------------------------------------- people

def _accounts() -> int:
    """An account for every salesperson who has none (the person's number, lower case), with the
    demo password, as an employee."""
    have = set(db_session.scalars(select(User.person_id).where(User.person_id.is_not(None))))
    password = hash_password(DEMO_PASSWORD)  # one hash: every demo account has the same documented password
    made = 0
    for person in db_session.scalars(select(Person).where(Person.active.is_(True), Person.staff_class.is_not(None))
                                     .order_by(Person.number)):
        if person.id in have:
            continue
        user = User(username=person.number.lower(), display_name=person.name, person_id=person.id,
                    password_hash=password, active=True)
        user.memberships.append(RoleMembership(role="employee"))
        db_session.add(user)
        made += 1
    db_session.flush()
    return made


def _sales_people() -> list[Person]:
    return list(db_session.scalars(select(Person).where(Person.active.is_(True), Person.staff_class.is_not(None))
                                   .order_by(Person.number)))


def _user(username: str) -> User:
    return db_session.scalar(select(User).where(User.username == username))


def _pay(rng: random.Random, year: int) -> None:
    """HR sets every salesperson's pay base and coefficient (supervisors higher) at the start of the year."""
    from plugins.sales_attitude.pay import service as pay

    for person in _sales_people():
        base = rng.choice(["4800.00", "5200.00", "5600.00"]) if person.staff_class == "staff" else "7800.00"
        coefficient = rng.choice(["1.0", "1.1", "1.2"]) if person.staff_class == "staff" else "1.3"
        pay.set_pay(person, base, coefficient, None, f"user:{HR}").updated_at = at(date(year, 1, 2), 9)


# ----------------------------------------------------------------------------------- events

def _working_days(period: str) -> list[date]:
    """The month's weekdays up to today (the current month's events so far)."""
    year, month = int(period[:4]), int(period[5:7])
    days = [date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    return [d for d in days if d.weekday() < 5 and d <= date.today()] or days[:1]


def _month_events(period: str, which: str, month: int, rng: random.Random) -> list[tuple[Person, date, str, str, str]]:
    """Each salesperson's month: a few late arrivals, leave, overtime, tasks and customer feedback."""
    days = _working_days(period)
    rows = []
    for person in _sales_people():
        if (which, month) in STORIES.get(person.number, {}):
            if (which, month) in LONG_LEAVE.get(person.number, ()):  # the story's month: its leave alone
                rows.append((person, days[3], "personal_leave_days", "10", "家中有事，经批准请事假"))
            else:  # a bad month: late twice and a complaint
                rows += [(person, days[1], "late", "1", ""), (person, days[6], "late", "1", ""),
                         (person, days[8], "complaint", "1", rng.choice(NOTES["complaint"]))]
            continue
        counts = {"late": rng.choice([0, 0, 0, 1, 1, 2, 3]), "early_leave": rng.choice([0, 0, 0, 0, 1]),
                  "overtime": rng.choice([0, 0, 1, 2, 3]), "extra_work": rng.choice([0, 0, 1, 1, 2]),
                  "proactive": rng.choice([0, 0, 0, 1, 2]), "shirking": rng.choice([0] * 9 + [1]),
                  "praise": rng.choice([0, 0, 1, 1, 2]), "complaint": rng.choice([0] * 6 + [1])}
        for kind, count in counts.items():
            for day in rng.sample(days, count):
                rows.append((person, day, kind, "1", rng.choice(NOTES[kind]) if kind in NOTES else ""))
        if rng.random() < 0.25:
            # leave never runs past the month's end, nor overlaps other leave: the first half, then the second
            rows.append((person, rng.choice(days[:max(1, len(days) // 2)]), "personal_leave_days",
                         rng.choice(["0.5", "1", "2"]), "事假"))
        if rng.random() < 0.2:
            rows.append((person, rng.choice(days[len(days) // 2 + 1:-1] or days[-1:]), "sick_leave_days",
                         rng.choice(["1", "2"]), "病假"))
    return rows


def _events(period: str, which: str, month: int, rng: random.Random, imported: bool) -> int:
    """Last year each month's attendance export is imported (as a .csv); this year HR and the unit
    heads enter the events one at a time."""
    from plugins.sales_attitude.events import service as events
    from plugins.sales_attitude.events.models import KINDS

    rows = _month_events(period, which, month, rng)
    if imported:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["number", "date", "kind", "quantity", "note"])
        for person, day, kind, quantity, note in rows:
            writer.writerow([person.number, day.isoformat(), kind, quantity, note])
        filename = f"attendance-{period}.csv"
        report = events.import_rows(filename, events.read_rows(filename, out.getvalue().encode("utf-8")), f"user:{HR}")
        return report.imported
    for person, day, kind, quantity, note in rows:
        form = {"number": person.number, "day": day.isoformat(), "kind": kind, "quantity": quantity, "note": note}
        events.add_event(events.check_form(form, KINDS), f"user:{HR}")
    return len(rows)


# ----------------------------------------------------------------------------------- months

def _cycle(period: str, which: str, month: int, rng: random.Random, finish: bool) -> Cycle:
    """The month's cycle: created (events, pay, training and history come from the records), the
    unit heads' ratings, computed, published; the last one stays open with half the ratings in."""
    cycle = cycles.create_cycle(SCHEME_ID, period, f"{period[:4]}年{int(period[5:7])}月销售人员考评", {}, "user:admin",
                                inputs_due=month_end(period))
    cycles.transition(cycle, "open", f"user:{HR}")
    units = dict(db_session.execute(select(OrgUnit.id, OrgUnit.code)).all())
    people = {p.id: p for p in _sales_people()}
    subjects = [s for s in cycles.subjects(cycle) if s.kind == "person"]
    for index, subject in enumerate(subjects):
        if not finish and index % 2:
            continue
        person = people[subject.person_id]
        story = STORIES.get(person.number, {}).get((which, month))
        values = {k: str(story if story is not None else rng.randint(80, 95)) for k in
                  ("basic_ability", "proficiency", "coordination", "service")}
        head = HEADS.get(units[subject.unit_id]) if person.staff_class == "staff" else None
        cycles.set_inputs(subject, cycle, {**subject.inputs, "ratings": values}, subject.inputs_version,
                          f"user:{head or HR}")
    if finish:
        cycles.compute(cycle, f"user:{HR}")
        cycles.transition(cycle, "review", f"user:{HR}")
        cycles.transition(cycle, "published", f"user:{HR}")
    return cycle


def _backdate(cycle: Cycle, year: int, month: int, latest: bool) -> None:
    """A month's steps on the days they would have happened (the records were made just now):
    opened on the 1st, events recorded on their day, ratings in by the month's end, results on the
    5th of the next month, closed on the 20th. The latest finished month was published yesterday,
    so that its 7-day appeal window is open in the demo."""
    from sqlalchemy import update

    from plugins.sales_attitude.events.models import EventImport, SalesEvent

    first, end = date(year, month, 1), month_end(f"{year}-{month:02d}")
    cycle.created_at = cycle.opened_at = at(first, 9)
    recorded = db_session.execute(select(SalesEvent.id, SalesEvent.day).where(SalesEvent.day >= first,
                                                                              SalesEvent.day <= end)).all()
    if recorded:  # recorded on their day (bulk UPDATE by primary key)
        db_session.execute(update(SalesEvent), [{"id": i, "created_at": at(day, 18)} for i, day in recorded])
    db_session.execute(update(EventImport).where(EventImport.filename == f"attendance-{year}-{month:02d}.csv")
                       .values(created_at=at(end, 18)).execution_options(synchronize_session=False))
    if cycle.state not in ("published", "closed"):
        return
    db_session.execute(update(CycleSubject).where(CycleSubject.cycle_id == cycle.id)
                       .values(inputs_updated_at=at(end, 17)).execution_options(synchronize_session=False))
    following = date(year + (month == 12), month % 12 + 1, 1)
    published = at(following.replace(day=5), 10)
    if latest:
        yesterday = date.today() - timedelta(days=1)
        published = at(max(yesterday, end + timedelta(days=1)), 10)
    cycle.review_at = cycle.computed_at = published - timedelta(hours=1)
    cycle.published_at = published
    if cycle.state == "closed":
        cycle.closed_at = at(following.replace(day=20), 10)
    db_session.execute(update(CycleResult).where(CycleResult.cycle_id == cycle.id)
                       .values(computed_at=cycle.computed_at).execution_options(synchronize_session=False))


# ----------------------------------------------------------------------------------- competence

def _plans(cycle: Cycle, which: str, month: int, year: int) -> int:
    """After a month is published, HR opens the improvement plan its listing calls for."""
    from plugins.sales_attitude.competence import service as competence

    planned = PLANS.get((which, month))
    if planned is None:
        return 0
    number, kind, length, _end = planned
    person = db_session.scalar(select(Person).where(Person.number == number))
    flags = db_session.scalar(select(CycleResult.flags).join(CycleSubject, CycleSubject.id == CycleResult.subject_id)
                              .where(CycleResult.cycle_id == cycle.id, CycleSubject.person_id == person.id))
    assert kind in flags, f"{number} is not listed for {kind} in {cycle.period}: {flags}"
    first = month % 12 + 1
    start = f"{year + (month == 12)}-{first:02d}"
    end_index = (year + (month == 12)) * 12 + first - 1 + length - 1
    end = f"{end_index // 12}-{end_index % 12 + 1:02d}"
    head = _user(HEADS[db_session.get(OrgUnit, person.unit_id).code])
    made = competence.create_plan(person, competence.source_from_listing(cycle, person), {
        "kind": kind,
        "goals": "月度考评总分稳定在80分以上；客户投诉为零" if kind == "training" else "适应新岗位要求，三个月内独立上岗",
        "actions": "参加公司销售技能培训；主管每周带教一次；每月面谈" if kind == "training" else "转岗至市场部客户服务岗；岗前培训两周",
        "owner_id": str(head.id), "start_month": start, "end_month": end}, f"user:{HR}")
    made.created_at = made.updated_at = at(date(year + (month == 12), first, 6), 10)  # the day after the results
    return 1


def _close_plans(period: str) -> None:
    """A plan whose last month has just been published ends with its evaluation and HR's decision."""
    from plugins.sales_attitude.competence import service as competence
    from plugins.sales_attitude.competence.models import ImprovementPlan

    for plan in db_session.scalars(select(ImprovementPlan).where(ImprovementPlan.state == "open",
                                                                 ImprovementPlan.end_month == period)):
        ending = next(end for number, kind, _l, end in PLANS.values()
                      if db_session.get(Person, plan.person_id).number == number)
        if ending is None:
            continue
        outcome, decision = ending
        day = month_end(period)
        owner = db_session.get(User, plan.owner_id)
        note = competence.add_note(plan, {"day": day.isoformat(), "note": "月末面谈：各项目标已达成，表现稳定。"},
                                   f"user:{owner.username}")
        note.created_at = at(day, 16)
        competence.close_plan(plan, {"outcome": outcome, "decision": decision, "evaluated_on": day.isoformat(),
                                     "evaluation": "考评总分连续两个月达到80分以上，目标达成。"}, plan.version, f"user:{HR}")
        plan.updated_at = at(day, 17)
        if decision == "new_post":
            _move_to_new_post(db_session.get(Person, plan.person_id))


def _move_to_new_post(person: Person) -> None:
    """HR carries out the decision in the org: the person leaves the sales staff for 市场部's customer service."""
    from core.org.service import save_person

    market = db_session.scalar(select(OrgUnit.id).where(OrgUnit.code == "MKT"))
    save_person(person, {"number": person.number, "name": person.name, "unit_id": market,
                         "position": "客户服务专员", "staff_class": None, "status": "regular", "active": True},
                person.version)
