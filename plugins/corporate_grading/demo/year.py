"""A year of the corporate scheme for the demo tenant, made through the scheme's own services.

Every record is what the portal's pages would have made: posts and oversight, accounts for every
person, responsibility letters drafted, signed by the right parties and scored at year end, and
for each month a cycle with plan sheets submitted and checked, personal scorecards self-scored and
approved along their class's chain, a few adjustments with reasons, the committee's meeting with a
vote, then computed, published and closed. The annual cycle collects the months, letters and 360
reviews, and gets bonus bases. A seeded generator makes the same data on every run.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from core.cycles import service as cycles
from core.db import db_session
from core.demo_year import at, month_end, read_old_notifications
from core.models import Cycle, CycleSubject, OrgUnit, Person, RoleMembership, User
from core.passwords import hash_password
from core.tenant_files import DEMO_PASSWORD
from plugins.corporate_grading import policy
from plugins.corporate_grading.organisation import service as organisation

SCHEME_ID = "corporate-grading"

# 姚雅琴 (J0027, 薪酬绩效主管) is the assessment specialist and, with HR's manager, the plan supervisor
# (HR's manager heads HR: its sheet is checked by her).
# Who oversees what in the demo group (class A leaders by number -> unit codes).
OVERSIGHT = {
    "J0001": ["PRES"], "J0002": ["OPS", "SUB1", "SUB2"], "J0003": ["MKT"], "J0004": ["HR", "ADM"],
    "J0005": ["FIN", "COST"], "J0006": ["DSN"], "J0007": ["ENG"], "J0008": ["PRES"],
}
POSTS = {"president": ["president"], "specialist": ["j0027"], "plan_supervisor": ["hr", "j0027"],
         "committee_chair": ["president"], "committee_vice_chair": ["sunlihua"]}
# The managers heading the units that have no head account in the tenant file.
UNIT_HEADS = {"J0009": "PRES", "J0010": "HR", "J0013": "ADM", "J0014": "OPS", "J0015": "COST", "J0016": "DSN", "J0019": "MKT"}

PLAN_ITEMS = ["完成月度预算执行分析", "组织专项检查一次", "推进制度修订并发布", "完成重点项目节点", "开展业务培训一期",
              "完成供应商评估", "督办上月遗留事项", "提交季度工作报告", "完成档案整理归档", "组织安全检查",
              "推进信息系统上线", "完成成本核算复核"]
UNIT_GOALS = [("营业收入完成率(%)", "95", "100", "105"), ("重点工作按期完成率(%)", "90", "95", "100"),
              ("成本费用控制率(%)", "103", "100", "97"), ("安全质量事故(起)", "2", "0", None)]
PERSON_GOALS = [("岗位计划完成率(%)", "90", "95", "100"), ("工作差错次数(次)", "4", "2", "0"),
                ("配合满意度", None, None, None), ("报表及时率(%)", "95", "98", "100"), ("制度执行", None, None, None)]
DEVELOPMENT_GOALS = ["专业能力提升", "团队培养与带教", "学习培训完成"]
LEVELS = ["very_satisfied", "satisfied", "satisfied", "basically_satisfied", "needs_improvement"]


@dataclass
class Made:
    """What was made, for the command's report."""

    cycles: list[str] = field(default_factory=list)
    accounts: int = 0
    letters: int = 0


def build(year: int, current: str | None = None, seed: int | None = None, actor: str = "cli:demo") -> Made:
    """Make the corporate year ``year`` (12 published monthly cycles and the published annual
    cycle) and, with ``current`` (``YYYY-MM`` of the following year), that year's months up to it:
    the months before published, ``current`` itself open with its plans under way."""
    rng = random.Random(seed if seed is not None else year)
    made = Made()
    made.accounts = _accounts()
    _organisation(actor)
    users = {u.username: u for u in db_session.scalars(select(User))}
    made.letters = _letters(str(year), rng, users, actor, score=True)
    for month in range(1, 13):
        made.cycles.append(_month(year, month, rng, users, actor, finish=True, close=True))
    made.cycles.append(_annual(year, rng, users, actor))
    if current:
        next_year, last = int(current[:4]), int(current[5:7])
        made.letters += _letters(str(next_year), rng, users, actor, score=False)
        for month in range(1, last + 1):
            made.cycles.append(_month(next_year, month, rng, users, actor, finish=month < last, close=month < last - 1))
    return made


