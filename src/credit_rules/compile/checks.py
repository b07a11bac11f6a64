"""Static checks over the checked IR. Each check is a function returning diagnostics;
``CHECKS`` is the visible pipeline (sqlglot's ``RULES`` habit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from credit_rules import ir
from credit_rules.compile.satisfiability import (
    MISSING,
    Alternative,
    constrained,
    equals,
    may_overlap,
    overlaps,
    satisfiable,
)
from credit_rules.errors import Diagnostic, Severity
from credit_rules.syntax import ast
from credit_rules.values import PeriodKind, period_of, periods_within

Check = Callable[[ir.Policy, ast.Policy], list[Diagnostic]]


def _produces_credits(policy: ir.Policy) -> bool:
    for rule in policy.rules:
        match rule.award:
            case ir.CountCredits() | ir.Block():
                return True
            case ir.Fixed(_, unit) | ir.IfQualified(_, unit):
                if unit == "credits" or policy.rate is not None or rule.rate is not None:
                    return True
            case ir.CountHours():
                if policy.rate is not None or rule.rate is not None:
                    return True
    return False


def _produces_hours(policy: ir.Policy) -> bool:
    for rule in policy.rules:
        match rule.award:
            case ir.CountHours() | ir.Block():
                return True
            case ir.Fixed(_, "hours") | ir.IfQualified(_, "hours"):
                return True
    return False


def check_units(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """A credit requirement in a policy that awards no credits is hours written as credits."""
    out: list[Diagnostic] = []
    credits, hours = _produces_credits(policy), _produces_hours(policy)
    for requirement in policy.requirements:
        for line in requirement.lines:
            measure = line.measure.base if isinstance(line.measure, ir.MeasureBest) else line.measure
            if isinstance(measure, ir.MeasureCredits) and not credits:
                out.append(Diagnostic(
                    "E150", f"requirement `{requirement.name}` counts credits, but no rule awards credits",
                    line.span,
                    "hours used where credits are expected? write `hours`, or declare `10 hours = 1 credit`"
                    if hours else "add a rule that awards credits",
                ))
            if isinstance(measure, ir.MeasureHours) and not hours:
                out.append(Diagnostic(
                    "E151", f"requirement `{requirement.name}` counts hours, but no rule counts hours",
                    line.span, "add a rule with `count hours`, or write the requirement in credits",
                ))
    return out


def _same_filter(a: ir.Cond | None, b: ir.Cond | None) -> bool:
    return a == b


def check_impossible_requirements(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """A requirement above the cap on the very same credits can never be met."""
    out: list[Diagnostic] = []
    for requirement in policy.requirements:
        for line in requirement.lines:
            if not isinstance(line.measure, ir.MeasureCredits):
                continue
            for cap in policy.caps:
                if not _same_filter(cap.of, line.measure.of):
                    continue
                if cap.measure != "credits" or cap.per_event or cap.per_column is not None:
                    continue  # issue 9 (B): no fixed ceiling on the period's credits
                ceiling = max([cap.amount, *(d.amount for d in cap.dated)])  # dated amounts: issue 9 (E2)
                if cap.per is not None:
                    if policy.window is None:
                        continue
                    ceiling = cap.amount * len(periods_within(cap.per, policy.window))
                if ceiling < line.amount:
                    out.append(Diagnostic(
                        "E152",
                        f"requirement `{requirement.name}` asks at least {line.amount} credits "
                        f"but cap `{cap.name}` allows at most {ceiling}",
                        line.span, "lower the requirement or raise the cap",
                        notes=(("the cap is here", cap.span),),
                    ))
    return out


def check_requirement_variants(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """Lines after an unconditional line can never apply (the first matching line wins)."""
    out: list[Diagnostic] = []
    for requirement in policy.requirements:
        for index, line in enumerate(requirement.lines[:-1]):
            if line.when is None and line.since is None:
                for later in requirement.lines[index + 1:]:
                    out.append(Diagnostic(
                        "W153", f"this line of `{requirement.name}` can never apply", later.span,
                        "the line before it applies to everyone; put the `when` lines first",
                        Severity.WARNING,
                    ))
                break
    return out


def check_caps(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for cap in policy.caps:
        if cap.amount < 0:
            out.append(Diagnostic("E154", f"cap `{cap.name}` is negative", cap.span))
        elif cap.amount == Decimal(0):
            out.append(Diagnostic("W155", f"cap `{cap.name}` allows nothing", cap.span,
                                  "a cap of 0 makes the rules it covers useless", Severity.WARNING))
    return out


def check_waivers(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    names = {r.name for r in policy.requirements}
    for waiver in policy.waivers:
        if set(waiver.names) >= names and names:
            out.append(Diagnostic(
                "W156", "this waiver waives every requirement", waiver.span,
                "is that intended? a waived requirement is reported as met", Severity.WARNING,
            ))
    return out


def _rule_events(rule: ir.Rule) -> Alternative:
    """What every event a rule can land on has: its kind and program."""
    fixed: Alternative = {}
    if rule.kind is not None:
        fixed.update(equals("kind", rule.kind))
    else:  # `if qualified` lands on assessments
        fixed.update(equals("kind", "assessment"))
    if rule.program is not None:
        fixed.update(equals("program", rule.program))
    return fixed


def _counts_credits_or_hours(rule: ir.Rule) -> bool:
    return not isinstance(rule.award, ir.Leave)


def check_conflicts(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """Two rules that can award the same event of the same teacher count it twice —
    unless one is declared an exception to the other.

    Only rules that could share an event are compared: the same event kind, and the same
    program or one of them without a program (rules of different kinds or programs are
    disjoint on those fields, so comparing them could never report anything). Each rule's
    alternatives are worked out once. A policy of many rules over many programs is then
    checked in near-linear time instead of comparing every pair.
    """
    out: list[Diagnostic] = []
    rules = [r for r in sorted(policy.rules, key=lambda r: (r.span.line, r.span.col)) if _counts_credits_or_hours(r)]
    by_kind: dict[object, dict[str | None, list[int]]] = {}
    for index, rule in enumerate(rules):
        kind = rule.kind if rule.kind is not None else "assessment"  # as _rule_events
        by_kind.setdefault(kind, {}).setdefault(rule.program, []).append(index)
    pairs: set[tuple[int, int]] = set()
    for programs in by_kind.values():
        open_ = programs.get(None, [])
        for program, members in programs.items():
            others = members if program is None else [*members, *open_]
            for i in members:
                pairs.update((min(i, j), max(i, j)) for j in others if j != i)
    where: dict[int, list[Alternative]] = {}
    when: dict[int, list[Alternative]] = {}

    def where_of(i: int) -> list[Alternative]:
        if i not in where:
            where[i] = constrained(rules[i].where, _rule_events(rules[i]))
        return where[i]

    def when_of(i: int) -> list[Alternative]:
        if i not in when:
            when[i] = constrained(rules[i].when)
        return when[i]

    for i, j in sorted(pairs):
        a, b = rules[i], rules[j]
        if a.exception_to == b.name or b.exception_to == a.name:
            continue
        if not overlaps(where_of(i), where_of(j)):
            continue
        if not overlaps(when_of(i), when_of(j)):
            continue
        out.append(Diagnostic(
            "E160", f"rules `{a.name}` and `{b.name}` can both credit the same event",
            b.span,
            f"narrow one with `where …`, or write `exception to {a.name}` in `{b.name}` "
            "if it should take precedence",
            notes=((f"`{a.name}` is here", a.span),),
        ))
    return out


def check_never_fires(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """A rule, cap or requirement line whose condition contradicts itself does nothing."""
    out: list[Diagnostic] = []
    for rule in policy.rules:
        if not satisfiable(rule.where, _rule_events(rule)) or not satisfiable(rule.when):
            out.append(Diagnostic("W161", f"rule `{rule.name}` can never fire: its conditions contradict each other",
                                  rule.span, "check the `where` and `when` clauses", Severity.WARNING))
    for cap in policy.caps:
        if not satisfiable(cap.of):
            out.append(Diagnostic("W161", f"cap `{cap.name}` can never apply", cap.span,
                                  "its `of` condition contradicts itself", Severity.WARNING))
    return out


def _award_view(rule: ir.Rule) -> Alternative:
    """What the award a rule makes looks like to a cap or requirement filter."""
    view = _rule_events(rule)
    if rule.as_level is not None:
        view.update(equals("level", rule.as_level))
    if rule.as_category is not None:
        view.update(equals("category", rule.as_category))
    if rule.without_category:
        view.update(equals("category", MISSING))
    return view


def _overridden(cond: ir.Cond | None, rule: ir.Rule) -> ir.Cond | None:
    """The rule's `where` without the fields its `as …` clauses replace."""
    replaced = {f for f, set_ in (("level", rule.as_level), ("category", rule.as_category or rule.without_category))
                if set_}
    if cond is None or not replaced:
        return cond

    def strip(c: ir.Cond) -> ir.Cond:
        match c:
            case ir.And(items):
                return ir.And(tuple(strip(i) for i in items))
            case ir.Or(items):
                return ir.Or(tuple(strip(i) for i in items))
            case ir.Not(item):
                return ir.Not(strip(item))
            case ir.Compare(field) | ir.Member(field) if field in replaced:
                return ir.And(())
        return c

    return strip(cond)


