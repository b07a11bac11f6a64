"""Records and frames, both ways: :class:`~credit_rules.records.Event`,
:class:`~credit_rules.records.Teacher` and :class:`~credit_rules.records.LedgerRow`
to and from the frame layouts of :mod:`credit_rules.schema`.

The engines meet here: the API hands a list of events to the bulk engine as a frame, the
interpreter reads a validated frame as events, and a bulk ledger frame becomes ledger rows.
Round trips keep everything a record holds (an event's ``row`` and attributes, a
teacher's attributes):

>>> frame_to_events(events_to_frame(events), "Asia/Shanghai") == events   # doctest: +SKIP
True
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import polars as pl

from credit_rules.records import Event, LedgerRow, RequirementResult, Teacher, TraceEntry
from credit_rules.schema import (
    EVENT_FRAME,
    LEDGER_COLUMNS,
    LEDGER_FRAME,
    LEDGER_SCALE,
    MICRO_DIGITS,
    PROVENANCE_COLUMNS,
    ROSTER_FRAME,
)

__all__ = [
    "events_to_frame",
    "frame_to_events",
    "frame_to_teachers",
    "roster_frame",
    "rows_from_frame",
    "rows_to_frame",
    "teachers_to_frame",
]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _micro(value: Decimal | None) -> int | None:
    if value is None:
        return None
    x = Fraction(value) * 10**MICRO_DIGITS
    if x.denominator != 1:
        raise ValueError(f"{value} has more than {MICRO_DIGITS} decimal places")
    return int(x)


def _decimal(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-MICRO_DIGITS)


def _attribute_columns(frame: pl.DataFrame, head: Mapping[str, Any]) -> list[str]:
    return [c for c in frame.columns if c not in head and c not in PROVENANCE_COLUMNS]


def events_to_frame(events: Sequence[Event]) -> pl.DataFrame:
    """Events as an :attr:`EventTable.frame`: :data:`~credit_rules.schema.EVENT_FRAME`,
    the attributes (String columns, by name), then ``row``; sorted by ``teacher_id``,
    ``at_us``, ``event_id``. Raises ValueError if a decimal does not fit micro-units."""
    attributes = sorted({a for e in events for a in e.attributes})
    data: dict[str, list[Any]] = {c: [] for c in [*EVENT_FRAME, *attributes, "row"]}
    for e in events:
        data["event_id"].append(e.event_id)
        data["teacher_id"].append(e.teacher_id)
        data["at_us"].append(e.instant_us)
        data["day"].append(e.day)
        data["kind"].append(e.kind)
        data["hours_u"].append(_micro(e.hours))
        data["credits_u"].append(_micro(e.credits))
        for name in ("category", "level", "format", "program", "grade"):
            data[name].append(getattr(e, name))
        data["score_u"].append(_micro(e.score))
        data["count"].append(e.count)
        data["words"].append(e.words)
        data["minutes_u"].append(_micro(e.minutes))
        data["days_u"].append(_micro(e.days))
        for a in attributes:
            data[a].append(e.attributes.get(a))
        data["row"].append(e.row)
    schema = {**EVENT_FRAME, **dict.fromkeys(attributes, pl.String), "row": pl.Int64}
    return pl.DataFrame(data, schema=schema).sort(["teacher_id", "at_us", "event_id"])


def frame_to_events(frame: pl.DataFrame, timezone: str) -> list[Event]:
    """The events of an :attr:`EventTable.frame` (or :func:`events_to_frame`), in frame
    order; ``at`` in ``timezone``. Columns beyond EVENT_FRAME and provenance are
    attributes; ``row`` is 0 when the frame has none."""
    zone = zoneinfo.ZoneInfo(timezone)
    attributes = _attribute_columns(frame, EVENT_FRAME)
    has_row = "row" in frame.columns
    out = []
    for r in frame.iter_rows(named=True):
        out.append(Event(
            event_id=r["event_id"], teacher_id=r["teacher_id"],
            at=(_EPOCH + dt.timedelta(microseconds=r["at_us"])).astimezone(zone), day=r["day"],
            instant_us=r["at_us"], kind=r["kind"], hours=_decimal(r["hours_u"]),
            credits=_decimal(r["credits_u"]), category=r["category"], level=r["level"],
            format=r["format"], program=r["program"], grade=r["grade"],
            score=_decimal(r["score_u"]), count=r["count"] if r["count"] is not None else 1,
            words=r["words"], attributes={a: r[a] for a in attributes if r[a] is not None},
            row=r["row"] if has_row and r["row"] is not None else 0,
            minutes=_decimal(r.get("minutes_u")), days=_decimal(r.get("days_u")),
        ))
    return out


def teachers_to_frame(teachers: Mapping[str, Teacher]) -> pl.DataFrame:
    """Teachers as a :attr:`Roster.frame`: :data:`~credit_rules.schema.ROSTER_FRAME`,
    then the attributes (String columns, by name); sorted by ``teacher_id``."""
    attributes = sorted({a for t in teachers.values() for a in t.attributes})
    rows = [{
        "teacher_id": t.teacher_id, "title": t.title, "roles": sorted(t.roles), "stage": t.stage,
        "hired_on": t.hired_on, "retired_on": t.retired_on, "school": t.school,
        "county": t.county, "city": t.city, "workshop": t.workshop,
        **{a: t.attributes.get(a) for a in attributes},
    } for t in teachers.values()]
    schema = {**ROSTER_FRAME, **dict.fromkeys(attributes, pl.String)}
    return pl.DataFrame(rows, schema=schema).sort("teacher_id")


def frame_to_teachers(roster: pl.DataFrame) -> dict[str, Teacher]:
    """The teachers of a :attr:`Roster.frame` (or :func:`teachers_to_frame`), by id.
    Columns beyond ROSTER_FRAME and provenance are attributes; missing ROSTER_FRAME
    columns read as empty."""
    attributes = _attribute_columns(roster, ROSTER_FRAME)
    out: dict[str, Teacher] = {}
    for r in roster.iter_rows(named=True):
        out[r["teacher_id"]] = Teacher(
            teacher_id=r["teacher_id"], title=r.get("title"),
            roles=frozenset(r.get("roles") or ()), stage=r.get("stage"),
            hired_on=r.get("hired_on"), retired_on=r.get("retired_on"), school=r.get("school"),
            county=r.get("county"), city=r.get("city"), workshop=r.get("workshop"),
            attributes={a: r[a] for a in attributes if r[a] is not None})
    return out


def roster_frame(teachers_or_roster: Any) -> pl.DataFrame | None:
    """A roster frame from a :class:`~credit_rules.io.Roster`, a frame, or a mapping of
    teacher ids to :class:`~credit_rules.records.Teacher` (None stays None)."""
    if teachers_or_roster is None:
        return None
    if isinstance(teachers_or_roster, pl.DataFrame):
        return teachers_or_roster
    frame = getattr(teachers_or_roster, "frame", None)
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(teachers_or_roster, Mapping):
        teachers: Mapping[str, Teacher] = teachers_or_roster
        return teachers_to_frame(teachers)
    raise TypeError(f"not a roster: {type(teachers_or_roster).__name__}")


def rows_from_frame(frame: pl.DataFrame) -> list[LedgerRow]:
    """Ledger rows back from a typed ledger frame (:data:`~credit_rules.schema.LEDGER_FRAME`)."""
    out: list[LedgerRow] = []
    for r in frame.select(LEDGER_COLUMNS).iter_rows(named=True):
        out.append(LedgerRow(
            teacher_id=r["teacher_id"], period_start=r["period_start"], period_end=r["period_end"],
            credits=r["credits"], hours=r["hours"], credited_hours=r["credited_hours"],
            leave_days=r["leave_days"],
            grade=r["grade"], excellent_eligible=r["excellent_eligible"],
            by_category={e["key"]: e["value"] for e in r["by_category"]},
            by_level={e["key"]: e["value"] for e in r["by_level"]},
            requirements=tuple(
                RequirementResult(q["name"], q["required"], q["actual"], q["met"], bool(q["waived"]))
                for q in r["requirements"]),
            met=r["met"],
            trace=tuple(
                TraceEntry(t["rule"], t["source"], t["credits"], t["hours"], tuple(t["events"]))
                for t in r["trace"]),
            outcomes={e["key"]: bool(e["value"]) for e in r["outcomes"] or ()},
        ))
    return out


def _amount(text: str) -> Decimal:
    """A ledger amount, refused (never rounded) when the ledger's scale cannot hold it."""
    value = Decimal(text)
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > LEDGER_SCALE:
        raise ValueError(f"{text} has more than {LEDGER_SCALE} decimal places; a ledger keeps {LEDGER_SCALE}")
    return value


