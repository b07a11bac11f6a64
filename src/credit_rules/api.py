"""The library entry points training systems call: load a policy, evaluate it.

>>> from credit_rules import load_policy, evaluate
>>> policy = load_policy("policies/shandong_remote_2017.policy")      # doctest: +SKIP
>>> ledger = evaluate(policy, "events.jsonl", "roster.csv")          # doctest: +SKIP
>>> ledger.rows[0].credits                                           # doctest: +SKIP
Decimal('18')
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.compile import load_policy
from credit_rules.errors import UsageError
from credit_rules.eval import ENGINES as ENGINES
from credit_rules.eval import Engine as Engine
from credit_rules.eval import interpreter
from credit_rules.eval.period_events import events_read
from credit_rules.io import EventTable, LoadReport, Roster, load_events, load_roster
from credit_rules.io.events import teachers_with_events
from credit_rules.io.frames import (
    events_to_frame,
    frame_to_events,
    frame_to_teachers,
    roster_frame,
    rows_from_frame,
    rows_to_frame,
    teachers_to_frame,
)
from credit_rules.io.parse import check_timezone
from credit_rules.io.small import is_small, small_events
from credit_rules.io.small_roster import small_roster
from credit_rules.io.units import reject_unconvertible
from credit_rules.records import Event, LedgerRow, Teacher

if TYPE_CHECKING:
    from credit_rules.eval.bulk import BulkPlan



@attrs.frozen
class Ledger:
    """The result of evaluating one policy: one row per teacher and period, plus the accounting."""

    policy: ir.Policy
    rows: tuple[LedgerRow, ...]
    events: EventTable | None = None
    roster: Roster | None = None

    def to_json(self) -> list[dict[str, Any]]:
        """The rows as SPEC §5 JSON objects (decimals as canonical strings)."""
        return [row.to_json() for row in self.rows]

    @property
    def reports(self) -> list[LoadReport]:
        return [x.report for x in (self.events, self.roster) if x is not None]


def shipped_policies() -> list[Path]:
    """The six policies that ship with credit-rules (SPEC §6)."""
    packaged = resources.files("credit_rules").joinpath("policies")
    if packaged.is_dir():
        return sorted(Path(str(p)) for p in packaged.iterdir() if p.name.endswith(".policy"))
    checkout = Path(__file__).resolve().parents[2] / "policies"
    return sorted(checkout.glob("*.policy"))


def as_policy(policy: ir.Policy | str | os.PathLike[str]) -> ir.Policy:
    return policy if isinstance(policy, ir.Policy) else load_policy(policy)


def input_contract(policy: ir.Policy) -> core.Inputs:
    """What ``policy`` asks of its input beyond the SPEC (declared columns and vocabularies)."""
    return core.lower(policy).inputs


def as_event_table(events: Any, timezone: str, inputs: core.Inputs | None = None) -> EventTable:
    if isinstance(events, EventTable):
        if events.timezone != timezone:
            raise UsageError(
                f"events were loaded in {events.timezone} but the policy's timezone is {timezone}; "
                "load them again with the policy's timezone"
            )
        return events
    if is_small(events):  # one teacher's events: read row by row, no Polars query
        check_timezone(timezone)
        table = small_events(events, timezone, inputs)
        if table is not None:
            return table
    return load_events(events, timezone=timezone, inputs=inputs)


def as_roster(roster: Any, inputs: core.Inputs | None = None) -> tuple[Roster | None, dict[str, Teacher]]:
    if roster is None:
        return None, {}
    if isinstance(roster, Roster):
        return roster, roster.teachers()
    if isinstance(roster, Mapping) and all(isinstance(t, Teacher) for t in roster.values()):
        return None, dict(roster)
    if isinstance(roster, Mapping):
        # {teacher_id: {"title": ..., "roles": [...]}}: validated like a roster file
        roster = [{"teacher_id": teacher_id, **fields} for teacher_id, fields in roster.items()]
    loaded = (small_roster(roster, inputs) if is_small(roster) else None) or load_roster(roster, inputs=inputs)
    return loaded, loaded.teachers()


def evaluate(
    policy: ir.Policy | str | os.PathLike[str],
    events: Any,
    roster: Any = None,
    *,
    as_of: dt.date | None = None,
    engine: Engine = "interpreter",
) -> Ledger:
    """Evaluate ``policy`` over ``events`` (and an optional ``roster``).

    ``events``: a path or list of paths (JSON Lines, CSV, Parquet, Arrow), a Polars
    DataFrame, a pyarrow Table, an :class:`EventTable`, a list of dicts (one per event,
    validated like a file), or a list of :class:`~credit_rules.records.Event`.
    ``roster``: a path, a frame, a :class:`Roster`, a list of dicts, a mapping of teacher
    ids to dicts of attributes, or a mapping of teacher ids to
    :class:`~credit_rules.records.Teacher`. Decimals in the ledger come back normalised
    (``Decimal("37.9")``).
    ``as_of`` (default today) decides the current period of per-semester policies
    without a window.
    """
    checked = as_policy(policy)
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; use one of: {', '.join(ENGINES)}")
    inputs = input_contract(checked)
    loaded_roster, teachers = as_roster(roster, inputs)
    table: EventTable | None = None
    records: list[Event] | None = None
    if isinstance(events, list) and all(isinstance(e, Event) for e in events):
        records = events
    else:
        table = as_event_table(events, checked.timezone, inputs)
        # issue 9 (A): minutes / days the policy cannot convert are rejected, with the reason
        table = reject_unconvertible(core.lower(checked), table)
    # SPEC §5: a data problem never makes a teacher vanish from the ledger. Both engines
    # see such teachers as roster teachers without attributes.
    extra = {t: Teacher(t) for t in named_only(table, loaded_roster, teachers)}
    teachers.update(extra)
    plan = _bulk_plan(checked) if engine == "bulk" else None
    rows: list[LedgerRow] | None = None
    if plan is not None and not plan.fallbacks:
        # The bulk engine reads the validated frame as it is: no Python event objects.
        frame = table.frame if table is not None else events_to_frame(records or [])
        roster_rows = roster_frame(loaded_roster if loaded_roster is not None else teachers)
        if loaded_roster is not None and extra:
            roster_rows = pl.concat([loaded_roster.frame, teachers_to_frame(extra)], how="diagonal_relaxed")
        rows = _evaluate_bulk(plan, frame, roster_rows, as_of=as_of)
    if rows is None:
        # A policy (plan.fallbacks) or a batch (sums that could pass Int64) the bulk engine
        # cannot evaluate exactly goes to the interpreter: the same ledger, slower.
        event_list: Iterable[Event] = records if records is not None else interpreter_events(table, teachers, checked)
        rows = interpreter.evaluate(checked, event_list, teachers, as_of=as_of)
    return Ledger(checked, tuple(rows), table, loaded_roster)


def named_only(table: EventTable | None, roster: Roster | None,
               teachers: Mapping[str, Teacher]) -> list[str]:
    """Teachers named in the input with neither a valid event nor a valid roster row: on
    rejected, duplicate or conflicting event rows, or on rejected roster rows (SPEC §5:
    each still gets its ledger rows, with credits 0 where nothing counted)."""
    named: set[str] = set(table.seen_teacher_ids) if table is not None else set()
    if roster is not None:
        named |= set(roster.unresolved_teacher_ids())
    candidates = named - set(teachers)
    valid = table.with_valid_events(candidates) if table is not None and candidates else set()
    return sorted(candidates - valid)


def with_named_teachers(roster: pl.DataFrame | None, named: Iterable[str],
                        events: pl.DataFrame | EventTable | None) -> pl.DataFrame | None:
    """``roster`` plus an attribute-less row for each ``named`` teacher that has neither a
    valid event (a row of ``events``, an :class:`EventTable` or its frame; None: none has)
    nor a roster row: the bulk side of :func:`named_only`."""
    candidates = set(named) - (set(roster["teacher_id"].to_list()) if roster is not None else set())
    with_events = (
        set() if events is None
        else events.with_valid_events(candidates) if isinstance(events, EventTable)
        else teachers_with_events(events, candidates)
    )
    extra = sorted(candidates - with_events)
    if not extra:
        return roster
    rows = teachers_to_frame({t: Teacher(t) for t in extra})
    return rows if roster is None else pl.concat([roster, rows], how="diagonal_relaxed")


def interpreter_events(table: EventTable | None, teachers: dict[str, Teacher], policy: ir.Policy) -> list[Event]:
    """The interpreter's events of ``table``. Of a small input (one teacher, read row by
    row) only the records of the events the policy can read are built
    (:func:`~credit_rules.eval.period_events.events_read`: its days and kinds); with fixed
    periods, the teachers named only by the other events join ``teachers``, so they keep
    their rows."""
    assert table is not None
    small = table.small
    if small is None:
        return table.events()
    lowered = core.lower(policy)
    read = events_read(lowered, small.column("teacher_id"), small.column("day"), small.column("kind"))
    if len(read) == len(small.order):
        return small.events()
    if lowered.periods.fixed is not None:
        for teacher_id in small.teacher_ids():
            teachers.setdefault(teacher_id, Teacher(teacher_id))
    return small.events(read)


def _bulk_plan(policy: ir.Policy) -> BulkPlan:
    from credit_rules.eval import bulk

    return bulk.compile_plan(policy)


def _evaluate_bulk(
    plan: BulkPlan, frame: pl.DataFrame, roster: Any, *, as_of: dt.date | None,
) -> list[LedgerRow] | None:
    """Ledger rows of a plan without fallbacks over an :attr:`EventTable.frame`
    (``roster``: a Roster, a roster frame, or a mapping of Teachers); None when the
    bulk engine refuses the batch (:class:`~credit_rules.eval.bulk.BulkOverflow`)."""
    from credit_rules.eval import bulk

    try:
        return rows_from_frame(bulk.run(plan, frame, roster_frame(roster), as_of=as_of))
    except bulk.BulkOverflow:
        return None


def bulk_ledger(
    plan: BulkPlan,
    events: pl.DataFrame | pl.LazyFrame,
    roster: pl.DataFrame | None,
    *,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """The ledger frame of ``plan`` (see :func:`credit_rules.eval.bulk.run`) over an
    :attr:`EventTable.frame` and a :attr:`Roster.frame`, whatever the plan: a plan with
    ``fallbacks`` is evaluated by the interpreter (same ledger, no speed).

    >>> ledger = bulk_ledger(bulk.compile_plan(policy), table.frame, roster.frame)  # doctest: +SKIP
    """
    from credit_rules.eval import bulk

    if not plan.fallbacks:
        with contextlib.suppress(bulk.BulkOverflow):
            return bulk.run(plan, events, roster, as_of=as_of)
    frame = events.collect() if isinstance(events, pl.LazyFrame) else events
    teachers = frame_to_teachers(roster) if roster is not None else {}
    rows = interpreter.evaluate(plan.policy, frame_to_events(frame, plan.policy.timezone),
                                teachers, as_of=as_of)
    return rows_to_frame(rows)
