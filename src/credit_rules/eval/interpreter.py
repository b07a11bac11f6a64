"""The reference evaluator: one teacher at a time, plain code, the definition of truth.

It evaluates the core (:mod:`credit_rules.core`), in which the lowering has already
decided every question that depends only on the policy; read it beside SPEC §4. For one
teacher and one period:

1. take the teacher's events whose local date lies in the period, in time order
   (``at``, ties by ``event_id``);
2. every award makes *credits*, each landing on one event (a block award on the event
   that completes the block, a ``deciding`` award on the deciding assessment);
3. the credit register: awards in time order are credited the least of their amount
   and what is still free under every cap they fall under, and exactly that is taken
   from each of those caps;
4. penalties, leave days, grade, requirements (first matching line, reductions,
   waivers);
5. across teachers of the same period: ranks, then excellence.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs

from credit_rules import core, ir
from credit_rules.core.nodes import Policy as CorePolicy
from credit_rules.core.nodes import prorated, year_shares
from credit_rules.errors import UsageError
from credit_rules.eval.conditions import (
    AwardView,
    TeacherFacts,
    event_holds,
    event_test,
    teacher_holds,
    view_key,
)
from credit_rules.eval.period_events import by_period
from credit_rules.eval.register import Award, register
from credit_rules.eval.windows import Binder
from credit_rules.memo import by_identity
from credit_rules.records import ORDER_KEY, Event, LedgerRow, RequirementResult, Teacher, TraceEntry
from credit_rules.schema import QUALIFYING_GRADES as _QUALIFYING
from credit_rules.values import ZERO, Period, exact_div, period_of, today

QUALIFYING_GRADES = frozenset(_QUALIFYING)


@attrs.frozen
class RequirementDecision:
    """Which line of a requirement applied, its factor, and whether a waiver excused it."""

    requirement: core.Requirement
    line: core.Line
    factor: Decimal
    waived: bool


@attrs.frozen
class TeacherPeriod:
    """Everything computed for one teacher in one period; ``row`` is the ledger row."""

    teacher: Teacher
    period: Period
    events: tuple[Event, ...]
    awards: tuple[Award, ...]
    leave_events: tuple[Event, ...]
    penalties: tuple[tuple[core.Penalty, Event], ...]
    score_event: Event | None
    decisions: tuple[RequirementDecision, ...]
    row: LedgerRow
    #: the period's events that ``count only status …`` leaves out (issue 9, D)
    not_counted: tuple[Event, ...] = ()


def _core(policy: ir.Policy | CorePolicy) -> CorePolicy:
    return policy if isinstance(policy, CorePolicy) else core.lower(policy)


def evaluate(
    policy: ir.Policy | CorePolicy,
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


_TEACHER_ID = operator.attrgetter("teacher_id")


def evaluate_detailed(
    policy: ir.Policy | CorePolicy,
    events: Iterable[Event],
    teachers: Mapping[str, Teacher] | None = None,
    *,
    as_of: dt.date | None = None,
) -> list[TeacherPeriod]:
    """Like :func:`evaluate`, keeping every award and cap decision (for ``explain``)."""
    lowered = _core(policy)
    roster = dict(teachers or {})
    events = list(events)
    by_teacher: dict[str, list[Event]] = defaultdict(list)
    if len(set(map(_TEACHER_ID, events))) == 1:  # one teacher (the common call): no loop
        by_teacher[events[0].teacher_id] = events
    else:
        for event in events:
            by_teacher[event.teacher_id].append(event)
    ids = sorted(set(roster) | set(by_teacher))
    as_of_day = as_of or today(lowered.timezone)
    results: list[TeacherPeriod] = []
    binder = Binder(lowered)
    for teacher_id in ids:
        teacher = roster.get(teacher_id) or Teacher(teacher_id)
        evs = sorted(by_teacher.get(teacher_id, ()), key=ORDER_KEY)
        own = binder(teacher)
        counted = [e for e in evs if event_holds(lowered.counted, e)] if lowered.counted else evs
        periods: list[TeacherPeriod] = []
        spans = ledger_periods(lowered, evs, in_roster=teacher_id in roster, as_of=as_of_day)
        # Whether any event needs its study hours converted: asked once per teacher, not per period.
        units = bool(own.units) or any([e.minutes is not None or e.days is not None for e in counted])
        # Requirements decided by the teacher alone: decided once, not once per period.
        decided = decide_requirements(own, teacher_facts(teacher, ())) if _decided_by_teacher(own) else None
        for period, candidates in zip(spans, by_period(spans, counted), strict=True):
            tp = _evaluate_period(own, teacher, period, candidates, units=units, decisions=decided)
            if len(counted) < len(evs):
                kept = {e.event_id for e in counted}
                tp = attrs.evolve(tp, not_counted=tuple(
                    e for e in evs if e.event_id not in kept and period.contains(e.day)))
            periods.append(tp)
        results.extend(carry_forward(own, periods))  # issue 9 (E2): a teacher's periods in order
    return _rank_and_finish(lowered, results)


def ledger_periods(
    policy: ir.Policy | CorePolicy, events: Sequence[Event], *, in_roster: bool, as_of: dt.date,
) -> list[Period]:
    """The periods a teacher gets ledger rows for (SPEC §4, Periods)."""
    periods = _core(policy).periods
    if periods.fixed is not None:
        return list(periods.fixed)
    # A grain's periods partition the calendar: in day order, a day outside the last
    # period found starts the next one (period_of once per period, not once per event).
    found: list[Period] = []
    for day in sorted({e.day for e in events}):  # Period.contains, inlined: once per day
        if not found or not found[-1].start <= day <= found[-1].end:
            found.append(period_of(periods.grain, day))
    if in_roster:
        found.append(period_of(periods.grain, as_of))
    # Period's order (start, end) by a key: attrs' generated comparison walks a tuple per call.
    return sorted(set(found), key=_period_order)


def _period_order(period: Period) -> tuple[dt.date, dt.date]:
    return period.start, period.end


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
    """The latest assessment of ``program`` that has a score."""
    return _latest(e for e in events if e.kind == "assessment" and e.program == program and e.score is not None)


def teacher_facts(teacher: Teacher, events: Sequence[Event], **extra: Any) -> TeacherFacts:
    """What teacher-level conditions see for ``teacher`` over ``events`` (one period)."""
    kinds = {e.kind for e in events}

    def qualified(program: str) -> bool:
        deciding = latest_assessment(events, program)
        return deciding is not None and deciding.grade in QUALIFYING_GRADES

    return TeacherFacts(teacher, qualified, kinds.__contains__, **extra)


def selected(select: core.Select, events: Iterable[Event]) -> list[Event]:
    """The events a clause looks at: kind, program, filter."""
    kind, program = select.kind, select.program
    if select.where is None:  # no filter: no call per event
        return [e for e in events if e.kind == kind and (program is None or e.program == program)]
    holds = event_test(select.where)
    return [e for e in events if e.kind == kind and (program is None or e.program == program) and holds(e)]


def award_events(award: core.Award, events: Sequence[Event]) -> list[Event]:
    """The events ``award`` credits, before amounts (its pick applied)."""
    matching = selected(award.select, events)
    if award.pick == "deciding":
        deciding = _latest(matching)
        return [deciding] if deciding is not None and deciding.grade in QUALIFYING_GRADES else []
    if award.pick == "first":
        return matching[:1]
    return matching


def _awards(award: core.Award, events: Sequence[Event]) -> list[Award]:
    """The awards one rule makes in one period, each on the event it lands on."""
    picked = award_events(award, events)
    if not picked:
        return []
    hours = [e.hours or ZERO for e in picked]
    exact: list[Fraction] = []  # Prorated: the exact credits before the rule's rounding
    match award.amount:  # the amount's kind decided once per rule, not once per event
        case core.Prorated(per_credits, per_hours):
            rate = Fraction(per_credits) / Fraction(per_hours)
            exact = [Fraction(h) * rate for h in hours]
            credits = [ZERO] * len(picked)
        case core.PerHour(per_hour):
            credits = [h * per_hour for h in hours]
        case core.Stated():
            credits = [e.credits or ZERO for e in picked]
        case core.Fixed(fixed_credits, fixed_hours):
            credits, hours = [fixed_credits] * len(picked), [fixed_hours] * len(picked)
        case core.Blocks(block_credits, block_hours):
            credits, pooled = [], ZERO
            for h in hours:  # blocks complete over the rule's running total of hours
                completed = int((pooled + h) // block_hours) - int(pooled // block_hours)
                credits.append(block_credits * completed)
                pooled += h
    # Where the awards land: the event's own category and level, or the rule's (`as level`, `without`).
    category, level = award.category, award.level
    views = [AwardView(e, e.category if category.from_event else category.value,
                       e.level if level.from_event else level.value) for e in picked]
    out = list(map(Award, itertools.repeat(award), picked, credits, hours, views))
    if award.rounding is None:
        return out
    raw = exact if isinstance(award.amount, core.Prorated) else [Fraction(a.credits) for a in out]
    return _rounded(award.rounding, out, raw)


def _rounded(rounding: core.Rounding, awards: list[Award], raw: list[Fraction]) -> list[Award]:
    """One rule's awards of a period (in time order) after its declared rounding of their
    exact credits ``raw``: each award, or pooled: the rounded running total's increments."""
    out: list[Award] = []
    total = Fraction(0)
    for a, value in zip(awards, raw, strict=True):
        if rounding.pooled:
            credits = rounding.apply(total + value) - rounding.apply(total)
            total += value
            value = total  # explained as the running total the award completes
        else:
            credits = rounding.apply(value)
        out.append(a._replace(credits=credits, unrounded=value))
    return out


