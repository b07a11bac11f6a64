"""The row-by-row loader of small inputs (io.small, issue 10) against the Polars loader.

The Polars validation is the definition; the small path must accept the same events and
reject the same rows with the same reasons, on hostile rows: bad and skipped dates,
exponents, floats, NaN, huge numbers, blanks, unknown kinds, repeated and conflicting ids.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_rules import core, evaluate, ir, load_policy
from credit_rules.api import input_contract, shipped_policies
from credit_rules.io import load_events, load_roster, parse, scalars
from credit_rules.io.small import small_events
from credit_rules.io.small_roster import small_roster
from credit_rules.io.sources import frame_from_records
from credit_rules.synth import generate_events, generate_roster
from credit_rules.testing.strategies import event_rows

ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York")
HOSTILE_TEXT = (
    "", "  ", " 5 ", "5.", ".5", ".", "-0", "-1", "+2", "1e3", "1E-2", "NaN", "nan", "inf", "0x10",
    "１２", "2\u00a0", "\u30001", "\x1f3", "12345678901234", "999999999999.9999999", "100000", "100000.000001",
    "0.0000001", "0.1234560", "7,5", "abc",
)
HOSTILE_AT = (
    "2023-02-30", "2023-02-29T10:00", "0000-02-29", "1899-12-31", "2200-01-01", "2023-13-01",
    "20230430", "2023/04/30", "2023-W17-7", "2023-01-01T24:00", "2023-01-01T23:60:00",
    "2023-01-01T10:00:00.1234567891", "2023-01-01t10:00", "2023-01-01 10:00+0530",
    "2023-01-01T10:00-23:59", "2023-01-01T10:00+24", "2023-03-26T02:30", "2023-10-29T02:30",
    "2023-03-12T02:30", "2023-11-05T01:30", "1900-01-01T00:00+05:00", "２０２３-01-01",
    "out of range: 5 days from 1970-01-01", " 2023-05-01 ", "2023-05-01T",
)
#: Python values a training system holds (read through the same record_cell as the loader).
VALUES: tuple[Any, ...] = (
    0.1, 1e-05, 1e20, float("nan"), float("inf"), 3, -2, True, Decimal("1.50"), Decimal("1E+3"),
    Decimal("NaN"), dt.date(2023, 5, 1), dt.datetime(2023, 5, 1, 9, 30), ["a", " b"],
)
COLUMNS = ("event_id", "teacher_id", "at", "kind", "hours", "credits", "score", "count", "words",
           "grade", "level", "minutes", "days", "room", "status", "joined_on", "category")
INPUTS = core.Inputs(
    columns=(core.Column("room", "number", ir.Scope.EVENT), core.Column("joined_on", "date", ir.Scope.EVENT)),
    vocabularies=(("kind", ("training", "assessment", "observation")), ("level", ("school", "district")),
                  ("category", ("ethics", "practice"))),
)


@st.composite
def hostile_rows(draw: Any) -> list[dict[str, Any]]:
    """The shared event rows, with hostile values put into some of their cells."""
    rows = draw(event_rows(max_size=12))
    if not rows:
        rows = [{"event_id": "e1", "teacher_id": "t1", "at": "2023-05-01", "kind": "training"}]
    for _ in range(draw(st.integers(0, 8))):
        row = draw(st.sampled_from(rows))
        column = draw(st.sampled_from(COLUMNS))
        row[column] = draw(st.one_of(
            st.sampled_from(HOSTILE_TEXT), st.sampled_from(HOSTILE_AT), st.sampled_from(VALUES),
            st.none(), st.text(st.characters(codec="utf-8"), max_size=4),
        ))
    if draw(st.booleans()):  # a conflicting copy: same id, one cell changed
        copy = dict(draw(st.sampled_from(rows)))
        copy["hours"] = draw(st.sampled_from(("1", "1.0", "2", None)))
        rows.append(copy)
    return rows


def _same_tables(rows: list[dict[str, Any]] | pl.DataFrame, zone: str, inputs: core.Inputs | None) -> None:
    try:
        reference = load_events(rows, timezone=zone, inputs=inputs)
    except Exception as exc:  # the small path must refuse the same way
        try:
            small_events(rows, zone, inputs)
        except type(exc) as again:
            assert str(again) == str(exc)
            return
        raise AssertionError(f"the Polars loader refused ({exc}); the small path did not") from None
    small = small_events(rows, zone, inputs)
    assert small is not None
    assert small.events() == reference.events()
    assert small.report == reference.report
    assert small.seen_teacher_ids == reference.seen_teacher_ids
    assert small.rejects.to_dicts() == reference.rejects.to_dicts()
    assert small.frame.equals(reference.frame)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=hostile_rows(), zone=st.sampled_from(ZONES), contract=st.booleans())
def test_small_rows_are_read_as_the_polars_loader_reads_them(
    rows: list[dict[str, Any]], zone: str, contract: bool,
) -> None:
    _same_tables(rows, zone, INPUTS if contract else None)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=hostile_rows(), zone=st.sampled_from(ZONES))
def test_a_small_frame_is_read_as_the_polars_loader_reads_it(rows: list[dict[str, Any]], zone: str) -> None:
    """A frame (typed columns too: at as a datetime, hours as floats) gives the same table."""
    frame = frame_from_records([{k: v for k, v in r.items() if k in ("event_id", "teacher_id", "kind")}
                                for r in rows])
    frame = frame.with_columns(
        pl.Series("at", [dt.datetime(2023, 3, 26, 1, 30) + dt.timedelta(minutes=37 * i) for i in range(len(rows))]),
        pl.Series("hours", [None if i % 4 == 0 else 0.1 * i for i in range(len(rows))], dtype=pl.Float64),
        pl.Series("count", [i - 1 for i in range(len(rows))], dtype=pl.Int64),
    )
    _same_tables(frame, zone, None)


def test_the_scalar_readers_share_the_loader_constants() -> None:
    assert (scalars.MIN_YEAR, scalars.MAX_YEAR, scalars.MAX_INT_DIGITS) == (
        parse.MIN_YEAR, parse.MAX_YEAR, parse.MAX_INT_DIGITS)


ROSTER_VALUES: tuple[Any, ...] = (
    None, "", " senior ", "senior", "none", "chief", "teacher; class_teacher", ["teacher", "dean", "teacher"],
    "teacher;;pope", "2019-09-01", "2019-9-1", "2023-02-29", "1899-12-31", dt.date(2020, 1, 1),
    dt.datetime(2020, 1, 1, 8), "7.5", "1e3", "primary", "x",
)
ROSTER_COLUMNS = ("title", "roles", "stage", "hired_on", "retired_on", "school", "district", "joined_on")
ROSTER_INPUTS = core.Inputs(columns=(core.Column("district", "decimal", ir.Scope.TEACHER),
                                     core.Column("joined_on", "date", ir.Scope.TEACHER)))


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.builds(dict, st.fixed_dictionaries(
    {"teacher_id": st.sampled_from(("t1", "t2", " t1", None))},
    optional=dict.fromkeys(ROSTER_COLUMNS, st.sampled_from(ROSTER_VALUES)))), min_size=1, max_size=5),
    contract=st.booleans())
def test_a_small_roster_is_read_as_the_polars_loader_reads_it(rows: list[dict[str, Any]], contract: bool) -> None:
    inputs = ROSTER_INPUTS if contract else None
    reference = load_roster(rows, inputs=inputs)
    small = small_roster(rows, inputs)
    assert small is not None
    assert small.teachers() == reference.teachers()
    assert small.report == reference.report
    assert small.rejected_teacher_ids == reference.rejected_teacher_ids
    assert small.rejects.to_dicts() == reference.rejects.to_dicts()
    assert small.frame.equals(reference.frame)


def test_one_teachers_ledger_is_the_same_through_either_loader() -> None:
    """evaluate() of a few synthetic teachers' dicts (read row by row, only the policy's days
    built as records) gives the ledger of the same rows through the Polars loader, for
    every shipped policy; one teacher's events all lie outside every fixed window."""
    roster = generate_roster(3, seed=5)
    events = pl.concat(list(generate_events(roster, seed=5, events_per_teacher=40)))
    late = {"event_id": "late", "teacher_id": "T-late", "at": "2030-01-01T08:00:00", "kind": "training",
            "hours": "3"}
    rows = [*events.to_dicts(), late]
    teachers = roster.to_dicts()
    for path in shipped_policies():
        policy = load_policy(path)
        table = load_events(rows, timezone=policy.timezone, inputs=input_contract(policy))
        assert table.small is None
        small = evaluate(policy, rows, teachers, as_of=dt.date(2025, 12, 31))
        assert small.events is not None and small.events.small is not None
        reference = evaluate(policy, table, load_roster(teachers, inputs=input_contract(policy)),
                             as_of=dt.date(2025, 12, 31))
        assert small.to_json() == reference.to_json(), path.stem
        assert "T-late" in {r.teacher_id for r in small.rows}


