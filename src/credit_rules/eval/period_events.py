"""Which events each ledger period reads, for the interpreter (issue 10: one teacher fast).

The interpreter evaluates a teacher period by period, each period over its own events.
:func:`by_period` hands each period its part of a teacher's events in one pass;
:func:`relevant_days` and :func:`relevant_kinds` say which days and kinds can matter at
all, and :func:`events_read` which of a teacher's rows an evaluation must see, so that a
caller holding one teacher's rows builds records only for those.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import operator
from collections.abc import Sequence

import attrs

from credit_rules import ir
from credit_rules.core.nodes import Policy as CorePolicy
from credit_rules.core.nodes import QualifiedIn
from credit_rules.memo import by_identity
from credit_rules.records import Event
from credit_rules.values import Period, period_of

#: The kind the interpreter reads by name: qualification, grades and ranks read the
#: assessments (``interpreter.latest_assessment``, ``latest_score``, ``select_ranked``).
ASSESSMENT = "assessment"


_DAY = operator.attrgetter("day")


def by_period(periods: Sequence[Period], events: Sequence[Event]) -> list[Sequence[Event]]:
    """For each period, a part of ``events`` (in order) holding at least its events: when the
    periods are sorted and disjoint (a grain's semesters or years), a slice each if the
    events' days are in order, else one pass; otherwise all of them (the interpreter takes
    each period's own events from it)."""
    if len(periods) < 2 or any(a.end >= b.start for a, b in itertools.pairwise(periods)):
        return [events] * len(periods)
    days = list(map(_DAY, events))
    if all(map(operator.le, days, itertools.islice(days, 1, None))):  # days in order (the usual): slices
        return [events[bisect.bisect_left(days, p.start):bisect.bisect_right(days, p.end)] for p in periods]
    starts = [p.start for p in periods]
    buckets: list[list[Event]] = [[] for _ in periods]
    for event in events:
        index = bisect.bisect_right(starts, event.day) - 1
        if index >= 0:
            buckets[index].append(event)
    return list(buckets)


def relevant_days(policy: CorePolicy) -> Period | None:
    """The days an event must fall on to change a ledger row, None for any day. With fixed
    ledger periods (a window, a cycle) it is their span: every step reads only the events
    of a period (``interpreter._evaluate_period``), and the periods do not depend on the events,
    so a caller may leave the other days' events out, as long as each teacher they name
    is still in ``teachers`` (every teacher gets the fixed periods' rows)."""
    fixed = policy.periods.fixed
    if not fixed:
        return None
    return Period(min(p.start for p in fixed), max(p.end for p in fixed))


@by_identity(64)
def relevant_kinds(policy: CorePolicy) -> frozenset[str] | None:
    """The event kinds that can change a ledger row other than by giving the teacher a
    period (a grain's periods come from the days of all a teacher's events), None when any
    kind can. Every step of the interpreter reads a teacher's events through a clause's
    kind (``core.Select``: awards, leave, penalties, counts), ``any KIND``
    (``ir.EventsExist``) or the assessments (a grade, ranks, ``qualified``); a policy
    that mentions ``kind`` anywhere else (a condition on it) reads every kind. Walked once
    per policy."""
    kinds: set[str] = {ASSESSMENT} if policy.grade is not None or policy.ranks else set()
    texts: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, ir.Qualified | QualifiedIn):
            kinds.add(ASSESSMENT)  # the deciding assessment of a program
        if isinstance(node, str):
            texts.add(node)
        elif isinstance(node, tuple | list | frozenset | set):
            for item in node:
                visit(item)
        elif attrs.has(type(node)):
            for field in attrs.fields(type(node)):  # type: ignore[arg-type]
                if field.name not in ("span", "source_ir"):
                    value = getattr(node, field.name)
                    if field.name == "kind" and isinstance(value, str):
                        kinds.add(value)  # a clause's or an `any KIND`'s kind: a value, not a field
                    else:
                        visit(value)

    visit(policy)
    return None if "kind" in texts else frozenset(kinds)  # a condition reads the field `kind`


def events_read(policy: CorePolicy, teacher_ids: Sequence[str], days: Sequence[dt.date],
                kinds: Sequence[str]) -> list[int]:
    """Which of a table's events (``teacher_ids``, ``days``, ``kinds``: one entry per event,
    each teacher's events in time order) an evaluation of ``policy`` must see: those on
    the :func:`relevant_days` of a :func:`relevant_kind <relevant_kinds>`; of the other
    kinds, with a grain's periods, the first event of each teacher in each period, which
    gives the teacher that period (``interpreter.ledger_periods``) and changes nothing
    else. With fixed periods a caller must keep every teacher named by the events in the
    roster (each gets the fixed periods' rows, events or not)."""
    span = relevant_days(policy)
    wanted = relevant_kinds(policy)
    grain = policy.periods.grain if policy.periods.fixed is None else None
    first, last = (span.start, span.end) if span is not None else (dt.date.min, dt.date.max)
    if grain is None:  # fixed periods: the other kinds' events change nothing
        return [index for index, (day, kind) in enumerate(zip(days, kinds, strict=True))
                if first <= day <= last and (wanted is None or kind in wanted)]
    if wanted is None:
        return list(range(len(kinds)))
    # A grain's periods: every day is relevant (relevant_days is None). The events of the
    # kinds read are found in one comprehension; only the others are walked.
    out = [index for index, kind in enumerate(kinds) if kind in wanted]
    if len(out) == len(kinds):
        return out
    teacher: str | None = None
    start = end = dt.date.min  # the period of the teacher's last kept event of another kind
    for index in [index for index, kind in enumerate(kinds) if kind not in wanted]:
        teacher_id, day = teacher_ids[index], days[index]
        if teacher_id != teacher or not start <= day <= end:
            period = period_of(grain, day)
            teacher, start, end = teacher_id, period.start, period.end
            out.append(index)
    return sorted(out)