def rows_to_frame(rows: Sequence[LedgerRow | Mapping[str, Any]]) -> pl.DataFrame:
    """Ledger rows (records, or their :meth:`~LedgerRow.to_json` dicts) as a typed ledger
    frame (:data:`~credit_rules.schema.LEDGER_FRAME`)."""
    records = []
    for row in rows:
        j = row.to_json() if isinstance(row, LedgerRow) else row
        records.append({
            "teacher_id": j["teacher_id"],
            "period_start": dt.date.fromisoformat(j["period_start"]),
            "period_end": dt.date.fromisoformat(j["period_end"]),
            "credits": _amount(j["credits"]), "hours": _amount(j["hours"]),
            "credited_hours": _amount(j["credited_hours"]),
            "leave_days": j["leave_days"], "grade": j["grade"],
            "excellent_eligible": j["excellent_eligible"],
            "by_category": [{"key": k, "value": _amount(v)} for k, v in j["by_category"].items()],
            "by_level": [{"key": k, "value": _amount(v)} for k, v in j["by_level"].items()],
            "requirements": [{
                "name": q["name"], "required": _amount(q["required"]), "actual": _amount(q["actual"]),
                "met": q["met"], "waived": bool(q.get("waived", False)),
            } for q in j["requirements"]],
            "met": j["met"],
            "trace": [{
                "rule": t["rule"], "source": t["source"], "credits": _amount(t["credits"]),
                "hours": _amount(t["hours"]), "events": list(t["events"]),
            } for t in j["trace"]],
            "outcomes": [{"key": k, "value": bool(v)} for k, v in (j.get("outcomes") or {}).items()],
        })
    return pl.DataFrame(records, schema=LEDGER_FRAME)