#: A period's awards grouped by what its requirements read of them: (a view of the group,
#: its credited credits, its hours). See :func:`_landings`.
Landings = list[tuple[AwardView, Decimal, Decimal]]


def measure(
    what: core.Measure, awards: Sequence[Award], events: Sequence[Event], facts: TeacherFacts,
    landings: Landings | None = None,
) -> Decimal:
    """The actual amount of a requirement line for one teacher-period; ``landings``: the
    awards grouped by what the conditions of the measure read (:func:`_landings`)."""
    match what:
        case core.CountOf(select):
            return sum([Decimal(e.count) for e in selected(select, events)], ZERO)
        case core.CreditedOf(None):  # every award: no call per award
            return sum([a.credited for a in awards], ZERO)
        case core.HoursOf(None):
            return sum([a.hours for a in awards], ZERO)
        case core.CreditedOf(of):
            holds = event_test(of)
            if landings is not None:  # each group tested once
                return sum([credited for view, credited, _ in landings if holds(view)], ZERO)
            return sum([a.credited for a in awards if holds(a.view)], ZERO)
        case core.HoursOf(of):
            holds = event_test(of)
            if landings is not None:
                return sum([hours for view, _, hours in landings if holds(view)], ZERO)
            return sum([a.hours for a in awards if holds(a.view)], ZERO)
        case core.QualifiedIn(program):
            return Decimal(1) if facts.qualified(program) else ZERO
        case core.BestOf(_, groups):
            return max(measure(group, awards, events, facts, landings) for _, group in groups) if groups else ZERO
        case core.ChoiceOf():
            return ZERO  # settled from the other requirements' results (settle_choices)
    raise AssertionError(what)  # pragma: no cover


