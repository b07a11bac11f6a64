"""Study time in minutes or days as study hours (issue 9 A), before any award is made.

One job: the core's :class:`~credit_rules.core.StudyUnit` over the event frame. An event
carrying ``minutes`` (``days``) and no ``hours`` gets ``hours_u`` (micro-hours) = its
micro-units x ``hours / amount``: exact (the loader rejected rows not exact at 10^-6 hour:
:mod:`credit_rules.io.units`), or rounded to whole hours per event, or pooled: the
increments of the rounded running total over the teacher-period's events of one kind in
that unit, in time order (the rows of ``ev`` are in time order within each ``K``). All
integer arithmetic; a batch whose products could pass Int64 is refused
(:class:`~credit_rules.eval.bulk.plan.BulkOverflow`) for the interpreter.
"""

from __future__ import annotations

from fractions import Fraction

import attrs
import polars as pl

from credit_rules import core
from credit_rules.errors import UsageError
from credit_rules.eval.bulk.plan import INT64_SAFE, BulkOverflow
from credit_rules.eval.bulk.state import BatchState, K
from credit_rules.schema import MICRO as _MICRO
from credit_rules.schema import UNIT_EVENT_COLUMNS

MICRO: int = _MICRO


def _round(value: pl.Expr, divisor: int, mode: str) -> pl.Expr:
    """``value / divisor`` rounded ``mode`` to a whole number (Int64, exact)."""
    whole = value // divisor
    if mode == "half up":
        whole = whole + ((value - whole * divisor) * 2 >= divisor).cast(pl.Int64)
    return whole


def _hours(unit: core.StudyUnit, column: str) -> pl.Expr:
    ratio = Fraction(unit.hours) / Fraction(unit.amount)
    value = pl.col(column)
    if unit.rounding is None:
        return value * ratio.numerator // ratio.denominator
    mode, pooled = unit.rounding
    divisor = ratio.denominator * MICRO
    if not pooled:
        return _round(value * ratio.numerator, divisor, mode) * MICRO
    after = value.fill_null(0).cum_sum().over([K, "kind"]) * ratio.numerator
    before = after - value * ratio.numerator
    return (_round(after, divisor, mode) - _round(before, divisor, mode)) * MICRO


def _guard(ev: pl.DataFrame, unit: core.StudyUnit, column: str) -> None:
    """Refuse a batch whose products could pass Int64, or whose exact hours are not
    micro-hours (rows the loader did not check)."""
    ratio = Fraction(unit.hours) / Fraction(unit.amount)
    total = ev.select(pl.col(column).cast(pl.Float64).abs().sum()).item() or 0.0
    if float(total) * ratio.numerator >= INT64_SAFE:
        raise BulkOverflow(f"{unit.unit}: the batch's study time could pass Int64")
    if unit.rounding is None and ev.select(
            (pl.col(column) * ratio.numerator % ratio.denominator != 0).any()).item():
        raise BulkOverflow(f"{unit.unit}: hours not exact to 10^-6 hour; evaluate with the interpreter")


def study_hours(state: BatchState) -> BatchState:
    """``hours_u`` of the events that carry minutes or days instead of hours."""
    ev = state.ev
    if "hours_u" not in ev.columns:
        return state
    for name in UNIT_EVENT_COLUMNS:  # never 0 hours (io.units rejects such rows for a policy)
        column = f"{name}_u"
        if state.core.unit(name) is None and column in ev.columns:
            odd = ev.filter(pl.col(column).is_not_null() & pl.col("hours_u").is_null())
            if odd.height:
                raise UsageError(
                    f"event {odd['event_id'][0]} carries {name}, but policy {state.core.name} declares no "
                    f"conversion of {name} to hours; load the events with credit_rules.api.evaluate, "
                    "which rejects such rows")
    if not state.core.units:
        return state
    hours = pl.col("hours_u")
    for unit in state.core.units:
        column = f"{unit.unit}_u"
        if column not in ev.columns:
            continue
        _guard(ev, unit, column)
        hours = pl.when(pl.col("hours_u").is_null() & pl.col(column).is_not_null()) \
            .then(_hours(unit, column)).otherwise(hours)
    return attrs.evolve(state, ev=ev.with_columns(hours.cast(pl.Int64).alias("hours_u")))
