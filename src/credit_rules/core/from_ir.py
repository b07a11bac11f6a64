"""Lowering: the checked IR to the core (see :mod:`credit_rules.core.nodes` for what is decided here).

One pass, no evaluation: every choice that depends only on the policy text is made here
once, and both engines read the result.
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import attrs

from credit_rules import ir
from credit_rules.core import nodes as core
from credit_rules.memo import by_identity
from credit_rules.schema import QUALIFYING_GRADES
from credit_rules.values import ZERO, PeriodKind, exact_div, periods_within


def normalize(cond: ir.Cond | None) -> ir.Cond | None:
    """``!=`` and ``not in`` as negations, so that every atom is false on a missing value."""
    if cond is None:
        return None
    match cond:
        case ir.And(items):
            return ir.And(tuple(_normal(i) for i in items), span=cond.span)
        case ir.Or(items):
            return ir.Or(tuple(_normal(i) for i in items), span=cond.span)
        case ir.Not(item):
            return ir.Not(_normal(item), span=cond.span)
        case ir.Compare(field, scope, "!=", value):
            return ir.Not(ir.Compare(field, scope, "=", value, span=cond.span), span=cond.span)
        case ir.Member(field, scope, values, True):
            return ir.Not(ir.Member(field, scope, values, False, span=cond.span), span=cond.span)
        case ir.Linear(terms, scope, constant, "!=", dates):
            return ir.Not(ir.Linear(terms, scope, constant, "=", dates, span=cond.span), span=cond.span)
        case ir.Relative():
            return date_window(cond)
    return cond


def date_window(cond: ir.Relative) -> ir.DateWindow:
    """A teacher-relative period as data (issue 9, D): ``within N years`` is 12·N months
    from the date, ``within N months`` N months, ``within N days`` N days; ``in the first
    N school years|semesters after`` is N periods from the first one starting on or after
    the date. :func:`credit_rules.values.relative_window` gives the bounds."""
    match cond.unit:
        case "years":
            return ir.DateWindow(cond.attribute, None, 12 * cond.count, 0, 0, span=cond.span)
        case "months":
            return ir.DateWindow(cond.attribute, None, cond.count, 0, 0, span=cond.span)
        case "days":
            return ir.DateWindow(cond.attribute, None, 0, cond.count, 0, span=cond.span)
    anchor = PeriodKind.SCHOOL_YEAR if cond.unit == "school year" else PeriodKind.SEMESTER
    return ir.DateWindow(cond.attribute, anchor, 0, 0, cond.count, span=cond.span)


def counted(policy: ir.Policy) -> ir.Cond | None:
    """``count only status …`` as an event condition (issue 9, D): ``status in (…)``, so
    an event without a status counts for nothing (the two-valued rule)."""
    if policy.count_only is None:
        return None
    return ir.Member("status", ir.Scope.EVENT, frozenset(policy.count_only.values),
                     span=policy.count_only.span)


def _normal(cond: ir.Cond) -> ir.Cond:
    out = normalize(cond)
    assert out is not None
    return out


def _converted(amount: Decimal, unit: str, rate: Decimal | None) -> core.Fixed:
    """A fixed award in credits and study hours: hours convert at the policy's rate."""
    if unit == "credits":
        return core.Fixed(amount, ZERO)
    return core.Fixed(amount * rate if rate is not None else ZERO, amount)


def _rule_amount(rule: ir.Rule, policy_rate: Decimal | None) -> core.Amount:
    """The amount at the rule's own rate (issue 9 A), else at the policy's."""
    rate = rule.rate
    if rate is None:
        return _amount(rule.award, policy_rate)
    if rate.per_hour is not None:
        return _amount(rule.award, rate.per_hour)
    if isinstance(rule.award, ir.Fixed | ir.IfQualified):  # checked: the product is exact
        return core.Fixed(exact_div(rule.award.amount * rate.credits, rate.hours), rule.award.amount)
    assert isinstance(rule.award, ir.CountHours) and rule.rounding is not None, "checked in from_syntax"
    return core.Prorated(rate.credits, rate.hours)


def _amount(award: ir.Award, rate: Decimal | None) -> core.Amount:
    match award:
        case ir.CountHours():
            return core.PerHour(rate if rate is not None else ZERO)
        case ir.CountCredits():
            return core.Stated()
        case ir.Fixed(amount, unit) | ir.IfQualified(amount, unit):
            return _converted(amount, unit, rate)
        case ir.Block(credits, hours, True):
            return core.PerHour(exact_div(credits, hours))
        case ir.Block(credits, hours, False):
            return core.Blocks(credits, hours)
    raise AssertionError(award)  # pragma: no cover


