"""The state the bulk stages pass along, and the keys every stage groups by.

One job: hold one batch's frames between stages. Each stage of
:data:`credit_rules.eval.bulk.run.STAGES` takes a :class:`BatchState` and returns a new
one (``attrs.evolve``); nothing else is shared.

- ``ev``: the events the policy reads, in time order within a teacher (SPEC §4: "taken
  in time order (``at``, ties by ``event_id``)"), each with its teacher-period key ``__k``
  and its row ``__row``;
- ``tp``: one row per teacher and period that gets a ledger row, sorted by
  ``teacher_id``, ``pstart``; row ``k`` is key ``k``;
- ``awards``: one row per award, rule after rule (rules by name), each rule's awards in
  time order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.eval.bulk.conditions import CondCompiler
from credit_rules.eval.bulk.fields import (
    Facts,
    event_compiler,
    measure_names,
    needed_facts,
    teacher_compiler,
)
from credit_rules.eval.bulk.plan import BulkPlan

TP = ["teacher_id", "pstart"]
K = "__k"  # integer key of a teacher-period: its row in the sorted teacher-period frame
ROW = "__row"  # an event's row in the sorted event frame (time order within a teacher)

_EMPTY = pl.DataFrame()


@attrs.frozen(eq=False)
class BatchState:
    """One batch of teachers on its way through the stages (see the module docstring)."""

    plan: BulkPlan
    source: pl.LazyFrame  # the events as given (EventTable.frame layout)
    roster: pl.DataFrame  # the roster, ROSTER_FRAME columns only
    as_of: dt.date
    trace: bool
    facts: Facts
    measures: Mapping[core.Measure, str]
    rules: tuple[core.Award, ...]  # by name: the order of the trace and of award frames
    attributes: tuple[str, ...] = ()  # the events' attribute columns
    found: pl.DataFrame = _EMPTY  # teachers (or teacher-periods) named by any event
    ev: pl.DataFrame = _EMPTY
    tp: pl.DataFrame = _EMPTY
    when_cols: Mapping[str, str] = attrs.field(factory=dict)  # rule name -> its `when` column
    awards: pl.DataFrame = _EMPTY

    @classmethod
    def start(cls, plan: BulkPlan, source: pl.LazyFrame, roster: pl.DataFrame, as_of: dt.date,
              *, trace: bool) -> BatchState:
        lowered = plan.core
        return cls(plan, source, roster, as_of, trace, needed_facts(lowered),
                   measure_names(lowered), lowered.awards)

    @property
    def policy(self) -> ir.Policy:
        return self.plan.policy

    @property
    def core(self) -> core.Policy:
        """The decisions every stage reads (:mod:`credit_rules.core`)."""
        return self.plan.core

    def event_cond(self, *, view: bool = False) -> CondCompiler:
        """Conditions on events (``view``: on awards, with the credited category/level)."""
        return event_compiler(self.attributes, view=view, inputs=self.core.inputs)

    def teacher_cond(self, *, outcome: bool = False) -> CondCompiler:
        """Conditions on teacher-periods (``outcome``: may read the ledger values)."""
        return teacher_compiler(self.plan.digits, self.facts, outcome=outcome, inputs=self.core.inputs)


def join_flags(
    frame: pl.DataFrame, flags: pl.DataFrame, fill: Any = False, on: str | list[str] = K,
) -> pl.DataFrame:
    """``frame`` left-joined with ``flags`` (order kept), missing values ``fill``."""
    keys = [on] if isinstance(on, str) else on
    names = [c for c in flags.columns if c not in keys]
    return frame.join(flags, on=on, how="left", maintain_order="left").with_columns(
        [pl.col(c).fill_null(fill) for c in names])


def by_key(tp: pl.DataFrame, column: str) -> pl.Expr:
    """``tp[column]`` looked up for each row of a frame keyed by ``__k`` (tp row = key)."""
    return pl.lit(tp[column]).gather(pl.col(K))
