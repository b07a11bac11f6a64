"""A policy's input contract (issue 9, part C): its declared columns and vocabularies,
checked on the rows the SPEC's validation accepted.

:class:`credit_rules.core.Inputs` says what a policy asks beyond SPEC §2–§3. A row whose
declared column does not parse, or whose ``kind``, ``category`` or ``format`` is outside a
declared vocabulary, is rejected with a reason naming the column and the value (it goes
to the rejects like any other bad row; never read as missing or 0). Declared ``level``
values replace the SPEC's list in the validation itself (:mod:`credit_rules.io.events`),
declared titles and roles in the roster's (:mod:`credit_rules.io.roster`).

Declared ``number`` and ``decimal`` columns are read like ``hours``: non-negative, at most
6 decimal places (``number``: an integer), at most :data:`COLUMN_MAXIMUM`; ``date``
columns like ``hired_on``; ``text`` and ``list of text`` (items separated by ``;``) as
they are.
"""

from __future__ import annotations

import polars as pl

from credit_rules import core, ir
from credit_rules.io.columns import REASON
from credit_rules.io.parse import Plan, combine_reasons, parse_choice, parse_date, parse_decimal

#: The largest value of a declared number column (10^15 micro-units: exact in Int64).
COLUMN_MAXIMUM = 1_000_000_000
#: Event fields a declared vocabulary checks here (levels are checked by the validation).
EVENT_VOCABULARY_FIELDS = ("kind", "category", "format")
_CONTRACT = "__cr_contract"


def column_reasons(plan: Plan, inputs: core.Inputs, scope: ir.Scope, present: list[str]) -> list[pl.Expr]:
    """The rejection reason of each declared column of ``scope`` that is ``present``."""
    reasons: list[pl.Expr] = []
    for column in inputs.of(scope):
        if column.name not in present:
            continue
        if column.type in ("number", "decimal"):
            parsed = parse_decimal(plan, column.name, minimum=0, maximum=COLUMN_MAXIMUM,
                                   integer=column.type == "number")
            reasons.append(parsed.reason)
        elif column.type == "date":
            reasons.append(parse_date(plan, column.name).reason)
    return reasons


def enforce_events(valid: pl.DataFrame, inputs: core.Inputs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``valid`` split into the rows that keep the contract and the rows it refuses (the
    latter with ``__cr_reason``)."""
    plan = Plan()
    reasons = column_reasons(plan, inputs, ir.Scope.EVENT, valid.columns)
    for field in EVENT_VOCABULARY_FIELDS:
        allowed = inputs.allowed(field)
        if allowed is not None:
            reasons.append(parse_choice(field, allowed).reason)
    if not reasons:
        return valid, valid.clear()
    checked = plan.apply(valid.lazy()).with_columns(
        combine_reasons(reasons).alias(_CONTRACT)
    ).select(*valid.columns, _CONTRACT).collect()
    kept = checked.filter(pl.col(_CONTRACT).is_null()).drop(_CONTRACT)
    refused = checked.filter(pl.col(_CONTRACT).is_not_null()).with_columns(
        pl.col(_CONTRACT).alias(REASON)).drop(_CONTRACT)
    return kept, refused
