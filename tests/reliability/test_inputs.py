"""Hostile inputs (issue 11, the input side): each is rejected with a reason, read exactly,
or refused with a clear InputError, the same way in every format (JSON Lines, CSV,
Parquet, Arrow IPC) and on both validation paths (fast and general); never a traceback."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import examples
from credit_rules.errors import InputError, UsageError
from credit_rules.io import EventTable, load_events, load_roster
from credit_rules.io.events import TYPED_EVENT_COLUMNS, validate_events
from credit_rules.io.parse import LIMITS, MAX_YEAR, MIN_YEAR, SAFE_EVENTS_PER_SUM
from credit_rules.io.sources import read_raw
from credit_rules.schema import REQUIRED_EVENT_COLUMNS

Row = dict[str, str]
BASE: Row = {"event_id": "e1", "teacher_id": "t1", "at": "2023-04-30", "kind": "training"}
FORMATS = ("jsonl", "csv", "parquet", "arrow")


def write(rows: list[Row], path: Path, fmt: str) -> Path:
    """``rows`` (text values) as one file of ``fmt``."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    frame = pl.DataFrame({c: [r.get(c) for r in rows] for c in columns},
                         schema={c: pl.String for c in columns})
    target = path.with_suffix({"arrow": ".arrow"}.get(fmt, f".{fmt}"))
    if fmt == "jsonl":
        target.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                          encoding="utf-8")
    elif fmt == "csv":
        frame.write_csv(target)
    elif fmt == "parquet":
        frame.write_parquet(target)
    else:
        frame.write_ipc(target)
    return target


def load_both(source: Any) -> list[EventTable]:
    """``source`` validated on the fast path and on the general path."""
    return [
        validate_events(
            read_raw(source, what="events", required=REQUIRED_EVENT_COLUMNS,
                     typed=TYPED_EVENT_COLUMNS),
            "Asia/Shanghai", fast=fast,
        )
        for fast in (True, False)
    ]


def every_way(tmp_path: Path, rows: list[Row]) -> list[EventTable]:
    """``rows`` loaded from every format, on both paths; all must give the same table."""
    tables = [t for fmt in FORMATS for t in load_both(write(rows, tmp_path / f"ev-{fmt}", fmt))]
    first = tables[0]
    for table in tables[1:]:
        assert table.frame.drop("source").equals(first.frame.drop("source"))
        assert table.rejects["reason"].to_list() == first.rejects["reason"].to_list()
        assert table.report == first.report
        assert table.seen_teacher_ids == first.seen_teacher_ids
    return tables


def reasons(tmp_path: Path, **values: str) -> list[str]:
    """The rejection reasons of one row (``BASE`` with ``values``), the same every way."""
    table = every_way(tmp_path, [{**BASE, **values}])[0]
    return list(table.rejects["reason"].to_list())


def assert_reasons(tmp_path: Path, cases: list[tuple[Row, list[str]]]) -> None:
    """Each case's row (``BASE`` with its values, an event id of its own) is rejected with
    exactly its reasons (none: accepted), the same every way. The rows share one file per
    format: a load costs the same for one row as for twenty, and each row's reasons are
    its own (rejects name their row)."""
    rows = [{**BASE, "event_id": f"e{i}", **values} for i, (values, _) in enumerate(cases, start=1)]
    rejects = every_way(tmp_path, rows)[0].rejects
    got = [rejects.filter(pl.col("row") == i)["reason"].to_list() for i in range(1, len(rows) + 1)]
    assert got == [expected for _, expected in cases]
    assert rejects.height == sum(len(expected) for _, expected in cases)  # no row rejected twice


# ----------------------------------------------------------------- 1. amount range