# ----------------------------------------------------------------------------------- who is who

def _accounts() -> int:
    """An account for every person of the demo tenant who has none (the person's number, lower case),
    with the demo password; class A leaders become leaders, the managers listed above unit heads."""
    people = list(db_session.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.number)))
    have = set(db_session.scalars(select(User.person_id).where(User.person_id.is_not(None))))
    units = dict(db_session.execute(select(OrgUnit.code, OrgUnit.id)).all())
    password = hash_password(DEMO_PASSWORD)  # one hash: every demo account has the same documented password
    made = 0
    for user in db_session.scalars(select(User).where(User.person_id.is_not(None))):
        code = UNIT_HEADS.get(user.person.number) if user.person is not None else None
        if code and units[code] not in user.headed_unit_ids():
            user.memberships.append(RoleMembership(role="unit_head", unit_id=units[code]))  # HR's manager heads HR
    for person in people:
        if person.id in have:
            continue
        user = User(username=person.number.lower(), display_name=person.name, person_id=person.id,
                    password_hash=password, active=True)
        if person.staff_class == "A":
            user.memberships.append(RoleMembership(role="leader"))
        elif person.number in UNIT_HEADS:
            user.memberships.append(RoleMembership(role="unit_head", unit_id=units[UNIT_HEADS[person.number]]))
        else:
            user.memberships.append(RoleMembership(role="employee"))
        db_session.add(user)
        made += 1
    db_session.flush()
    return made


def _organisation(actor: str) -> None:
    users = dict(db_session.execute(select(User.username, User.id)).all())
    holders = organisation.post_holders()
    for post, names in POSTS.items():
        if not holders.get(post):
            organisation.set_post(post, [users[n] for n in names if n in users], actor)
    if not organisation.oversight():
        people = dict(db_session.execute(select(Person.number, Person.id)).all())
        units = dict(db_session.execute(select(OrgUnit.code, OrgUnit.id)).all())
        for number, codes in OVERSIGHT.items():
            organisation.set_oversight(people[number], [units[c] for c in codes], actor)
    db_session.flush()


def _accounts_of_person() -> dict[int, User]:
    return {u.person_id: u for u in db_session.scalars(select(User).where(User.person_id.is_not(None)))}


# ----------------------------------------------------------------------------------- dates

def _backdate(cycle: Cycle, year: int, month: int) -> None:
    """A month's steps on the days the source's calendar puts them: the committee on the 3rd of the
    next month, results on the 4th, closed on the 20th (the records were made just now)."""
    following = date(year + (month == 12), month % 12 + 1, 1)
    cycle.review_at = at(following.replace(day=3), 9)
    cycle.computed_at = at(following.replace(day=3), 11)
    cycle.published_at = at(following.replace(day=4), 10)
    if cycle.state == "closed":
        cycle.closed_at = at(following.replace(day=20), 10)


# ----------------------------------------------------------------------------------- letters

def _letters(year: str, rng: random.Random, users: dict[str, User], actor: str, score: bool) -> int:
    """Draft every letter of ``year``, give it goals, have both sides sign it, and score it at year end."""
    from plugins.corporate_grading.letters import service as letters
    from plugins.corporate_grading.letters.models import ResponsibilityLetter

    letters.draft_all(year, actor)
    everyone = list(db_session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))
    count = 0
    for letter in db_session.scalars(select(ResponsibilityLetter).where(ResponsibilityLetter.year == year)
                                     .order_by(ResponsibilityLetter.id)).all():
        if not letters.goals_of(letter):
            for form in _goals(letter.person_id is not None, rng):
                letters.add_goal(letter, form, letter.version, actor)
                db_session.flush()
        for side in ("assessed", "superior"):
            if getattr(letter, f"{side}_signed_by") is None:
                signer = next((u for u in everyone if policy.may_sign_letter(u, letter, side)), None)
                if signer is not None:
                    letters.sign(letter, side, signer, letter.version, f"user:{signer.username}")
                    setattr(letter, f"{side}_signed_at", at(date(int(year), 1, 15), 10))  # signed in January
                    db_session.flush()
        if score and letter.signed:
            form = {}
            for goal in letters.goals_of(letter):
                if goal.kind == "quantitative":
                    form[f"actual-{goal.id}"] = _actual(goal.threshold, goal.target, goal.challenge, goal.better, rng)
                else:
                    form[f"level-{goal.id}"] = rng.choice(LEVELS)
            letters.set_scores(letter, form, letter.version, actor)
            db_session.flush()
        count += 1
    return count