def best_group(what: core.BestOf, awards: Sequence[Award], events: Sequence[Event],
               facts: TeacherFacts) -> tuple[tuple[str, Decimal], ...]:
    """Each group of a best-of measure with its amount (for explain), in the policy's order."""
    return tuple((label, measure(group, awards, events, facts)) for label, group in what.groups)


def settle_choices(decisions: Sequence[RequirementDecision],
                   results: Sequence[RequirementResult]) -> tuple[RequirementResult, ...]:
    """A choice's actual is the number of its requirements that apply and are met (or
    waived); it is met (asking 1) when one is, or when it is waived itself."""
    if not any([isinstance(d.line.measure, core.ChoiceOf) for d in decisions]):
        return tuple(results)  # no choice to settle
    met = {r.name for r in results if r.met}
    decided = {d.requirement.name: d for d in decisions}
    out: list[RequirementResult] = []
    for r in results:
        d = decided.get(r.name)  # None for a per-year entry (`name/year`): never a choice
        if d is not None and isinstance(d.line.measure, core.ChoiceOf):
            actual = Decimal(sum(1 for name in d.line.measure.names if name in met))
            r = attrs.evolve(r, actual=actual, met=d.waived or actual >= r.required)
        out.append(r)
    return tuple(out)


def decide_requirements(
    policy: CorePolicy, facts: TeacherFacts, period: Period | None = None,
) -> tuple[RequirementDecision, ...]:
    """For each requirement that applies to the teacher: its line, factor and waiver.
    A dated line (``since``) applies only in a ``period`` that starts on or after its date."""
    factor = policy.reduction.factor(facts.teacher.get(policy.reduction.attribute)) \
        if policy.reduction is not None else Decimal(1)
    out: list[RequirementDecision] = []
    for requirement in policy.requirements:
        line = next((ln for ln in requirement.lines if teacher_holds(ln.when, facts)
                     and (ln.since is None or (period is not None and ln.applies_in(period.start)))), None)
        if line is None:
            continue  # does not apply to this teacher (SPEC §5)
        waived = any(teacher_holds(cond, facts) for cond in requirement.waived_when)
        out.append(RequirementDecision(requirement, line, factor if line.reducible else Decimal(1), waived))
    return tuple(out)


