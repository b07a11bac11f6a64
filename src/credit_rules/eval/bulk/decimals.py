"""Ledger values from the engine's integers: exact decimals and nested lists.

One job: turn an Int64 at scale ``10^digits`` (the plan's) into
:data:`~credit_rules.schema.LEDGER_DECIMAL` without rounding, and entries keyed by
teacher-period into one list per teacher-period (Arrow offsets: no per-row work). The bulk engine renders no
text: JSON and CSV ledgers are written from the typed values by
:mod:`credit_rules.io.ledger` with :func:`credit_rules.values.canonical`, the one
definition of a decimal's text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from credit_rules.schema import LEDGER_DECIMAL, LEDGER_SCALE


def ledger_decimal(expr: pl.Expr, digits: int) -> pl.Expr:
    """``expr / 10^digits`` as a ledger decimal: exact (a product of decimals keeps every
    digit, and the final cast only adds places)."""
    assert digits <= LEDGER_SCALE, "the plan's scale fits the ledger's"
    unit = pl.lit(Decimal(1).scaleb(-digits), dtype=pl.Decimal(38, digits))
    return (expr.cast(pl.Decimal(38, 0)) * unit).cast(LEDGER_DECIMAL)


def lists_by_key(keys: np.ndarray[Any, Any], n: int, entries: pl.Series, name: str) -> pl.Series:
    """One list per key ``0..n-1`` of ``entries`` (``keys`` sorted, one per entry, in
    the order the lists keep)."""
    offsets = np.searchsorted(keys, np.arange(n + 1)).astype(np.int64)
    values = entries.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    listed = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values)
    return pl.Series(name, listed)