def _award(policy: ir.Policy, rule: ir.Rule, exceptions: dict[str, list[str]]) -> core.Award:
    where = normalize(rule.where)
    if isinstance(rule.award, ir.IfQualified):
        select = core.Select("assessment", rule.program, where)
        pick: core.Pick = "deciding"
    else:
        assert rule.kind is not None
        select = core.Select(rule.kind, rule.program, where)
        pick = "first" if rule.first else "each"
    if rule.without_category:
        category = core.Landing(None, from_event=False)
    else:
        category = core.Landing(rule.as_category, from_event=rule.as_category is None)
    level = core.Landing(rule.as_level, from_event=rule.as_level is None)
    excluded_by = tuple(sorted(exceptions.get(rule.name, ())))
    return core.Award(
        name=rule.name, when=normalize(rule.when), select=select, pick=pick,
        amount=_rule_amount(rule, policy.rate),
        category=category, level=level,
        excluded_by=excluded_by, is_exception=rule.exception_to is not None,
        source=rule.source, span=rule.span,
        rounding=core.Rounding(rule.rounding.mode, rule.rounding.step, rule.rounding.pooled)
        if rule.rounding is not None else None,
    )


def _measure(measure: ir.Measure) -> core.Measure:
    match measure:
        case ir.MeasureCredits(of):
            return core.CreditedOf(normalize(of))
        case ir.MeasureHours(of):
            return core.HoursOf(normalize(of))
        case ir.MeasureCount(kind, where):
            return core.CountOf(core.Select(kind, None, normalize(where)))
        case ir.MeasureQualified(program):
            return core.QualifiedIn(program)
        case ir.MeasureBest():
            return _best(measure)
        case ir.MeasureChoice(names):
            return core.ChoiceOf(names)
    raise AssertionError(measure)  # pragma: no cover


def _best(measure: ir.MeasureBest) -> core.BestOf:
    """Each group is the base measure narrowed to ``field = value`` (on the award's view for
    credits and hours, on the event for counts): the engines only compute measures and take
    the largest."""
    groups: list[tuple[str, core.CreditedOf | core.HoursOf | core.CountOf]] = []
    for value in measure.values:
        scope = ir.Scope.EVENT
        narrow = ir.Compare(measure.field, scope, "=", value)
        label = value.isoformat() if isinstance(value, dt.date) else str(value)
        base = measure.base
        match base:
            case ir.MeasureCredits(of) | ir.MeasureHours(of):
                both = narrow if of is None else ir.And((of, narrow), span=of.span)
                group = _measure(type(base)(both))
                assert isinstance(group, core.CreditedOf | core.HoursOf)
            case ir.MeasureCount(kind, where):
                both = narrow if where is None else ir.And((where, narrow), span=where.span)
                group = core.CountOf(core.Select(kind, None, normalize(both)))
        groups.append((label, group))
    return core.BestOf(measure.field, tuple(groups))


def _reducible(measure: ir.Measure) -> bool:
    """Credit requirements shrink with the reduction (a best group of credits too)."""
    if isinstance(measure, ir.MeasureBest):
        return isinstance(measure.base, ir.MeasureCredits)
    return isinstance(measure, ir.MeasureCredits)


def _requirement(policy: ir.Policy, requirement: ir.Requirement) -> core.Requirement:
    lines = tuple(
        core.Line(index, normalize(line.when), line.amount, _measure(line.measure),
                  reducible=_reducible(line.measure) and line.per is None,
                  source=line.source, per_year=line.per is not None, span=line.span,
                  since=line.since)
        for index, line in enumerate(requirement.lines)
    )
    waived_when = tuple(
        _normal(w.when) for w in policy.waivers if requirement.name in w.names
    )
    alternatives = {name for r in policy.requirements for line in r.lines
                    if isinstance(line.measure, ir.MeasureChoice) for name in line.measure.names}
    carry = requirement.carry
    return core.Requirement(requirement.name, lines, waived_when, requirement.source,
                            span=requirement.span, alternative=requirement.name in alternatives,
                            carry=core.Carry(carry.amount, carry.unit, carry.source, span=carry.span)
                            if carry is not None and requirement.lines else None)


def _reduction(policy: ir.Policy) -> core.Reduction | None:
    reduction, window = policy.reduction, policy.window
    if reduction is None or window is None:
        return None
    factors = tuple(
        (year, max(Decimal(1) - reduction.fraction * (year - window.start.year), ZERO))
        for year in range(window.start.year, window.end.year + 1)
    )
    return core.Reduction(reduction.attribute, window.start, window.end, factors,
                          reduction.source, span=reduction.span)


def _grade(policy: ir.Policy) -> core.Grade | None:
    rule = policy.grade
    if rule is None:
        return None
    if isinstance(rule, ir.GradeFromAssessment):
        return core.Grade(rule.program, None, None, rule.source, span=rule.span)
    return core.Grade(rule.program, rule.thresholds, rule.otherwise, rule.source, span=rule.span)


