"""What each rule awards, on which event, before caps; leave days; penalties.

One job, SPEC §4: "Every award lands on an event: a per-event award on that event; a
block award (``per``) on the event that completes each block, with hours pooled over the
period; an award on a condition (``if qualified``) on the event that settles it (the
deciding assessment)"; "``N credits per M hours`` awards N for each *complete* block of M
hours"; "qualified means the teacher's *latest* assessment ... for the rule's program has
grade ``qualified`` or ``excellent``"; "``absent task = one day leave``". Reproduces
the core's awards (:class:`credit_rules.core.Award`): which events, which pick,
which amount and landing were decided by the lowering.

Stages: :func:`facts` (the per teacher-period facts conditions ask about, and each rule's
``when``), :func:`awards` (awards and leave days), :func:`penalties`.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import attrs
import polars as pl

from credit_rules import core
from credit_rules.eval.bulk.conditions import CondCompiler
from credit_rules.eval.bulk.fields import FIELD_COLUMNS
from credit_rules.eval.bulk.periods import grain_exprs
from credit_rules.eval.bulk.state import ROW, BatchState, K, by_key, join_flags

#: The award frame's columns before the views (see :func:`award_views`).
AWARD_SCHEMA: dict[str, Any] = {
    ROW: pl.Int64, K: pl.Int64, "rule_ix": pl.Int32, "credits_k": pl.Int64,
    "hours_k": pl.Int64, "v_category": pl.String, "v_level": pl.String,
}


def facts(state: BatchState) -> BatchState:
    """Per teacher-period facts (``qualified PROGRAM``, ``any KIND``) and each award's and
    leave rule's ``when``, once per teacher-period."""
    ev, tp = state.ev, state.tp
    fact_frames: list[pl.DataFrame] = []
    if state.facts.programs:
        assessments = ev.filter(pl.col("kind") == "assessment")
        for program, name in state.facts.programs.items():
            fact_frames.append(
                assessments.filter(pl.col("program") == program)
                .group_by(K, maintain_order=True).agg(pl.col("grade").last())
                .select(K, pl.col("grade").is_in(_qualifying(state)).fill_null(False).alias(name)))
    for kind, name in state.facts.kinds.items():
        fact_frames.append(
            ev.filter(pl.col("kind") == kind).select(K).unique()
            .with_columns(pl.lit(True).alias(name)))
    for frame in fact_frames:
        tp = join_flags(tp, frame)
    teacher_cond = state.teacher_cond()
    clauses: list[core.Award | core.Leave] = [*state.core.awards, *state.core.leave]
    when_cols = {c.name: f"__w{index}" for index, c in enumerate(clauses) if c.when is not None}
    if when_cols:
        tp = tp.with_columns([
            teacher_cond(c.when).alias(when_cols[c.name]) for c in clauses if c.name in when_cols
        ])
    return attrs.evolve(state, tp=tp, when_cols=when_cols)


def _qualifying(state: BatchState) -> list[str]:
    return sorted(state.core.qualifying_grades)


def award_views(state: BatchState) -> list[tuple[str, pl.Expr]]:
    """What the register and the requirements ask of each award, computed on the award
    while its event's columns are at hand: ``__cJ`` (inside cap J), ``__ckJ`` (cap J's
    period), ``__vNAME`` (counted by measure NAME)."""
    view_cond = state.event_cond(view=True)
    views: list[tuple[str, pl.Expr]] = []
    for j, cap in enumerate(state.core.caps):
        views.append((f"__c{j}", view_cond(cap.of)))
        if cap.grain is not None:
            views.append((f"__ck{j}", grain_exprs(cap.grain, pl.col("day"))[0].cast(pl.Int32)))
        if cap.per_column is not None:  # issue 9 (B): the event's value, as text
            column = FIELD_COLUMNS.get(cap.per_column, cap.per_column)
            present = column in state.ev.columns
            views.append((f"__cv{j}", pl.col(column).cast(pl.String) if present else pl.lit(None, pl.String)))
    for measure, name in state.measures.items():
        if isinstance(measure, core.CreditedOf | core.HoursOf):
            views.append((f"__v{name}", view_cond(measure.of)))
    return views


def _selected(state: BatchState, select: core.Select, ev: pl.DataFrame, event_cond: CondCompiler,
              when_of: str | None) -> pl.DataFrame:
    """The events a clause looks at (kind, program, filter), of teacher-periods where its
    ``when`` holds."""
    cond = (pl.col("kind") == select.kind) & event_cond(select.where)
    if select.program is not None:
        cond = cond & (pl.col("program") == select.program).fill_null(False)
    frame = ev.filter(cond)
    if when_of is not None and when_of in state.when_cols:
        frame = frame.filter(by_key(state.tp, state.when_cols[when_of]))
    return frame


def awards(state: BatchState) -> BatchState:
    """``awards`` (every rule's, exceptions applied) and ``leave_days`` on ``tp``."""
    ev, tp = state.ev, state.tp
    event_cond = state.event_cond()
    views = award_views(state)
    # An exception's events are kept from the award it is an exception to.
    taken = {a.name: _picked(state, a, ev, event_cond).select(ROW)
             for a in state.rules if a.is_exception}
    award_frames: list[pl.DataFrame] = []
    for index, award in enumerate(state.rules):
        seen = ev
        if award.excluded_by:
            hidden = pl.concat([taken[name] for name in award.excluded_by])[ROW].unique()
            seen = ev.filter(~pl.col(ROW).is_in(hidden.implode()))
        frame = _amounts(state, award, index, _picked(state, award, seen, event_cond), views)
        if frame.height:
            award_frames.append(frame)
    leave_frames = [_selected(state, lv.select, ev, event_cond, lv.name).select(K, ROW)
                    for lv in state.core.leave]
    if leave_frames:
        leave = (pl.concat(leave_frames).unique()
                 .group_by(K).agg(pl.len().cast(pl.Int64).alias("leave_days")))
        tp = join_flags(tp, leave, 0)
    else:
        tp = tp.with_columns(pl.lit(0, pl.Int64).alias("leave_days"))
    return attrs.evolve(state, tp=tp, awards=_concat_awards(award_frames, views))


