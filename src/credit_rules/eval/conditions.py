"""Truth of conditions for one event or one teacher-in-a-period, for the interpreter.

The meaning of one comparison (and of a missing value) is :mod:`credit_rules.core.scalars`;
this module only walks the condition tree over one event or one teacher.
"""

from __future__ import annotations

import operator
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from credit_rules import ir
from credit_rules.core.scalars import comparison, has, linear_holds, membership
from credit_rules.memo import by_identity
from credit_rules.records import EVENT_FIELDS, Event, Teacher

#: The derived facts of a teacher-period that has none (shared: it cannot be changed).
_NO_FACTS: Mapping[str, Any] = types.MappingProxyType({})


class AwardView(NamedTuple):
    """An event as a cap or a requirement sees it: with the rule's ``as level``/``as category``.

    A named tuple, not an attrs class: one is built per award, four times faster (issue 10)."""

    event: Event
    category: str | None
    level: str | None

    def get(self, name: str) -> Any:
        if name == "category":
            return self.category
        if name == "level":
            return self.level
        return self.event.get(name)


class TeacherFacts(NamedTuple):
    """What a teacher-level condition may ask about one teacher in one period.

    A named tuple, not an attrs class: one is built per teacher-period (issue 10)."""

    teacher: Teacher
    qualified: Callable[[str], bool]
    has_kind: Callable[[str], bool]
    facts: Mapping[str, Any] = _NO_FACTS
    ranked: frozenset[str] = frozenset()
    #: the requirements that apply to the teacher and are met or waived (outcome conditions)
    requirements_met: frozenset[str] = frozenset()


def event_holds(cond: ir.Cond | None, event: Event | AwardView) -> bool:
    """Does an event filter (`where`, `of`) hold for this event?"""
    return event_test(cond)(event)


EventTest = Callable[[Any], bool]
#: Most conditions (and condition tuples) whose compiled tests are kept, by identity.
_TESTS_LIMIT = 8192


def _always(event: Any) -> bool:
    return True


def event_test(cond: ir.Cond | None) -> EventTest:
    """:func:`event_holds` of ``cond`` as a function of the event: the condition tree is
    walked once, not once per event (a teacher's 200 events meet each filter many times)."""
    return _always if cond is None else _event_test(cond)


@by_identity(_TESTS_LIMIT)  # the IR is immutable: a condition is compiled once
def _event_test(cond: ir.Cond) -> EventTest:
    match cond:
        case ir.And(items):
            tests = [event_test(i) for i in items]
            if len(tests) == 2:  # the common pair, without a generator per test
                first, second = tests
                return lambda event: bool(first(event) and second(event))
            return lambda event: all(test(event) for test in tests)
        case ir.Or(items):
            tests = [event_test(i) for i in items]
            if len(tests) == 2:
                first, second = tests
                return lambda event: bool(first(event) or second(event))
            return lambda event: any(test(event) for test in tests)
        case ir.Not(item):
            inner = event_test(item)
            return lambda event: not inner(event)
        case ir.Compare(field, _, op, value):
            return comparison(op, value, of=_reader(field))
        case ir.Member(field, _, values, negated):
            within = membership(values, of=_reader(field))
            return (lambda event: not within(event)) if negated else within
        case ir.DateBound(op, date):
            if op == "<=":
                return lambda event: bool(event.get("day") <= date)
            return lambda event: bool(event.get("day") >= date)
        case ir.Linear(terms, _, constant, op, dates):
            return lambda event: linear_holds([event.get(name) for name, _ in terms], terms, constant, op, dates)
        case ir.Has(field, _, value):
            return lambda event: has(event.get(field), value)
    raise AssertionError(f"not an event condition: {cond!r}")  # pragma: no cover


#: The fields both an :class:`Event` and an :class:`AwardView` hold as attributes (the
#: view's own ``as category``/``as level``): read without a ``get`` call.
_ATTRIBUTES = frozenset(("category", "level"))


def fields_read(cond: ir.Cond | None) -> frozenset[str] | None:
    """The fields an event condition reads of an event or award view (``get(field)``), None
    when it reads anything else: its truth is a function of these values alone (each atom
    of :func:`_event_test` reads one field, a date bound the ``day``, a linear atom its terms)."""
    match cond:
        case None:
            return frozenset()
        case ir.And(items) | ir.Or(items):
            found = [fields_read(item) for item in items]
            return None if None in found else frozenset().union(*found)  # type: ignore[arg-type]
        case ir.Not(item):
            return fields_read(item)
        case ir.Compare(field) | ir.Member(field) | ir.Has(field):
            return frozenset((field,))
        case ir.DateBound():
            return frozenset(("day",))
        case ir.Linear(terms):
            return frozenset(name for name, _ in terms)
    return None


