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


def _no_unit(policy: core.Policy, name: str) -> str:
    example = "40 minutes = 1 hour" if name == "minutes" else "1 day = 6 hours"
    return f"{name}: policy {policy.name} declares no conversion of {name} to hours (e.g. `{example}`)"


def _inexact(unit: core.StudyUnit, name: str) -> str:
    rule = f"{_n(unit.amount, name)} = {_n(unit.hours, 'hours')}"
    return (f"{name}: at `{rule}` the hours are not exact to 0.000001 hour; "
            "declare rounding (`rounded down per event`)")


def unconvertible(policy: core.Policy, name: str, micro: int | None) -> str | None:
    """Why ``micro`` micro-units of ``name`` (minutes or days) cannot become study hours
    under ``policy`` (None: they can, or the value is missing); :func:`_reason` is the
    same rule over a column."""
    if micro is None:
        return None
    unit = policy.unit(name)
    if unit is None:
        return _no_unit(policy, name)
    ratio = unit_ratio(unit)
    if unit.rounding is None and (micro * ratio.numerator) % ratio.denominator != 0:
        return _inexact(unit, name)
    return None


def _reason(policy: core.Policy, name: str) -> pl.Expr:
    column = pl.col(f"{name}_u")
    unit = policy.unit(name)
    if unit is None:
        return pl.when(column.is_not_null()).then(pl.lit(_no_unit(policy, name)))
    if unit.rounding is not None:
        return pl.lit(None, pl.String)
    ratio = unit_ratio(unit)  # exact at micro-hours when micro-units x ratio is whole
    return pl.when(column.is_not_null() & ((column * ratio.numerator) % ratio.denominator != 0)).then(
        pl.lit(_inexact(unit, name)))


def _n(amount: Decimal, unit: str) -> str:
    """``1 hour``, ``40 minutes``, ``1 day``."""
    return f"{canonical(amount)} {unit[:-1] if amount == 1 else unit}"


def reject_unconvertible(policy: core.Policy, table: EventTable) -> EventTable:
    """``table`` without the rows whose minutes or days ``policy`` cannot convert exactly
    (they join the rejects, with the reason)."""
    if table.small is not None:
        return _reject_small(policy, table)
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
    # The frame given is the used rows (no mask); a teacher of a row rejected here is still
    # named by the input (SPEC §5).
    named = sorted({*table.named_teacher_ids, *bad.get_column("teacher_id").to_list()})
    return attrs.evolve(table, frame=keep, rejects=rejects, report=report, used=None,
                        named_teacher_ids=tuple(named))


def _reject_small(policy: core.Policy, table: EventTable) -> EventTable:
    """:func:`reject_unconvertible` of a table read row by row (:mod:`credit_rules.io.small`)."""
    small = table.small
    assert small is not None
    v = small.values
    if all(v[f"{n}_u"].count(None) == len(v[f"{n}_u"]) for n in UNIT_EVENT_COLUMNS):
        return table  # no row states minutes or days
    reasons = [next((r for n in UNIT_EVENT_COLUMNS if (r := unconvertible(policy, n, v[f"{n}_u"][i])) is not None),
                    None) for i in small.order]
    if all(r is None for r in reasons):
        return table
    columns = set(small.reject_columns)
    new = tuple(
        {"source": v["source"][i], "row": v["row"][i], "event_id": v["event_id"][i], "reason": reason,
         **{c: v[c][i] for c in ("teacher_id", "kind") if c in columns},
         **{n: None if v[f"{n}_u"][i] is None else canonical(Decimal(v[f"{n}_u"][i]).scaleb(-6))
            for n in UNIT_EVENT_COLUMNS if n in columns}}
        for i, reason in zip(small.order, reasons, strict=True) if reason is not None
    )
    keep = [k for k, r in enumerate(reasons) if r is None]
    kept = attrs.evolve(small, order=tuple(small.order[k] for k in keep), reject_rows=(*small.reject_rows, *new))
    report = LoadReport(table.report.rows_read, table.report.rows_used - len(new), table.report.duplicates,
                        table.report.rejected + len(new), table.report.label)
    return attrs.evolve(table, report=report, small=kept)