@by_identity(64)
def _decided_by_teacher(policy: CorePolicy) -> bool:
    """Whether :func:`decide_requirements` depends on the teacher alone: no line is dated
    (``since``), and every line's ``when`` and every waiver reads only the teacher's
    attributes and roles (not the period's events, its facts, ranks or other requirements)."""

    def teachers_own(cond: ir.Cond | None) -> bool:
        match cond:
            case None | ir.HasRole():
                return True
            case ir.And(items) | ir.Or(items):
                return all(teachers_own(i) for i in items)
            case ir.Not(item):
                return teachers_own(item)
            case ir.Compare() | ir.Member() | ir.Linear() | ir.Has():
                return cond.scope is not ir.Scope.FACT
        return False  # any KIND, qualified, ranked, a requirement met: the period decides

    return all(line.since is None and teachers_own(line.when) for r in policy.requirements for line in r.lines) \
        and all(teachers_own(cond) for r in policy.requirements for cond in r.waived_when)


def _requirements(
    decisions: Sequence[RequirementDecision], awards: Sequence[Award], events: Sequence[Event],
    facts: TeacherFacts, period: Period | None = None,
) -> tuple[RequirementResult, ...]:
    results: list[RequirementResult] = []
    landings = _landings(decisions, awards)
    for d in decisions:
        if d.line.per_year and period is not None:  # issue 9 (B): one entry per calendar year
            for year, months in year_shares(period, facts.teacher.get("hired_on"), facts.teacher.get("retired_on")):
                required = prorated(d.line.amount, months)
                actual = measure(d.line.measure, [a for a in awards if a.event.day.year == year],
                                 [e for e in events if e.day.year == year], facts)
                results.append(RequirementResult(f"{d.requirement.name}/{year}", required, actual,
                                                 d.waived or actual >= required, d.waived))
            continue
        required = d.line.amount * d.factor if d.line.reducible else d.line.amount
        actual = measure(d.line.measure, awards, events, facts, landings)
        results.append(RequirementResult(d.requirement.name, required, actual, d.waived or actual >= required,
                                         d.waived))
    return settle_choices(decisions, results)


def _landings(decisions: Sequence[RequirementDecision], awards: Sequence[Award]) -> Landings | None:
    """The awards grouped by the values their requirements' conditions read of them
    (:func:`~credit_rules.eval.conditions.view_key`), with each group's credited credits
    and hours: a condition is tested once per group, not once per award (issue 10). Sums
    of exact decimals, so a measure is the same whatever the grouping. None when a
    condition reads more than that, or when there is nothing to group."""
    if len(awards) < 2:
        return None
    conds = [m.of for d in decisions for m in _of_measures(d.line.measure)]
    if not conds or (key_of := view_key(conds)) is None:
        return None
    groups: dict[Any, list[Any]] = {}
    for award in awards:
        group = groups.get(landing := key_of(award.view))
        if group is None:
            groups[landing] = [award.view, award.credited, award.hours]
        else:
            group[1] += award.credited
            group[2] += award.hours
    return [(view, credited, hours) for view, credited, hours in groups.values()]


