"""Truth of conditions for one event or one teacher-in-a-period, for the interpreter.

The meaning of one comparison (and of a missing value) is :mod:`credit_rules.core.scalars`;
this module only walks the condition tree over one event or one teacher.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import attrs

from credit_rules import ir
from credit_rules.core.scalars import compare, has, linear_holds, member
from credit_rules.records import Event, Teacher


@attrs.frozen
class AwardView:
    """An event as a cap or a requirement sees it: with the rule's ``as level``/``as category``."""

    event: Event
    category: str | None
    level: str | None

    def get(self, name: str) -> Any:
        if name == "category":
            return self.category
        if name == "level":
            return self.level
        return self.event.get(name)


@attrs.frozen
class TeacherFacts:
    """What a teacher-level condition may ask about one teacher in one period."""

    teacher: Teacher
    qualified: Callable[[str], bool]
    has_kind: Callable[[str], bool]
    facts: Mapping[str, Any] = attrs.field(factory=dict)
    ranked: frozenset[str] = frozenset()
    #: the requirements that apply to the teacher and are met or waived (outcome conditions)
    requirements_met: frozenset[str] = frozenset()


def event_holds(cond: ir.Cond | None, event: Event | AwardView) -> bool:
    """Does an event filter (`where`, `of`) hold for this event?"""
    if cond is None:
        return True
    match cond:
        case ir.And(items):
            return all(event_holds(i, event) for i in items)
        case ir.Or(items):
            return any(event_holds(i, event) for i in items)
        case ir.Not(item):
            return not event_holds(item, event)
        case ir.Compare(field, _, op, value):
            return compare(event.get(field), op, value)
        case ir.Member(field, _, values, negated):
            return member(event.get(field), values) != negated
        case ir.DateBound(op, date):
            day = event.get("day")
            return bool(day <= date) if op == "<=" else bool(day >= date)
        case ir.Linear(terms, _, constant, op, dates):
            return linear_holds([event.get(name) for name, _ in terms], terms, constant, op, dates)
        case ir.Has(field, _, value):
            return has(event.get(field), value)
    raise AssertionError(f"not an event condition: {cond!r}")  # pragma: no cover


def teacher_holds(cond: ir.Cond | None, ctx: TeacherFacts) -> bool:
    """Does a teacher-level condition (`when`, `excellent`, `among`, invariants) hold?"""
    if cond is None:
        return True
    match cond:
        case ir.And(items):
            return all(teacher_holds(i, ctx) for i in items)
        case ir.Or(items):
            return any(teacher_holds(i, ctx) for i in items)
        case ir.Not(item):
            return not teacher_holds(item, ctx)
        case ir.Compare(field, scope, op, value):
            return compare(_teacher_value(ctx, field, scope), op, value)
        case ir.Member(field, scope, values, negated):
            return member(_teacher_value(ctx, field, scope), values) != negated
        case ir.HasRole(role):
            return role in ctx.teacher.roles
        case ir.Qualified(program):
            return ctx.qualified(program)
        case ir.EventsExist(kind, exists):
            return ctx.has_kind(kind) == exists
        case ir.Ranked(rank):
            return bool(ctx.ranked) if rank is None else rank in ctx.ranked
        case ir.Linear(terms, scope, constant, op, dates):
            operands = [_teacher_value(ctx, name, scope) for name, _ in terms]
            return linear_holds(operands, terms, constant, op, dates)
        case ir.Has(field, scope, value):
            return has(_teacher_value(ctx, field, scope), value)
        case ir.RequirementMet(name):
            return name in ctx.requirements_met
    raise AssertionError(f"not a teacher condition: {cond!r}")  # pragma: no cover


def _teacher_value(ctx: TeacherFacts, field: str, scope: ir.Scope) -> Any:
    if scope is ir.Scope.FACT:
        return ctx.facts.get(field)
    return ctx.teacher.get(field)
