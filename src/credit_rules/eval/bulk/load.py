"""Read the events a policy needs, each with its period, in time order.

One job: the first scan. Only the columns and event kinds the policy reads are
materialised (projection and predicate pushdown into the scan); events outside every
period of the policy go (SPEC §4: "Periods: calendar dates in the policy's timezone,
bounds inclusive"); the events come out sorted by ``teacher_id``, ``at_us``,
``event_id`` (SPEC §4: "taken in time order (``at``, ties by ``event_id``)").
The same scan finds every teacher named by any event (SPEC §5: "a data problem never
makes a teacher vanish from the ledger").
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import polars as pl

from credit_rules import ir
from credit_rules.eval.bulk.conditions import walk
from credit_rules.eval.bulk.fields import FIELD_COLUMNS, Facts, event_conds
from credit_rules.eval.bulk.periods import found_query, in_periods
from credit_rules.eval.bulk.state import BatchState
from credit_rules.schema import EVENT_FRAME, PROVENANCE_COLUMNS, ROSTER_FRAME


def roster_or_empty(roster: pl.DataFrame | None) -> pl.DataFrame:
    """The roster's :data:`~credit_rules.schema.ROSTER_FRAME` columns (missing ones null)."""
    if roster is None:
        return pl.DataFrame(schema=ROSTER_FRAME)
    missing = [pl.lit(None, t).alias(c) for c, t in ROSTER_FRAME.items() if c not in roster.columns]
    return roster.with_columns(missing).select(list(ROSTER_FRAME)).cast(ROSTER_FRAME)  # type: ignore[arg-type]


def needs(
    policy: ir.Policy, facts: Facts, attributes: Sequence[str],
) -> tuple[list[str] | None, list[str]]:
    """The event kinds (None: all) and the columns the policy reads: everything else is
    left in the file."""
    kinds: set[str] | None = set()
    columns = {"teacher_id", "event_id", "at_us", "day", "kind"}
    assessment = bool(facts.programs) or policy.grade is not None or bool(policy.ranks)
    for rule in policy.rules:
        award = rule.award
        if isinstance(award, ir.IfQualified):
            assessment = True
            columns |= {"program", "grade"}
        elif rule.kind is not None and kinds is not None:
            kinds.add(rule.kind)
        else:
            kinds = None
        if rule.program is not None:
            columns.add("program")
        if not isinstance(award, ir.Leave):
            columns |= {"category", "level"}
        if isinstance(award, ir.CountHours | ir.CountCredits | ir.Block):
            columns.add("hours_u")
        if isinstance(award, ir.CountCredits):
            columns.add("credits_u")
    extra = [p.kind for p in policy.penalties] + list(facts.kinds)
    for requirement in policy.requirements:
        for line in requirement.lines:
            if isinstance(line.measure, ir.MeasureCount):
                extra.append(line.measure.kind)
                columns.add("count")
    if assessment:
        extra.append("assessment")
        columns.add("program")
    if facts.programs or isinstance(policy.grade, ir.GradeFromAssessment):
        columns.add("grade")
    if isinstance(policy.grade, ir.GradeFromScore) or policy.ranks:
        columns.add("score_u")
    for cond in event_conds(policy):
        for node in walk(cond):
            if isinstance(node, ir.Compare | ir.Member):
                name = FIELD_COLUMNS.get(node.field, node.field)
                if name in EVENT_FRAME or name in attributes:
                    columns.add(name)
    if kinds is not None:
        kinds.update(extra)
    keep = [c for c in [*EVENT_FRAME, *attributes] if c in columns]
    return (sorted(kinds) if kinds is not None else None), keep


def in_time_order(ev: pl.DataFrame) -> bool:
    """Whether ``ev`` is sorted by teacher_id, at_us, event_id (strictly)."""
    if ev.height < 2:
        return True
    tid, at, eid = pl.col("teacher_id"), pl.col("at_us"), pl.col("event_id")
    step = (tid > tid.shift()) | ((tid == tid.shift()) & (
        (at > at.shift()) | ((at == at.shift()) & (eid > eid.shift()))))
    return bool(ev.select(step.slice(1).all()).item())


def load(state: BatchState) -> BatchState:
    """``ev`` (with ``pstart``, ``pend``), ``found`` and ``attributes``, in one streaming
    collect; events already in EventTable order are used as they are."""
    policy = state.policy
    lazy = state.source
    columns = list(lazy.collect_schema().names())
    missing = [pl.lit(None, t).alias(c) for c, t in EVENT_FRAME.items() if c not in columns]
    if missing:
        lazy = lazy.with_columns(missing)
        columns = [*columns, *(c for c in EVENT_FRAME if c not in columns)]
    attributes = [c for c in columns if c not in EVENT_FRAME and c not in PROVENANCE_COLUMNS]
    kinds, keep = needs(policy, state.facts, attributes)
    used = lazy if kinds is None else lazy.filter(pl.col("kind").is_in(kinds))
    query = in_periods(policy, used.select(keep))
    ev, found = pl.collect_all([query, found_query(policy, lazy)], engine="streaming")
    if not in_time_order(ev):
        ev = ev.sort(["teacher_id", "at_us", "event_id"])
    return attrs.evolve(state, ev=ev, found=found, attributes=tuple(attributes))