def test_a_column_of_plain_times_is_read_as_each_time_alone() -> None:
    """read_plain_ats (offsets per month when no month has a clock change, else per day)
    gives read_plain_at of each text, in zones with and without summer time."""
    changes = {dt.date(2023, 3, 26), dt.date(2023, 10, 29), dt.date(2023, 3, 12), dt.date(2023, 11, 5)}
    days = [day for i in range(0, 365, 4) if (day := dt.date(2023, 1, 1) + dt.timedelta(days=i)) not in changes]
    texts = [f"{day}T{(7 * i) % 24:02d}:{i % 60:02d}:05" for i, day in enumerate(days)] + ["2024-02-29"]
    change_days = ["2023-03-26T12:00:00", "2023-03-12T12:00:00"]  # Berlin's and New York's
    for zone in ZONES:
        alone = [scalars.read_plain_at(t, zone) for t in texts]
        assert None not in alone
        read = scalars.read_plain_ats(texts, zone)
        assert read is not None and list(zip(*read, strict=True)) == alone
        with_changes = scalars.read_plain_ats(texts + change_days, zone)
        assert (with_changes is None) == (zone != "Asia/Shanghai")  # a day with a clock change is not plain
        # numpy reads the epoch seconds: before 1970 (negative) and in the last year read, too
        for edge in (["1969-12-31T23:59:59", "1969-12-01", "1969-12-30T00:00:01"], ["2199-12-31T23:59:59", "2199-12-01"]):
            read = scalars.read_plain_ats(edge, zone)
            assert read is not None and list(zip(*read, strict=True)) == [scalars.read_plain_at(t, zone) for t in edge]