def _goals(personal: bool, rng: random.Random) -> list[dict]:
    """5 unit goals of 20% each; or a personal letter of 5 performance goals (70%) and 2
    development goals (30%), every weight within the 5–30% guidance."""
    if not personal:
        picked = rng.sample(UNIT_GOALS, 3)
        forms = [_quantitative(name, t, g, c, "20") for name, t, g, c in picked]
        forms += [{"name": "部门协作满意度", "weight": "20", "kind": "qualitative"},
                  {"name": "内部管理规范", "weight": "20", "kind": "qualitative"}]
        return forms
    forms = []
    for (name, threshold, target, challenge), weight in zip(PERSON_GOALS, ("20", "15", "15", "10", "10")):
        if threshold is None:
            forms.append({"name": name, "weight": weight, "kind": "qualitative", "goal": "performance"})
        else:
            forms.append({**_quantitative(name, threshold, target, challenge, weight), "goal": "performance"})
    for name in rng.sample(DEVELOPMENT_GOALS, 2):
        forms.append({"name": name, "weight": "15", "kind": "qualitative", "goal": "development"})
    return forms


def _quantitative(name: str, threshold: str, target: str, challenge: str | None, weight: str) -> dict:
    better = "lower" if Decimal(target) < Decimal(threshold) else "higher"
    form = {"name": name, "weight": weight, "kind": "quantitative", "threshold": threshold, "target": target,
            "better": better}
    if challenge is not None:
        form["challenge"] = challenge
    return form


def _actual(threshold, target, challenge, better, rng: random.Random) -> str:
    """An actual value around the target: mostly between threshold and challenge."""
    low, high = Decimal(str(threshold)), Decimal(str(challenge if challenge is not None else target))
    step = (high - low) / 4
    value = low + step * rng.choice([-1, 1, 2, 3, 4, 4, 5]) if better == "higher" else low - (low - high) / 4 * rng.choice([-1, 1, 2, 3, 4, 5])
    return format(value.quantize(Decimal("0.1")), "f")


# ----------------------------------------------------------------------------------- months

def _month(year: int, month: int, rng: random.Random, users: dict[str, User], actor: str,
           finish: bool, close: bool) -> str:
    """One monthly cycle; ``finish``: computed and published (and closed with ``close``)."""
    period = f"{year}-{month:02d}"
    cycle = cycles.create_cycle(SCHEME_ID, period, f"{year}年{month}月考评", {}, actor,
                                inputs_due=date(year + (month == 12), month % 12 + 1, 4))
    cycles.transition(cycle, "open", actor)
    cycle.opened_at = at(date(year, month, 1), 9)
    subjects = cycles.subjects(cycle)
    _plans(cycle, subjects, rng, actor, judge=finish)
    _unit_forms(cycle, subjects, rng, actor)
    _scorecards(cycle, subjects, rng, actor, approve=finish)
    if not finish:
        return period
    _adjustments(cycle, rng, actor)
    _committee(cycle, rng, users, actor)
    cycles.compute(cycle, actor)
    cycles.transition(cycle, "review", actor)
    cycles.transition(cycle, "published", actor)
    if close:
        cycles.transition(cycle, "closed", actor)
    _backdate(cycle, year, month)
    read_old_notifications()
    db_session.flush()
    return period


