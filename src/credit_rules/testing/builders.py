"""Build :class:`~credit_rules.records.Event` and :class:`~credit_rules.records.Teacher` by hand.

>>> e = make_event("e1", "t1", "2023-03-01", "training", hours="10", category="ethics")
>>> e.day, e.hours
(datetime.date(2023, 3, 1), Decimal('10'))
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from credit_rules.io.events import instant_datetime
from credit_rules.io.parse import parse_at
from credit_rules.records import Event, Teacher
from credit_rules.values import DEFAULT_TIMEZONE, to_decimal


@functools.lru_cache(maxsize=65536)
def _read_at(at: str | dt.date | dt.datetime, kind: str, zone_of_at: Any, timezone: str) -> tuple[int, dt.date]:
    """:func:`parse_at`, remembered: a date or datetime is read through a Polars query, and
    property tests build thousands of events at repeating times. ``kind`` and ``zone_of_at``
    are in the key because equal datetimes may differ in type or zone (and so in text)."""
    return parse_at(at, timezone)


def _opt_decimal(value: Any) -> Decimal | None:
    return None if value is None else to_decimal(value)


def make_event(
    event_id: str,
    teacher_id: str,
    at: str | dt.date | dt.datetime,
    kind: str,
    *,
    timezone: str = DEFAULT_TIMEZONE,
    hours: Any = None,
    credits: Any = None,
    score: Any = None,
    count: int = 1,
    words: int | None = None,
    category: str | None = None,
    level: str | None = None,
    format: str | None = None,
    program: str | None = None,
    grade: str | None = None,
    **attributes: str,
) -> Event:
    """One valid event; ``at`` is read exactly as the loader reads it
    (:func:`credit_rules.io.parse.parse_at`: local time in ``timezone`` without an offset,
    a skipped DST hour refused with :class:`ValueError`, a repeated one its earlier instant).
    """
    micros, day = _read_at(at, type(at).__name__, getattr(at, "tzinfo", None), timezone)
    return Event(
        event_id=event_id, teacher_id=teacher_id, at=instant_datetime(micros, zoneinfo.ZoneInfo(timezone)),
        day=day, instant_us=micros, kind=kind,
        hours=_opt_decimal(hours), credits=_opt_decimal(credits), category=category, level=level,
        format=format, program=program, grade=grade, score=_opt_decimal(score), count=count,
        words=words, attributes=dict(attributes),
    )


def make_teacher(
    teacher_id: str,
    *,
    title: str | None = None,
    roles: Iterable[str] = (),
    hired_on: str | dt.date | None = None,
    retired_on: str | dt.date | None = None,
    **attributes: str,
) -> Teacher:
    """One roster row; roster columns of SPEC §3 go to their fields, others to ``attributes``."""
    known = {k: attributes.pop(k) for k in ("stage", "school", "county", "city", "workshop") if k in attributes}
    return Teacher(
        teacher_id=teacher_id, title=title, roles=frozenset(roles),
        hired_on=dt.date.fromisoformat(hired_on) if isinstance(hired_on, str) else hired_on,
        retired_on=dt.date.fromisoformat(retired_on) if isinstance(retired_on, str) else retired_on,
        attributes=attributes, **known,
    )
