"""Requirements: each checked, never awarded.

One job, SPEC §4: "``at least`` requirements are checked and reported, never awarded",
and SPEC §5 ``requirements`` ("list of ``{name, required, actual, met}`` ... a
requirement that does not apply to the teacher ... is left out") and ``met`` ("true when
every requirement is met"); with the reduction for teachers hired during the cycle and
the waivers of SPEC §6.2. Reproduces ``interpreter._requirements``.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import attrs
import polars as pl

from credit_rules import ir
from credit_rules.eval.bulk.plan import places
from credit_rules.eval.bulk.render import bool_text, dumps, render
from credit_rules.eval.bulk.state import BatchState, K, join_flags
from credit_rules.schema import ROSTER_DATE_COLUMNS


def requirements(state: BatchState) -> BatchState:
    """``requirements`` (JSON text) and ``met`` on ``tp``; the count and ``qualified``
    measures are computed here, the credits and hours measures come from the totals."""
    plan, tp, ev, measures = state.plan, state.tp, state.ev, state.measures
    teacher_cond, event_cond = state.teacher_cond(), state.event_cond()
    policy = plan.policy
    scale = plan.scale
    facts = state.facts
    event_sums: list[pl.Expr] = []
    for measure, name in measures.items():
        match measure:
            case ir.MeasureCount(kind, where):
                event_sums.append(
                    pl.when((pl.col("kind") == kind) & event_cond(where)).then(pl.col("count"))
                    .otherwise(0).sum().mul(scale).alias(name))
            case ir.MeasureQualified(program):
                tp = tp.with_columns(
                    pl.when(pl.col(facts.programs[program])).then(scale).otherwise(0)
                    .cast(pl.Int64).alias(name))
            case _:
                if name not in tp.columns:  # no award at all
                    tp = tp.with_columns(pl.lit(0, pl.Int64).alias(name))
    if event_sums:
        kinds = sorted({m.kind for m in measures if isinstance(m, ir.MeasureCount)})
        tp = join_flags(
            tp, ev.lazy().filter(pl.col("kind").is_in(kinds)).group_by(K).agg(event_sums)
            .collect(engine="streaming"), 0)
    factor_digits = 0
    factor: pl.Expr = pl.lit(1, pl.Int64)
    reduction, window = policy.reduction, policy.window
    if reduction is not None and window is not None and reduction.attribute in ROSTER_DATE_COLUMNS:
        factor_digits = places(reduction.fraction)
        unit = 10**factor_digits
        step = int(Fraction(reduction.fraction) * unit)
        day = pl.col(reduction.attribute)
        years = day.dt.year().cast(pl.Int64) - window.start.year
        factor = (pl.when(day.is_between(window.start, window.end))
                  .then(pl.max_horizontal(pl.lit(unit, pl.Int64) - years * step, pl.lit(0, pl.Int64)))
                  .otherwise(unit))
    waived_by: dict[str, list[ir.Waiver]] = {}
    for waiver in policy.waivers:
        for name in waiver.names:
            waived_by.setdefault(name, []).append(waiver)
    pieces: list[pl.Expr] = []
    met_all: pl.Expr = pl.lit(True)
    extra: list[pl.Expr] = []
    for index, requirement in enumerate(sorted(policy.requirements, key=lambda r: r.name)):
        chosen: Any = None
        required_chain: Any = None
        for line in requirement.lines:
            holds = teacher_cond(line.when)
            amount = plan.fixed(line.amount)
            if isinstance(line.measure, ir.MeasureCredits):
                required = (pl.lit(amount, pl.Int64) * factor) // (10**factor_digits)
            else:
                required = pl.lit(amount, pl.Int64)
            actual = pl.col(measures[line.measure])
            if chosen is None:
                chosen = pl.when(holds).then(actual)
                required_chain = pl.when(holds).then(required)
            else:
                chosen = chosen.when(holds).then(actual)
                required_chain = required_chain.when(holds).then(required)
        if chosen is None:
            continue
        actual_col, required_col = f"__a{index}", f"__req{index}"
        waived = pl.lit(False)
        for waiver in waived_by.get(requirement.name, []):
            waived = waived | teacher_cond(waiver.when)
        extra += [chosen.otherwise(None).alias(actual_col),
                  required_chain.otherwise(None).alias(required_col),
                  waived.alias(f"__wv{index}")]
        present = pl.col(required_col).is_not_null()
        met = pl.col(f"__wv{index}") | (pl.col(actual_col) >= pl.col(required_col))
        text = pl.concat_str([
            pl.lit('{"name":' + dumps(requirement.name) + ',"required":"'),
            render(pl.col(required_col), plan.digits), pl.lit('","actual":"'),
            render(pl.col(actual_col), plan.digits), pl.lit('","met":'), bool_text(met),
            pl.when(pl.col(f"__wv{index}")).then(pl.lit(',"waived":true')).otherwise(pl.lit("")),
            pl.lit("}"),
        ])
        pieces.append(pl.when(present).then(text).otherwise(None))
        met_all = met_all & (~present | met)
    if extra:
        tp = tp.with_columns(extra)
    joined = (pl.concat_str(pieces, separator=",", ignore_nulls=True).fill_null("")
              if pieces else pl.lit(""))
    return attrs.evolve(state, tp=tp.with_columns(
        pl.concat_str([pl.lit("["), joined, pl.lit("]")]).alias("requirements"),
        met_all.alias("met"),
    ))