def _plans(cycle: Cycle, subjects: list[CycleSubject], rng: random.Random, actor: str, judge: bool) -> None:
    from plugins.corporate_grading.plans import service as plans

    for subject in [s for s in subjects if s.kind == "unit"]:
        for title in rng.sample(PLAN_ITEMS, rng.randint(4, 7)):
            plans.add_item(cycle, subject, {"title": title, "standard": "按期完成并提交成果", "owner": "部门负责人"}, actor)
        sheet = plans.sheet_of(subject)
        plans.submit(cycle, sheet, sheet.version, actor)
        sheet.submitted_at = at(plans.deadlines(cycle)[0] - timedelta(days=rng.randint(0, 3)), 17)
        if not judge:
            continue
        for item in plans.items_of(sheet):
            done = rng.random() < 0.85
            plans.judge_item(cycle, sheet, item, {"completion": "done" if done else "not_done",
                                                  "evidence": "见月度进度表" if done else "延期至下月",
                                                  "version": str(item.version)}, actor)
        db_session.refresh(subject)
        plans.check(cycle, subject, sheet, sheet.version, actor)
        sheet.checked_at = at(month_end(cycle.period), 16)
    db_session.flush()


def _level_items(names: list[tuple[str, str]], rng: random.Random) -> list[dict]:
    return [{"name": name, "weight": weight, "kind": "qualitative", "level": rng.choice(LEVELS)} for name, weight in names]


def _unit_forms(cycle: Cycle, subjects: list[CycleSubject], rng: random.Random, actor: str) -> None:
    """The unit's monthly form: HR scores cooperation and management, finance the cost of administration."""
    for subject in [s for s in subjects if s.kind == "unit"]:
        db_session.refresh(subject)
        items = _level_items([("协作配合", "0.4"), ("内部管理", "0.3"), ("管理费用控制", "0.3")], rng)
        cycles.set_inputs(subject, cycle, {**subject.inputs, "form_items": items}, subject.inputs_version, actor)


def _scorecards(cycle: Cycle, subjects: list[CycleSubject], rng: random.Random, actor: str, approve: bool) -> None:
    """Each person's monthly scorecard, self-scored and (when ``approve``) walked along the chain."""
    from plugins.corporate_grading.approvals import service as approvals

    accounts = _accounts_of_person()
    by_id = {u.id: u for u in accounts.values()}
    for subject in [s for s in subjects if s.kind == "person"]:
        items = [{"name": "月度计划完成", "weight": "0.5", "kind": "quantitative", "threshold": "80", "target": "95",
                  "challenge": "100", "actual": str(rng.choice([78, 85, 90, 95, 96, 98, 100]))}]
        items += _level_items([("工作质量", "0.3"), ("工作态度", "0.2")], rng)
        cycles.set_inputs(subject, cycle, {**subject.inputs, "personal_items": items}, subject.inputs_version,
                          f"user:{accounts[subject.person_id].username}")
        if not approve:
            continue
        person = accounts[subject.person_id]
        approvals.submit(cycle, subject, person)
        for _step in range(4):
            approval = approvals.approval_of(subject)
            if approval.state == "approved":
                break
            acting = approvals.directory().acting(approval.current_step, subject)
            approvals.approve(cycle, subject, by_id[acting.user_ids[0]], "", approval.version)
        db_session.flush()


def _adjustments(cycle: Cycle, rng: random.Random, actor: str) -> None:
    """One unit's ±1 proposal by the plan supervisor and one person's bonus or penalty, with reasons."""
    from plugins.corporate_grading.plans import service as plans

    subjects = cycles.subjects(cycle)
    units = [s for s in subjects if s.kind == "unit"]
    people = [s for s in subjects if s.kind == "person"]
    unit, person = rng.choice(units), rng.choice(people)
    plans.set_adjustment(cycle, unit, {"value": "0.5", "kind": "unplanned_key_work",
                                       "reason": "完成集团临时交办的重点工作", "inputs_version": str(unit.inputs_version)}, actor)
    value, kind, reason = rng.choice([("0.3", "honour", "获得市级先进集体荣誉"), ("-0.5", "loss", "报表延误造成不良影响")])
    plans.set_adjustment(cycle, person, {"value": value, "kind": kind, "reason": reason,
                                         "inputs_version": str(person.inputs_version)}, actor)


