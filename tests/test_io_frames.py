"""Records and frames convert both ways without losing anything a record holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings

from conftest import examples
from credit_rules.io import load_events, load_roster
from credit_rules.io.frames import (
    events_to_frame,
    frame_to_events,
    frame_to_teachers,
    rows_from_frame,
    rows_to_frame,
    teachers_to_frame,
)
from credit_rules.records import Event, LedgerRow, RequirementResult, Teacher, TraceEntry
from credit_rules.schema import EVENT_COLUMNS, EVENT_FRAME, ROSTER_FRAME
from credit_rules.testing.strategies import event_rows, rosters

ZONE = "Asia/Shanghai"
_UTC8 = dt.timezone(dt.timedelta(hours=8))


def _event(event_id: str, teacher_id: str, day: int, *, row: int, **fields: Any) -> Event:
    at = dt.datetime(2023, 3, day, 9, 30, tzinfo=_UTC8)
    return Event(event_id=event_id, teacher_id=teacher_id, at=at, day=at.date(),
                 instant_us=int(at.timestamp()) * 1_000_000, kind="training", row=row, **fields)


def test_events_round_trip_keeps_row_and_attributes() -> None:
    """Events -> frame -> events gives the same events, row numbers and attributes included."""
    events = [
        _event("e1", "t1", 1, row=7, hours=Decimal("1.5"), category="ethics",
               attributes={"room": "A1", "topic": "safety"}),
        _event("e2", "t1", 2, row=3, credits=Decimal("0.000001"), count=4, words=1200),
        _event("e3", "t2", 1, row=12, score=Decimal("87.5"), program="p", grade="qualified",
               attributes={"room": "B2"}),
    ]
    frame = events_to_frame(events)
    assert frame.columns == [*EVENT_FRAME, "room", "topic", "row"]
    assert frame["row"].to_list() == [7, 3, 12]
    assert frame_to_events(frame, ZONE) == events


def test_frame_without_row_reads_row_zero() -> None:
    """A frame with no ``row`` column (hand-made) gives events with row 0."""
    events = [_event("e1", "t1", 1, row=5)]
    back = frame_to_events(events_to_frame(events).drop("row"), ZONE)
    assert [e.row for e in back] == [0]


# Each example is a Polars load of up to 27 rows: 15 in the default run, 300 in the soak run.
@examples(quick=15, soak=300)
def test_loaded_events_round_trip(examples: int) -> None:
    """The loader's events survive frame_to_events(events_to_frame(...)), and the loader's
    own frame (with ``source`` and ``row``) reads as the same events."""

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(rows=event_rows())
    def check(rows: list[dict[str, Any]]) -> None:
        columns = [*EVENT_COLUMNS, "room"]
        raw = pl.DataFrame({c: [r.get(c) for r in rows] for c in columns},
                           schema=dict.fromkeys(columns, pl.String))
        table = load_events(raw, timezone=ZONE)
        events = table.events()
        assert frame_to_events(table.frame, ZONE) == events
        assert frame_to_events(events_to_frame(events), ZONE) == events

    check()


def test_teachers_round_trip_keeps_attributes() -> None:
    """Teachers -> frame -> teachers gives the same teachers, extra roster columns included."""
    teachers = {
        "t1": Teacher("t1", title="senior", roles=frozenset({"dean", "teacher"}), stage="high",
                      hired_on=dt.date(2020, 9, 1), school="s1", workshop="math",
                      attributes={"subject": "math", "badge": "7"}),
        "t2": Teacher("t2"),
    }
    frame = teachers_to_frame(teachers)
    assert frame.columns == [*ROSTER_FRAME, "badge", "subject"]
    assert frame_to_teachers(frame) == teachers


@settings(max_examples=20, deadline=None)
@given(roster=rosters())
def test_generated_rosters_round_trip(roster: dict[str, Teacher]) -> None:
    """Generated rosters survive the frame round trip."""
    assert frame_to_teachers(teachers_to_frame(roster)) == roster


def test_loaded_roster_frame_reads_as_its_teachers(tmp_path: Any) -> None:
    """A loaded roster's frame (with ``source``, ``row`` and an extra column) reads as
    ``Roster.teachers()``."""
    path = tmp_path / "roster.csv"
    path.write_text("teacher_id,title,roles,subject\nt1,senior,dean;teacher,math\nt2,,,\n")
    roster = load_roster(path)
    assert frame_to_teachers(roster.frame) == roster.teachers()
    assert roster.teachers()["t1"].attributes == {"subject": "math"}


def test_ledger_rows_round_trip() -> None:
    """Ledger rows -> frame -> rows gives the same JSON."""
    rows = [LedgerRow(
        teacher_id="t\"1", period_start=dt.date(2021, 1, 1), period_end=dt.date(2025, 12, 31),
        credits=Decimal("7.2"), hours=Decimal("72"), leave_days=1, grade=None,
        excellent_eligible=False, by_category={"知识": Decimal("7.2")}, by_level={},
        requirements=(RequirementResult("total", Decimal("36"), Decimal("7.2"), False, True),),
        met=False, trace=(TraceEntry("hours", "src", Decimal("7.2"), Decimal("72"), ("e1", "e2")),),
    )]
    assert [r.to_json() for r in rows_from_frame(rows_to_frame(rows))] == [r.to_json() for r in rows]
