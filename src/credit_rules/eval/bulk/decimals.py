"""Fixed-point integers to the ledger's exact decimals.

One job: turn an Int64 at scale ``10^digits`` (the plan's) into
:data:`~credit_rules.schema.LEDGER_DECIMAL` without rounding. The bulk engine renders no
text: JSON and CSV ledgers are written from the typed values by
:mod:`credit_rules.io.ledger` with :func:`credit_rules.values.canonical`, the one
definition of a decimal's text.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from credit_rules.schema import LEDGER_DECIMAL, LEDGER_SCALE


def ledger_decimal(expr: pl.Expr, digits: int) -> pl.Expr:
    """``expr / 10^digits`` as a ledger decimal: exact (a product of decimals keeps every
    digit, and the final cast only adds places)."""
    assert digits <= LEDGER_SCALE, "the plan's scale fits the ledger's"
    unit = pl.lit(Decimal(1).scaleb(-digits), dtype=pl.Decimal(38, digits))
    return (expr.cast(pl.Decimal(38, 0)) * unit).cast(LEDGER_DECIMAL)
