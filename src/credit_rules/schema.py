"""Every table layout in one place: the event and roster columns of SPEC §2–§3, the
validated frames the engines read, and the ledger columns of SPEC §5.

Readers (:mod:`credit_rules.io`), the bulk engine, the synthetic province and the
converters between records and frames all take their column names and types from here.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

#: The columns SPEC §2 names; any other column is an attribute a policy may name.
EVENT_COLUMNS = (
    "event_id", "teacher_id", "at", "kind", "hours", "credits", "category", "level",
    "format", "program", "grade", "score", "count", "words",
)
REQUIRED_EVENT_COLUMNS = ("event_id", "teacher_id", "at", "kind")
#: Kinds the shipped policies use (SPEC §2).
KNOWN_KINDS = (
    "training", "assessment", "task_missed", "observation", "lesson_given", "reflection",
    "reprimand", "probation_training", "credit_award", "material_submitted",
)
CATEGORIES = ("ethics", "literacy", "knowledge", "practice", "class_teacher")
LEVELS = ("national", "province", "municipal", "district", "school")
GRADES = ("excellent", "qualified", "unqualified")
#: Grades that make an assessment qualifying (SPEC §4, ``if qualified``).
QUALIFYING_GRADES = ("qualified", "excellent")
ROSTER_COLUMNS = (
    "teacher_id", "title", "roles", "stage", "hired_on", "retired_on", "school", "county",
    "city", "workshop",
)
TITLES = ("senior", "intermediate", "junior", "none")
ROLES = (
    "teacher", "class_teacher", "principal", "dean", "middle_leader", "group_leader",
    "new_principal", "reserve_cadre", "leader_teaching", "leader_other", "instructor",
    "research_member", "workshop_leader",
)
STAGES = ("kindergarten", "primary", "middle", "high")

#: Decimals in validated frames are exact Int64 micro-units (value x 10^6).
MICRO_DIGITS = 6
MICRO = 10**MICRO_DIGITS
#: Decimal event columns and their micro-unit column in the validated frame.
DECIMAL_EVENT_COLUMNS = {"hours": "hours_u", "credits": "credits_u", "score": "score_u",
                         "minutes": "minutes_u", "days": "days_u"}
#: Study time in another unit (issue 9 A): optional decimal columns beside SPEC §2's, which
#: a policy converts to study hours (``40 minutes = 1 hour``, ``1 day = 6 hours``). A row
#: carries at most one of ``hours`` and these.
UNIT_EVENT_COLUMNS = ("minutes", "days")

#: Where each validated row came from (after the event or roster columns).
PROVENANCE_COLUMNS = ("source", "row")

ROSTER_TEXT_COLUMNS = ("teacher_id", "title", "stage", "school", "county", "city", "workshop")
ROSTER_DATE_COLUMNS = ("hired_on", "retired_on")

#: Keys of a ledger row (SPEC §5), in order: JSON objects, CSV headers, frames.
LEDGER_COLUMNS = (
    "teacher_id", "period_start", "period_end", "credits", "hours", "credited_hours", "leave_days",
    "grade", "excellent_eligible", "by_category", "by_level", "requirements", "met", "trace",
    "outcomes",
)
#: Ledger keys whose values are objects or lists.
NESTED_LEDGER_COLUMNS = ("by_category", "by_level", "requirements", "trace", "outcomes")

#: Decimal places of every amount in a ledger frame or Parquet ledger. Exact: a value
#: that needs more is refused, never rounded (the engines work at <= 10 places).
LEDGER_SCALE = 12

#: Polars data types: built on first use (PEP 562), so reading a policy never imports Polars.
if TYPE_CHECKING:
    EVENT_FRAME: dict[str, Any]
    ROSTER_FRAME: dict[str, Any]
    LEDGER_DECIMAL: pl.Decimal
    LEDGER_BREAKDOWN: pl.List
    LEDGER_REQUIREMENTS: pl.List
    LEDGER_TRACE: pl.List
    LEDGER_OUTCOMES: pl.List
    LEDGER_FRAME: dict[str, Any]


@functools.cache
def _polars_types() -> dict[str, Any]:
    import polars as pl

    #: The validated event frame (``EventTable.frame``), before attribute columns.
    EVENT_FRAME: dict[str, Any] = {
        "event_id": pl.String, "teacher_id": pl.String, "at_us": pl.Int64, "day": pl.Date,
        "kind": pl.String, "hours_u": pl.Int64, "credits_u": pl.Int64, "category": pl.String,
        "level": pl.String, "format": pl.String, "program": pl.String, "grade": pl.String,
        "score_u": pl.Int64, "count": pl.Int64, "words": pl.Int64,
        "minutes_u": pl.Int64, "days_u": pl.Int64,  # issue 9 (A): study time in other units
    }
    #: The validated roster frame (``Roster.frame``), before attribute columns.
    ROSTER_FRAME: dict[str, Any] = {
        "teacher_id": pl.String, "title": pl.String, "roles": pl.List(pl.String),
        "stage": pl.String, "hired_on": pl.Date, "retired_on": pl.Date, "school": pl.String,
        "county": pl.String, "city": pl.String, "workshop": pl.String,
    }
    LEDGER_DECIMAL = pl.Decimal(38, LEDGER_SCALE)
    #: ``by_category`` / ``by_level``: key -> credited, as Arrow lays out a map (sorted by key).
    LEDGER_BREAKDOWN = pl.List(pl.Struct({"key": pl.String, "value": LEDGER_DECIMAL}))
    LEDGER_REQUIREMENTS = pl.List(pl.Struct({
        "name": pl.String, "required": LEDGER_DECIMAL, "actual": LEDGER_DECIMAL,
        "met": pl.Boolean, "waived": pl.Boolean,
    }))
    LEDGER_TRACE = pl.List(pl.Struct({
        "rule": pl.String, "source": pl.String, "credits": LEDGER_DECIMAL, "hours": LEDGER_DECIMAL,
        "events": pl.List(pl.String),
    }))
    #: ``outcomes``: outcome name -> true/false, as Arrow lays out a map (sorted by key).
    LEDGER_OUTCOMES = pl.List(pl.Struct({"key": pl.String, "value": pl.Boolean}))
    #: The typed ledger every engine's frame and every Parquet ledger has (SPEC §5 values,
    #: queryable without JSON parsing); JSON and CSV render it with ``values.canonical``.
    LEDGER_FRAME: dict[str, Any] = {
        "teacher_id": pl.String, "period_start": pl.Date, "period_end": pl.Date,
        "credits": LEDGER_DECIMAL, "hours": LEDGER_DECIMAL,
        "credited_hours": LEDGER_DECIMAL,  # issue 9 (B): hours admitted by the caps
        "leave_days": pl.Int64,
        "grade": pl.String, "excellent_eligible": pl.Boolean,
        "by_category": LEDGER_BREAKDOWN, "by_level": LEDGER_BREAKDOWN,
        "requirements": LEDGER_REQUIREMENTS, "met": pl.Boolean, "trace": LEDGER_TRACE,
        "outcomes": LEDGER_OUTCOMES,
    }
    assert tuple(LEDGER_FRAME) == LEDGER_COLUMNS
    assert tuple(ROSTER_FRAME) == ROSTER_COLUMNS
    return {"EVENT_FRAME": EVENT_FRAME, "ROSTER_FRAME": ROSTER_FRAME, "LEDGER_DECIMAL": LEDGER_DECIMAL,
            "LEDGER_BREAKDOWN": LEDGER_BREAKDOWN, "LEDGER_REQUIREMENTS": LEDGER_REQUIREMENTS,
            "LEDGER_TRACE": LEDGER_TRACE, "LEDGER_FRAME": LEDGER_FRAME, "LEDGER_OUTCOMES": LEDGER_OUTCOMES}


def __getattr__(name: str) -> Any:
    types = _polars_types() if name in _POLARS_NAMES else {}
    if name not in types:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = types[name]
    return types[name]


_POLARS_NAMES = frozenset({"EVENT_FRAME", "ROSTER_FRAME", "LEDGER_DECIMAL", "LEDGER_BREAKDOWN",
                           "LEDGER_REQUIREMENTS", "LEDGER_TRACE", "LEDGER_FRAME", "LEDGER_OUTCOMES"})