def test_amounts_beyond_the_per_event_range_are_rejected(tmp_path: Path) -> None:
    """hours/credits/count/words beyond LIMITS are rejected with the maximum named; the
    maxima themselves are read exactly, and sums of them stay within Int64 at 10^10."""
    assert_reasons(tmp_path, [
        ({"hours": "999999999999.999999"}, ["hours: 999999999999.999999 is above the maximum 100000 per event"]),
        ({"hours": "1" + "0" * 30}, ["hours: 1" + "0" * 30 + " is above the maximum 100000 per event"]),
        ({"credits": "100000.000001"}, ["credits: 100000.000001 is above the maximum 100000 per event"]),
        ({"count": "100001"}, ["count: 100001 is above the maximum 100000 per event"]),
        ({"words": "10000001"}, ["words: 10000001 is above the maximum 10000000 per event"]),
        ({"score": "100.5"}, ["score: 100.5 is above the maximum 100 per event"]),
        ({"hours": "-99999999999999999999"}, ['hours: must be >= 0, got "-99999999999999999999"']),
    ])
    table = every_way(tmp_path, [{**BASE, "hours": "100000", "credits": "100000",
                                  "count": "100000", "words": "10000000", "score": "100"}])[0]
    assert table.frame.select("hours_u", "credits_u", "count", "words", "score_u").row(0) == (
        10**11, 10**11, 100_000, 10_000_000, 10**8)
    assert LIMITS["hours"][1] * 10**10 * SAFE_EVENTS_PER_SUM < 2**63
    # Typed Parquet numbers take the same limits as text.
    path = tmp_path / "typed.parquet"
    pq.write_table(pa.table({**{k: [v] for k, v in BASE.items()},
                             "hours": pa.array([1e12], pa.float64()),
                             "count": pa.array([10**15], pa.int64())}), path)
    for table in load_both(path):
        assert table.rejects["reason"].to_list() == [
            "hours: 1000000000000.0 is above the maximum 100000 per event; "
            "count: 1000000000000000 is above the maximum 100000 per event"]


# ----------------------------------------------------------- 2. non-ASCII digits


def test_non_ascii_digits_are_rejected_naming_the_character(tmp_path: Path) -> None:
    """Full-width and Arabic-Indic digits in every typed column are rejected naming the
    character and its code point: never read as 0, 1, missing or a wrong hour."""
    tail = "; write numbers and dates with the ASCII digits 0-9"
    assert_reasons(tmp_path, [
        ({"hours": "１２"}, ['hours: "１２" has the non-ASCII character "１" (U+FF11)' + tail]),
        ({"words": "１２００"}, ['words: "１２００" has the non-ASCII character "１" (U+FF11)' + tail]),
        ({"count": "１２"}, ['count: "１２" has the non-ASCII character "１" (U+FF11)' + tail]),
        ({"score": "٩٠"}, ['score: "٩٠" has the non-ASCII character "٩" (U+0669)' + tail]),
        ({"credits": "1\u200b"}, ['credits: "1\u200b" has the non-ASCII character "\u200b" (U+200B)' + tail]),
        ({"at": "2025-12-31T２３:30:00-08:00"},
         ['at: "2025-12-31T２３:30:00-08:00" has the non-ASCII character "２" (U+FF12)' + tail]),
        ({"at": "２０２３-04-30"}, ['at: "２０２３-04-30" has the non-ASCII character "２" (U+FF12)' + tail]),
        ({"hours": "1\U0001d7d0"}, ['hours: "1\U0001d7d0" has the non-ASCII character "\U0001d7d0" (U+1D7D0)' + tail]),
    ])
    roster = tmp_path / "roster.csv"
    roster.write_text("teacher_id,hired_on\nt1,２０１９-09-01\n", encoding="utf-8")
    assert load_roster(roster).rejects["reason"].to_list() == [
        'hired_on: "２０１９-09-01" has the non-ASCII character "２" (U+FF12)' + tail]


# ------------------------------------------------------------------ 3. roster rejects


def test_roster_rejects_carry_reasons_and_name_their_teachers(tmp_path: Path) -> None:
    """Every rejected roster row is in rejects with its reason, and its teacher in
    rejected_teacher_ids; unresolved_teacher_ids are those left without any valid row."""
    path = tmp_path / "roster.csv"
    path.write_text(
        "teacher_id,title,hired_on\n"
        "t1,senior,2019-09-01\n"
        "t2,boss,2019-09-01\n"        # invalid title
        "t3,junior,0000-01-01\n"      # date outside the years
        "t4,junior,\n"
        "t4,senior,\n"                # conflicting copies
        " t5 ,junior,2019-02-30\n"    # a date that does not exist (id trimmed)
        "t6,junior,\n"
        "t6,wizard,\n"                # one valid copy, one rejected
        ",junior,\n",                 # no teacher_id: rejected, names nobody
        encoding="utf-8",
    )
    roster = load_roster(path)
    assert roster.report.summary() == "roster: 9 read = 2 used + 0 duplicates + 7 rejected"
    assert sorted(zip(roster.rejects["row"].to_list(), roster.rejects["reason"].to_list(),
                      strict=True)) == [
        (2, 'title: "boss" is not one of senior, intermediate, junior, none'),
        (3, 'hired_on: "0000-01-01" is outside the supported years 1900..2199'),
        (4, "conflicting copies of teacher_id t4 (rows 4, 5)"),
        (5, "conflicting copies of teacher_id t4 (rows 4, 5)"),
        (6, 'hired_on: the date "2019-02-30" does not exist'),
        (8, 'title: "wizard" is not one of senior, intermediate, junior, none'),
        (9, "missing teacher_id"),
    ]
    assert roster.rejected_teacher_ids == ("t2", "t3", "t4", "t5", "t6")
    assert roster.unresolved_teacher_ids() == ("t2", "t3", "t4", "t5")
    assert sorted(roster.teachers()) == ["t1", "t6"]


