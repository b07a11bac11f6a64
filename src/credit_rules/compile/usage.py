"""What a policy reads from events: kinds, programs and columns (for ``check --events``)."""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from credit_rules import ir


@attrs.frozen
class Usage:
    kinds: frozenset[str]
    programs: frozenset[str]
    columns: frozenset[str]
    any_program_kinds: frozenset[str]  # kinds read whatever their program


def _conds(policy: ir.Policy) -> Iterator[ir.Cond]:
    for rule in policy.rules:
        yield from (c for c in (rule.where, rule.when) if c is not None)
    for cap in policy.caps:
        if cap.of is not None:
            yield cap.of
    for requirement in policy.requirements:
        for line in requirement.lines:
            if line.when is not None:
                yield line.when
            measure = line.measure
            if isinstance(measure, ir.MeasureCredits | ir.MeasureHours) and measure.of is not None:
                yield measure.of
            if isinstance(measure, ir.MeasureCount) and measure.where is not None:
                yield measure.where
            if isinstance(measure, ir.MeasureBest):
                base = measure.base
                found = base.where if isinstance(base, ir.MeasureCount) else base.of
                if found is not None:
                    yield found
    for waiver in policy.waivers:
        yield waiver.when
    for penalty in policy.penalties:
        if penalty.where is not None:
            yield penalty.where
    for rank in policy.ranks:
        if rank.among is not None:
            yield rank.among
    if policy.excellent is not None:
        yield policy.excellent.when
    for invariant in policy.invariants:
        yield invariant.cond
    for outcome in policy.outcomes:
        yield outcome.cond


def _atoms(cond: ir.Cond) -> Iterator[ir.Cond]:
    """The comparison leaves of a condition."""
    for node in ir.cond_nodes(cond):
        if not isinstance(node, ir.And | ir.Or | ir.Not):
            yield node


def policy_usage(policy: ir.Policy) -> Usage:
    """Event kinds, programs and columns the policy can read."""
    kinds: set[str] = set()
    programs: set[str] = set()
    columns = {"event_id", "teacher_id", "at", "kind", "count"}
    any_program: set[str] = set()
    for rule in policy.rules:
        if rule.kind:
            kinds.add(rule.kind)
            if rule.program is None:
                any_program.add(rule.kind)
        if rule.program:
            programs.add(rule.program)
            columns.add("program")
        match rule.award:
            case ir.IfQualified():
                kinds.add("assessment")
                columns.add("grade")
            case ir.CountHours() | ir.Block():
                columns.add("hours")
            case ir.CountCredits():
                columns.update({"credits", "hours"})
        columns.update({"category", "level"})
    if policy.caps:
        columns.update({"category", "level", "format"})
    for penalty in policy.penalties:
        kinds.add(penalty.kind)
        any_program.add(penalty.kind)
    for requirement in policy.requirements:
        for line in requirement.lines:
            if isinstance(line.measure, ir.MeasureCount):
                kinds.add(line.measure.kind)
                any_program.add(line.measure.kind)
            if isinstance(line.measure, ir.MeasureQualified):
                kinds.add("assessment")
                programs.add(line.measure.program)
                columns.update({"program", "grade"})
            if isinstance(line.measure, ir.MeasureBest):  # its groups are values of an event column
                columns.add("at" if line.measure.field == "day" else line.measure.field)
                if isinstance(line.measure.base, ir.MeasureCount):
                    kinds.add(line.measure.base.kind)
                    any_program.add(line.measure.base.kind)
    if policy.grade is not None:
        kinds.add("assessment")
        programs.add(policy.grade.program)
        columns.update({"program", "grade" if isinstance(policy.grade, ir.GradeFromAssessment) else "score"})
    for rank in policy.ranks:
        kinds.add("assessment")
        programs.add(rank.program)
        columns.update({"program", "score"})
    if policy.count_only is not None:  # count only status … (issue 9, D)
        columns.add("status")
    for cond in _conds(policy):
        for atom in _atoms(cond):
            match atom:
                case ir.Compare(field, ir.Scope.EVENT) | ir.Member(field, ir.Scope.EVENT):
                    columns.add("at" if field == "day" else field)
                    if field == "kind" and isinstance(atom, ir.Compare) and isinstance(atom.value, str):
                        kinds.add(atom.value)
                    if field == "program" and isinstance(atom, ir.Compare) and isinstance(atom.value, str):
                        programs.add(atom.value)
                case ir.Qualified(program):
                    kinds.add("assessment")
                    programs.add(program)
                case ir.EventsExist(kind):
                    kinds.add(kind)
                case ir.Linear(terms, ir.Scope.EVENT):  # issue 9 (C)
                    columns.update("at" if name == "day" else name for name, _ in terms)
                case ir.Has(field, ir.Scope.EVENT):
                    columns.add(field)
    columns.update(u.unit for u in policy.units)  # issue 9 (A): minutes / days it converts
    return Usage(frozenset(kinds), frozenset(programs), frozenset(columns), frozenset(any_program))
