"""Caps and requirements test a condition once per distinct value of what it reads (issue 10).

``conditions.view_key`` gives, for the conditions of a policy's caps or requirements, a key
of an award view (its landing and the event fields they read); the interpreter tests each
condition once per key (the register; ``measure`` over grouped awards). These tests pin that
path to the plain one: views with equal keys get equal answers from every condition, a
condition on an event attribute is never keyed, and a measure over grouped awards is the
measure over the awards one by one.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from credit_rules import core, ir
from credit_rules.eval.conditions import AwardView, event_test, fields_read, view_key
from credit_rules.eval.interpreter import Award, measure, teacher_facts
from credit_rules.records import Event, Teacher

EVENT = ir.Scope.EVENT
CONDITIONS: tuple[ir.Cond, ...] = (
    ir.Compare("level", EVENT, "=", "municipal"),
    ir.Not(ir.Compare("category", EVENT, "=", "practice")),
    ir.And((ir.Compare("category", EVENT, "=", "practice"), ir.Compare("format", EVENT, "=", "lecture"))),
    ir.Or((ir.Member("program", EVENT, frozenset({"p1", "p2"})), ir.Compare("hours", EVENT, ">=", Decimal(10)))),
    ir.And((ir.DateBound(">=", dt.date(2022, 1, 1)), ir.Compare("kind", EVENT, "=", "training"))),
    ir.Member("category", EVENT, frozenset({"ethics", "literacy"}), negated=True),
)


def _views() -> list[AwardView]:
    """Events over every combination of the fields read, each as it lands by itself and
    as a rule lands it elsewhere (`as level`, `without category`)."""
    views = []
    values = itertools.product(("ethics", "practice", None), ("school", "municipal", None), ("lecture", "online"),
                               ("p1", "p3"), (Decimal(4), Decimal(12), None), (dt.date(2021, 5, 1), dt.date(2023, 5, 1)),
                               ("training", "credit_award"))
    for i, (category, level, form, program, hours, day, kind) in enumerate(values):
        at = dt.datetime.combine(day, dt.time(9), dt.UTC)
        event = Event(f"e{i}", "t1", at, day, i, kind, hours=hours, category=category, level=level,
                      format=form, program=program, attributes={"room": f"r{i % 3}"})
        views += [AwardView(event, category, level), AwardView(event, None, "municipal")]
    return views


def test_views_with_equal_keys_get_equal_answers_from_every_condition() -> None:
    """The key holds everything a condition reads: within a key, each condition's answer is one."""
    views = _views()
    key_of = view_key(CONDITIONS)
    assert key_of is not None
    answers: dict[object, tuple[bool, ...]] = {}
    for view in views:
        got = tuple(event_test(cond)(view) for cond in CONDITIONS)
        assert answers.setdefault(key_of(view), got) == got
    assert len(answers) < len(views)  # views do share keys: the path saves tests
    assert len({a for a in answers.values()}) > 4  # and the conditions do tell views apart


def test_a_condition_on_an_event_attribute_is_never_keyed() -> None:
    """Event.get reads `room` from the attributes; the key reads only an event's own fields."""
    on_room = ir.Compare("room", EVENT, "=", "r1")
    assert fields_read(on_room) == frozenset({"room"})
    assert view_key([on_room]) is None
    assert view_key([*CONDITIONS, on_room]) is None
    assert fields_read(ir.Qualified("p1")) is None


def test_a_measure_over_grouped_awards_is_the_measure_award_by_award() -> None:
    """``measure`` with the awards grouped by the key equals ``measure`` over every award."""
    views = _views()
    rule = core.Award("r", None, core.Select("training", None, None), "each", core.Stated(),
                      core.Landing(None, True), core.Landing(None, True), (), False, None)
    awards = [Award(rule, v.event, Decimal(i % 7) / 4, Decimal(i % 5), v, Decimal(i % 3) / 2)
              for i, v in enumerate(views)]
    sums: list[core.CreditedOf | core.HoursOf] = [core.CreditedOf(c) for c in CONDITIONS]
    sums += [core.HoursOf(c) for c in CONDITIONS]
    measures: list[core.Measure] = [*sums, core.BestOf("level", tuple((f"g{i}", m) for i, m in enumerate(sums[:3])))]
    key_of = view_key(CONDITIONS)
    assert key_of is not None
    groups: dict[object, list[object]] = {}
    for a in awards:
        group = groups.setdefault(key_of(a.view), [a.view, Decimal(0), Decimal(0)])
        group[1] += a.credited  # type: ignore[operator]
        group[2] += a.hours  # type: ignore[operator]
    landings = [(view, credited, hours) for view, credited, hours in groups.values()]
    facts = teacher_facts(Teacher("t1"), [])
    for what in measures:
        assert measure(what, awards, [], facts, landings) == measure(what, awards, [], facts)  # type: ignore[arg-type]
