"""Typed Parquet inputs that used to crash only the batched recompute path (issue 11)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from credit_rules.io import read_ledger
from credit_rules.recompute import recompute

POLICY = Path(__file__).resolve().parents[2] / "policies" / "five_year_cycle.policy"


@pytest.mark.parametrize("event_id", ["integer", "dictionary"])
def test_batched_recompute_reads_typed_event_ids_as_text(tmp_path: Path, event_id: str) -> None:
    """An integer or dictionary-encoded event_id gives the same ledger batched and whole."""
    ids = pa.array([1, 2, 3, 4]) if event_id == "integer" else pa.array(["1", "2", "3", "4"]).dictionary_encode()
    events = tmp_path / "events.parquet"
    pq.write_table(pa.table({
        "event_id": ids, "teacher_id": ["t1", "t1", "t2", "t3"],
        "at": ["2022-03-01", "2022-04-01", "2022-03-01", "2022-03-01"],
        "kind": ["training"] * 4, "hours": ["10", "20", "30", "5"],
    }), events)
    ledgers = []
    for batch_rows in (1, 1_000):
        out = tmp_path / f"out{batch_rows}"
        recompute(POLICY, events, None, out, as_of=dt.date(2025, 12, 31), batch_rows=batch_rows)
        ledgers.append(read_ledger(out / "five_year_cycle.parquet"))
    assert ledgers[0] == ledgers[1]
    assert [(r["teacher_id"], r["hours"]) for r in ledgers[0]] == [("t1", "30"), ("t2", "30"), ("t3", "5")]
