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
    offsets = np.searchsorted(keys, np.arange(n + 1))
    values = entries.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    listed = pa.LargeListArray.from_arrays(arrow_offsets(offsets), values)
    series = pl.from_arrow(listed)
    assert isinstance(series, pl.Series)
    return series.alias(name)


def arrow_offsets(values: np.ndarray[Any, Any]) -> pa.Array:
    """List offsets as an Arrow int64 array. Through Polars, not ``pa.array``: pyarrow's
    conversion of a NumPy array imports pandas when it is installed (0.7 s, once)."""
    return pl.Series(np.asarray(values, dtype=np.int64)).to_arrow()