def _of_measures(what: core.Measure) -> list[core.CreditedOf | core.HoursOf]:
    """The measures of ``what`` that sum awards under a condition (best-of groups included)."""
    match what:
        case core.CreditedOf(of) | core.HoursOf(of) if of is not None:
            return [what]
        case core.BestOf(_, groups):
            return [m for _, group in groups for m in _of_measures(group)]
    return []


def _grade(policy: CorePolicy, events: Sequence[Event]) -> tuple[str | None, Event | None]:
    grade = policy.grade
    if grade is None:
        return None, None
    if not grade.by_score:
        deciding = latest_assessment(events, grade.program)
        return (deciding.grade if deciding else None), deciding
    scored = latest_score(events, grade.program)
    if scored is None or scored.score is None:
        return None, None
    return grade.of_score(scored.score), scored


def _evaluate_period(
    policy: CorePolicy, teacher: Teacher, period: Period, all_events: Sequence[Event], *, units: bool = True,
    decisions: tuple[RequirementDecision, ...] | None = None,
) -> TeacherPeriod:
    """One teacher-period; ``units``: whether any of the events may need its study hours
    converted (False: none carries minutes or days and the policy declares no unit);
    ``decisions``: the requirement decisions when the teacher alone decides them
    (:func:`_decided_by_teacher`; None: decided here)."""
    start, end = period.start, period.end  # Period.contains, inlined: a teacher has many periods
    events = tuple([e for e in all_events if start <= e.day <= end])
    if units and (policy.units or any(e.minutes is not None or e.days is not None for e in events)):
        events = study_hours(policy, events)
    facts = teacher_facts(teacher, events)
    applying = [a for a in policy.awards if teacher_holds(a.when, facts)]
    # An exception's events are kept from the award it is an exception to.
    taken = {a.name: {e.event_id for e in award_events(a, events)} for a in applying if a.is_exception}
    awards: list[Award] = []
    for award in applying:
        hidden = set().union(*(taken.get(name, set()) for name in award.excluded_by)) if award.excluded_by else None
        seen = [e for e in events if e.event_id not in hidden] if hidden else events
        awards.extend(_awards(award, seen))
    leave_events: dict[str, Event] = {}
    for leave in policy.leave:
        if teacher_holds(leave.when, facts):
            for e in selected(leave.select, events):
                leave_events.setdefault(e.event_id, e)
    penalties = tuple([(p, e) for p in policy.penalties for e in selected(p.select, events)])
    void = bool(penalties) and any(p.void_credits for p, _ in penalties)
    credited = register(policy, awards, void)
    credits = hours = credited_hours = ZERO  # the row's totals and breakdowns, in one pass
    by_category: dict[str, Decimal] = {}
    by_level: dict[str, Decimal] = {}
    for done in credited:
        amount, view = done.credited, done.view
        credits += amount
        hours += done.hours
        credited_hours += done.credited_hours
        if (category := view.category) is not None:
            by_category[category] = by_category.get(category, ZERO) + amount
        if (level := view.level) is not None:
            by_level[level] = by_level.get(level, ZERO) + amount
    grade, score_event = _grade(policy, events)
    if decisions is None:
        decisions = decide_requirements(policy, facts, period)
    requirements = _requirements(decisions, credited, events, facts, period)
    alternatives = {d.requirement.name for d in decisions if d.requirement.alternative}
    met = all([r.met for r in requirements if r.name not in alternatives]) if alternatives \
        else all([r.met for r in requirements])
    row = LedgerRow(
        teacher_id=teacher.teacher_id, period_start=period.start, period_end=period.end,
        credits=credits, hours=hours, credited_hours=credited_hours,
        leave_days=len(leave_events), grade=grade, excellent_eligible=False,
        by_category=by_category, by_level=by_level, requirements=requirements,
        met=met, trace=_trace(credited),
    )
    return TeacherPeriod(teacher, period, events, tuple(credited), tuple(leave_events.values()), penalties,
                         score_event, decisions, row)


