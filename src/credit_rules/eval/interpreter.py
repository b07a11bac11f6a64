"""The reference evaluator: one teacher at a time, plain code, the definition of truth.

Read it beside SPEC §4. For one teacher and one period:

1. take the teacher's events whose local date lies in the period, in time order
   (``at``, ties by ``event_id``);
2. every rule makes *awards*, each landing on one event (a block award on the event
   that completes the block, an ``if qualified`` award on the deciding assessment);
3. the credit register: awards in time order are credited the least of their amount
   and what is still free under every cap they fall under, and exactly that is taken
   from each of those caps;
4. penalties, leave days, grade, requirements (first matching line, reductions,
   waivers);
5. across teachers of the same period: ranks, then excellence.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs

from credit_rules import ir
from credit_rules.eval.conditions import AwardView, TeacherFacts, event_holds, teacher_holds
from credit_rules.records import Event, LedgerRow, RequirementResult, Teacher, TraceEntry
from credit_rules.values import ZERO, Period, PeriodKind, period_of, periods_within, today

QUALIFYING_GRADES = frozenset({"qualified", "excellent"})


@attrs.frozen
class Award:
    """What one rule gives one event, before and after the register."""

    rule: ir.Rule
    event: Event
    credits: Decimal
    hours: Decimal
    view: AwardView
    credited: Decimal = ZERO
    cut_by: tuple[str, ...] = ()  # caps that bound this award (for explain)


@attrs.frozen
class TeacherPeriod:
    """Everything computed for one teacher in one period; ``row`` is the ledger row."""

    teacher: Teacher
    period: Period
    events: tuple[Event, ...]
    awards: tuple[Award, ...]
    leave_events: tuple[Event, ...]
    penalties: tuple[tuple[ir.Penalty, Event], ...]
    score_event: Event | None
    row: LedgerRow


def evaluate(
    policy: ir.Policy,
    events: Iterable[Event],
    teachers: Mapping[str, Teacher] | None = None,
    *,
    as_of: dt.date | None = None,
) -> list[LedgerRow]:
    """Evaluate ``policy`` for every teacher in ``teachers`` or in ``events``.

    ``events`` must be valid and de-duplicated (see :func:`credit_rules.io.load_events`).
    Rows come sorted by ``teacher_id`` then ``period_start``.
    """
    return [tp.row for tp in evaluate_detailed(policy, events, teachers, as_of=as_of)]


def evaluate_detailed(
    policy: ir.Policy,
    events: Iterable[Event],
    teachers: Mapping[str, Teacher] | None = None,
    *,
    as_of: dt.date | None = None,
) -> list[TeacherPeriod]:
    """Like :func:`evaluate`, keeping every award and cap decision (for ``explain``)."""
    roster = dict(teachers or {})
    by_teacher: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        by_teacher[event.teacher_id].append(event)
    ids = sorted(set(roster) | set(by_teacher))
    as_of_day = as_of or today(policy.timezone)
    results: list[TeacherPeriod] = []
    for teacher_id in ids:
        teacher = roster.get(teacher_id) or Teacher(teacher_id)
        evs = sorted(by_teacher.get(teacher_id, ()), key=lambda e: e.order_key)
        for period in ledger_periods(policy, evs, in_roster=teacher_id in roster, as_of=as_of_day):
            results.append(_evaluate_period(policy, teacher, period, evs))
    return _rank_and_finish(policy, results)


def ledger_periods(policy: ir.Policy, events: Sequence[Event], *, in_roster: bool, as_of: dt.date) -> list[Period]:
    """The periods a teacher gets ledger rows for (SPEC §4, Periods)."""
    if policy.evaluate is PeriodKind.WINDOW:
        assert policy.window is not None
        return [policy.window]
    if policy.window is not None:
        return periods_within(policy.evaluate, policy.window)
    found = {period_of(policy.evaluate, e.day) for e in events}
    if in_roster:
        found.add(period_of(policy.evaluate, as_of))
    return sorted(found)


# ---------------------------------------------------------------------- one teacher, one period
def _latest(events: Iterable[Event]) -> Event | None:
    latest: Event | None = None
    for event in events:
        if latest is None or event.order_key > latest.order_key:
            latest = event
    return latest


def latest_assessment(events: Sequence[Event], program: str) -> Event | None:
    """The deciding assessment of ``program``: the latest by ``at``, ties by ``event_id``."""
    return _latest(e for e in events if e.kind == "assessment" and e.program == program)


def latest_score(events: Sequence[Event], program: str) -> Event | None:
    return _latest(e for e in events if e.kind == "assessment" and e.program == program and e.score is not None)


def _teacher_facts(teacher: Teacher, events: Sequence[Event], **extra: Any) -> TeacherFacts:
    kinds = {e.kind for e in events}

    def qualified(program: str) -> bool:
        deciding = latest_assessment(events, program)
        return deciding is not None and deciding.grade in QUALIFYING_GRADES

    return TeacherFacts(teacher, qualified, kinds.__contains__, **extra)


def _view(rule: ir.Rule, event: Event) -> AwardView:
    category = None if rule.without_category else (rule.as_category or event.category)
    return AwardView(event, category, rule.as_level or event.level)


def _rule_awards(
    policy: ir.Policy, rule: ir.Rule, events: Sequence[Event], excluded: frozenset[str] = frozenset()
) -> list[Award]:
    """The awards one rule makes in one period, each on the event it lands on.

    ``excluded`` are events an exception to this rule already fired on.
    """
    events = [e for e in events if e.event_id not in excluded] if excluded else events
    rate = policy.rate
    award = rule.award
    if isinstance(award, ir.IfQualified):
        deciding = latest_assessment(
            [e for e in events if event_holds(rule.where, e)], rule.program or ""
        )
        if deciding is None or deciding.grade not in QUALIFYING_GRADES:
            return []
        credits, hours = _amounts(award.amount, award.unit, rate)
        return [Award(rule, deciding, credits, hours, _view(rule, deciding))]
    matching = [
        e for e in events
        if e.kind == rule.kind
        and (rule.program is None or e.program == rule.program)
        and event_holds(rule.where, e)
    ]
    if rule.first:
        matching = matching[:1]
    out: list[Award] = []
    match award:
        case ir.CountHours():
            for e in matching:
                hours = e.hours or ZERO
                out.append(Award(rule, e, hours * rate if rate is not None else ZERO, hours, _view(rule, e)))
        case ir.CountCredits():
            for e in matching:
                out.append(Award(rule, e, e.credits or ZERO, e.hours or ZERO, _view(rule, e)))
        case ir.Fixed(amount, unit):
            credits, hours = _amounts(amount, unit, rate)
            for e in matching:
                out.append(Award(rule, e, credits, hours, _view(rule, e)))
        case ir.Block(block_credits, block_hours, pro_rata):
            pooled = ZERO
            for e in matching:
                hours = e.hours or ZERO
                if pro_rata:
                    credits = hours * block_credits / block_hours
                else:
                    before = int(pooled // block_hours)
                    after = int((pooled + hours) // block_hours)
                    credits = block_credits * (after - before)
                pooled += hours
                out.append(Award(rule, e, credits, hours, _view(rule, e)))
    return out


def _amounts(amount: Decimal, unit: str, rate: Decimal | None) -> tuple[Decimal, Decimal]:
    """(credits, hours) of a fixed award: hours convert at the policy's rate."""
    if unit == "credits":
        return amount, ZERO
    return (amount * rate if rate is not None else ZERO), amount


