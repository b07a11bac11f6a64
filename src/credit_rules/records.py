"""The records evaluators work on: events, teachers, and ledger rows (SPEC §2, §3, §5).

Readers in :mod:`credit_rules.io` build these from files; evaluators never read files.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

from credit_rules.schema import EVENT_COLUMNS, ROSTER_COLUMNS
from credit_rules.values import canonical, normalized


@attrs.frozen
class Event:
    """One valid, de-duplicated activity event.

    ``at`` is an aware datetime; ``day`` is its calendar date in the policy's timezone;
    ``instant_us`` is microseconds since the Unix epoch (UTC), the sort key with ``event_id``.
    """

    event_id: str
    teacher_id: str
    at: dt.datetime
    day: dt.date
    instant_us: int
    kind: str
    hours: Decimal | None = None
    credits: Decimal | None = None
    category: str | None = None
    level: str | None = None
    format: str | None = None
    program: str | None = None
    grade: str | None = None
    score: Decimal | None = None
    count: int = 1
    words: int | None = None
    attributes: Mapping[str, str] = attrs.field(factory=dict)
    row: int = 0
    #: study time in another unit (issue 9 A); the policy converts it to ``hours``
    minutes: Decimal | None = None
    days: Decimal | None = None

    @property
    def order_key(self) -> tuple[int, str]:
        """Time order of SPEC §4: ``at``, ties by ``event_id`` in code point order."""
        return ORDER_KEY(self)

    def get(self, name: str) -> Any:
        """A column or attribute by name; ``None`` when the event does not have it."""
        if name in EVENT_FIELDS:
            return getattr(self, name)
        return self.attributes.get(name)


#: The names :meth:`Event.get` reads as the event's own fields (any other: an attribute).
EVENT_FIELDS = frozenset(EVENT_COLUMNS) | {"day"}
#: :attr:`Event.order_key` of an event, as a sort key that calls no Python function.
ORDER_KEY = operator.attrgetter("instant_us", "event_id")


@attrs.frozen
class Teacher:
    """A roster row. A teacher known only from events has just an id."""

    teacher_id: str
    title: str | None = None
    roles: frozenset[str] = frozenset()
    stage: str | None = None
    hired_on: dt.date | None = None
    retired_on: dt.date | None = None
    school: str | None = None
    county: str | None = None
    city: str | None = None
    workshop: str | None = None
    attributes: Mapping[str, str] = attrs.field(factory=dict)

    def get(self, name: str) -> Any:
        if name in _TEACHER_FIELDS:
            return getattr(self, name)
        return self.attributes.get(name)


_TEACHER_FIELDS = frozenset(ROSTER_COLUMNS)


def _normalized_values(values: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return {key: normalized(value) for key, value in values.items()}


@attrs.frozen
class RequirementResult:
    name: str
    required: Decimal = attrs.field(converter=normalized)
    actual: Decimal = attrs.field(converter=normalized)
    met: bool
    waived: bool = False


@attrs.frozen
class TraceEntry:
    """Which rule credited what, from which events, citing the rule's clause."""

    rule: str
    source: str | None
    credits: Decimal = attrs.field(converter=normalized)
    hours: Decimal = attrs.field(converter=normalized)
    events: tuple[str, ...]


@attrs.frozen
class LedgerRow:
    """One teacher in one period: the ledger row of SPEC §5. Every decimal is normalised
    (:func:`~credit_rules.values.normalized`), whichever engine made the row."""

    teacher_id: str
    period_start: dt.date
    period_end: dt.date
    credits: Decimal = attrs.field(converter=normalized)
    hours: Decimal = attrs.field(converter=normalized)
    leave_days: int = attrs.field()
    grade: str | None = attrs.field()
    excellent_eligible: bool = attrs.field()
    by_category: Mapping[str, Decimal] = attrs.field(converter=_normalized_values)
    by_level: Mapping[str, Decimal] = attrs.field(converter=_normalized_values)
    requirements: tuple[RequirementResult, ...] = attrs.field()
    met: bool = attrs.field()
    trace: tuple[TraceEntry, ...] = attrs.field()
    #: the policy's named outcomes (``outcome NAME: …``): name -> true/false
    outcomes: Mapping[str, bool] = attrs.field(factory=dict)
    #: issue 9 (B): the study hours the register admitted (hours caps; 0 for an award
    #: voided or cut to 0 credits); ``hours`` stays the raw study hours (SPEC §5 addition)
    credited_hours: Decimal = attrs.field(default=Decimal(0), converter=normalized)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of SPEC §5, decimals as canonical strings, keys in a fixed order."""
        return {
            "teacher_id": self.teacher_id,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "credits": canonical(self.credits),
            "hours": canonical(self.hours),
            "credited_hours": canonical(self.credited_hours),
            "leave_days": self.leave_days,
            "grade": self.grade,
            "excellent_eligible": self.excellent_eligible,
            "by_category": {k: canonical(v) for k, v in sorted(self.by_category.items())},
            "by_level": {k: canonical(v) for k, v in sorted(self.by_level.items())},
            "requirements": [
                {
                    "name": r.name,
                    "required": canonical(r.required),
                    "actual": canonical(r.actual),
                    "met": r.met,
                    **({"waived": True} if r.waived else {}),
                }
                for r in self.requirements
            ],
            "met": self.met,
            "trace": [
                {
                    "rule": t.rule,
                    "source": t.source,
                    "credits": canonical(t.credits),
                    "hours": canonical(t.hours),
                    "events": list(t.events),
                }
                for t in self.trace
            ],
            "outcomes": {k: bool(v) for k, v in sorted(self.outcomes.items())},
        }
