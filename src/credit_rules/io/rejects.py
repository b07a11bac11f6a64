"""Rejected rows, reported with where they came from and why (SPEC §2: never dropped silently).

A rejects frame is ``source, row, <key>, reason`` followed by the row's raw text columns;
:func:`write_rejects` writes one as CSV or JSON Lines (``--rejects FILE``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from credit_rules.errors import UsageError
from credit_rules.io.columns import KEY, REASON, ROW, SOURCE
from credit_rules.io.ledger import atomic_output
from credit_rules.io.sources import textify


def reject_frame(
    raw: pl.DataFrame, rejected: pl.DataFrame, key: str, columns: Sequence[str]
) -> pl.DataFrame:
    """Rejected rows as ``source, row, <key>, reason`` plus the raw text columns."""
    # The few rejected rows are taken out of the raw ones first: a join would hash every key.
    taken = raw.filter(pl.col(KEY).is_in(rejected.get_column(KEY).implode()))
    rows = rejected.select(KEY, REASON).join(taken, on=KEY, how="left").sort(KEY)
    rows = textify(rows, "<rejects>", keep=(KEY, ROW))
    return rows.select(
        pl.col(SOURCE).alias("source"),
        pl.col(ROW).alias("row"),
        pl.col(key).alias(key) if key in rows.columns else pl.lit(None, pl.String).alias(key),
        pl.col(REASON).alias("reason"),
        *[pl.col(c) for c in columns if c != key],
    )


def write_rejects(table: Any, path: str | os.PathLike[str]) -> None:
    """Write rejected rows (of an :class:`EventTable`, a roster, or a frame) atomically.

    CSV for ``.csv``, JSON Lines for ``.jsonl``/``.ndjson``/``.json``.
    """
    rejects: pl.DataFrame = table if isinstance(table, pl.DataFrame) else table.rejects
    suffix = Path(path).suffix.lower()
    writers: dict[str, Callable[[pl.DataFrame, Any], None]] = {
        ".csv": lambda f, h: f.write_csv(h),
        ".jsonl": lambda f, h: f.write_ndjson(h),
        ".ndjson": lambda f, h: f.write_ndjson(h),
        ".json": lambda f, h: f.write_ndjson(h),
    }
    writer = writers.get(suffix)
    if writer is None:
        raise UsageError(
            f"cannot tell the rejects format of {os.fspath(path)!r}; use .csv or .jsonl"
        )
    buffer = io.BytesIO()
    writer(rejects, buffer)
    with atomic_output(path, "wb") as handle:
        handle.write(buffer.getvalue())
