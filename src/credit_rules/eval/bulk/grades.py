"""The grade of each teacher-period, and the scores ranks compare.

One job, SPEC §5 ``grade`` (``excellent`` / ``qualified`` / ``unqualified`` / null) as
the policy derives it: from the latest assessment of a program (SPEC §4, "the teacher's
*latest* assessment (by ``at``, ties by ``event_id``)") or from the latest ``score`` by
thresholds (SPEC §6.6: "Grade from the latest ``score`` of program ``ziyang-2017``: >= 90
excellent, >= 60 qualified, else unqualified"); and for each rank the latest score and
its ``at`` (SPEC §6.6: "ties broken by earlier ``at`` of the score").
"""

from __future__ import annotations

from typing import Any

import attrs
import polars as pl

from credit_rules.eval.bulk.plan import score_micro
from credit_rules.eval.bulk.state import BatchState, K


def grades(state: BatchState) -> BatchState:
    """``grade`` on ``tp``, and ``__rsI`` / ``__raI`` (score, at_us) for each rank I."""
    policy, tp = state.core, state.tp
    grade = policy.grade
    if grade is None and not policy.ranks:
        return attrs.evolve(state, tp=tp.with_columns(pl.lit(None, pl.String).alias("grade")))
    assessments = state.ev.filter(pl.col("kind") == "assessment")
    if grade is None:
        tp = tp.with_columns(pl.lit(None, pl.String).alias("grade"))
    elif grade.thresholds is None:
        graded = (assessments.filter(pl.col("program") == grade.program)
                  .group_by(K, maintain_order=True).agg(pl.col("grade").last()))
        tp = tp.join(graded, on=K, how="left", maintain_order="left")
    else:
        scored = (assessments.filter((pl.col("program") == grade.program) & pl.col("score_u").is_not_null())
                  .group_by(K, maintain_order=True).agg(pl.col("score_u").last().alias("__s")))
        # the core's grade table, highest minimum first; the first reached wins
        table: Any = None
        for name, minimum in grade.thresholds:
            test = pl.col("__s") >= score_micro(minimum)
            table = pl.when(test).then(pl.lit(name)) if table is None else table.when(test).then(pl.lit(name))
        result = (table.otherwise(pl.lit(grade.otherwise)) if table is not None
                  else pl.lit(grade.otherwise))
        scored = scored.select(K, result.cast(pl.String).alias("grade"))
        tp = tp.join(scored, on=K, how="left", maintain_order="left")
    for index, rank in enumerate(policy.ranks):
        best = (assessments.filter((pl.col("program") == rank.program) & pl.col("score_u").is_not_null())
                .group_by(K, maintain_order=True)
                .agg(pl.col("score_u").last().alias(f"__rs{index}"),
                     pl.col("at_us").last().alias(f"__ra{index}")))
        tp = tp.join(best, on=K, how="left", maintain_order="left")
    return attrs.evolve(state, tp=tp)
