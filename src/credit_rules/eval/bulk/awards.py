"""What each rule awards, on which event, before caps; leave days; penalties.

One job, SPEC §4: "Every award lands on an event: a per-event award on that event; a
block award (``per``) on the event that completes each block, with hours pooled over the
period; an award on a condition (``if qualified``) on the event that settles it (the
deciding assessment)"; "``N credits per M hours`` awards N for each *complete* block of M
hours"; "qualified means the teacher's *latest* assessment ... for the rule's program has
grade ``qualified`` or ``excellent``"; "``absent task = one day leave``". Reproduces
``interpreter._rule_awards``.

Stages: :func:`facts` (the per teacher-period facts conditions ask about, and each rule's
``when``), :func:`awards` (awards and leave days), :func:`penalties`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs
import polars as pl

from credit_rules import ir
from credit_rules.eval.bulk.conditions import CondCompiler
from credit_rules.eval.bulk.periods import period_exprs
from credit_rules.eval.bulk.state import ROW, BatchState, K, by_key, join_flags
from credit_rules.schema import QUALIFYING_GRADES
from credit_rules.values import exact_div

QUALIFYING = list(QUALIFYING_GRADES)

#: The award frame's columns before the views (see :func:`award_views`).
AWARD_SCHEMA: dict[str, Any] = {
    ROW: pl.Int64, K: pl.Int64, "rule_ix": pl.Int32, "credits_k": pl.Int64,
    "hours_k": pl.Int64, "v_category": pl.String, "v_level": pl.String,
}


def facts(state: BatchState) -> BatchState:
    """Per teacher-period facts (``qualified PROGRAM``, ``any KIND``) and each rule's
    ``when``, once per teacher-period."""
    ev, tp = state.ev, state.tp
    fact_frames: list[pl.DataFrame] = []
    if state.facts.programs:
        assessments = ev.filter(pl.col("kind") == "assessment")
        for program, name in state.facts.programs.items():
            fact_frames.append(
                assessments.filter(pl.col("program") == program)
                .group_by(K, maintain_order=True).agg(pl.col("grade").last())
                .select(K, pl.col("grade").is_in(QUALIFYING).fill_null(False).alias(name)))
    for kind, name in state.facts.kinds.items():
        fact_frames.append(
            ev.filter(pl.col("kind") == kind).select(K).unique()
            .with_columns(pl.lit(True).alias(name)))
    for frame in fact_frames:
        tp = join_flags(tp, frame)
    teacher_cond = state.teacher_cond()
    when_cols = {rule.name: f"__w{index}" for index, rule in enumerate(state.rules)
                 if rule.when is not None}
    if when_cols:
        tp = tp.with_columns([
            teacher_cond(rule.when).alias(when_cols[rule.name]) for rule in state.rules
            if rule.name in when_cols
        ])
    return attrs.evolve(state, tp=tp, when_cols=when_cols)


def award_views(state: BatchState) -> list[tuple[str, pl.Expr]]:
    """What the register and the requirements ask of each award, computed on the award
    while its event's columns are at hand: ``__cJ`` (inside cap J), ``__ckJ`` (cap J's
    period), ``__vNAME`` (counted by measure NAME)."""
    view_cond = state.event_cond(view=True)
    views: list[tuple[str, pl.Expr]] = []
    for j, cap in enumerate(state.policy.caps):
        views.append((f"__c{j}", view_cond(cap.of)))
        if cap.per is not None:
            views.append((f"__ck{j}", period_exprs(cap.per, pl.col("day"))[0].cast(pl.Int32)))
    for measure, name in state.measures.items():
        if isinstance(measure, ir.MeasureCredits | ir.MeasureHours):
            views.append((f"__v{name}", view_cond(measure.of)))
    return views


def awards(state: BatchState) -> BatchState:
    """``awards`` (every rule's, ``exception to`` applied) and ``leave_days`` on ``tp``."""
    ev, tp = state.ev, state.tp
    event_cond = state.event_cond()
    views = award_views(state)

    def rule_awards(rule: ir.Rule, index: int, events: pl.DataFrame) -> pl.DataFrame:
        return _rule_awards(state, rule, index, events, event_cond, views)

    award_frames: list[pl.DataFrame] = []
    leave_frames: list[pl.DataFrame] = []
    # `exception to`: where an exception fires on an event, its target does not see it.
    computed: dict[str, pl.DataFrame] = {}
    excluded: dict[str, list[pl.DataFrame]] = {}
    for index, rule in enumerate(state.rules):
        if rule.exception_to is not None and not isinstance(rule.award, ir.Leave):
            computed[rule.name] = rule_awards(rule, index, ev)
            excluded.setdefault(rule.exception_to, []).append(computed[rule.name].select(ROW))
    for index, rule in enumerate(state.rules):
        if rule.name in computed:
            award_frame = computed[rule.name]
        elif rule.name in excluded and not isinstance(rule.award, ir.Leave):
            seen = pl.concat(excluded[rule.name])[ROW].unique()
            award_frame = rule_awards(rule, index, ev.filter(~pl.col(ROW).is_in(seen.implode())))
        else:
            award_frame = rule_awards(rule, index, ev)
        if isinstance(rule.award, ir.Leave):
            leave_frames.append(award_frame)
        elif award_frame.height:
            award_frames.append(award_frame)

    if leave_frames:
        leave = (pl.concat([f.select(K, ROW) for f in leave_frames]).unique()
                 .group_by(K).agg(pl.len().cast(pl.Int64).alias("leave_days")))
        tp = join_flags(tp, leave, 0)
    else:
        tp = tp.with_columns(pl.lit(0, pl.Int64).alias("leave_days"))
    return attrs.evolve(state, tp=tp, awards=_concat_awards(award_frames, views))


def _rule_awards(
    state: BatchState, rule: ir.Rule, index: int, ev: pl.DataFrame, event_cond: CondCompiler,
    views: list[tuple[str, pl.Expr]],
) -> pl.DataFrame:
    """One rule's awards (or, for a leave rule, its leave events), in time order."""
    plan = state.plan
    award = rule.award
    where = event_cond(rule.where)
    if isinstance(award, ir.IfQualified):
        base = ev.filter((pl.col("kind") == "assessment") & (pl.col("program") == (rule.program or ""))
                         & where)
        base = _applies(state, base, rule)
        base = base.group_by(K, maintain_order=True).agg(pl.all().last()).select(base.columns)
        base = base.filter(pl.col("grade").is_in(QUALIFYING).fill_null(False))
    else:
        cond = pl.col("kind") == rule.kind
        if rule.program is not None:
            cond = cond & (pl.col("program") == rule.program).fill_null(False)
        base = _applies(state, ev.filter(cond & where), rule)
        if rule.first:
            base = base.unique(subset=K, keep="first", maintain_order=True)
    if isinstance(award, ir.Leave):
        leave: pl.DataFrame = base.select(K, ROW)
        return leave
    rate = plan.policy.rate
    hours: pl.Expr
    credits: pl.Expr
    match award:
        case ir.CountHours():
            hours = plan.scaled("hours_u")
            credits = plan.rate_times("hours_u", rate) if rate is not None else pl.lit(0)
        case ir.CountCredits():
            hours = plan.scaled("hours_u")
            credits = plan.scaled("credits_u")
        case ir.Fixed(amount, unit) | ir.IfQualified(amount, unit):
            if unit == "credits":
                credits, hours = pl.lit(plan.fixed(amount)), pl.lit(0)
            else:
                converted = amount * rate if rate is not None else Decimal(0)
                credits, hours = pl.lit(plan.fixed(converted)), pl.lit(plan.fixed(amount))
        case ir.Block(block_credits, block_hours, pro_rata):
            hours = plan.scaled("hours_u")
            if pro_rata:
                credits = plan.rate_times("hours_u", exact_div(block_credits, block_hours))
            else:
                size = plan.fixed(block_hours)
                after = hours.cum_sum().over(K)
                before = after - hours
                credits = (after // size - before // size) * plan.fixed(block_credits)
        case _:  # pragma: no cover
            raise AssertionError(award)
    category = (pl.lit(None, pl.String) if rule.without_category
                else pl.lit(rule.as_category, pl.String) if rule.as_category
                else pl.col("category"))
    level = pl.lit(rule.as_level, pl.String) if rule.as_level else pl.col("level")
    out: pl.DataFrame = base.with_columns(
        credits.cast(pl.Int64).alias("credits_k"),
        hours.cast(pl.Int64).alias("hours_k"),
        category.cast(pl.String).alias("v_category"),
        level.cast(pl.String).alias("v_level"),
        pl.lit(index, pl.Int32).alias("rule_ix"),
    )
    return out.select(ROW, K, "rule_ix", "credits_k", "hours_k", "v_category", "v_level",
                      *(expr.alias(name) for name, expr in views))


def _applies(state: BatchState, frame: pl.DataFrame, rule: ir.Rule) -> pl.DataFrame:
    """The rows of ``frame`` whose teacher-period satisfies the rule's ``when``."""
    if rule.name not in state.when_cols:
        return frame
    return frame.filter(by_key(state.tp, state.when_cols[rule.name]))


def _concat_awards(
    frames: list[pl.DataFrame], views: list[tuple[str, pl.Expr]],
) -> pl.DataFrame:
    """All awards, rule after rule (each rule's awards in time order)."""
    schema = {**AWARD_SCHEMA, **{n: (pl.Int32 if n.startswith("__ck") else pl.Boolean)
                                 for n, _ in views}}
    if frames:
        return pl.concat([f.cast(schema) for f in frames], how="vertical")  # type: ignore[arg-type]
    return pl.DataFrame(schema=schema)


def penalties(state: BatchState) -> BatchState:
    """``__void`` (no credits) and ``__noexc`` (not excellent-eligible) on ``tp``: a
    penalty event in the period (SPEC §6.1: "a ``reprimand`` in the window: no credits
    and not excellent-eligible")."""
    policy, tp = state.policy, state.tp
    event_cond = state.event_cond()
    void_parts = [p for p in policy.penalties if p.void_credits]
    noexc_parts = [p for p in policy.penalties if p.not_excellent]
    for name, group in (("__void", void_parts), ("__noexc", noexc_parts)):
        if group:
            cond = pl.lit(False)
            for penalty in group:
                cond = cond | ((pl.col("kind") == penalty.kind) & event_cond(penalty.where))
            hit = state.ev.filter(cond).select(K).unique().with_columns(pl.lit(True).alias(name))
            tp = join_flags(tp, hit)
        else:
            tp = tp.with_columns(pl.lit(False).alias(name))
    return attrs.evolve(state, tp=tp)