def _committee(cycle: Cycle, rng: random.Random, users: dict[str, User], actor: str) -> None:
    """The committee meets; one unit's score is put to the vote, everyone present votes."""
    from plugins.corporate_grading.committee import service as committee

    meeting = committee.create_meeting(cycle, committee.default_date(cycle), actor)
    members = committee.members(meeting)
    committee.set_attendance(meeting, {m.id for m in members}, meeting.version, actor)
    agenda = committee.agenda(meeting)
    for entry in agenda:  # every unit reports; one of them is put to the vote
        committee.save_notes(entry.item, "本月重点工作按计划推进，汇报完毕。", "委员们肯定了该单位的工作。", True,
                             entry.item.version, actor)
    item = rng.choice(agenda).item
    subject = db_session.get(CycleSubject, item.subject_id)
    committee.propose(item, cycle, rng.choice(["4.2", "4.5", "3.9"]), "考评小组讨论认为该单位本月贡献突出", item.version, actor)
    in_favour = rng.randint(len(members) // 2, len(members))
    by_id = {u.id: u for u in users.values()}
    for i, member in enumerate(members):
        committee.cast_vote(meeting, item, subject, by_id[member.user_id], "for" if i < in_favour else "against",
                            f"user:{by_id[member.user_id].username}")
    if committee.is_tie(item, committee.seat_count(meeting)):
        chair = committee.acting_chair(meeting)
        committee.cast_casting_vote(meeting, item, by_id[chair.user_id], "for", item.version, actor)
    committee.close_vote(meeting, item, cycle, subject, item.version, actor)
    db_session.flush()


# ----------------------------------------------------------------------------------- the year

def _annual(year: int, rng: random.Random, users: dict[str, User], actor: str) -> str:
    """The annual cycle: collected from the months and letters, 360 reviews answered, bonus bases set."""
    from plugins.corporate_grading.annual import service as annual
    from plugins.corporate_grading.reviews import service as reviews
    from plugins.corporate_grading.reviews.models import ReviewAssignment

    cycle = cycles.create_cycle(SCHEME_ID, str(year), f"{year}年度考评", {}, actor, inputs_due=date(year + 1, 1, 20))
    cycles.transition(cycle, "open", actor)
    reviews.bulk_assign(cycle, actor)
    for assignment in db_session.scalars(select(ReviewAssignment).where(ReviewAssignment.cycle_id == cycle.id)
                                         .order_by(ReviewAssignment.id)).all():
        rating = rng.choice(["3.5", "3.8", "4", "4.2", "4.5", "4.6", "4.8", "5"])
        reviews.answer(cycle, assignment, rating, "", assignment.version, actor)
    annual.collect(cycle, actor)
    from plugins.corporate_grading.annual import confidence
    for row in confidence.rows(cycle):  # all 60 staff vote on each class A leader
        distrust, abstain = rng.randint(0, 4), rng.randint(0, 3)
        basic = rng.randint(5, 20)
        confidence.record_vote(cycle, row.subject, {"trust": str(60 - distrust - abstain - basic), "basic_trust": str(basic),
                                                    "distrust": str(distrust), "abstain": str(abstain), "version": ""}, actor)
    bases = {"A": 60000, "B": 30000, "C": 12000}
    for subject in [s for s in cycles.subjects(cycle) if s.kind == "person"]:
        base = bases[subject.staff_class] + rng.randrange(0, 50) * 100
        annual.set_base(cycle, subject.person_id, str(base), None, actor)
    cycles.compute(cycle, actor)
    cycles.transition(cycle, "review", actor)
    cycles.transition(cycle, "published", actor)
    cycle.opened_at, cycle.review_at = at(date(year, 12, 1), 9), at(date(year + 1, 1, 8), 9)
    cycle.computed_at, cycle.published_at = at(date(year + 1, 1, 8), 10), at(date(year + 1, 1, 10), 10)
    db_session.flush()
    return str(year)
