"""The trace: which rule credited what, from which events (SPEC §5 ``trace``: "list of
``{rule, credits, events}``: which rule credited what, from which event ids").

One job: the ``trace`` cell of every teacher-period, built from the credited awards
(rules by name, each rule's events in time order), as a list of structs
(:data:`~credit_rules.schema.LEDGER_TRACE`). The awards are rule after rule, each rule's
in event order, so each (rule, teacher-period) is one contiguous run: its sums are
differences of a cumulative sum, and the nested lists are Arrow offsets over the runs —
no group_by, no per-row Python, no text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import polars as pl
import pyarrow as pa

from credit_rules import core
from credit_rules.eval.bulk.decimals import arrow_offsets, ledger_decimal, lists_by_key
from credit_rules.eval.bulk.plan import BulkPlan
from credit_rules.eval.bulk.state import ROW, BatchState, K
from credit_rules.schema import LEDGER_TRACE


def trace(state: BatchState) -> BatchState:
    """``trace`` on ``tp`` (empty everywhere when the state asks for no trace)."""
    if not state.trace or state.awards.height == 0:
        empty = pl.lit([], dtype=LEDGER_TRACE).alias("trace")
        return attrs.evolve(state, tp=state.tp.with_columns(empty))
    return attrs.evolve(state, tp=_trace(state.plan, state.tp, state.awards, state.ev, state.rules))




def _trace(
    plan: BulkPlan, tp: pl.DataFrame, awards: pl.DataFrame, ev: pl.DataFrame,
    rules: Sequence[core.Award],
) -> pl.DataFrame:
    """``trace``: per rule (by name) its credited and hours and its events' ids, in order.
    The run sums fit Int64: every sum of the batch was bounded first
    (:func:`~credit_rules.eval.bulk.plan.check_sums`)."""
    n = awards.height
    key = awards[K].to_numpy()
    rule_ix = awards["rule_ix"].to_numpy().astype(np.int64)
    row = awards[ROW].to_numpy()
    step = np.diff(rule_ix)
    if not bool(np.all((step > 0) | ((step == 0) & (np.diff(row) > 0)))):  # pragma: no cover
        order = np.lexsort((row, rule_ix))
        awards = awards[order]
        key, rule_ix, row = key[order], rule_ix[order], row[order]
    change = np.empty(n, dtype=np.bool_)
    change[0] = True
    change[1:] = (key[1:] != key[:-1]) | (rule_ix[1:] != rule_ix[:-1])
    starts = np.flatnonzero(change)
    bounds = np.append(starts, n)

    def run_sums(column: str) -> np.ndarray[Any, np.dtype[np.int64]]:
        total = np.concatenate([[0], np.cumsum(awards[column].to_numpy(), dtype=np.int64)])
        out: np.ndarray[Any, np.dtype[np.int64]] = total[bounds[1:]] - total[bounds[:-1]]
        return out  # int64 wrap-around cancels in the difference: exact per run

    ids = ev["event_id"].gather(pl.Series(row)).rechunk().to_arrow(
        compat_level=pl.CompatLevel.oldest())
    events = pl.Series("events", pa.LargeListArray.from_arrays(arrow_offsets(bounds), ids))
    names = pl.Series([r.name for r in rules], dtype=pl.String)
    sources = pl.Series([r.source for r in rules], dtype=pl.String)
    index = pl.Series(range(len(rules)), dtype=pl.Int64)
    entries = pl.DataFrame({
        K: key[starts], "rule_ix": rule_ix[starts],
        "credited": run_sums("credited"), "hours_k": run_sums("hours_k"),
    }).with_columns(events).select(K, pl.struct(
        pl.col("rule_ix").replace_strict(index, names, return_dtype=pl.String).alias("rule"),
        pl.col("rule_ix").replace_strict(index, sources, return_dtype=pl.String).alias("source"),
        ledger_decimal(pl.col("credited"), plan.digits).alias("credits"),
        ledger_decimal(pl.col("hours_k"), plan.digits).alias("hours"),
        pl.col("events"),
    ).alias("entry")).sort(K, maintain_order=True)  # stable: rules stay in name order
    listed = lists_by_key(entries[K].to_numpy(), tp.height, entries["entry"], "trace")
    return tp.with_columns(listed.cast(LEDGER_TRACE))