def carry_forward(policy: CorePolicy, periods: Sequence[TeacherPeriod]) -> list[TeacherPeriod]:
    """Carry-forward (issue 9, E2; :class:`credit_rules.core.Carry`): one teacher's periods in
    order; each requirement that carries forward gets the amount carried in added to its
    actual amount (``met`` again), and a trace entry ``carry_forward:NAME`` shows that amount."""
    carrying = [r for r in policy.requirements if r.carry is not None]
    if not carrying:
        return list(periods)
    carried: dict[str, Decimal] = dict.fromkeys((r.name for r in carrying), ZERO)
    out: list[TeacherPeriod] = []
    for tp in sorted(periods, key=lambda tp: tp.period.start):
        results = list(tp.row.requirements)
        entries: list[TraceEntry] = []
        for requirement in carrying:
            carry = requirement.carry
            assert carry is not None
            incoming, carried[requirement.name] = carried[requirement.name], ZERO
            index = next((i for i, r in enumerate(results) if r.name == requirement.name), None)
            if index is None:
                continue  # the requirement does not apply in this period: nothing carries through it
            result = results[index]
            actual = result.actual + incoming
            results[index] = attrs.evolve(result, actual=actual, met=result.waived or actual >= result.required)
            carried[requirement.name] = min(carry.amount, max(actual - result.required, ZERO))
            if incoming > 0:
                entries.append(TraceEntry(
                    rule=requirement.carry_trace_rule, source=carry.source or requirement.source,
                    credits=incoming if carry.unit == "credits" else ZERO,
                    hours=incoming if carry.unit == "hours" else ZERO, events=()))
        out.append(attrs.evolve(tp, row=_with_requirements(tp, tuple(results), entries)))
    return out


def _with_requirements(tp: TeacherPeriod, results: tuple[RequirementResult, ...],
                       entries: Sequence[TraceEntry]) -> LedgerRow:
    """The row with requirement results changed by carry-forward (``met`` again) and the
    carry-forward trace entries after the rules' entries."""
    results = settle_choices(tp.decisions, results)  # a choice reads its requirements' met (issue 9, E1)
    alternatives = {d.requirement.name for d in tp.decisions if d.requirement.alternative}
    return attrs.evolve(tp.row, requirements=results, met=all(r.met for r in results if r.name not in alternatives),
                        trace=(*tp.row.trace, *entries))


def study_hours(policy: CorePolicy, events: Sequence[Event]) -> tuple[Event, ...]:
    """The period's events (in time order) with the study hours of those that carry
    ``minutes`` or ``days`` (issue 9 A, :class:`credit_rules.core.StudyUnit`): exact, or
    rounded to whole hours per event, or pooled (the rounded running total's increments
    over the period's events of one kind in that unit). A unit the policy does not declare
    is an error, never 0 hours (such rows are rejected when loaded for a policy:
    :mod:`credit_rules.io.units`)."""
    totals: dict[tuple[str, str], Fraction] = defaultdict(Fraction)  # (unit, kind): pooled
    out: list[Event] = []
    for e in events:
        name, value = ("minutes", e.minutes) if e.minutes is not None else ("days", e.days)
        unit = policy.unit(name)
        if e.hours is not None or value is None:
            out.append(e)
            continue
        if unit is None:  # never 0 hours (io.units rejects such rows before evaluation)
            raise UsageError(_no_conversion(policy, name, e.event_id))
        exact = Fraction(value) * Fraction(unit.hours) / Fraction(unit.amount)
        if unit.rounding is None:
            hours = exact_div(Decimal(exact.numerator), Decimal(exact.denominator))  # checked: finite
        else:
            mode, pooled = unit.rounding
            if pooled:
                before = totals[name, e.kind]
                totals[name, e.kind] = before + exact
                hours = core.round_to(before + exact, Decimal(1), mode) - core.round_to(before, Decimal(1), mode)
            else:
                hours = core.round_to(exact, Decimal(1), mode)
        out.append(attrs.evolve(e, hours=hours))
    return tuple(out)


