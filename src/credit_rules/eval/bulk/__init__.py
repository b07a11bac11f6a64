"""The bulk evaluator: policies compiled to Polars queries (SPEC §1).

>>> plan = compile_plan(policy)                                   # doctest: +SKIP
>>> frame = run(plan, pl.scan_parquet("events/*.parquet"), roster_frame, as_of=day)  # doctest: +SKIP

:func:`run` gives the ledger as a frame (see :mod:`credit_rules.eval.bulk.engine` for its
layout); :func:`evaluate` gives :class:`~credit_rules.records.LedgerRow` objects for the
API and the tests, byte-identical (``to_json()``) to the interpreter's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl

from credit_rules import ir
from credit_rules.eval.bulk.engine import (
    BulkPlan,
    compile_plan,
    events_to_frame,
    rows_from_frame,
    rows_to_frame,
    run,
    teachers_to_frame,
)
from credit_rules.records import LedgerRow, Teacher
from credit_rules.schema import LEDGER_COLUMNS

__all__ = [
    "LEDGER_COLUMNS",
    "BulkPlan",
    "compile_plan",
    "evaluate",
    "events_to_frame",
    "roster_frame",
    "rows_from_frame",
    "rows_to_frame",
    "run",
]


def roster_frame(teachers_or_roster: Any) -> pl.DataFrame | None:
    """A roster frame from a :class:`~credit_rules.io.Roster`, a frame, or a mapping of
    teacher ids to :class:`~credit_rules.records.Teacher`."""
    if teachers_or_roster is None:
        return None
    if isinstance(teachers_or_roster, pl.DataFrame):
        return teachers_or_roster
    frame = getattr(teachers_or_roster, "frame", None)
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(teachers_or_roster, Mapping):
        teachers: Mapping[str, Teacher] = teachers_or_roster
        return teachers_to_frame(teachers)
    raise TypeError(f"not a roster: {type(teachers_or_roster).__name__}")


def evaluate(
    policy: ir.Policy, table: Any, teachers_or_roster: Any = None, *, as_of: dt.date | None = None,
) -> list[LedgerRow]:
    """Evaluate ``policy`` over an :class:`~credit_rules.io.EventTable` (or its frame).

    ``teachers_or_roster``: a Roster, a roster frame, or a mapping of Teachers.
    """
    frame = table if isinstance(table, pl.DataFrame | pl.LazyFrame) else table.frame
    plan = compile_plan(policy)
    return rows_from_frame(run(plan, frame, roster_frame(teachers_or_roster), as_of=as_of))