def _periods(policy: ir.Policy) -> core.Periods:
    window = policy.window
    if policy.evaluate is PeriodKind.WINDOW:
        assert window is not None
        return core.Periods((window,), PeriodKind.WINDOW)
    if window is not None:
        return core.Periods(tuple(periods_within(policy.evaluate, window)), policy.evaluate)
    return core.Periods(None, policy.evaluate)


def _dated_caps(policy: ir.Policy, cap: ir.Cap, lowered: core.Cap) -> list[core.Cap]:
    """A cap with dated amounts (issue 9, E2) as one register per stretch of time, each with
    the amount in force: the register of a period that starts on or after a date uses that
    date's amount. The stretches are bounded by the first day of such periods, so every
    award (by its event's day) falls in exactly one, and they keep the cap's name (its
    registers never overlap: one name is one cap to the register, to explain and to ``cut_by``)."""
    if not cap.dated:
        return [lowered]
    starts: dict[dt.date, Decimal] = {}
    for dated in cap.dated:  # by date: a later date sharing a boundary wins
        boundary = ir.cap_boundary(policy, cap, dated.since)
        if boundary is not None:
            starts[boundary] = dated.amount
    bounds = sorted(starts)
    out: list[core.Cap] = []
    for index, (start, amount) in enumerate([(None, cap.amount), *((b, starts[b]) for b in bounds)]):
        end = bounds[index] if index < len(bounds) else None
        atoms: list[ir.Cond] = [] if lowered.of is None else [lowered.of]
        if start is not None:
            atoms.append(ir.DateBound(">=", start, span=cap.span))
        if end is not None:
            atoms.append(ir.Not(ir.DateBound(">=", end, span=cap.span), span=cap.span))
        of = None if not atoms else atoms[0] if len(atoms) == 1 else ir.And(tuple(atoms), span=cap.span)
        out.append(attrs.evolve(lowered, amount=amount, of=of))
    return out


@by_identity(64)  # a hit costs no hashing of the whole policy, which _lower's cache needs
def lower(policy: ir.Policy) -> core.Policy:
    """The core form of a checked policy (cached: policies are immutable)."""
    return _lower(policy)


@functools.lru_cache(maxsize=64)
def _lower(policy: ir.Policy) -> core.Policy:
    rules = sorted(policy.rules, key=lambda r: r.name)
    exceptions: dict[str, list[str]] = {}  # rule -> the rules that are exceptions to it
    for r in rules:
        if r.exception_to is not None and not isinstance(r.award, ir.Leave):
            exceptions.setdefault(r.exception_to, []).append(r.name)
    return core.Policy(
        name=policy.name, file=policy.file, timezone=policy.timezone,
        periods=_periods(policy), window=policy.window,
        awards=tuple(_award(policy, r, exceptions) for r in rules if not isinstance(r.award, ir.Leave)),
        leave=tuple(
            core.Leave(r.name, normalize(r.when), core.Select(r.kind or "task_missed", r.program,
                                                              normalize(r.where)),
                       r.source, span=r.span)
            for r in rules if isinstance(r.award, ir.Leave)
        ),
        penalties=tuple(
            core.Penalty(p.name, core.Select(p.kind, None, normalize(p.where)), p.void_credits,
                         p.not_excellent, p.source, span=p.span)
            for p in sorted(policy.penalties, key=lambda p: p.name)
        ),
        caps=tuple(dated for c in policy.caps
                   for dated in _dated_caps(policy, c, core.Cap(c.name, c.amount, c.per, normalize(c.of), c.source,
                                                                per_event=c.per_event, per_column=c.per_column,
                                                                measure=c.measure, span=c.span))),
        requirements=tuple(_requirement(policy, r)
                           for r in sorted(policy.requirements, key=lambda r: r.name)),
        reduction=_reduction(policy),
        grade=_grade(policy),
        qualifying_grades=frozenset(QUALIFYING_GRADES),
        excellent=normalize(policy.excellent.when) if policy.excellent else None,
        ranks=tuple(
            ir.Rank(r.name, r.program, normalize(r.among), r.tops, r.source, span=r.span)
            for r in policy.ranks
        ),
        source_ir=policy,
        units=tuple(core.StudyUnit(u.unit, u.amount, u.hours, u.rounding, u.source) for u in policy.units),
        inputs=inputs(policy),
        outcomes=tuple(core.Outcome(o.name, _normal(o.cond), o.source, span=o.span)
                       for o in sorted(policy.outcomes, key=lambda o: o.name)),
        counted=counted(policy),
    )


def inputs(policy: ir.Policy) -> core.Inputs:
    """The input contract of a policy: its declared columns and vocabularies."""
    return core.Inputs(
        columns=tuple(core.Column(c.name, c.type, c.scope) for c in policy.columns),
        vocabularies=tuple((v.field, v.values) for v in policy.vocabularies),
    )