def _no_conversion(policy: CorePolicy, unit: str, event_id: str) -> str:
    return (f"event {event_id} carries {unit}, but policy {policy.name} declares no conversion of {unit} "
            "to hours; load the events with credit_rules.api.evaluate, which rejects such rows")


def _trace(awards: Sequence[Award]) -> tuple[TraceEntry, ...]:
    if not awards:
        return ()
    by_rule: dict[str, list[Award]] = {}
    for award in awards:
        by_rule.setdefault(award.rule.name, []).append(award)
    entries: list[TraceEntry] = []
    for name in sorted(by_rule):
        group = by_rule[name]
        ids = dict.fromkeys([a.event.event_id for a in group])  # first-seen order, linear
        entries.append(TraceEntry(
            rule=name, source=group[0].rule.source,
            credits=sum([a.credited for a in group], ZERO),
            hours=sum([a.hours for a in group], ZERO),
            events=tuple(ids),
        ))
    return tuple(entries)


# ---------------------------------------------------------------------- across teachers
def outcome_facts(tp: TeacherPeriod, ranked: frozenset[str] = frozenset()) -> TeacherFacts:
    """The facts `excellent`, `among` and invariants see for one teacher-period."""
    row = tp.row
    return teacher_facts(tp.teacher, tp.events, facts={
        "credits": row.credits, "hours": row.hours, "leave_days": Decimal(row.leave_days),
        "grade": row.grade, "met": row.met, "excellent_eligible": row.excellent_eligible,
    }, ranked=ranked, requirements_met=frozenset(r.name for r in row.requirements if r.met))


def ranked_sets(policy: ir.Policy | CorePolicy, results: Sequence[TeacherPeriod]) -> list[frozenset[str]]:
    """For each teacher-period, the names of the ranks that selected it (ranks compare a period's teachers)."""
    lowered = _core(policy)
    if not lowered.ranks:
        return [frozenset()] * len(results)
    ranked: dict[int, set[str]] = defaultdict(set)
    by_period: dict[Period, list[int]] = defaultdict(list)
    for index, tp in enumerate(results):
        by_period[tp.period].append(index)
    for rank in lowered.ranks:
        for indices in by_period.values():
            for index in select_ranked(rank, [results[i] for i in indices], indices):
                ranked[index].add(rank.name)
    return [frozenset(ranked[i]) for i in range(len(results))]


def _rank_and_finish(policy: CorePolicy, results: list[TeacherPeriod]) -> list[TeacherPeriod]:
    if policy.excellent is None and not policy.penalties and not policy.outcomes:
        return results  # nobody is excellent, no outcome: the rows are finished
    finished: list[TeacherPeriod] = []
    for tp, ranked in zip(results, ranked_sets(policy, results), strict=True):
        excellent = policy.excellent is not None and teacher_holds(policy.excellent, outcome_facts(tp, ranked))
        if any(p.not_excellent for p, _ in tp.penalties):
            excellent = False
        if tp.row.excellent_eligible != excellent:  # evolve re-normalises every decimal: only on a change
            tp = attrs.evolve(tp, row=attrs.evolve(tp.row, excellent_eligible=excellent))
        finished.append(_outcomes(policy, tp, ranked))
    return finished


def _outcomes(policy: CorePolicy, tp: TeacherPeriod, ranked: frozenset[str]) -> TeacherPeriod:
    """The named outcomes, over the finished row (its excellence included)."""
    if not policy.outcomes:
        return tp
    facts = outcome_facts(tp, ranked)
    outcomes = {o.name: teacher_holds(o.cond, facts) for o in policy.outcomes}
    return attrs.evolve(tp, row=attrs.evolve(tp.row, outcomes=outcomes))


def select_ranked(rank: ir.Rank, group: Sequence[TeacherPeriod], indices: Sequence[int]) -> set[int]:
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
