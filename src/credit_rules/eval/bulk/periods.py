"""Periods: which ledger period each event falls in, and which teacher-periods get a row.

One job, SPEC §4 "Periods": "School year = Sep 1 .. Aug 31. Semesters = Sep 1 .. Jan 31
and Feb 1 .. Aug 31 ... one ledger row per teacher and period: each period inside its
window, or, with no window, each period that holds one of the teacher's events plus the
period containing ``--as-of`` for every roster teacher"; and SPEC §5: "Every teacher
found in the roster or in the events gets a row for each of the policy's periods".
Period bounds are looked up in tables made by :func:`credit_rules.values.period_of` (the one
definition); which periods a teacher gets is ``core.Periods``.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import attrs
import numpy as np
import polars as pl

from credit_rules import core
from credit_rules.eval.bulk.state import ROW, TP, BatchState, K
from credit_rules.values import Period, PeriodKind, period_of, periods_within

_EPOCH = dt.date(1970, 1, 1)


Table = tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]


def _table(periods: tuple[Period, ...]) -> Table:
    """Starts and ends (days since 1970) of contiguous sorted periods."""
    starts = np.array([(p.start - _EPOCH).days for p in periods], dtype=np.int32)
    ends = np.array([(p.end - _EPOCH).days for p in periods], dtype=np.int32)
    return starts, ends


@functools.lru_cache(maxsize=4)
def _calendar(kind: PeriodKind) -> Table:
    """Every school year or semester of the calendar, each from :func:`values.period_of`
    (the one definition of their bounds), so the engine re-decides no boundary."""
    return _table(tuple(periods_within(kind, Period(dt.date(1, 9, 1), dt.date(9998, 8, 31)))))


def _lookup(table: Table, which: int) -> Any:
    starts, ends = table
    column = (starts, ends)[which]

    def find(days: pl.Series) -> pl.Series:
        values = days.cast(pl.Int32).to_numpy()
        at = np.searchsorted(starts, values, side="right") - 1
        found = column[np.clip(at, 0, len(column) - 1)]
        inside = (at >= 0) & (values <= ends[np.clip(at, 0, len(ends) - 1)])
        bounds = pl.Series(days.name, np.where(inside, found, 0), dtype=pl.Int32).cast(pl.Date)
        # a day outside every period has none (never a made-up bound)
        return pl.select(pl.when(pl.Series(inside)).then(bounds)).to_series().alias(days.name)

    return find


def _exprs(table: Table, day: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    return tuple(  # type: ignore[return-value]
        day.map_batches(_lookup(table, which), return_dtype=pl.Date, is_elementwise=True)
        for which in (0, 1)
    )


def period_exprs(periods: tuple[Period, ...], day: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Start and end of the period of ``periods`` (contiguous, sorted) holding ``day``."""
    return _exprs(_table(periods), day)


def grain_exprs(kind: PeriodKind, day: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Start and end of the school year / semester / calendar year holding ``day``."""
    if kind is PeriodKind.DAY:  # issue 9 (B): a day is its own period (values.period_of)
        return day, day
    return _exprs(_calendar(kind), day)


def in_periods(policy: core.Policy, events: pl.LazyFrame) -> pl.LazyFrame:
    """Each event's ledger period (``pstart``, ``pend``); events outside every period go.
    Lazy, so that the window's filter reaches the scan."""
    day = pl.col("day")
    fixed, window = policy.periods.fixed, policy.window
    if window is not None:
        events = events.filter(day.is_between(window.start, window.end))
    start, end = (period_exprs(fixed, day) if fixed is not None
                  else grain_exprs(policy.periods.grain, day))
    return events.with_columns(start.alias("pstart"), end.alias("pend"))


def found_query(policy: core.Policy, all_events: pl.LazyFrame) -> pl.LazyFrame:
    """The teachers (fixed periods) or teacher-periods (recurring periods) the events hold."""
    if policy.periods.fixed is not None:
        return all_events.select("teacher_id").unique()
    start, end = grain_exprs(policy.periods.grain, pl.col("day"))
    return all_events.select("teacher_id", start.alias("pstart"), end.alias("pend")).unique()


def teacher_periods(
    policy: core.Policy, found: pl.DataFrame, roster: pl.DataFrame, as_of: dt.date,
) -> pl.DataFrame:
    """Every (teacher, period) that gets a ledger row (interpreter.ledger_periods), sorted,
    numbered by the integer key ``__k`` every later stage groups by."""
    fixed = policy.periods.fixed
    if fixed is not None:
        ids = pl.concat([found.select("teacher_id"), roster.select("teacher_id")]).unique()
        frame = pl.DataFrame({
            "pstart": [p.start for p in fixed], "pend": [p.end for p in fixed],
        }, schema={"pstart": pl.Date, "pend": pl.Date})
        tps = ids.join(frame, how="cross")
    else:
        now = period_of(policy.periods.grain, as_of)
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
    tp = teacher_periods(state.core, state.found, state.roster, state.as_of)
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