def _register(policy: ir.Policy, awards: list[Award], void: bool) -> list[Award]:
    """The credit register of SPEC §4: caps taken in time order, order of caps irrelevant."""
    used: dict[tuple[str, Period | None], Decimal] = defaultdict(lambda: ZERO)
    out: list[Award] = []
    for award in sorted(awards, key=lambda a: (*a.event.order_key, a.rule.name)):
        if void:
            out.append(attrs.evolve(award, credited=ZERO))
            continue
        applying = [
            (cap, (cap.name, period_of(cap.per, award.event.day) if cap.per else None))
            for cap in policy.caps
            if event_holds(cap.of, award.view)
        ]
        credited = award.credits
        cut_by: list[str] = []
        for cap, key in applying:
            free = max(cap.amount - used[key], ZERO)
            if free < award.credits:
                cut_by.append(cap.name)
            credited = min(credited, free)
        for _, key in applying:
            used[key] += credited
        out.append(attrs.evolve(award, credited=credited, cut_by=tuple(cut_by)))
    return out


def _reduction_factor(policy: ir.Policy, teacher: Teacher) -> Decimal:
    reduction, window = policy.reduction, policy.window
    if reduction is None or window is None:
        return Decimal(1)
    day = teacher.get(reduction.attribute)
    if not isinstance(day, dt.date) or not window.contains(day):
        return Decimal(1)
    years_before = day.year - window.start.year
    return max(Decimal(1) - reduction.fraction * years_before, ZERO)


