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
from credit_rules.eval.bulk.render import dumps, json_text, object_text, render
from credit_rules.eval.bulk.state import BatchState, K, join_flags

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

    sums: dict[str, pl.Series] = {"credits_k": per_key(credited), "hours_k": per_key(hours)}
    for measure, name in state.measures.items():
        if isinstance(measure, core.CreditedOf | core.HoursOf):
            value = credited if isinstance(measure, core.CreditedOf) else hours
            sums[name] = per_key(value, awards[f"__v{name}"].fill_null(False).to_numpy())
    texts: dict[str, list[pl.Expr]] = {}
    grouped: list[tuple[str, str]] = []
    for name, column in (("by_category", "v_category"), ("by_level", "v_level")):
        values = sorted(awards[column].drop_nulls().unique().to_list())
        if len(values) > _MANY:
            grouped.append((name, column))
            continue
        texts[name] = []
        if values:
            code = (awards[column].replace_strict(values, list(range(len(values))), default=-1,
                                                  return_dtype=pl.Int64).to_numpy())
            hit = code >= 0
            cell = key[hit] * len(values) + code[hit]
            flat = np.zeros(n_tp * len(values), dtype=np.int64)
            np.add.at(flat, cell, credited[hit])
            by_value: np.ndarray[Any, Any] = flat.reshape(n_tp, -1)
            counts: np.ndarray[Any, Any] = (
                np.bincount(cell, minlength=n_tp * len(values)).astype(np.int64).reshape(n_tp, -1))
        for i, value in enumerate(values):
            alias = f"__{column}{i}"
            sums[alias] = pl.Series(np.ascontiguousarray(by_value[:, i]), dtype=pl.Int64)
            sums[alias + "_n"] = pl.Series(np.ascontiguousarray(counts[:, i]), dtype=pl.Int64)
            texts[name].append(pl.when(pl.col(alias + "_n") > 0).then(pl.concat_str([
                pl.lit(dumps(value) + ':"'), render(pl.col(alias), digits), pl.lit('"')])))
    tp = tp.with_columns(series.alias(name) for name, series in sums.items())
    tp = tp.with_columns(object_text(parts, "{", "}").alias(name) for name, parts in texts.items())
    for name, column in grouped:
        parts = (
            awards.filter(pl.col(column).is_not_null())
            .group_by([K, column]).agg(pl.col("credited").sum())
            .sort([K, column])
            .with_columns(pl.concat_str([json_text(pl.col(column)), pl.lit(':"'),
                                         render(pl.col("credited"), digits), pl.lit('"')]).alias("__j"))
            .group_by(K, maintain_order=True).agg(pl.col("__j").str.join(","))
            .select(K, pl.concat_str([pl.lit("{"), pl.col("__j"), pl.lit("}")]).alias(name))
        )
        tp = join_flags(tp, parts, "{}")
    return attrs.evolve(state, tp=tp)
