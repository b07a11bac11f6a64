"""Tests of credit_rules.io.ledger: round trips and atomic writes."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from credit_rules.errors import UsageError
from credit_rules.io import read_ledger, write_ledger
from credit_rules.io.ledger import format_from_path
from credit_rules.records import LedgerRow, RequirementResult, TraceEntry


def rows() -> list[dict[str, Any]]:
    full = LedgerRow(
        teacher_id="t1",
        period_start=dt.date(2021, 1, 1),
        period_end=dt.date(2025, 12, 31),
        credits=Decimal("7.20"),
        hours=Decimal("72"),
        leave_days=2,
        grade="qualified",
        excellent_eligible=False,
        by_category={"ethics": Decimal("6"), "知识": Decimal("1.2")},
        by_level={"school": Decimal("7.2")},
        requirements=(
            RequirementResult("total", Decimal(36), Decimal("7.2"), False),
            RequirementResult("school", Decimal(18), Decimal(18), True, waived=True),
        ),
        met=False,
        trace=(TraceEntry("hours", "§3, 第二条", Decimal("7.2"), Decimal(72), ("e1", "e2")),),
    )
    empty = LedgerRow(
        teacher_id="t2, \"quoted\"",
        period_start=dt.date(2021, 1, 1),
        period_end=dt.date(2025, 12, 31),
        credits=Decimal(0),
        hours=Decimal(0),
        leave_days=0,
        grade=None,
        excellent_eligible=True,
        by_category={},
        by_level={},
        requirements=(),
        met=True,
        trace=(),
    )
    return [full.to_json(), empty.to_json()]


@pytest.mark.parametrize("ext", ["json", "jsonl", "csv", "parquet"])
def test_round_trip(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"ledger.{ext}"
    write_ledger(rows(), path, ext)
    assert read_ledger(path) == rows()
    write_ledger(rows(), str(path))  # format inferred from the extension
    assert read_ledger(path) == rows()
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_json_layout(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    write_ledger(rows(), path, "json")
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(rows(), ensure_ascii=False, indent=2) + "\n"
    assert "知识" in text


def test_csv_nested_are_compact_json(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    write_ledger(rows(), path, "csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "teacher_id,period_start,period_end,credits,hours,credited_hours,leave_days,grade,excellent_eligible,"
        "by_category,by_level,requirements,met,trace,outcomes"  # credited_hours (B), outcomes (E1): SPEC §5 additions
    )
    assert '"{""ethics"":""6"",""知识"":""1.2""}"' in lines[1]
    assert ",true," in lines[2]


def test_stream_output() -> None:
    buffer = io.StringIO()
    write_ledger(rows(), buffer, "jsonl")
    assert [json.loads(line) for line in buffer.getvalue().splitlines()] == rows()
    binary = io.BytesIO()
    write_ledger(rows(), binary, "parquet")
    assert binary.getvalue()[:4] == b"PAR1"


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "l.json"
    write_ledger(rows(), path, "json")
    before = path.read_bytes()
    bad = [{"teacher_id": object()}]  # not JSON serialisable
    with pytest.raises(TypeError):
        write_ledger(bad, path, "json")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["l.json"]


def test_formats_from_paths() -> None:
    assert format_from_path("a/b.NDJSON") == "jsonl"
    assert format_from_path("x.pq") == "parquet"
    with pytest.raises(UsageError, match="extension"):
        format_from_path("x.xlsx")
    with pytest.raises(UsageError):
        write_ledger([], io.StringIO(), "xml")


def test_atomic_output_removes_temp_file_on_crash(tmp_path: Path) -> None:
    from credit_rules.io.ledger import atomic_output

    path = tmp_path / "l.csv"
    path.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_output(path) as handle:
        handle.write("half of the new")
        raise RuntimeError("crash")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["l.csv"]
