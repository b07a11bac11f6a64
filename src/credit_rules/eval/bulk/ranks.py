"""Ranks and excellence across teachers, then the ledger's output columns.

One job, the only step that compares teachers: SPEC §6.6 ("Excellent learners: the 2
highest scores in each ``workshop`` ... only teachers graded qualified or better are
ranked; ties broken by earlier ``at`` of the score, then ``teacher_id``"), SPEC §6.1
(``excellent_eligible`` = the policy's ``excellent when``, and no penalty that takes it
away), and the layout of SPEC §5: one row per teacher and period, sorted by
``teacher_id``, then ``period_start``, columns :data:`~credit_rules.schema.LEDGER_COLUMNS`.
Reproduces ``interpreter._rank_and_finish``.
"""

from __future__ import annotations

import attrs
import polars as pl

from credit_rules.eval.bulk.conditions import CondCompiler, Field
from credit_rules.eval.bulk.decimals import ledger_decimal
from credit_rules.eval.bulk.fields import needed_facts, teacher_compiler
from credit_rules.eval.bulk.plan import BulkPlan
from credit_rules.eval.bulk.state import TP, join_flags
from credit_rules.schema import LEDGER_OUTCOMES, ROSTER_TEXT_COLUMNS


def finish(plan: BulkPlan, tp: pl.DataFrame) -> pl.DataFrame:
    """The ledger frame from the teacher-period frames of :func:`~credit_rules.eval.bulk.evaluate_batch`
    (concatenated, when a policy with ranks was evaluated in batches): ranks and
    excellence across teachers (interpreter._rank_and_finish), then the output columns."""
    policy = plan.core
    facts = needed_facts(policy)
    outcome = teacher_compiler(plan.digits, facts, outcome=True, inputs=plan.core.inputs)
    for index, rank in enumerate(policy.ranks):
        flag = facts.ranks[rank.name]
        score, at = f"__rs{index}", f"__ra{index}"
        candidates = (tp.filter(pl.col(score).is_not_null() & outcome(rank.among))
                      .sort(["pstart", score, at, "teacher_id"], descending=[False, True, False, False]))
        chosen: list[pl.DataFrame] = []
        for top in rank.tops:
            if top.mode == "overall":
                pool = candidates
                group = ["pstart"]
            else:
                assert top.field is not None
                column = top.field if top.field in ROSTER_TEXT_COLUMNS else None
                if column is None:
                    continue
                pool = candidates.filter(pl.col(column).is_in(list(top.values)))
                group = ["pstart", column] if top.mode == "per" else ["pstart"]
            chosen.append(pool.filter(pl.int_range(pl.len()).over(group) < top.count).select(TP))
        picked = (pl.concat(chosen).unique() if chosen else tp.clear().select(TP))
        tp = join_flags(tp, picked.with_columns(pl.lit(True).alias(flag)), on=TP)
    excellent = (outcome(policy.excellent) & ~pl.col("__noexc") if policy.excellent is not None
                 else pl.lit(False))
    return tp.select(  # tp is in teacher_id, pstart order (every join keeps it)
        pl.col("teacher_id"),
        pl.col("pstart").alias("period_start"),
        pl.col("pend").alias("period_end"),
        ledger_decimal(pl.col("credits_k"), plan.digits).alias("credits"),
        ledger_decimal(pl.col("hours_k"), plan.digits).alias("hours"),
        ledger_decimal(pl.col("credited_hours_k"), plan.digits).alias("credited_hours"),
        pl.col("leave_days").cast(pl.Int64),
        pl.col("grade").cast(pl.String),
        excellent.alias("excellent_eligible"),
        pl.col("by_category"), pl.col("by_level"), pl.col("requirements"),
        pl.col("met"), pl.col("trace"),
        _outcomes(plan, outcome, excellent).alias("outcomes"),
    )


def _outcomes(plan: BulkPlan, outcome: CondCompiler, excellent: pl.Expr) -> pl.Expr:
    """``outcomes``: each named outcome over the finished row, its excellence included
    (interpreter._outcomes); entries sorted by name (the core lists them so)."""
    outcomes = plan.core.outcomes
    if not outcomes:
        return pl.lit([], dtype=LEDGER_OUTCOMES)
    fields = {**outcome.fields, "excellent_eligible": Field(excellent, "bool")}
    finished = attrs.evolve(outcome, fields=fields)
    return pl.concat_list([
        pl.struct(pl.lit(o.name, pl.String).alias("key"), finished(o.cond).alias("value")) for o in outcomes
    ]).cast(LEDGER_OUTCOMES)
