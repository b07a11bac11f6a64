"""The trace: which rule credited what, from which events (SPEC §5 ``trace``: "list of
``{rule, credits, events}``: which rule credited what, from which event ids").

One job: the ``trace`` cell of every teacher-period, built from the credited awards
(rules by name, each rule's events in time order), as the compact JSON text of
``LedgerRow.to_json()["trace"]``. The id lists are sliced from Arrow string buffers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import polars as pl

from credit_rules import core
from credit_rules.eval.bulk.plan import BulkPlan
from credit_rules.eval.bulk.render import dumps, json_text, render
from credit_rules.eval.bulk.state import ROW, BatchState, K


def trace(state: BatchState) -> BatchState:
    """``trace`` on ``tp`` (``"[]"`` everywhere when the state asks for no trace)."""
    if not state.trace or state.awards.height == 0:
        return attrs.evolve(state, tp=state.tp.with_columns(pl.lit("[]").alias("trace")))
    return attrs.evolve(state, tp=_trace(state.plan, state.tp, state.awards, state.ev, state.rules))


def _trace(
    plan: BulkPlan, tp: pl.DataFrame, awards: pl.DataFrame, ev: pl.DataFrame,
    rules: Sequence[core.Award],
) -> pl.DataFrame:
    """``trace``: per rule (by name) its credited and hours and its events' ids, in order.

    The awards are rule after rule, each rule's in event order, so each (rule,
    teacher-period) is one contiguous run: its sums are differences of a cumulative sum
    and its ids' text one slice of a string buffer (:func:`_join_runs`), no group_by.
    JSON escaping of ids runs only if some id needs it. The run sums fit Int64: every
    sum of the batch was bounded first (:func:`~credit_rules.eval.bulk.plan.check_sums`).
    """
    digits = plan.digits
    n = awards.height
    key = awards[K].to_numpy()
    rule_ix = awards["rule_ix"].to_numpy().astype(np.int64)
    row = awards[ROW].to_numpy()
    step = np.diff(rule_ix)
    if not bool(np.all((step > 0) | ((step == 0) & (np.diff(row) > 0)))):  # pragma: no cover
        order = np.lexsort((row, rule_ix))
        awards = awards[order]
        key, rule_ix = key[order], rule_ix[order]
    change = np.empty(n, dtype=np.bool_)
    change[0] = True
    change[1:] = (key[1:] != key[:-1]) | (rule_ix[1:] != rule_ix[:-1])
    starts = np.flatnonzero(change)
    bounds = np.append(starts, n)

    def run_sums(column: str) -> np.ndarray[Any, np.dtype[np.int64]]:
        total = np.concatenate([[0], np.cumsum(awards[column].to_numpy(), dtype=np.int64)])
        out: np.ndarray[Any, np.dtype[np.int64]] = total[bounds[1:]] - total[bounds[:-1]]
        return out  # int64 wrap-around cancels in the difference: exact per run

    heads = {}
    for index, rule in enumerate(rules):
        heads[index] = f'{{"rule":{dumps(rule.name)},"source":{dumps(rule.source)},"credits":"'
    entries = pl.DataFrame({
        K: key[starts], "rule_ix": rule_ix[starts],
        "credited": run_sums("credited"), "hours_k": run_sums("hours_k"),
        "__ids": _id_lists(ev["event_id"], awards[ROW].to_numpy(), bounds),
    }).select(K, pl.concat_str([
        pl.col("rule_ix").replace_strict(heads, return_dtype=pl.String),
        render(pl.col("credited"), digits), pl.lit('","hours":"'),
        render(pl.col("hours_k"), digits), pl.lit('","events":['), pl.col("__ids"), pl.lit("]}"),
    ]).alias("__t")).sort(K, maintain_order=True)  # stable: rules stay in name order
    # each entry carries its list's punctuation: "[" if first, "]" if last, else ","
    entries = entries.select(K, pl.concat_str([
        pl.when(pl.col(K) != pl.col(K).shift().fill_null(-1)).then(pl.lit("[")).otherwise(pl.lit("")),
        pl.col("__t"),
        pl.when(pl.col(K) != pl.col(K).shift(-1).fill_null(-1)).then(pl.lit("]")).otherwise(pl.lit(",")),
    ]).alias("__t"))
    per_tp = np.searchsorted(entries[K].to_numpy(), np.arange(tp.height + 1))
    offsets, data = _arrow_text(entries["__t"])
    joined = _runs(offsets, data, per_tp, 0)
    return tp.with_columns(
        pl.when(pl.lit(joined).str.len_bytes() == 0).then(pl.lit("[]")).otherwise(pl.lit(joined))
        .alias("trace"))


_NEEDS_ESCAPE = np.zeros(256, dtype=np.bool_)
_NEEDS_ESCAPE[:32] = True
_NEEDS_ESCAPE[[ord('"'), ord("\\")]] = True


def _arrow_text(texts: pl.Series) -> tuple[np.ndarray[Any, np.dtype[np.int64]], Any]:
    """The Int64 offsets and the data buffer of ``texts`` as one Arrow large_string array."""
    import pyarrow as pa

    array = texts.to_arrow(compat_level=pl.CompatLevel.oldest())
    if isinstance(array, pa.ChunkedArray):  # pragma: no cover
        array = array.combine_chunks()
    array = array.cast(pa.large_string())
    buffers = array.buffers()
    n = len(array)
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[array.offset:array.offset + n + 1]
    return offsets, buffers[2]


def _runs(offsets: np.ndarray[Any, Any], data: Any, bounds: np.ndarray[Any, Any],
          sep_len: int) -> pl.Series:
    """Run ``i`` is elements ``bounds[i]:bounds[i + 1]`` of the texts (``offsets`` into
    ``data``), each ending with a separator of ``sep_len`` bytes: the run's text is one
    slice of ``data``, less the last separator. Built as an Arrow array alternating runs
    and the dropped separators (so only offsets are new), of which every other is kept."""
    import pyarrow as pa

    bounds = np.asarray(bounds, dtype=np.int64)
    start = offsets[bounds[:-1]]
    stop = offsets[bounds[1:]]
    end = np.where(stop > start, stop - sep_len, start)
    new = np.empty(2 * len(start) + 1, dtype=np.int64)
    new[0:-1:2] = start
    new[1::2] = end
    new[-1] = offsets[-1] if len(offsets) else 0
    if len(start):
        new[-1] = max(new[-1], end[-1])
    both = pa.LargeStringArray.from_buffers(len(new) - 1, pa.py_buffer(new), data)
    out = pl.Series(both)
    assert isinstance(out, pl.Series)
    return out.cast(pl.String).gather_every(2)


def _id_lists(event_id: pl.Series, rows: np.ndarray[Any, Any], bounds: np.ndarray[Any, Any],
              ) -> pl.Series:
    """Per run, the JSON list body ``"a","b"`` of the ids ``event_id[rows]``.

    Ids of one width (the usual case) are laid out as a byte matrix in numpy; otherwise
    each id is quoted (JSON-escaped only if some id needs it) in Polars."""
    offsets, data = _arrow_text(event_id)
    n = len(offsets) - 1
    widths = np.diff(offsets)
    if n and bool((widths == widths[0]).all()) and widths[0] > 0:
        width = int(widths[0])
        raw = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, width)
        picked = raw[rows]
        clean = not any(_NEEDS_ESCAPE[picked[i:i + (1 << 22)]].any()
                        for i in range(0, len(picked), 1 << 22))
        if clean:
            cell = width + 3
            out = np.empty((len(picked), cell), dtype=np.uint8)
            out[:, 0] = ord('"')
            out[:, 1:width + 1] = picked
            out[:, width + 1] = ord('"')
            out[:, width + 2] = ord(",")
            del picked
            import pyarrow as pa

            return _runs(np.arange(len(out) + 1, dtype=np.int64) * cell,
                         pa.py_buffer(out.reshape(-1)), bounds, 1)
    ids = event_id.gather(rows)
    if ids.str.contains(r'[\\"\x00-\x1f]').any():
        text = pl.select(pl.concat_str([json_text(pl.lit(ids)), pl.lit(",")])).to_series()
    else:
        text = pl.select(pl.concat_str([pl.lit('"'), pl.lit(ids), pl.lit('",')])).to_series()
    offsets, data = _arrow_text(text)
    return _runs(offsets, data, bounds, 1)
