"""The native JSON Lines and CSV readers (credit_rules.io.text_formats): exact, and equal to
the Python JSON parser line for line, on clean and hostile files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_rules.errors import InputError
from credit_rules.io import load_events, text_formats
from credit_rules.io.columns import BAD, ROW
from credit_rules.io.sources import read_raw
from credit_rules.synth import generate_events, generate_roster

_SETTINGS = settings(max_examples=15, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])

# The text of a JSON number, in every spelling JSON allows: signs, leading "0.", trailing
# zeros, exponents, more digits than a double holds, -0.
_DIGITS = st.text("0123456789", min_size=1, max_size=22)
_INTEGER = st.one_of(st.just("0"), st.builds(lambda d, x: d + x, st.sampled_from("123456789"),
                                             st.text("0123456789", max_size=21)))
_NUMBER = st.builds(
    lambda sign, whole, fraction, exponent: sign + whole + fraction + exponent,
    st.sampled_from(["", "-"]),
    _INTEGER,
    st.one_of(st.just(""), _DIGITS.map(lambda d: "." + d)),
    st.one_of(st.just(""), st.builds(lambda e, s, d: e + s + d, st.sampled_from("eE"),
                                     st.sampled_from(["", "+", "-"]),
                                     st.text("0123456789", min_size=1, max_size=3))),
)


def _jsonl(path: Path, rows: list[dict[str, str | None]], *, raw: frozenset[str] = frozenset()
           ) -> Path:
    """Rows as JSON Lines; the ``raw`` keys are written as bare JSON numbers (their text)."""
    out = []
    for row in rows:
        fields = [f"{json.dumps(k)}: {v if k in raw and v is not None else json.dumps(v)}"
                  for k, v in row.items()]
        out.append("{" + ", ".join(fields) + "}")
    path.write_bytes(("\n".join(out) + "\n").encode("utf-8"))
    return path


def _read(path: Path) -> pl.DataFrame:
    return read_raw(path, what="events", required=()).frame


@_SETTINGS
@given(st.lists(_NUMBER, min_size=1, max_size=60))
def test_decimal_text_round_trips_through_jsonl_and_csv(tmp_path: Path, numbers: list[str]) -> None:
    """The text of a decimal, written as a JSON number, a JSON string or a CSV cell, is read
    back as that very text: never through a float (1.10 stays 1.10, 1e400 stays 1e400)."""
    rows: list[dict[str, str | None]] = [{"id": str(i), "hours": n, "note": n}
                                         for i, n in enumerate(numbers)]
    as_number = _read(_jsonl(tmp_path / "n.jsonl", rows, raw=frozenset({"hours"})))
    assert as_number["hours"].to_list() == numbers
    assert as_number["note"].to_list() == numbers
    csv = tmp_path / "n.csv"
    csv.write_text("id,hours\n" + "".join(f"{i},{n}\n" for i, n in enumerate(numbers)),
                   encoding="utf-8")
    assert _read(csv)["hours"].to_list() == numbers


def test_safe_numbers_are_read_natively(tmp_path: Path) -> None:
    """Numbers a double carries back as their own text are not sent to the Python parser
    (the fast path is taken), and come back as written."""
    numbers = ["0", "-1", "16", "0.1", "2.675", "-0.5", "123456789012345", "99999.99999",
               "0.000000000001", "3000000000000.5"]
    path = _jsonl(tmp_path / "safe.jsonl", [{"hours": n} for n in numbers], raw=frozenset({"hours"}))
    lines = pl.Series(path.read_text(encoding="utf-8").splitlines())
    assert not text_formats._line_flags(lines)["misread"].any()
    assert _read(path)["hours"].to_list() == numbers


def _hostile_lines(n: int) -> list[str]:
    lines = []
    for i in range(n):
        row = {"event_id": f"e{i}", "teacher_id": "t1", "at": "2023-04-30T08:00:00",
               "kind": "training", "hours": f"{i % 7}.5"}
        lines.append(json.dumps(row, ensure_ascii=i % 2 == 0))
    lines[3] = '{"event_id": "e3", "hours": 1.10, "tags": ["a", "b"], "when": {"x": 1}}'
    lines[5] = ""
    lines[6] = "   \t"
    lines[11] = '{"event_id": "e11", "hours": 1e3, "count": 12345678901234567890123}'
    lines[13] = '{"event_id": "e13", "hours": "2", "hours": "3"}'
    lines[15] = '{"event_id": "e15", "late": "first seen after the schema lines"}'
    lines[17] = '{"event_id": "e17", "late": null, "later" : 5}'
    lines[19] = '{"event_id": "课程\\u00e9\\ud83d\\ude00", "hours": -0}'
    lines[21] = '{"event_id": "e21", "at": "10:00.000,"}'
    lines[23] = '{"event_id": "e23", "note": "a \\"quoted\\": null inside", "hours": null}'
    lines[25] = '{"event_id": "e25", "hours": 0.1000000000000000000001}'
    lines[29] = '{"event_id": "e29", "flag": true, "none": false, "hours":7}'
    lines[31] = '{"event_id": "e31", "note": "a\u2028b\u0085c"}'  # not line breaks in JSON
    lines[n - 5] = '{"event_id": "last", "latest": "1"}'
    return lines


def _same_as_python(data: bytes) -> pl.DataFrame:
    native = text_formats.read_json_lines(data, "h.jsonl", "events")
    python = text_formats.read_json_text(data.decode("utf-8"), "h.jsonl")
    assert native.columns == python.columns
    assert native.equals(python)
    return native


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_hostile_file_equals_the_python_parser(
    monkeypatch: pytest.MonkeyPatch, ending: str
) -> None:
    """Nested values, exponents, long numbers, -0, keys given twice, keys first seen late
    (the schema taken from two lines only), blank lines, escapes, three line endings, a
    BOM: the frame is the Python parser's, cell for cell and line number for line number,
    and only the lines that need it leave the native reader."""
    monkeypatch.setattr(text_formats, "SCHEMA_LINES", 2)
    monkeypatch.setattr(text_formats, "_SPREAD_LINES", 1)
    lines = _hostile_lines(300)
    flags = text_formats._line_flags(pl.Series(lines))
    assert flags["misread"].arg_true().to_list() == [3, 11, 17, 19, 21, 25]
    frame = _same_as_python(("\ufeff" + ending.join(lines) + ending).encode("utf-8"))
    assert frame.filter(pl.col("event_id") == "e11")["hours"].item() == "1e3"
    assert frame.filter(pl.col("event_id") == "e13")["hours"].item() == "2"
    assert frame.filter(pl.col("event_id") == "e17")["later"].item() == "5"
    assert frame.filter(pl.col("event_id") == "last")[ROW].item() == 296
    assert frame.filter(pl.col("event_id") == "e31")["note"].item() == "a\u2028b\u0085c"


def test_broken_lines_are_found_by_halving() -> None:
    """Lines the native reader refuses are found by halving the file and named by the
    Python parser; every other line is still read, in order."""
    lines = _hostile_lines(700)
    lines[8], lines[9], lines[27], lines[650] = (
        "not json", "[1, 2]", '{"event_id": "e27", "hours": 5,}', '{"event_id": "e650", ')
    frame = _same_as_python("\n".join(lines).encode("utf-8"))
    assert frame.filter(pl.col(BAD).is_not_null())[ROW].to_list() == [9, 10, 28, 651]


def test_a_broken_line_is_named_and_nothing_is_dropped(tmp_path: Path) -> None:
    lines = [json.dumps({"event_id": f"e{i}", "teacher_id": "t", "at": "2023-01-01",
                         "kind": "training", "hours": 1}) for i in range(50)]
    lines[31] = '{"event_id": "e31", "teacher_id": "t", "at": "2023-01-01", "kind": '
    path = tmp_path / "broken.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = load_events(path)
    assert table.report.rows_read == 50
    assert table.rejects["row"].to_list() == [32]
    assert table.rejects["reason"][0].startswith("not valid JSON")


def test_a_reserved_key_first_seen_late_is_refused_with_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(text_formats, "SCHEMA_LINES", 2)
    lines = [json.dumps({"event_id": f"e{i}"}) for i in range(10)]
    lines[7] = json.dumps({"event_id": "e7", "__cr_row": "5"})
    with pytest.raises(InputError, match=r"line 8: column name '__cr_row' is reserved"):
        text_formats.read_json_lines("\n".join(lines).encode(), "r.jsonl", "events")


def test_utf16_and_not_utf8(tmp_path: Path) -> None:
    text = '{"event_id": "课", "hours": 1.50}\n'
    frame = text_formats.read_json_lines(text.encode("utf-16"), "u.jsonl", "events")
    assert frame.select("event_id", "hours").row(0) == ("课", "1.50")
    with pytest.raises(InputError, match="not valid UTF-8"):
        text_formats.read_json_lines(b'{"event_id": "\xff"}\n', "b.jsonl", "events")


def test_a_synthetic_province_equals_the_python_parser(tmp_path: Path) -> None:
    """Polars' own JSON Lines (compact, every key on every line, nulls written, numbers as
    numbers and as strings) of a synthetic province: read as the Python parser reads it."""
    events = pl.concat(generate_events(generate_roster(30, seed=3), seed=3,
                                       events_per_teacher=40))
    events = events.with_columns(pl.col("hours").cast(pl.Float64).alias("hours_number"))
    path = tmp_path / "province.jsonl"
    events.write_ndjson(path)
    frame = _same_as_python(path.read_bytes())
    assert frame.height == events.height
    assert frame["hours_number"].drop_nulls().str.ends_with(".0").any()  # 2.0 kept as written