def _picked(state: BatchState, award: core.Award, ev: pl.DataFrame, event_cond: CondCompiler,
            ) -> pl.DataFrame:
    """The events ``award`` credits (its ``pick`` applied), in time order."""
    base = _selected(state, award.select, ev, event_cond, award.name)
    if award.pick == "deciding":
        base = base.group_by(K, maintain_order=True).agg(pl.all().last()).select(base.columns)
        return base.filter(pl.col("grade").is_in(_qualifying(state)).fill_null(False))
    if award.pick == "first":
        return base.unique(subset=K, keep="first", maintain_order=True)
    return base


def _amounts(state: BatchState, award: core.Award, index: int, base: pl.DataFrame,
             views: list[tuple[str, pl.Expr]]) -> pl.DataFrame:
    """Credits and study hours of each picked event, and where they land."""
    plan = state.plan
    hours: pl.Expr
    credits: pl.Expr
    denominator = 1  # Prorated: credits_k holds the numerator until the rounding divides
    match award.amount:
        case core.Prorated(per_credits, per_hours):
            ratio = Fraction(per_credits) / Fraction(per_hours)
            hours = plan.scaled("hours_u")
            credits = hours * pl.lit(ratio.numerator, pl.Int64)
            denominator = ratio.denominator
        case core.PerHour(rate):
            hours = plan.scaled("hours_u")
            credits = plan.rate_times("hours_u", rate)
        case core.Stated():
            hours = plan.scaled("hours_u")
            credits = plan.scaled("credits_u")
        case core.Fixed(fixed_credits, fixed_hours):
            credits, hours = pl.lit(plan.fixed(fixed_credits)), pl.lit(plan.fixed(fixed_hours))
        case core.Blocks(block_credits, block_hours):
            hours = plan.scaled("hours_u")
            size = plan.fixed(block_hours)
            after = hours.cum_sum().over(K)
            before = after - hours
            credits = (after // size - before // size) * plan.fixed(block_credits)
    out: pl.DataFrame = base.with_columns(
        credits.cast(pl.Int64).alias("credits_k"),
        hours.cast(pl.Int64).alias("hours_k"),
        _landing(award.category, "category").alias("v_category"),
        _landing(award.level, "level").alias("v_level"),
        pl.lit(index, pl.Int32).alias("rule_ix"),
    )
    if award.rounding is not None:
        out = out.with_columns(_rounded(plan.fixed(award.rounding.step), award.rounding,
                                        pl.col("credits_k"), denominator).alias("credits_k"))
    return out.select(ROW, K, "rule_ix", "credits_k", "hours_k", "v_category", "v_level",
                      *(expr.alias(name) for name, expr in views))


def _round(value: pl.Expr, step: int, mode: str, denominator: int) -> pl.Expr:
    """``value / denominator`` (``value`` Int64 at the plan's scale) rounded to a multiple
    of ``step``, exactly: floor division, plus one step for ``half up`` when the remainder
    is at least half the divisor."""
    divisor = step * denominator
    whole = value // divisor
    if mode == "half up":
        whole = whole + ((value - whole * divisor) * 2 >= divisor).cast(pl.Int64)
    return whole * step


def _rounded(step: int, rounding: core.Rounding, credits: pl.Expr, denominator: int) -> pl.Expr:
    """A rule's declared rounding (:class:`credit_rules.core.Rounding`) of ``credits /
    denominator``: each award, or pooled, the increments of the rounded running total over
    the teacher-period (the rule's awards are in time order within ``K``)."""
    if not rounding.pooled:
        return _round(credits, step, rounding.mode, denominator)
    after = credits.cum_sum().over(K)
    return (_round(after, step, rounding.mode, denominator)
            - _round(after - credits, step, rounding.mode, denominator))


def _landing(landing: core.Landing, column: str) -> pl.Expr:
    return (pl.col(column) if landing.from_event else pl.lit(landing.value, pl.String)).cast(pl.String)


def _concat_awards(
    frames: list[pl.DataFrame], views: list[tuple[str, pl.Expr]],
) -> pl.DataFrame:
    """All awards, rule after rule (each rule's awards in time order)."""
    schema = {**AWARD_SCHEMA, **{n: (pl.Int32 if n.startswith("__ck") else
                                     pl.String if n.startswith("__cv") else pl.Boolean)
                                 for n, _ in views}}
    if frames:
        return pl.concat([f.cast(schema) for f in frames], how="vertical")  # type: ignore[arg-type]
    return pl.DataFrame(schema=schema)


def penalties(state: BatchState) -> BatchState:
    """``__void`` (no credits) and ``__noexc`` (not excellent-eligible) on ``tp``: a
    penalty event in the period (SPEC §6.1: "a ``reprimand`` in the window: no credits
    and not excellent-eligible")."""
    tp = state.tp
    event_cond = state.event_cond()
    for name, group in (("__void", [p for p in state.core.penalties if p.void_credits]),
                        ("__noexc", [p for p in state.core.penalties if p.not_excellent])):
        if group:
            hit = pl.concat([_selected(state, p.select, state.ev, event_cond, None).select(K)
                             for p in group]).unique().with_columns(pl.lit(True).alias(name))
            tp = join_flags(tp, hit)
        else:
            tp = tp.with_columns(pl.lit(False).alias(name))
    return attrs.evolve(state, tp=tp)
