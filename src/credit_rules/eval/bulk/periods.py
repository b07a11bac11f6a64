"""Periods: which ledger period each event falls in, and which teacher-periods get a row.

One job, SPEC §4 "Periods": "School year = Sep 1 .. Aug 31. Semesters = Sep 1 .. Jan 31
and Feb 1 .. Aug 31 ... one ledger row per teacher and period: each period inside its
window, or, with no window, each period that holds one of the teacher's events plus the
period containing ``--as-of`` for every roster teacher"; and SPEC §5: "Every teacher
found in the roster or in the events gets a row for each of the policy's periods".
Reproduces :func:`credit_rules.values.period_of` and ``interpreter.ledger_periods``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np
import polars as pl

from credit_rules import ir
from credit_rules.eval.bulk.state import ROW, TP, BatchState, K
from credit_rules.values import PeriodKind, period_of, periods_within


def period_exprs(kind: PeriodKind, day: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Start and end of the school year / semester holding ``day`` (values.period_of)."""
    y, m = day.dt.year(), day.dt.month()
    if kind is PeriodKind.SCHOOL_YEAR:
        first = pl.when(m >= 9).then(y).otherwise(y - 1)
        return pl.date(first, 9, 1), pl.date(first + 1, 8, 31)
    if kind is PeriodKind.SEMESTER:
        start = (pl.when(m >= 9).then(pl.date(y, 9, 1))
                 .when(m == 1).then(pl.date(y - 1, 9, 1)).otherwise(pl.date(y, 2, 1)))
        end = (pl.when(m >= 9).then(pl.date(y + 1, 1, 31))
               .when(m == 1).then(pl.date(y, 1, 31)).otherwise(pl.date(y, 8, 31)))
        return start, end
    raise ValueError("a window is not a recurring period")


def in_periods(policy: ir.Policy, events: pl.LazyFrame) -> pl.LazyFrame:
    """Each event's ledger period (``pstart``, ``pend``); events outside every period go.
    Lazy, so that the window's filter reaches the scan."""
    window = policy.window
    day = pl.col("day")
    if policy.evaluate is PeriodKind.WINDOW:
        assert window is not None
        return events.filter(day.is_between(window.start, window.end)).with_columns(
            pl.lit(window.start, pl.Date).alias("pstart"), pl.lit(window.end, pl.Date).alias("pend"))
    start, end = period_exprs(policy.evaluate, day)
    if window is None:
        return events.with_columns(start.alias("pstart"), end.alias("pend"))
    return events.filter(day.is_between(window.start, window.end)).with_columns(
        pl.max_horizontal(start, pl.lit(window.start, pl.Date)).alias("pstart"),
        pl.min_horizontal(end, pl.lit(window.end, pl.Date)).alias("pend"),
    )


def found_query(policy: ir.Policy, all_events: pl.LazyFrame) -> pl.LazyFrame:
    """The teachers (window policies) or teacher-periods (no window) the events hold."""
    if policy.window is not None:
        return all_events.select("teacher_id").unique()
    start, end = period_exprs(policy.evaluate, pl.col("day"))
    return all_events.select("teacher_id", start.alias("pstart"), end.alias("pend")).unique()


def teacher_periods(
    policy: ir.Policy, found: pl.DataFrame, roster: pl.DataFrame, as_of: dt.date,
) -> pl.DataFrame:
    """Every (teacher, period) that gets a ledger row (interpreter.ledger_periods), sorted,
    numbered by the integer key ``__k`` every later stage groups by."""
    window = policy.window
    if window is not None:
        ids = pl.concat([found.select("teacher_id"), roster.select("teacher_id")]).unique()
        whole = policy.evaluate is PeriodKind.WINDOW
        periods = [window] if whole else periods_within(policy.evaluate, window)
        frame = pl.DataFrame({
            "pstart": [p.start for p in periods], "pend": [p.end for p in periods],
        }, schema={"pstart": pl.Date, "pend": pl.Date})
        tps = ids.join(frame, how="cross")
    else:
        now = period_of(policy.evaluate, as_of)
        current = roster.select("teacher_id").with_columns(
            pl.lit(now.start, pl.Date).alias("pstart"), pl.lit(now.end, pl.Date).alias("pend"))
        tps = pl.concat([found.select("teacher_id", "pstart", "pend"), current]).unique()
    tps = tps.sort(TP)
    return tps.with_columns(pl.int_range(tps.height, dtype=pl.Int64).alias(K).set_sorted())


def keys_of(runs: pl.DataFrame, tp: pl.DataFrame) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The row in ``tp`` (sorted by teacher_id, pstart; every run is in it) of each
    (teacher_id, pstart) in ``runs``: binary searches, no hash join."""
    first = tp.select((pl.col("teacher_id") != pl.col("teacher_id").shift()).fill_null(True)
                      ).to_series().to_numpy()
    starts = np.flatnonzero(first)  # each teacher's first row in tp
    teachers = tp["teacher_id"].gather(pl.Series(starts))
    teacher = teachers.search_sorted(runs["teacher_id"], side="left").to_numpy().astype(np.int64)
    days = tp["pstart"].cast(pl.Int32).to_numpy().astype(np.int64)
    span = int(days.max() - days.min()) + 1 if len(days) else 1
    rank = np.cumsum(first, dtype=np.int64) - 1
    code = rank * span + (days - (days.min() if len(days) else 0))
    wanted = teacher * span + (runs["pstart"].cast(pl.Int32).to_numpy().astype(np.int64)
                               - (days.min() if len(days) else 0))
    found: np.ndarray[Any, np.dtype[np.int64]] = np.searchsorted(code, wanted).astype(np.int64)
    assert len(found) == 0 or (code[np.minimum(found, len(code) - 1)] == wanted).all()
    return found


def assign_periods(state: BatchState) -> BatchState:
    """``tp`` (with the roster's columns) and each event's teacher-period key ``__k`` and
    row ``__row``."""
    ev = state.ev
    tp = teacher_periods(state.policy, state.found, state.roster, state.as_of)
    # Each event's teacher-period key: runs of (teacher_id, pstart) in the sorted events,
    # looked up once per run.
    tid, pstart = pl.col("teacher_id"), pl.col("pstart")
    new = ((tid != tid.shift()) | (pstart != pstart.shift())).fill_null(True)
    ev = ev.with_columns(new.alias("__new"))
    runs = ev.select(*TP, "__new").filter(pl.col("__new")).select(TP)
    run_key = keys_of(runs, tp)
    first = ev["__new"].to_numpy()
    run_ix = np.cumsum(first, dtype=np.int64) - 1
    ev = ev.drop("__new", "pend").with_columns(
        pl.Series(K, run_key[run_ix], dtype=pl.Int64).set_sorted(),
        pl.Series(ROW, np.arange(ev.height, dtype=np.int64)))
    tp = tp.join(state.roster, on="teacher_id", how="left", maintain_order="left")
    return attrs.evolve(state, ev=ev, tp=tp, found=pl.DataFrame())
