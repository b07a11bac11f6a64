"""Study time in minutes or days, against one policy's conversions (issue 9 A).

The loader reads ``minutes`` and ``days`` like ``hours`` (exact decimals, a row with more
than one of them rejected) whatever the policy. Whether a row's minutes or days can become
study hours depends on the policy: :func:`reject_unconvertible` takes an
:class:`~credit_rules.io.events.EventTable` and one core policy and moves to the rejects,
with a reason, every row that

- carries ``minutes`` (``days``) under a policy that declares no ``N minutes = 1 hour``
  (``1 day = N hours``): never read as 0 hours;
- converts, without declared rounding, to hours that are not exact to 10^-6 hour (the
  precision of every study-hour value, SPEC §2), e.g. 0.000001 minutes at
  ``40 minutes = 1 hour``.

Both engines then see the same events, and convert them as the core says
(:class:`credit_rules.core.StudyUnit`).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import attrs
import polars as pl

from credit_rules import core
from credit_rules.io.events import EventTable
from credit_rules.io.report import LoadReport
from credit_rules.schema import UNIT_EVENT_COLUMNS
from credit_rules.values import canonical


def unit_ratio(unit: core.StudyUnit) -> Fraction:
    """Hours per one ``unit.unit`` (minutes or days), exact."""
    return Fraction(unit.hours) / Fraction(unit.amount)


def _reason(policy: core.Policy, name: str) -> pl.Expr:
    column = pl.col(f"{name}_u")
    unit = policy.unit(name)
    if unit is None:
        example = "40 minutes = 1 hour" if name == "minutes" else "1 day = 6 hours"
        return pl.when(column.is_not_null()).then(pl.lit(
            f"{name}: policy {policy.name} declares no conversion of {name} to hours (e.g. `{example}`)"))
    if unit.rounding is not None:
        return pl.lit(None, pl.String)
    ratio = unit_ratio(unit)  # exact at micro-hours when micro-units x ratio is whole
    rule = f"{_n(unit.amount, name)} = {_n(unit.hours, 'hours')}"
    return pl.when(column.is_not_null() & ((column * ratio.numerator) % ratio.denominator != 0)).then(
        pl.lit(f"{name}: at `{rule}` the hours are not exact to 0.000001 hour; "
               "declare rounding (`rounded down per event`)"))


def _n(amount: Decimal, unit: str) -> str:
    """``1 hour``, ``40 minutes``, ``1 day``."""
    return f"{canonical(amount)} {unit[:-1] if amount == 1 else unit}"


def reject_unconvertible(policy: core.Policy, table: EventTable) -> EventTable:
    """``table`` without the rows whose minutes or days ``policy`` cannot convert exactly
    (they join the rejects, with the reason)."""
    frame = table.frame
    if not any(frame.get_column(f"{n}_u").is_not_null().any() for n in UNIT_EVENT_COLUMNS
               if f"{n}_u" in frame.columns):
        return table
    reason = pl.coalesce([_reason(policy, n) for n in UNIT_EVENT_COLUMNS])
    marked = frame.with_columns(reason.alias("__unit_reason"))
    bad = marked.filter(pl.col("__unit_reason").is_not_null())
    if bad.height == 0:
        return table
    keep = marked.filter(pl.col("__unit_reason").is_null()).drop("__unit_reason")
    texts = {
        "source": pl.col("source"), "row": pl.col("row"), "event_id": pl.col("event_id"),
        "reason": pl.col("__unit_reason"), "teacher_id": pl.col("teacher_id"), "kind": pl.col("kind"),
        **{n: pl.col(f"{n}_u").map_elements(lambda v: canonical(Decimal(v).scaleb(-6)), return_dtype=pl.String)
           for n in UNIT_EVENT_COLUMNS},
    }
    columns = table.rejects.columns
    new = bad.select([expr.alias(name) for name, expr in texts.items() if name in columns])
    rejects = pl.concat([table.rejects, new], how="diagonal_relaxed").select(columns)
    report = LoadReport(table.report.rows_read, table.report.rows_used - bad.height, table.report.duplicates,
                        table.report.rejected + bad.height, table.report.label)
    return attrs.evolve(table, frame=keep, rejects=rejects, report=report)