def _measure(
    measure: ir.Measure, awards: Sequence[Award], events: Sequence[Event], facts: TeacherFacts
) -> Decimal:
    match measure:
        case ir.MeasureCredits(of):
            return sum((a.credited for a in awards if event_holds(of, a.view)), ZERO)
        case ir.MeasureHours(of):
            return sum((a.hours for a in awards if event_holds(of, a.view)), ZERO)
        case ir.MeasureCount(kind, where):
            return sum((Decimal(e.count) for e in events if e.kind == kind and event_holds(where, e)), ZERO)
        case ir.MeasureQualified(program):
            return Decimal(1) if facts.qualified(program) else ZERO
    raise AssertionError(measure)  # pragma: no cover


def _requirements(
    policy: ir.Policy, teacher: Teacher, awards: Sequence[Award], events: Sequence[Event], facts: TeacherFacts
) -> tuple[RequirementResult, ...]:
    factor = _reduction_factor(policy, teacher)
    waived = {
        name for waiver in policy.waivers if teacher_holds(waiver.when, facts) for name in waiver.names
    }
    results: list[RequirementResult] = []
    for requirement in sorted(policy.requirements, key=lambda r: r.name):
        line = next((ln for ln in requirement.lines if teacher_holds(ln.when, facts)), None)
        if line is None:
            continue  # does not apply to this teacher (SPEC §5)
        required = line.amount
        if isinstance(line.measure, ir.MeasureCredits):
            required = line.amount * factor
        actual = _measure(line.measure, awards, events, facts)
        is_waived = requirement.name in waived
        results.append(RequirementResult(
            requirement.name, required, actual, is_waived or actual >= required, is_waived
        ))
    return tuple(results)


def _grade(policy: ir.Policy, events: Sequence[Event]) -> tuple[str | None, Event | None]:
    rule = policy.grade
    if rule is None:
        return None, None
    if isinstance(rule, ir.GradeFromAssessment):
        deciding = latest_assessment(events, rule.program)
        return (deciding.grade if deciding else None), deciding
    scored = latest_score(events, rule.program)
    if scored is None or scored.score is None:
        return None, None
    for grade, minimum in rule.thresholds:
        if scored.score >= minimum:
            return grade, scored
    return rule.otherwise, scored


def _evaluate_period(policy: ir.Policy, teacher: Teacher, period: Period, all_events: Sequence[Event]) -> TeacherPeriod:
    events = tuple(e for e in all_events if period.contains(e.day))
    facts = _teacher_facts(teacher, events)
    awards: list[Award] = []
    leave_events: list[Event] = []
    applying = [r for r in sorted(policy.rules, key=lambda r: r.name) if teacher_holds(r.when, facts)]
    excluded: dict[str, set[str]] = defaultdict(set)
    for rule in applying:
        if rule.exception_to is not None and not isinstance(rule.award, ir.Leave):
            excluded[rule.exception_to].update(a.event.event_id for a in _rule_awards(policy, rule, events))
    for rule in applying:
        if isinstance(rule.award, ir.Leave):
            leave_events.extend(
                e for e in events if e.kind == rule.kind and event_holds(rule.where, e)
                and (rule.program is None or e.program == rule.program)
            )
            continue
        awards.extend(_rule_awards(policy, rule, events, frozenset(excluded.get(rule.name, ()))))
    penalties = tuple(
        (penalty, e)
        for penalty in sorted(policy.penalties, key=lambda p: p.name)
        for e in events
        if e.kind == penalty.kind and event_holds(penalty.where, e)
    )
    void = any(p.void_credits for p, _ in penalties)
    credited = _register(policy, awards, void)
    credits = sum((a.credited for a in credited), ZERO)
    hours = sum((a.hours for a in credited), ZERO)
    by_category: dict[str, Decimal] = defaultdict(lambda: ZERO)
    by_level: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for award in credited:
        if award.view.category is not None:
            by_category[award.view.category] += award.credited
        if award.view.level is not None:
            by_level[award.view.level] += award.credited
    grade, score_event = _grade(policy, events)
    leave_days = len({e.event_id for e in leave_events})
    requirements = _requirements(policy, teacher, credited, events, facts)
    trace = _trace(credited)
    row = LedgerRow(
        teacher_id=teacher.teacher_id, period_start=period.start, period_end=period.end,
        credits=credits, hours=hours, leave_days=leave_days, grade=grade, excellent_eligible=False,
        by_category=dict(by_category), by_level=dict(by_level), requirements=requirements,
        met=all(r.met for r in requirements), trace=trace,
    )
    return TeacherPeriod(teacher, period, events, tuple(credited), tuple(leave_events), penalties,
                         score_event, row)