ViewKey = Callable[[AwardView], Any]
#: :func:`view_key` of the condition tuples seen, by the conditions' identities (each
#: entry keeps its conditions alive, so an id is never reused while it is cached).
_VIEW_KEYS: dict[tuple[int, ...], tuple[tuple[ir.Cond | None, ...], ViewKey | None]] = {}


def view_key(conds: Sequence[ir.Cond | None]) -> ViewKey | None:
    """A function of an award view whose value decides each of ``conds`` (the values of
    the fields they read, :func:`fields_read`), so that a condition is tested once per
    distinct value, not once per award (issue 10); None when one of them reads something
    else than an event's own fields and the view's landing. Cached by identity."""
    ids = tuple(map(id, conds))
    found = _VIEW_KEYS.get(ids)
    if found is not None and all(a is b for a, b in zip(found[0], conds, strict=True)):
        return found[1]
    key = _view_key(conds)
    if len(_VIEW_KEYS) >= _TESTS_LIMIT:
        _VIEW_KEYS.clear()
    _VIEW_KEYS[ids] = (tuple(conds), key)
    return key


def _view_key(conds: Iterable[ir.Cond | None]) -> ViewKey | None:
    paths: set[str] = set()
    for cond in conds:
        fields = fields_read(cond)
        if fields is None:
            return None
        for field in fields:
            if field in _ATTRIBUTES:
                paths.add(field)  # the view's own `as category` / `as level`
            elif field in EVENT_FIELDS:
                paths.add(f"event.{field}")  # AwardView.get -> Event.get: the event's field
            else:
                return None  # an attribute of the event (Event.attributes)
    if not paths:
        return _nothing
    return operator.attrgetter(*sorted(paths))


def _nothing(view: Any) -> tuple[()]:
    return ()


def _reader(field: str) -> Callable[[Any], Any]:
    """``event.get(field)`` of an event or an award view, as a function of it."""
    return operator.attrgetter(field) if field in _ATTRIBUTES else operator.methodcaller("get", field)


def teacher_holds(cond: ir.Cond | None, ctx: TeacherFacts) -> bool:
    """Does a teacher-level condition (`when`, `excellent`, `among`, invariants) hold?"""
    return True if cond is None else teacher_test(cond)(ctx)


TeacherTest = Callable[[TeacherFacts], bool]


@by_identity(_TESTS_LIMIT)
def teacher_test(cond: ir.Cond) -> TeacherTest:
    """:func:`teacher_holds` of ``cond`` as a function of the facts: the condition tree is
    walked once, not once per teacher-period (as :func:`event_test`)."""
    match cond:
        case ir.And(items):
            tests = [teacher_test(i) for i in items]
            return lambda ctx: all(test(ctx) for test in tests)
        case ir.Or(items):
            tests = [teacher_test(i) for i in items]
            return lambda ctx: any(test(ctx) for test in tests)
        case ir.Not(item):
            inner = teacher_test(item)
            return lambda ctx: not inner(ctx)
        case ir.Compare(field, scope, op, value):
            holds = comparison(op, value)
            return lambda ctx: holds(_teacher_value(ctx, field, scope))
        case ir.Member(field, scope, values, negated):
            within = membership(values)
            return lambda ctx: within(_teacher_value(ctx, field, scope)) != negated
        case ir.HasRole(role):
            return lambda ctx: role in ctx.teacher.roles
        case ir.Qualified(program):
            return lambda ctx: ctx.qualified(program)
        case ir.EventsExist(kind, exists):
            return lambda ctx: ctx.has_kind(kind) == exists
        case ir.Ranked(rank):
            if rank is None:
                return lambda ctx: bool(ctx.ranked)
            return lambda ctx: rank in ctx.ranked
        case ir.Linear(terms, scope, constant, op, dates):
            return lambda ctx: linear_holds([_teacher_value(ctx, name, scope) for name, _ in terms],
                                            terms, constant, op, dates)
        case ir.Has(field, scope, value):
            return lambda ctx: has(_teacher_value(ctx, field, scope), value)
        case ir.RequirementMet(name):
            return lambda ctx: name in ctx.requirements_met
    raise AssertionError(f"not a teacher condition: {cond!r}")  # pragma: no cover


def _teacher_value(ctx: TeacherFacts, field: str, scope: ir.Scope) -> Any:
    if scope is ir.Scope.FACT:
        return ctx.facts.get(field)
    return ctx.teacher.get(field)
