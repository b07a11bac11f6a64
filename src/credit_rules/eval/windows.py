"""Periods relative to a roster date, bound per teacher (issue 9, D), for the interpreter.

``within 1 year of hired_on`` is an ``ir.DateWindow`` in the core; before a teacher's
periods are evaluated, every such window becomes that teacher's fixed bounds
(:func:`bind_teacher`), or false for a teacher without the date (SPEC §4).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from credit_rules import ir
from credit_rules.core.nodes import Policy as CorePolicy
from credit_rules.memo import by_identity
from credit_rules.records import Teacher
from credit_rules.values import relative_window


@by_identity(64)
def _date_windows(policy: CorePolicy) -> list[str]:
    """The roster dates the policy's teacher-relative windows read (``ir.DateWindow``);
    the policy is walked once, not once per call (one teacher per call is the common use)."""
    found: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, ir.DateWindow):
            found.add(node.attribute)
        elif isinstance(node, tuple):
            for item in node:
                visit(item)
        elif attrs.has(type(node)):
            for field in attrs.fields(type(node)):  # type: ignore[arg-type]
                if field.name not in ("span", "source_ir"):
                    visit(getattr(node, field.name))

    visit(policy)
    return sorted(found)


def _replace_windows(node: Any, teacher: Teacher) -> Any:
    """``node`` with every ``ir.DateWindow`` replaced by the teacher's bounds."""
    if isinstance(node, ir.DateWindow):
        day = teacher.get(node.attribute)
        window = relative_window(day, node.anchor, node.months, node.days, node.periods) \
            if isinstance(day, dt.date) else None
        if window is None:  # no such date: the atom is false (SPEC §4)
            return ir.Or((), span=node.span)
        return ir.And((ir.DateBound(">=", window.start, span=node.span),
                       ir.DateBound("<=", window.end, span=node.span)), span=node.span)
    if isinstance(node, tuple):
        items = tuple(_replace_windows(item, teacher) for item in node)
        return items if any(a is not b for a, b in zip(items, node, strict=True)) else node
    if attrs.has(type(node)) and not isinstance(node, ir.Policy):
        changes = {}
        for field in attrs.fields(type(node)):
            if field.name in ("span", "source_ir"):
                continue
            value = getattr(node, field.name)
            new = _replace_windows(value, teacher)
            if new is not value:
                changes[field.name] = new
        return attrs.evolve(node, **changes) if changes else node
    return node


def bind_teacher(policy: CorePolicy, teacher: Teacher) -> CorePolicy:
    """``policy`` for one teacher: each period relative to a roster date (``within 1 year
    of hired_on``) becomes ``on or after START and on or before END`` with the bounds of
    :func:`~credit_rules.values.relative_window`, or false for a teacher without the date."""
    return Binder(policy)(teacher)


class Binder:
    """:func:`bind_teacher` for many teachers: one bound policy per distinct set of dates."""

    def __init__(self, policy: CorePolicy):
        self.policy = policy
        self.names = _date_windows(policy)
        self.bound: dict[tuple[Any, ...], CorePolicy] = {}

    def __call__(self, teacher: Teacher) -> CorePolicy:
        if not self.names:
            return self.policy
        key = tuple(teacher.get(name) for name in self.names)
        if key not in self.bound:
            self.bound[key] = _replace_windows(self.policy, teacher)
        return self.bound[key]
