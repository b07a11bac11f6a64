"""Which events each ledger period reads, for the interpreter (issue 10: one teacher fast).

The interpreter evaluates a teacher period by period, each period over its own events.
:func:`by_period` hands each period its part of a teacher's events in one pass, and
:func:`relevant_days` says which days can matter at all, so that a caller holding one
teacher's rows builds records only for those days.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

from credit_rules.core.nodes import Policy as CorePolicy
from credit_rules.records import Event
from credit_rules.values import Period


def by_period(periods: Sequence[Period], events: Sequence[Event]) -> list[Sequence[Event]]:
    """For each period, a part of ``events`` (in order) holding at least its events: one
    pass when the periods are sorted and disjoint (a grain's semesters or years), else all
    of them (the interpreter takes each period's own events from it)."""
    if len(periods) < 2 or any(a.end >= b.start for a, b in itertools.pairwise(periods)):
        return [events] * len(periods)
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