# ------------------------------------------------------------------------ 4. CSV


def test_csv_line_endings_repeated_header_and_utf16(tmp_path: Path) -> None:
    """CR-only, CRLF and UTF-16/32 (BOM) CSVs read the same rows; a repeated header column
    and UTF-16 without a BOM are refused naming the problem."""
    text = "event_id,teacher_id,at,kind,hours\ne1,t1,2023-04-30,training,1.5\ne2,t2,2023-05-01,training,2\n"
    expected = load_events(_write_bytes(tmp_path / "lf.csv", text.encode()))
    assert expected.report.rows_used == 2
    variants = {
        "cr.csv": text.replace("\n", "\r").encode(),
        "crlf.csv": text.replace("\n", "\r\n").encode(),
        "utf8bom.csv": "\ufeff".encode() + text.encode(),
        "utf16.csv": text.encode("utf-16"),
        "utf16be.csv": "\ufeff".encode("utf-16-be") + text.encode("utf-16-be"),
        "utf32.csv": text.encode("utf-32"),
        "utf16cr.csv": text.replace("\n", "\r").encode("utf-16"),
    }
    for name, data in variants.items():
        table = load_events(_write_bytes(tmp_path / name, data))
        assert table.frame.drop("source").equals(expected.frame.drop("source")), name
    with pytest.raises(InputError, match="column 'hours' appears twice; keep one"):
        load_events(_write_bytes(tmp_path / "dup.csv",
                                 b"event_id,teacher_id,at,kind,hours,hours\ne1,t1,2023-04-30,training,1,2\n"))
    with pytest.raises(InputError, match="column 'hours' appears twice"):
        load_roster(_write_bytes(tmp_path / "dup-roster.csv", b"teacher_id,hours, hours\nt1,1,2\n"))
    with pytest.raises(InputError, match="looks like UTF-16 without a byte-order mark"):
        load_events(_write_bytes(tmp_path / "nobom.csv", text.encode("utf-16-le")))
    with pytest.raises(InputError, match="not valid UTF-8"):
        load_events(_write_bytes(tmp_path / "gbk.jsonl", '{"event_id": "课"}\n'.encode("gbk")))
    with pytest.raises(InputError, match="as CSV"):
        load_events(_write_bytes(tmp_path / "gbk.csv", (text + "e3,t1,2023-04-30,培训,1\n")
                                 .encode("gbk")))


def _write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# -------------------------------------------------------------- 5. vanishing teachers


def test_every_teacher_named_on_any_row_is_seen(tmp_path: Path) -> None:
    """seen_teacher_ids holds teachers with only rejected, conflicting or duplicate rows."""
    rows: list[Row] = [
        {**BASE, "event_id": "ok", "teacher_id": "t-valid"},
        {**BASE, "event_id": "bad", "teacher_id": "t-rejected", "hours": "-1"},
        {**BASE, "event_id": "c", "teacher_id": "t-conflict", "hours": "1"},
        {**BASE, "event_id": "c", "teacher_id": "t-conflict", "hours": "2"},
        {**BASE, "event_id": "ok", "teacher_id": "t-valid"},
        {**BASE, "event_id": "far", "teacher_id": " t-outside ", "at": "0001-01-01"},
        {**BASE, "event_id": "none", "teacher_id": "   "},
    ]
    table = every_way(tmp_path, rows)[0]
    assert table.report.summary() == "events: 7 read = 1 used + 1 duplicates + 5 rejected"
    assert table.teacher_ids() == ["t-valid"]
    assert table.seen_teacher_ids == ("t-conflict", "t-outside", "t-rejected", "t-valid")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"event_id": "x", "teacher_id": "t-json", "at": "nope", "kind": "k"}\n'
                      "not json at all\n", encoding="utf-8")
    assert load_events(broken).seen_teacher_ids == ("t-json",)


