"""Typed Decimal columns are read from their digits (no text round trip): every value must
read, or be refused, exactly as the same value written as text."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from credit_rules.io import load_events

# (precision, scale, values): in range, on the limits, beyond them, negative, more places
# than a micro-unit, and digits that would overflow if scaled before the range check.
CASES = [
    (9, 1, ["0.0", "1.5", "99999.9", "-0.5", "100000.0", "100000.1"]),
    (12, 8, ["0.00000100", "0.00000010", "1.23456700", "1.23456789", "-0.00000001"]),
    (38, 0, ["0", "7", "100000", "100001", "99999999999999999999999999999999999999"]),
    (38, 30, ["0." + "0" * 29 + "1", "1." + "0" * 30, "99999999." + "9" * 30]),
]


def _load(values: list[str], dtype: pl.DataType | None) -> pl.DataFrame:
    hours = pl.Series("hours", values) if dtype is None else pl.Series("hours", [Decimal(v) for v in values], dtype=dtype)
    frame = pl.DataFrame({
        "event_id": [f"e{i}" for i in range(len(values))], "teacher_id": ["t1"] * len(values),
        "at": ["2024-03-01"] * len(values), "kind": ["training"] * len(values),
    }).with_columns(hours)
    table = load_events(frame)
    used = table.frame.select("event_id", "hours_u")
    rejected = table.rejects.select("event_id", pl.col("reason").str.replace(r"^hours: \S+", "hours: <value>"))
    return used.join(rejected, on="event_id", how="full", coalesce=True).sort("event_id")


@pytest.mark.parametrize(("precision", "scale", "values"), CASES)
def test_typed_decimals_read_as_their_text_does(precision: int, scale: int, values: list[str]) -> None:
    typed = _load(values, pl.Decimal(precision, scale))
    text = _load(values, None)
    assert typed.to_dicts() == text.to_dicts()
    assert typed.filter(pl.col("hours_u").is_not_null()).height >= 1  # some value is read
