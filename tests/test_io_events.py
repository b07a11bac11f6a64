"""Tests of credit_rules.io.events: formats, validation reasons, duplicates, ordering."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import examples
from credit_rules.errors import InputError
from credit_rules.io import EventTable, load_events, write_rejects

HEADER = ["event_id", "teacher_id", "at", "kind", "hours", "category", "grade", "count", "note"]
GOOD = [
    ["e1", "t1", "2023-04-30", "training", "1.5", "ethics", "", "", "a"],
    ["e2", "t1", "2023-04-30T08:00:00", "training", "0.1", "", "", "2", ""],
    ["e3", "t2", "2023-05-01 09:30", "assessment", "", "", "qualified", "", ""],
]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    lines = [",".join(header)] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({k: v for k, v in zip(header, row, strict=True) if v}) + "\n")
    return path


def frame_of(header: list[str], rows: list[list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {h: [r[i] or None for r in rows] for i, h in enumerate(header)},
        schema={h: pl.String for h in header},
    )


def content(table: EventTable) -> list[tuple[object, ...]]:
    return table.frame.drop("source", "row").rows()


def reason_of(table: EventTable, event_id: str) -> tuple[int, str]:
    hits = table.rejects.filter(pl.col("event_id") == event_id)
    assert hits.height == 1, hits
    return hits["row"][0], hits["reason"][0]


def test_every_format_reads_the_same_events(tmp_path: Path) -> None:
    base = load_events(write_csv(tmp_path / "ev.csv", HEADER, GOOD))
    assert base.report.rows_used == 3
    frame = frame_of(HEADER, GOOD)
    frame.write_parquet(tmp_path / "ev.parquet")
    frame.write_ipc(tmp_path / "ev.arrow")
    frame.write_ipc(tmp_path / "ev.feather")
    variants = [
        load_events(write_jsonl(tmp_path / "ev.jsonl", HEADER, GOOD)),
        load_events(write_jsonl(tmp_path / "ev.ndjson", HEADER, GOOD)),
        load_events(tmp_path / "ev.parquet"),
        load_events(str(tmp_path / "ev.arrow")),
        load_events(tmp_path / "ev.feather"),
        load_events(frame),
        load_events(frame.to_arrow()),
    ]
    for table in variants:
        assert content(table) == content(base)
        assert table.frame.columns == base.frame.columns


def test_frame_schema_and_values(tmp_path: Path) -> None:
    table = load_events(write_csv(tmp_path / "ev.csv", HEADER, GOOD))
    assert table.frame.columns == [
        "event_id", "teacher_id", "at_us", "day", "kind", "hours_u", "credits_u", "category",
        "level", "format", "program", "grade", "score_u", "count", "words",
        "minutes_u", "days_u",  # issue 9 (A): study time in other units
        "note", "source", "row",
    ]
    assert table.frame.schema["at_us"] == pl.Int64
    assert table.frame.schema["day"] == pl.Date
    assert table.attribute_columns == ("note",)
    assert table.frame["hours_u"].to_list() == [1_500_000, 100_000, None]
    assert table.frame["count"].to_list() == [1, 2, 1]
    assert table.frame["row"].to_list() == [1, 2, 3]
    events = table.events()
    assert events[0].hours == Decimal("1.5")
    assert events[1].hours == Decimal("0.1")
    assert events[0].attributes == {"note": "a"}
    assert events[1].attributes == {}
    assert events[0].at == dt.datetime(2023, 4, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert events[0].at.utcoffset() == dt.timedelta(hours=8)
    assert events[2].grade == "qualified"
    assert events[2].day == dt.date(2023, 5, 1)
    assert events[2].instant_us == table.frame["at_us"][2]
    by = table.by_teacher()
    assert [e.event_id for e in by["t1"]] == ["e1", "e2"]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["", "t1", "2023-04-30", "training", "", "", "", ""], "missing event_id"),
        (["x", "", "2023-04-30", "training", "", "", "", ""], "missing teacher_id"),
        (["x", "t1", "", "training", "", "", "", ""], "missing at"),
        (["x", "t1", "2023-04-30", " ", "", "", "", ""], "missing kind"),
        (["x", "t1", "2023-02-30", "training", "", "", "", ""],
         'at: the date "2023-02-30" does not exist'),
        (["x", "t1", "30/04/2023", "training", "", "", "", ""],
         'at: not an ISO 8601 date or datetime: "30/04/2023"'),
        (["x", "t1", "2023-04-30T25:00", "training", "", "", "", ""],
         'at: not an ISO 8601 date or datetime: "2023-04-30T25:00"'),
        (["x", "t1", "2023-04-30", "training", "-3", "", "", ""], 'hours: must be >= 0, got "-3"'),
        (["x", "t1", "2023-04-30", "training", "0.1234567", "", "", ""],
         'hours: more than 6 decimal places: "0.1234567"'),
        (["x", "t1", "2023-04-30", "training", "1e3", "", "", ""],
         'hours: not a decimal number: "1e3"'),
        (["x", "t1", "2023-04-30", "training", "", "", "good", ""],
         'grade: "good" is not one of excellent, qualified, unqualified'),
        (["x", "t1", "2023-04-30", "training", "", "", "", "0"], 'count: must be >= 1, got "0"'),
        (["x", "t1", "2023-04-30", "training", "", "", "", "1.5"], 'count: not an integer: "1.5"'),
        (["x", "t1", "2023-04-30", "training", "", "101", "", ""],
         'score: 101 is above the maximum 100 per event'),
    ],
)
def test_rejection_reasons(tmp_path: Path, row: list[str], reason: str) -> None:
    header = ["event_id", "teacher_id", "at", "kind", "hours", "score", "grade", "count"]
    good = ["ok", "t1", "2023-04-30", "training", "1", "", "", ""]
    path = write_csv(tmp_path / "ev.csv", header, [good, good, row])
    table = load_events(path)
    assert table.report.rows_read == 3
    assert table.report.duplicates == 1
    assert table.report.rejected == 1
    assert table.rejects["row"].to_list() == [3]
    assert table.rejects["reason"].to_list() == [reason]
    assert table.rejects["source"].to_list() == [str(path)]


def test_level_reason_names_allowed_values(tmp_path: Path) -> None:
    header = ["event_id", "teacher_id", "at", "kind", "level"]
    table = load_events(write_csv(tmp_path / "e.csv", header, [
        ["a", "t", "2023-01-01", "training", "county"],
        ["b", "t", "2023-01-01", "training", "district"],
    ]))
    assert reason_of(table, "a") == (
        1, 'level: "county" is not one of national, province, municipal, district, school'
    )
    assert table.frame["level"].to_list() == ["district"]


def test_several_reasons_are_joined(tmp_path: Path) -> None:
    header = ["event_id", "teacher_id", "at", "kind", "hours", "words"]
    table = load_events(write_csv(tmp_path / "e.csv", header, [
        ["a", "", "2023-01-01", "training", "-1", "-2"],
    ]))
    assert reason_of(table, "a")[1] == (
        'missing teacher_id; hours: must be >= 0, got "-1"; words: must be >= 0, got "-2"'
    )


def test_decimals_are_exact(tmp_path: Path) -> None:
    header = ["event_id", "teacher_id", "at", "kind", "hours", "credits", "score"]
    table = load_events(write_csv(tmp_path / "e.csv", header, [
        ["a", "t", "2023-01-01", "training", "0.000001", "7.2", "100"],
        ["b", "t", "2023-01-02", "training", "1.5000000", ".5", "0"],
        ["c", "t", "2023-01-03", "training", "99999.999999", "+3.", "99.5"],
    ]))
    assert table.report.rejected == 0, table.rejects
    assert table.frame["hours_u"].to_list() == [1, 1_500_000, 99_999_999_999]
    assert table.frame["credits_u"].to_list() == [7_200_000, 500_000, 3_000_000]
    assert table.frame["score_u"].to_list() == [100_000_000, 0, 99_500_000]
    events = table.events()
    assert events[0].hours == Decimal("0.000001")
    assert events[0].credits == Decimal("7.2")


def test_parquet_float_columns_are_exact(tmp_path: Path) -> None:
    table = pa.table({
        "event_id": ["a", "b", "c"],
        "teacher_id": ["t", "t", "t"],
        "at": pa.array([dt.datetime(2023, 1, 1, 8), dt.datetime(2023, 1, 2), None],
                       pa.timestamp("us")),
        "kind": ["training"] * 3,
        "hours": pa.array([0.1, 0.30000000000000004, 2.5], pa.float64()),
        "score": pa.array([90, 60, 100], pa.int64()),
        "count": pa.array([2.0, None, 1.0], pa.float64()),
    })
    path = tmp_path / "ev.parquet"
    pq.write_table(table, path)
    loaded = load_events(path)
    assert loaded.frame["hours_u"].to_list() == [100_000]
    assert loaded.events()[0].hours == Decimal("0.1")
    assert loaded.events()[0].count == 2
    assert loaded.events()[0].score == Decimal(90)
    assert loaded.events()[0].at.hour == 8
    assert reason_of(loaded, "b") == (2, 'hours: more than 6 decimal places: "0.30000000000000004"')
    assert reason_of(loaded, "c") == (3, "missing at")


def test_typed_datetime_with_timezone(tmp_path: Path) -> None:
    frame = pl.DataFrame({
        "event_id": ["a"], "teacher_id": ["t"], "kind": ["training"],
        "at": pl.Series([dt.datetime(2023, 8, 31, 20, tzinfo=dt.UTC)]).cast(
            pl.Datetime("ns", "UTC")
        ),
    })
    loaded = load_events(frame)
    assert loaded.frame["day"].to_list() == [dt.date(2023, 9, 1)]


def test_timezone_and_offsets(tmp_path: Path) -> None:
    header = ["event_id", "teacher_id", "at", "kind"]
    rows = [
        ["z", "t", "2023-08-31T20:00:00Z", "training"],
        ["o", "t", "2023-08-31T20:00:00+08:00", "training"],
        ["l", "t", "2023-08-31 20:00", "training"],
        ["f", "t", "2023-08-31T20:00:00.25-0130", "training"],
        ["d", "t", "2023-08-31", "training"],
    ]
    table = load_events(write_csv(tmp_path / "e.csv", header, rows))
    assert table.report.rejected == 0, table.rejects
    got = {r["event_id"]: (r["at_us"], r["day"]) for r in table.frame.iter_rows(named=True)}
    base = int(dt.datetime(2023, 8, 31, 20, tzinfo=dt.UTC).timestamp()) * 1_000_000
    assert got["z"] == (base, dt.date(2023, 9, 1))
    assert got["o"] == (base - 8 * 3_600_000_000, dt.date(2023, 8, 31))
    assert got["l"] == got["o"]
    assert got["f"] == (base + 90 * 60_000_000 + 250_000, dt.date(2023, 9, 1))
    assert got["d"] == (base - 28 * 3_600_000_000, dt.date(2023, 8, 31))
    utc = load_events(write_csv(tmp_path / "e.csv", header, rows), timezone="UTC")
    got_utc = {r["event_id"]: r["day"] for r in utc.frame.iter_rows(named=True)}
    assert got_utc["z"] == dt.date(2023, 8, 31)
    assert utc.events()[0].at.utcoffset() == dt.timedelta(0)


def test_ties_are_broken_by_event_id_as_text(tmp_path: Path) -> None:
    header = ["event_id", "teacher_id", "at", "kind"]
    rows = [
        ["e9", "t1", "2023-01-01", "training"],
        ["e10", "t1", "2023-01-01", "training"],
        ["e1", "t1", "2023-01-02", "training"],
        ["e2", "t0", "2023-01-03", "training"],
    ]
    table = load_events(write_csv(tmp_path / "e.csv", header, rows))
    assert table.frame["event_id"].to_list() == ["e2", "e10", "e9", "e1"]
    assert [e.event_id for e in table.by_teacher()["t1"]] == ["e10", "e9", "e1"]


def test_duplicates_and_conflicts_across_files(tmp_path: Path) -> None:
    header = ["event_id", "teacher_id", "at", "kind", "hours"]
    a = write_csv(tmp_path / "a.csv", header, [
        ["d1", "t", "2023-01-01", "training", "1.5"],
        ["c1", "t", "2023-01-01", "training", "2"],
        ["u1", "t", "2023-01-01", "training", "2"],
    ])
    b = write_csv(tmp_path / "b.csv", header, [
        ["c1", "t", "2023-01-01", "training", "3"],
        ["d1", "t", "2023-01-01T00:00:00+08:00", "training", "1.50"],
        ["c1", "t", "2023-01-01", "training", "2"],
    ])
    table = load_events([a, b])
    assert table.report.rows_read == 6
    assert table.report.duplicates == 1
    assert table.report.rejected == 3
    assert table.report.rows_used == 2
    assert table.frame["event_id"].sort().to_list() == ["d1", "u1"]
    first_d1 = table.frame.filter(pl.col("event_id") == "d1")
    assert first_d1["source"].to_list() == [str(a)] and first_d1["row"].to_list() == [1]
    expected = f"conflicting copies of event_id c1 (rows {a}:2, {b}:1, {b}:3)"
    assert table.rejects["reason"].to_list() == [expected] * 3
    assert table.rejects["row"].to_list() == [2, 1, 3]
    # Results do not depend on how events are split into files.
    one = tmp_path / "all.csv"
    one.write_text(a.read_text() + "".join(b.read_text().splitlines(True)[1:]))
    single = load_events(one)
    assert content(single) == content(table)
    assert single.rejects["reason"][0] == "conflicting copies of event_id c1 (rows 2, 4, 6)"


def test_a_table_loaded_for_the_bulk_engine_keeps_its_rows_as_a_mask(tmp_path: Path) -> None:
    """``time_ordered=False`` (recompute) leaves the rows uncopied behind a mask: the lazy
    frame the bulk engine reads, the frame, the length and the teachers named by left-out
    rows all say the same as a table loaded in time order."""
    header = ["event_id", "teacher_id", "at", "kind", "hours"]
    path = write_csv(tmp_path / "e.csv", header, [
        ["d1", "t1", "2023-01-02", "training", "1.5"],
        ["c1", "t2", "2023-01-01", "training", "2"],
        ["d1", "t1", "2023-01-02", "training", "1.50"],
        ["c1", "t2", "2023-01-01", "training", "3"],
        ["b1", "t3", "2023-01-01", "training", "-1"],
        ["u1", "t1", "2023-01-01", "training", "2"],
    ])
    ordered = load_events(path)
    masked = load_events(path, time_ordered=False)
    assert masked.used is not None and masked.used.len() > len(masked)
    assert len(masked) == len(ordered) == 2
    by_id = ["event_id", "row"]
    assert masked.lazy_frame().collect().sort(by_id).equals(ordered.frame.sort(by_id))
    assert masked.frame.sort(by_id).equals(ordered.frame.sort(by_id))
    assert set(masked.named_teacher_ids) >= {"t2", "t3"}
    assert masked.seen_teacher_ids == ordered.seen_teacher_ids == ("t1", "t2", "t3")
    assert masked.with_valid_events(["t1", "t2", "t3"]) == {"t1"}


def test_conflict_ignores_invalid_copies(tmp_path: Path) -> None:
    header = ["event_id", "teacher_id", "at", "kind", "hours"]
    table = load_events(write_csv(tmp_path / "e.csv", header, [
        ["x", "t", "2023-01-01", "training", "1"],
        ["x", "t", "2023-01-01", "training", "-1"],
    ]))
    assert table.report.rows_used == 1
    assert table.report.rejected == 1
    assert reason_of(table, "x") == (2, 'hours: must be >= 0, got "-1"')


def test_accounting_identity_and_summary(tmp_path: Path) -> None:
    header = ["event_id", "teacher_id", "at", "kind", "hours"]
    rows = [[f"e{i}", "t", "2023-01-01", "training", str(i % 7 - 1)] for i in range(10)]
    rows += [rows[2], rows[3]]
    table = load_events(write_csv(tmp_path / "e.csv", header, rows))
    r = table.report
    assert r.rows_read == 12
    assert r.rows_read == r.rows_used + r.duplicates + r.rejected
    assert (r.rows_used, r.duplicates, r.rejected) == (8, 2, 2)
    assert r.summary() == "events: 12 read = 8 used + 2 duplicates + 2 rejected"


def test_jsonl_numbers_keep_their_text(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(
        '{"event_id": "a", "teacher_id": "t", "at": "2023-01-01", "kind": "k", "hours": 0.1,'
        ' "count": 3, "flag": true, "tags": ["x", "y"]}\n'
        "\n"
        '{"event_id": "b", "teacher_id": "t", "at": "2023-01-01", "kind": "k", "hours": 1e3}\n'
        "not json\n"
        "[1, 2]\n",
        encoding="utf-8",
    )
    table = load_events(path)
    assert table.frame["hours_u"].to_list() == [100_000]
    assert table.events()[0].attributes == {"flag": "true", "tags": "x;y"}
    assert reason_of(table, "b") == (3, 'hours: not a decimal number: "1e3"')
    reasons = table.rejects.filter(pl.col("event_id").is_null())
    assert reasons["row"].to_list() == [4, 5]
    assert reasons["reason"][0].startswith("not valid JSON")
    assert reasons["reason"][1] == "not a JSON object; missing event_id; missing teacher_id;" \
        " missing at; missing kind"
    assert table.report.summary() == "events: 4 read = 1 used + 0 duplicates + 3 rejected"


def test_json_array_file(tmp_path: Path) -> None:
    path = tmp_path / "e.json"
    path.write_text(json.dumps([
        {"event_id": "a", "teacher_id": "t", "at": "2023-01-01", "kind": "k", "hours": 2},
    ]))
    assert load_events(path).frame["hours_u"].to_list() == [2_000_000]


def test_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    text = '{"event_id": "a", "teacher_id": "t", "at": "2023-01-01", "kind": "k"}\n'
    monkeypatch.setattr(sys, "stdin", io.StringIO(text))
    table = load_events("-")
    assert table.frame["source"].to_list() == ["<stdin>"]
    assert table.report.rows_used == 1


@pytest.mark.parametrize(
    ("name", "text", "needle"),
    [
        ("e.txt", "x", "extension"),
        ("missing.csv", None, "no such events file"),
        ("e.csv", "event_id,teacher_id,kind\na,t,k\n", "required column at missing"),
        ("e.parquet", "not parquet", "cannot read this events file as Parquet"),
        ("e.csv", "event_id,teacher_id,at,kind,source\na,t,2023-01-01,k,x\n", "reserved"),
    ],
)
def test_input_errors(tmp_path: Path, name: str, text: str | None, needle: str) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(InputError) as info:
        load_events(path)
    assert needle in str(info.value)
    assert str(path) in str(info.value)


def test_empty_inputs(tmp_path: Path) -> None:
    empty_jsonl = tmp_path / "e.jsonl"
    empty_jsonl.write_text("")
    header_only = write_csv(tmp_path / "e.csv", ["event_id", "teacher_id", "at", "kind"], [])
    table = load_events([empty_jsonl, header_only])
    assert table.report.rows_read == 0
    assert table.frame.columns[:4] == ["event_id", "teacher_id", "at_us", "day"]
    assert table.events() == []


def test_write_rejects(tmp_path: Path) -> None:
    header = ["event_id", "teacher_id", "at", "kind", "hours"]
    table = load_events(write_csv(tmp_path / "e.csv", header, [
        ["a", "t", "2023-01-01", "training", "-1"],
        ["b", "t", "2023-01-01", "training", "1"],
    ]))
    write_rejects(table, tmp_path / "rej.csv")
    write_rejects(table, tmp_path / "rej.jsonl")
    back = pl.read_csv(tmp_path / "rej.csv", infer_schema=False)
    assert back.columns == ["source", "row", "event_id", "reason", "teacher_id", "at", "kind",
                            "hours"]
    assert back["hours"].to_list() == ["-1"]
    lines = (tmp_path / "rej.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["reason"] == 'hours: must be >= 0, got "-1"'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "rej.csv", "rej.jsonl"]


def test_a_folder_stands_for_its_data_files(tmp_path: Path) -> None:
    """`--events DIR` reads every data file in the folder, like listing them one by one."""
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"event_id": "1", "teacher_id": "t", "at": "2023-01-01", "kind": "x"}\n')
    (folder / "b.csv").write_text("event_id,teacher_id,at,kind\n2,t,2023-01-02,x\n")
    (folder / "notes.txt").write_text("not data")
    table = load_events(folder)
    assert table.frame.get_column("event_id").to_list() == ["1", "2"]
    assert table.report.rows_read == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="holds no"):
        load_events(empty)


# ------------------------------------------------------------ fast path == general path

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from credit_rules.io import events as events_module  # noqa: E402
from credit_rules.io import sources  # noqa: E402

_DIGITS = st.text("0123456789", min_size=0, max_size=14)
_AT_TEXT = st.one_of(
    st.datetimes(min_value=dt.datetime(1986, 1, 1), max_value=dt.datetime(2030, 12, 31)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M:%S")),
    st.dates().map(lambda d: d.isoformat()),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?\Z"),
    st.sampled_from(["1991-04-14T02:30:00", "1991-09-15T01:30:00", " 2023-01-01", "2023-1-1",
                     "2023-01-01T23:59:60", "2023-02-30", "2023-01-01T10:00:00Z", ""]),
)
_DECIMAL_TEXT = st.one_of(
    st.builds(lambda a, b: f"{a}.{b}" if b else a, _DIGITS, _DIGITS),
    st.sampled_from(["-1", "+1", "1e3", " 2", "0", "-0", "100", "100.000001", "."]),
    st.none(),
)


_TEXT_ROWS = st.lists(st.tuples(_AT_TEXT, _DECIMAL_TEXT, _DECIMAL_TEXT, _DECIMAL_TEXT,
                                st.one_of(st.none(), _DIGITS, st.sampled_from(["1.0", "-1", "0"]))),
                      min_size=1, max_size=12)


# Each example is two loads of a frame (fast and general): 20 in the default run, 300 in the
# soak run (pytest -m slow).
@examples(quick=20, soak=300)
def test_fast_path_reads_text_like_the_general_path(examples: int) -> None:
    """Every row the fast pass accepts gets the values the general (text) parser gives."""

    @settings(max_examples=examples, deadline=None)
    @given(_TEXT_ROWS)
    def check(rows: list[tuple]) -> None:  # type: ignore[type-arg]
        frame = pl.DataFrame(
            [[f"e{i}", "t", r[0], "training", r[1], r[2], r[3], r[4]] for i, r in enumerate(rows)],
            schema=["event_id", "teacher_id", "at", "kind", "hours", "credits", "score", "count"],
            orient="row",
        )
        assert_fast_equals_general(frame)

    check()


_TYPED_ROWS = st.lists(st.tuples(
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True),
              st.integers(0, 10**7).map(lambda n: n / 100)),
    st.one_of(st.none(), st.integers(-5, 10**13)),
    st.one_of(st.none(), st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1))),
    st.one_of(st.none(), st.dates(min_value=dt.date(1900, 1, 1))),
), min_size=1, max_size=12)


# Each example loads three frames twice: 12 in the default run, 200 in the soak run.
@examples(quick=12, soak=200)
def test_fast_path_reads_typed_columns_like_their_text(examples: int) -> None:
    """Float, integer, datetime and date columns read directly equal their text's reading."""

    @settings(max_examples=examples, deadline=None)
    @given(_TYPED_ROWS)
    def check(rows: list[tuple]) -> None:  # type: ignore[type-arg]
        typed_columns_read_like_their_text(rows)

    check()


