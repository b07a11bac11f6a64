"""The bulk pipeline: the stages in order, and the entry points that run them.

A stage takes a :class:`~credit_rules.eval.bulk.state.BatchState` and returns the next
one; :data:`STAGES` is the whole evaluation of one batch of teachers, read top to
bottom. :func:`finish` (ranks, excellence, output) runs once over every batch's result,
so that SPEC §4 holds across batches: "Results do not depend on ... how the events are
split into files or partitions". With ``CREDIT_RULES_BULK_PROFILE=1`` each stage's
seconds go to stderr.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections.abc import Callable

import polars as pl

from credit_rules import ir
from credit_rules.eval.bulk.awards import awards, facts, penalties
from credit_rules.eval.bulk.grades import grades
from credit_rules.eval.bulk.load import load, roster_with
from credit_rules.eval.bulk.periods import assign_periods
from credit_rules.eval.bulk.plan import BulkPlan
from credit_rules.eval.bulk.ranks import finish
from credit_rules.eval.bulk.register import register
from credit_rules.eval.bulk.requirements import carry_trace, requirements
from credit_rules.eval.bulk.state import BatchState
from credit_rules.eval.bulk.totals import totals
from credit_rules.eval.bulk.trace import trace
from credit_rules.eval.bulk.units import study_hours
from credit_rules.values import today

Stage = Callable[[BatchState], BatchState]

STAGES: tuple[Stage, ...] = (
    load,            # the events the policy reads, with their periods, in time order
    assign_periods,  # the teacher-periods that get a row; each event's key
    study_hours,     # minutes / days as study hours (issue 9 A)
    facts,           # qualified PROGRAM, any KIND, each rule's `when`
    awards,          # every rule's awards (exceptions applied), leave days
    penalties,       # penalties that void credits or excellence
    register,        # the credit register: caps
    totals,          # credits, hours, by_category, by_level, credit and hour measures
    trace,           # which rule credited what, from which events
    grades,          # grade, and the scores ranks compare
    requirements,    # each requirement checked (carry-forward included); met
    carry_trace,     # the trace entries of carry-forward (issue 9, E2)
)


class FallbackRequired(ValueError):
    """The plan lists constructs the bulk engine cannot evaluate exactly
    (``plan.fallbacks``): evaluate the policy with the interpreter
    (:func:`credit_rules.api.evaluate` does so)."""


def evaluate_batch(
    plan: BulkPlan,
    events: pl.LazyFrame | pl.DataFrame,
    roster: pl.DataFrame | None,
    *,
    as_of: dt.date,
    trace: bool = True,
) -> pl.DataFrame:
    """Every stage up to ranks and excellence, for the teachers in ``events`` and
    ``roster``: one row per teacher-period with the rendered ledger columns plus what
    :func:`finish` needs (facts, roster columns, scores, penalties)."""
    if plan.fallbacks:
        reasons = "; ".join(f"{what}: {why}" for what, why in plan.fallbacks)
        raise FallbackRequired(
            f"the bulk engine cannot evaluate policy {plan.policy.name} ({reasons}); "
            "use the interpreter (credit_rules.api.evaluate picks it for such policies)")
    lazy = events.lazy() if isinstance(events, pl.DataFrame) else events
    declared = tuple(c.name for c in plan.core.inputs.of(ir.Scope.TEACHER))
    state = BatchState.start(plan, lazy, roster_with(roster, declared), as_of, trace=trace)
    profile = bool(os.environ.get("CREDIT_RULES_BULK_PROFILE"))
    for stage in STAGES:
        started = time.perf_counter()
        state = stage(state)
        if profile:
            print(f"[bulk] {stage.__name__:16} {time.perf_counter() - started:7.3f} s",
                  file=sys.stderr)
    return state.tp


def run(
    plan: BulkPlan,
    events: pl.LazyFrame | pl.DataFrame,
    roster: pl.DataFrame | None,
    *,
    as_of: dt.date | None = None,
    trace: bool = True,
) -> pl.DataFrame:
    """The ledger of ``plan`` over ``events`` (the :attr:`EventTable.frame` layout) and
    ``roster`` (the :attr:`Roster.frame` layout).

    One row per teacher and period, sorted by ``teacher_id``, ``period_start``; columns
    :data:`~credit_rules.schema.LEDGER_COLUMNS`, typed as
    :data:`~credit_rules.schema.LEDGER_FRAME` (exact decimals, lists of structs; no text is
    rendered here). ``trace=False`` leaves ``trace`` empty (for measuring its cost only:
    the ledger then differs from the contract). Raises :class:`FallbackRequired`
    for a plan with ``fallbacks``.

    ``events`` is read once, lazily: only the columns and event kinds the policy uses are
    materialised. Events sorted by teacher_id, at_us, event_id (the EventTable layout)
    are used as they are; any other order is sorted first.

    Batches: every ledger row depends only on its own teacher's events and roster row,
    except ranks (``rank`` and ``excellent when ranked``), which compare the teachers of a
    period. So a policy without ranks may be run on disjoint batches of teachers (all of
    a teacher's events in one batch) and the frames concatenated; a policy with ranks
    (``plan.policy.ranks``) must see all teachers of a period in one call, or go through
    :func:`evaluate_batch` per batch and one :func:`finish` over them all.
    """
    as_of_day = as_of or today(plan.policy.timezone)
    batch = evaluate_batch(plan, events, roster, as_of=as_of_day, trace=trace)
    started = time.perf_counter()
    ledger = finish(plan, batch)
    if os.environ.get("CREDIT_RULES_BULK_PROFILE"):
        print(f"[bulk] {'finish':16} {time.perf_counter() - started:7.3f} s", file=sys.stderr)
    return ledger
