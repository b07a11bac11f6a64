"""Totals and breakdowns of the credited amounts, and the requirements' credit and hour
measures.

One job, SPEC §4: "``credits`` is the sum of the credited amounts; ``by_category`` and
``by_level`` break down the same credited amounts by the event's category / level
(events without one are left out of that breakdown). A requirement on a category or level
compares its credited amount. ``hours`` is the study hours of the events counted in the
period, before caps."
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import polars as pl

from credit_rules import core
from credit_rules.eval.bulk.decimals import ledger_decimal, lists_by_key
from credit_rules.eval.bulk.state import BatchState, K
from credit_rules.schema import LEDGER_BREAKDOWN

_MANY = 32  # more distinct categories / levels than this: a grouped breakdown instead


def totals(state: BatchState) -> BatchState:
    """``credits_k``, ``hours_k``, ``by_category``, ``by_level`` and the credits and hours
    measures on ``tp``, in one pass over the awards.

    Exact Int64 sums per teacher-period (tp row = key) with ``np.add.at``: no group_by.
    They cannot wrap: the register stage has bounded every sum of the batch first
    (:func:`~credit_rules.eval.bulk.plan.check_sums`).
    """
    digits = state.plan.digits
    tp, awards = state.tp, state.awards
    n_tp = tp.height
    key = awards[K].to_numpy()
    credited = awards["credited"].to_numpy()
    hours = awards["hours_k"].to_numpy()

    def per_key(values: np.ndarray[Any, Any], mask: Any = None) -> pl.Series:
        out = np.zeros(n_tp, dtype=np.int64)
        if mask is None:
            np.add.at(out, key, values)
        else:
            np.add.at(out, key, np.where(mask, values, 0))
        return pl.Series(out, dtype=pl.Int64)

    sums: dict[str, pl.Series] = {"credits_k": per_key(credited), "hours_k": per_key(hours),
                                  "credited_hours_k": per_key(awards["credited_hours"].to_numpy())}
    for measure, name in state.measures.items():
        if isinstance(measure, core.CreditedOf | core.HoursOf):
            value = credited if isinstance(measure, core.CreditedOf) else hours
            sums[name] = per_key(value, awards[f"__v{name}"].fill_null(False).to_numpy())
    tp = tp.with_columns(series.alias(name) for name, series in sums.items())
    for name, column in (("by_category", "v_category"), ("by_level", "v_level")):
        tp = tp.with_columns(_breakdown(awards[column], key, credited, n_tp, digits, name))
    return attrs.evolve(state, tp=tp)


def _breakdown(landed: pl.Series, key: np.ndarray[Any, Any], credited: np.ndarray[Any, Any], n_tp: int,
               digits: int, name: str) -> pl.Series:
    """``by_category`` / ``by_level``: per teacher-period, each value awards landed in and
    its credited sum, sorted by value (exact Int64 sums, then one list per key)."""
    values = landed.drop_nulls().unique().sort()
    width = max(values.len(), 1)
    code = landed.replace_strict(values, pl.int_range(values.len(), eager=True), default=-1,
                                 return_dtype=pl.Int64).to_numpy()
    hit = code >= 0
    cell = key[hit] * width + code[hit]
    if values.len() <= _MANY:  # dense: one slot per (teacher-period, value)
        total = np.zeros(n_tp * width, dtype=np.int64)
        np.add.at(total, cell, credited[hit])
        seen = np.bincount(cell, minlength=n_tp * width) > 0
        cells = np.flatnonzero(seen)
        sums = total[cells]
    else:  # sparse: only the cells that occur
        cells, where = np.unique(cell, return_inverse=True)
        sums = np.zeros(len(cells), dtype=np.int64)
        np.add.at(sums, where, credited[hit])
    entries = pl.DataFrame({
        "key": values.gather(pl.Series(cells % width)) if len(cells) else pl.Series([], dtype=pl.String),
        "value": pl.Series(sums, dtype=pl.Int64),
    }).select(pl.struct(pl.col("key"), ledger_decimal(pl.col("value"), digits).alias("value")).alias("e"))
    return lists_by_key(cells // width, n_tp, entries["e"], name).cast(LEDGER_BREAKDOWN)