def typed_columns_read_like_their_text(rows: list[tuple]) -> None:  # type: ignore[type-arg]
    n = len(rows)
    base = {"event_id": [f"e{i}" for i in range(n)], "teacher_id": ["t"] * n,
            "kind": ["training"] * n}
    for at_column in (2, 3):
        frame = pl.DataFrame({
            **base,
            "at": pl.Series([r[at_column] for r in rows],
                            dtype=pl.Datetime("us") if at_column == 2 else pl.Date),
            "hours": pl.Series([r[0] for r in rows], dtype=pl.Float64),
            "score": pl.Series([r[0] for r in rows], dtype=pl.Float64),
            "words": pl.Series([r[1] for r in rows], dtype=pl.Int64),
            "count": pl.Series([r[1] for r in rows], dtype=pl.Int64),
        })
        assert_fast_equals_general(frame)
    aware = pl.DataFrame({**base, "at": pl.Series([r[2] for r in rows], dtype=pl.Datetime("ns"))
                          .dt.replace_time_zone("UTC").dt.convert_time_zone("America/New_York")})
    assert_fast_equals_general(aware)


def assert_fast_equals_general(frame: pl.DataFrame) -> None:
    def raw() -> sources.RawInput:
        return sources.read_raw(frame, what="events", required=("event_id",),
                                typed=events_module.TYPED_EVENT_COLUMNS)

    fast = events_module.validate_events(raw(), "Asia/Shanghai")
    general = events_module.validate_events(raw(), "Asia/Shanghai", fast=False)
    assert fast.frame.equals(general.frame), (fast.frame, general.frame)
    assert fast.rejects.equals(general.rejects), (fast.rejects, general.rejects)
    assert fast.report == general.report


@examples(quick=30, soak=500)
def test_repeated_hashes_part_by_part_are_those_seen_twice(examples: int) -> None:
    """The batches' repeat candidates, found an eighth of the hash range at a time, are
    exactly the values occurring more than once across the files (edges of parts included)."""
    import collections

    import numpy as np

    from credit_rules.io.repeats import repeated_hashes

    @settings(max_examples=examples, deadline=None)
    @given(st.lists(st.lists(st.sampled_from([k << 61 for k in range(8)] + [(k << 61) - 1 for k in range(1, 9)])
                             | st.integers(0, 2**64 - 1), max_size=12), min_size=1, max_size=3))
    def check(arrays: list[list[int]]) -> None:
        counts = collections.Counter(v for a in arrays for v in a)
        got = repeated_hashes([np.array(a, dtype=np.uint64) for a in arrays])
        assert got.tolist() == sorted(v for v, n in counts.items() if n > 1)

    check()