# ------------------------------------------------------- 6. crashes -> reasons/errors


def _typed_at(tmp_path: Path, name: str, at: pa.Array) -> list[str]:
    """The rejection reasons of typed ``at`` values (a row each, in row order), the same
    from Parquet and from Arrow, on both paths."""
    ids = [f"e{i}" for i in range(1, len(at) + 1)]
    arrow = pa.table({"event_id": ids, "teacher_id": ["t1"] * len(at), "kind": ["training"] * len(at), "at": at})
    path = tmp_path / f"{name}.parquet"
    pq.write_table(arrow, path)
    tables = load_both(path)
    tables += load_both(arrow)
    for table in tables:
        assert table.report.rows_read == len(at)
        assert table.rejects["reason"].to_list() == tables[0].rejects["reason"].to_list()
    assert tables[0].rejects["row"].to_list() == sorted(tables[0].rejects["row"].to_list())
    return list(tables[0].rejects["reason"].to_list())


def test_dates_outside_the_calendar_or_the_supported_years(tmp_path: Path) -> None:
    """Far dates (typed date32 of year -200000 or 2^31-1 days, text years 0, 1, 9999) and
    days that do not exist are rejected with a reason; typed roster timestamps are read."""
    span = f"supported years {MIN_YEAR}..{MAX_YEAR}"
    y1850 = (dt.date(1850, 1, 1) - dt.date(1970, 1, 1)).days
    assert _typed_at(tmp_path, "date32", pa.array([2**31 - 1, -73_000_000, y1850], pa.date32())) == [
        f'at: "out of range: 2147483647 days from 1970-01-01" is outside the {span}',
        f'at: "out of range: -73000000 days from 1970-01-01" is outside the {span}',
        f'at: "1850-01-01" is outside the {span}']
    assert _typed_at(tmp_path, "ts", pa.array([2**62], pa.timestamp("us"))) == [
        f'at: "out of range: {2**62} us from 1970-01-01" is outside the {span}']
    assert _typed_at(tmp_path, "int", pa.array([1682784000], pa.int64())) == [
        "at: an integer is not a date; store ISO text or a timestamp"]
    assert _typed_at(tmp_path, "float", pa.array([1.5], pa.float64())) == [
        "at: a number is not a date; store ISO text or a timestamp"]
    far = ("0000-01-01", "0001-01-01", "9999-12-31T23:59:59-05:00", "1899-12-31", "2200-01-01T00:00")
    assert_reasons(tmp_path, [
        *[({"at": text}, [f'at: "{text}" is outside the {span}']) for text in far],
        ({"at": "2023-02-30"}, ['at: the date "2023-02-30" does not exist']),
        ({"at": "2023-02-29T10:00Z"}, ['at: the date "2023-02-29" does not exist']),
        ({"at": "1900-01-01"}, []),
        ({"at": "2199-12-31T23:59:59"}, []),
    ])

    roster = tmp_path / "roster.parquet"
    pq.write_table(pa.table({
        "teacher_id": ["t1", "t2", "t3", "t4", "t5"],
        "hired_on": pa.array([dt.datetime(2019, 9, 1), dt.datetime(2020, 1, 1, 8, 30), None,
                              dt.datetime(1, 1, 1), None], pa.timestamp("us")),
        "retired_on": pa.array([None, None, 2**31 - 1, None, -(2**31)], pa.date32()),
    }), roster)
    loaded = load_roster(roster)
    assert loaded.frame.select("teacher_id", "hired_on").rows() == [
        ("t1", dt.date(2019, 9, 1)), ("t2", dt.date(2020, 1, 1))]
    assert loaded.rejects["reason"].to_list() == [
        f'retired_on: "out of range: 2147483647 days from 1970-01-01" is outside the {span}',
        f'hired_on: "out of range: -62135596800000000 us from 1970-01-01" is outside the {span}',
        f'retired_on: "out of range: -2147483648 days from 1970-01-01" is outside the {span}',
    ]
    zero = tmp_path / "zero.csv"
    zero.write_text("teacher_id,hired_on\nt1,0000-01-01\n", encoding="utf-8")
    assert load_roster(zero).rejects["reason"].to_list() == [
        f'hired_on: "0000-01-01" is outside the {span}']