def check_unsatisfiable_requirements(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """A requirement on credits or hours that no rule's awards can count towards."""
    out: list[Diagnostic] = []
    for requirement in policy.requirements:
        for line in requirement.lines:
            measure = line.measure
            if not isinstance(measure, ir.MeasureCredits | ir.MeasureHours) or measure.of is None:
                continue
            feeding = [
                r for r in policy.rules
                if _counts_credits_or_hours(r) and may_overlap(_overridden(r.where, r), measure.of, _award_view(r))
            ]
            if not feeding:
                out.append(Diagnostic(
                    "W164", f"no rule can count towards requirement `{requirement.name}`", line.span,
                    "no rule's events or `as level/category` match this filter", Severity.WARNING,
                ))
    return out


def _mentions(cond: ir.Cond | None, predicate: Callable[[ir.Cond], bool]) -> bool:
    return any(predicate(node) for node in ir.cond_nodes(cond))


def check_unused(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """Declarations nothing reads: ranks no `excellent` or invariant uses, penalties with no effect."""
    out: list[Diagnostic] = []
    readers = [*([policy.excellent.when] if policy.excellent else []), *(i.cond for i in policy.invariants),
               *(o.cond for o in policy.outcomes)]
    for rank in policy.ranks:
        def reads_rank(cond: ir.Cond, name: str = rank.name) -> bool:
            return isinstance(cond, ir.Ranked) and cond.rank in (None, name)

        used = any(_mentions(c, reads_rank) for c in readers)
        if not used:
            out.append(Diagnostic("W162", f"rank `{rank.name}` is never used", rank.span,
                                  f"use it with `excellent when ranked {rank.name}`", Severity.WARNING))
    for penalty in policy.penalties:
        if penalty.not_excellent and not penalty.void_credits and policy.excellent is None:
            out.append(Diagnostic("W163", f"penalty `{penalty.name}` has no effect: the policy declares no "
                                  "`excellent`", penalty.span, "add `excellent when …` or drop the penalty",
                                  Severity.WARNING))
    return out


def _period_starts(policy: ir.Policy) -> list[dt.date]:
    """The starts of the policy's ledger periods when they are fixed (a window), else none."""
    if policy.window is None:
        return []
    if policy.evaluate is PeriodKind.WINDOW:
        return [policy.window.start]
    return [p.start for p in periods_within(policy.evaluate, policy.window)]


def check_carry_forward(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """Carry-forward needs the policy's fixed periods, and more than one of them (issue 9, E2)."""
    out: list[Diagnostic] = []
    for requirement in policy.requirements:
        carry = requirement.carry
        if carry is None:
            continue
        if policy.window is None:
            out.append(Diagnostic(
                "E304", f"`{requirement.name}` carries forward, but the policy has no window or cycle",
                carry.span, "add `window A .. B` (or `cycle A .. B`): carry-forward runs through its periods "
                "in order, and a teacher without events in a period still has that period"))
        elif len(_period_starts(policy)) < 2:
            out.append(Diagnostic(
                "W305", f"`{requirement.name}` carries forward, but the policy has a single period",
                carry.span, "evaluate per school year or per semester, or drop `carry forward`",
                Severity.WARNING))
        if any(line.per is not None for line in requirement.lines):
            out.append(Diagnostic(
                "E315", f"`{requirement.name}` is checked per year, so it has no one surplus to carry forward",
                carry.span, "carry forward from a requirement checked once per ledger period, or drop "
                "`carry forward`"))
        if carry.amount <= 0:
            out.append(Diagnostic("W309", f"`{requirement.name}` carries forward at most {carry.amount}: nothing",
                                  carry.span, "drop the line, or give a positive amount", Severity.WARNING))
    return out


def check_dated_lines(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """``from DATE:`` lines (issue 9, E2): a date that no period starts after, or on or
    before the first period (the prefix changes nothing), and dated lines shadowed by an
    earlier line from an earlier date."""
    out: list[Diagnostic] = []
    starts = _period_starts(policy)
    for requirement in policy.requirements:
        for index, line in enumerate(requirement.lines):
            if line.since is None:
                continue
            if starts and line.since > starts[-1]:
                out.append(Diagnostic(
                    "W306", f"this line of `{requirement.name}` applies from {line.since.isoformat()}, "
                    f"after the start of the policy's last period ({starts[-1].isoformat()})", line.span,
                    "a dated line applies to the periods that start on or after its date; check the date",
                    Severity.WARNING))
                continue
            if starts and line.since <= starts[0]:
                out.append(Diagnostic(
                    "W307", f"the date {line.since.isoformat()} of this line of `{requirement.name}` is on or "
                    f"before the first period's start ({starts[0].isoformat()}): `from` changes nothing",
                    line.span, "drop the `from …:` prefix, or check the date", Severity.WARNING))
            for earlier in requirement.lines[:index]:
                if earlier.when is None and earlier.since is not None and earlier.since <= line.since:
                    out.append(Diagnostic(
                        "W308", f"this line of `{requirement.name}` can never apply: the line from "
                        f"{earlier.since.isoformat()} before it covers every later period", line.span,
                        "write the dated lines latest date first", Severity.WARNING,
                        notes=(("the earlier line is here", earlier.span),)))
                    break
    return out


def check_dated_caps(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """``cap NAME from DATE:`` (issue 9, E2): a date from which none of the cap's periods
    starts, or one on or before the first of them (the base amount is then never used)."""
    out: list[Diagnostic] = []
    if policy.window is None:
        return out
    for cap in policy.caps:
        first = period_of(cap.per, policy.window.start).start if cap.per is not None else policy.window.start
        for dated in cap.dated:
            boundary = ir.cap_boundary(policy, cap, dated.since)
            if boundary is None or boundary > policy.window.end:
                out.append(Diagnostic(
                    "W313", f"cap `{cap.name}`'s amount from {dated.since.isoformat()} never applies: none of its "
                    "periods in the window starts on or after that day", dated.span,
                    "a dated amount applies to the cap's periods that start on or after its date; check the date",
                    Severity.WARNING))
            elif boundary <= first:
                out.append(Diagnostic(
                    "W314", f"cap `{cap.name}`'s amount from {dated.since.isoformat()} applies to every period: "
                    f"the cap's first period starts {first.isoformat()}", dated.span,
                    "write that amount in the cap itself, or check the date", Severity.WARNING))
    return out


def check_choices(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """`in any one of` with a single group is a plain filter; a choice whose requirements
    never apply to the same teacher is decided by who the teacher is, not by a choice."""
    out: list[Diagnostic] = []
    yearly = {r.name for r in policy.requirements if any(line.per is not None for line in r.lines)}
    for requirement in policy.requirements:
        for line in requirement.lines:
            if isinstance(line.measure, ir.MeasureChoice) and yearly.intersection(line.measure.names):
                out.append(Diagnostic(
                    "E265", f"requirement `{requirement.name}` chooses a requirement checked per year "
                    f"(`{sorted(yearly.intersection(line.measure.names))[0]}`)", line.span,
                    "a choice names requirements with one entry each; drop `per year` there or name another"))
    readers = [*([policy.excellent.when] if policy.excellent else []), *(i.cond for i in policy.invariants),
               *(o.cond for o in policy.outcomes)]
    for cond in readers:
        for node in ir.nodes(cond, ir.RequirementMet):
            if node.requirement in yearly:
                out.append(Diagnostic(
                    "E265", f"`requirement {node.requirement} met` names a requirement checked per year",
                    node.span, "it has one entry per year; name a requirement with one entry"))
    for requirement in policy.requirements:
        for line in requirement.lines:
            if isinstance(line.measure, ir.MeasureBest) and len(line.measure.values) == 1:
                out.append(Diagnostic(
                    "W264", f"requirement `{requirement.name}` chooses among one group", line.span,
                    f"write the filter instead: `of {line.measure.field} = {line.measure.values[0]}`, "
                    "or name more groups",
                    Severity.WARNING,
                ))
    return out


CHECKS: tuple[Check, ...] = (
    check_conflicts,
    check_never_fires,
    check_unsatisfiable_requirements,
    check_unused,
    check_units,
    check_impossible_requirements,
    check_requirement_variants,
    check_caps,
    check_waivers,
    check_choices,
    check_carry_forward,
    check_dated_lines,
    check_dated_caps,
)


def run_checks(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """Run every check in ``CHECKS`` and return all their diagnostics."""
    out: list[Diagnostic] = []
    for check in CHECKS:
        out.extend(check(policy, tree))
    return out