def _trace(awards: Sequence[Award]) -> tuple[TraceEntry, ...]:
    by_rule: dict[str, list[Award]] = defaultdict(list)
    for award in awards:
        by_rule[award.rule.name].append(award)
    entries: list[TraceEntry] = []
    for name in sorted(by_rule):
        group = by_rule[name]
        ids: list[str] = []
        for award in group:
            if award.event.event_id not in ids:
                ids.append(award.event.event_id)
        entries.append(TraceEntry(
            rule=name, source=group[0].rule.source,
            credits=sum((a.credited for a in group), ZERO),
            hours=sum((a.hours for a in group), ZERO),
            events=tuple(ids),
        ))
    return tuple(entries)


# ---------------------------------------------------------------------- across teachers
def outcome_facts(tp: TeacherPeriod, ranked: frozenset[str] = frozenset()) -> TeacherFacts:
    """The facts `excellent`, `among` and invariants see for one teacher-period."""
    row = tp.row
    return _teacher_facts(tp.teacher, tp.events, facts={
        "credits": row.credits, "hours": row.hours, "leave_days": Decimal(row.leave_days),
        "grade": row.grade, "met": row.met, "excellent_eligible": row.excellent_eligible,
    }, ranked=ranked)


def ranked_sets(policy: ir.Policy, results: Sequence[TeacherPeriod]) -> list[frozenset[str]]:
    """For each teacher-period, the names of the ranks that selected it (ranks compare a period's teachers)."""
    ranked: dict[int, set[str]] = defaultdict(set)
    by_period: dict[Period, list[int]] = defaultdict(list)
    for index, tp in enumerate(results):
        by_period[tp.period].append(index)
    for rank in policy.ranks:
        for indices in by_period.values():
            for index in select_ranked(policy, rank, [results[i] for i in indices], indices):
                ranked[index].add(rank.name)
    return [frozenset(ranked[i]) for i in range(len(results))]


def _rank_and_finish(policy: ir.Policy, results: list[TeacherPeriod]) -> list[TeacherPeriod]:
    finished: list[TeacherPeriod] = []
    for tp, ranked in zip(results, ranked_sets(policy, results), strict=True):
        facts = outcome_facts(tp, ranked)
        excellent = False
        if policy.excellent is not None:
            excellent = teacher_holds(policy.excellent.when, facts)
        if any(p.not_excellent for p, _ in tp.penalties):
            excellent = False
        finished.append(attrs.evolve(tp, row=attrs.evolve(tp.row, excellent_eligible=excellent)))
    return finished


def select_ranked(
    policy: ir.Policy, rank: ir.Rank, group: Sequence[TeacherPeriod], indices: Sequence[int]
) -> set[int]:
    """Indices of the teachers ``rank`` selects among ``group`` (one period)."""
    candidates: list[tuple[tuple[Any, ...], int, TeacherPeriod]] = []
    for tp, index in zip(group, indices, strict=True):
        scored = latest_score(tp.events, rank.program)
        if scored is None or scored.score is None:
            continue
        if not teacher_holds(rank.among, outcome_facts(tp)):
            continue
        # Highest score first; ties: the earlier score, then teacher_id (SPEC §6).
        key = (-scored.score, scored.instant_us, tp.teacher.teacher_id)
        candidates.append((key, index, tp))
    candidates.sort(key=lambda c: c[0])
    chosen: set[int] = set()
    for top in rank.tops:
        if top.mode == "overall":
            chosen.update(index for _, index, _ in candidates[: top.count])
        elif top.mode == "per":
            assert top.field is not None
            for value in top.values:
                pool = [c for c in candidates if c[2].teacher.get(top.field) == value]
                chosen.update(index for _, index, _ in pool[: top.count])
        else:
            assert top.field is not None
            pool = [c for c in candidates if c[2].teacher.get(top.field) in top.values]
            chosen.update(index for _, index, _ in pool[: top.count])
    return chosen