def test_odd_types_empty_files_and_reserved_names(tmp_path: Path) -> None:
    """Integer and dictionary event_id read as text; empty and blank JSON Lines give 0
    events; a __cr_ column is refused in every format; folders skip hidden files."""
    at = ["2023-04-30"]
    pq.write_table(pa.table({"event_id": pa.array([7], pa.int64()), "teacher_id": ["t1"],
                             "at": at, "kind": ["training"]}), tmp_path / "int.parquet")
    pq.write_table(pa.table({"event_id": pa.array(["e1"]).dictionary_encode(),
                             "teacher_id": pa.array(["t1"]).dictionary_encode(),
                             "at": at, "kind": ["training"]}), tmp_path / "dict.parquet")
    for name, event_id in (("int.parquet", "7"), ("dict.parquet", "e1")):
        for table in load_both(tmp_path / name):
            assert table.frame["event_id"].to_list() == [event_id]
            assert table.seen_teacher_ids == ("t1",)
    for name, text in (("empty.jsonl", ""), ("blank.jsonl", "\n  \n\t\r\n"),
                       ("bom.jsonl", "\ufeff\n")):
        for table in load_both(_write_bytes(tmp_path / name, text.encode())):
            assert table.report.summary() == "events: 0 read = 0 used + 0 duplicates + 0 rejected"
            assert table.seen_teacher_ids == ()
    for fmt in FORMATS:
        path = write([{**BASE, "__cr_row": "5"}], tmp_path / f"reserved-{fmt}", fmt)
        with pytest.raises(InputError, match="column name '__cr_row' is reserved"):
            load_events(path)
    with pytest.raises(InputError, match="'__cr_bad' is reserved"):
        load_events(pl.DataFrame({**{k: [v] for k, v in BASE.items()}, "__cr_bad": ["x"]}))

    folder = tmp_path / "parts"
    folder.mkdir()
    write([BASE], folder / "part-0", "parquet")
    (folder / "._part-0.parquet").write_bytes(b"\x00\x05\x16\x07AppleDouble")
    (folder / ".hidden.csv").write_text("garbage", encoding="utf-8")
    (folder / "_metadata.json").write_text('{"schema": 1}', encoding="utf-8")
    (folder / "_SUCCESS").write_text("", encoding="utf-8")
    assert load_events(folder).report.summary() == (
        "events: 1 read = 1 used + 0 duplicates + 0 rejected")
    only_hidden = tmp_path / "hidden"
    only_hidden.mkdir()
    (only_hidden / "._x.parquet").write_bytes(b"junk")
    with pytest.raises(InputError, match="holds no"):
        load_events(only_hidden)


# ------------------------------------------------------------------------ 8. fuzz


def _no_crash(load: Callable[[], list[EventTable]]) -> list[EventTable]:
    """The tables ``load`` gives (each balanced; fast and general alike), or [] after an
    InputError/UsageError; any other exception fails the test."""
    try:
        tables = load()
    except (InputError, UsageError):
        return []
    for table in tables:
        report = table.report
        assert report.rows_read == report.rows_used + report.duplicates + report.rejected
        assert table.rejects.height == report.rejected
        assert set(table.teacher_ids()) <= set(table.seen_teacher_ids)
        assert table.frame.equals(tables[0].frame)
        assert table.rejects.equals(tables[0].rejects)
    return tables


_CELL = st.one_of(
    st.none(), st.text(max_size=12),
    st.sampled_from(["2023-04-30", "2023-04-30T08:00:00", "1.5", "１２", "-1", "1e3",
                     "9" * 25, "0000-01-01", "2023-02-30", "\u200b", "qualified"]),
)
_KEYS = st.sampled_from(["event_id", "teacher_id", "at", "kind", "hours", "credits", "score",
                         "count", "words", "grade", "level", "note", "__cr_x", "row", ""])
_FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: Generated files per fuzz test (each loaded by both paths): QUICK in the default run,
#: SOAK behind `pytest -m slow`.
QUICK, SOAK = 20, 400
_LINES = st.lists(st.one_of(st.binary(max_size=60).map(lambda b: b.decode("latin-1")),
                            st.dictionaries(_KEYS, _CELL, max_size=8).map(json.dumps),
                            st.text(max_size=40)), max_size=8)


@examples(quick=QUICK, soak=SOAK)
def test_fuzz_json_lines(tmp_path: Path, examples: int) -> None:
    """Random lines as JSON Lines: a balanced table or InputError/UsageError, nothing else."""

    @settings(_FUZZ, max_examples=examples)
    @given(_LINES)
    def check(lines: list[str]) -> None:
        path = tmp_path / "fuzz.jsonl"
        path.write_text("\n".join(lines), encoding="utf-8")
        _no_crash(lambda: load_both(path))

    check()


@examples(quick=QUICK, soak=SOAK)
def test_fuzz_csv(tmp_path: Path, examples: int) -> None:
    """Random bytes as CSV (with or without a valid header): balanced or a clean error."""

    @settings(_FUZZ, max_examples=examples)
    @given(st.binary(max_size=300), st.booleans())
    def check(data: bytes, with_header: bool) -> None:
        header = b"event_id,teacher_id,at,kind,hours,count\n" if with_header else b""
        path = _write_bytes(tmp_path / "fuzz.csv", header + data)
        _no_crash(lambda: load_both(path))

    check()


_TYPED = {
    "at": st.sampled_from([pa.date32(), pa.timestamp("us"), pa.timestamp("ms", "UTC"),
                           pa.int64(), pa.string()]),
    "hours": st.sampled_from([pa.float64(), pa.int64(), pa.decimal128(20, 7), pa.string()]),
    "count": st.sampled_from([pa.int64(), pa.int32(), pa.float32(), pa.string()]),
}


def _value(kind: pa.DataType) -> st.SearchStrategy[Any]:
    if kind == pa.date32():
        return st.integers(-(2**31), 2**31 - 1)
    if pa.types.is_timestamp(kind):
        return st.integers(-(2**63) + 1, 2**63 - 1)
    if pa.types.is_integer(kind):
        bits = kind.bit_width - 1
        return st.integers(-(2**bits), 2**bits - 1)
    if pa.types.is_floating(kind):
        return st.floats(width=kind.bit_width)
    if pa.types.is_decimal(kind):
        return st.decimals(min_value=-(10**12), max_value=10**12, places=7,
                           allow_nan=False, allow_infinity=False)
    return st.text(max_size=10)


@st.composite
def _typed_tables(draw: st.DrawFn) -> pa.Table:
    n = draw(st.integers(1, 5))
    columns: dict[str, pa.Array] = {
        "event_id": pa.array(draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n,
                                           max_size=n))),
        "teacher_id": pa.array(draw(st.lists(st.one_of(st.none(), st.text(max_size=3)),
                                             min_size=n, max_size=n))),
        "kind": pa.array(["training"] * n),
    }
    for name, kinds in _TYPED.items():
        kind = draw(kinds)
        values = draw(st.lists(st.one_of(st.none(), _value(kind)), min_size=n, max_size=n))
        columns[name] = pa.array(values, kind)
    return pa.table(columns)


@examples(quick=QUICK, soak=SOAK)
def test_fuzz_parquet_typed_values(tmp_path: Path, examples: int) -> None:
    """Random typed values (dates beyond the calendar, huge numbers) in Parquet: balanced
    or a clean error, and the fast and general paths agree."""

    @settings(_FUZZ, max_examples=examples)
    @given(_typed_tables())
    def check(table: pa.Table) -> None:
        path = tmp_path / "fuzz.parquet"
        pq.write_table(table, path)
        _no_crash(lambda: load_both(path))

    check()


@pytest.mark.parametrize(("suffix", "text"), [
    (".jsonl", '{"": null, "event_id": "e1", "teacher_id": "t1", "at": "2022-01-01", "kind": "training"}\n'),
    (".csv", ",event_id,teacher_id,at,kind\nx,e1,t1,2022-01-01,training\n"),
])
def test_a_column_without_a_name_is_refused(tmp_path: Path, suffix: str, text: str) -> None:
    """An empty column name (found by the JSON Lines fuzz: a crash) refuses the file with a message."""
    path = tmp_path / f"events{suffix}"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="empty name"):
        load_events(path)
