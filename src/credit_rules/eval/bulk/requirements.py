"""Requirements: each checked, never awarded.

One job, SPEC §4: "``at least`` requirements are checked and reported, never awarded",
and SPEC §5 ``requirements`` ("list of ``{name, required, actual, met}`` ... a
requirement that does not apply to the teacher ... is left out") and ``met`` ("true when
every requirement is met"); with the reduction for teachers hired during the cycle and
the waivers of SPEC §6.2. Reproduces ``interpreter._requirements``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import attrs
import numpy as np
import polars as pl

from credit_rules import core
from credit_rules.core.nodes import share_places
from credit_rules.eval.bulk.decimals import ledger_decimal, lists_by_key
from credit_rules.eval.bulk.plan import places
from credit_rules.eval.bulk.state import ROW, BatchState, K, join_flags
from credit_rules.schema import LEDGER_REQUIREMENTS, LEDGER_TRACE, ROSTER_DATE_COLUMNS


def requirements(state: BatchState) -> BatchState:
    """``requirements`` (a list of structs) and ``met`` on ``tp``; the count and ``qualified``
    measures are computed here, the credits and hours measures come from the totals.
    Which line applies, whether it is reducible, by what factor, and which waivers can
    excuse it are the core's decisions (:class:`credit_rules.core.Requirement`)."""
    plan, tp, ev, measures = state.plan, state.tp, state.ev, state.measures
    teacher_cond, event_cond = state.teacher_cond(), state.event_cond()
    policy = state.core
    scale = plan.scale
    event_sums: list[pl.Expr] = []
    for measure, name in measures.items():
        match measure:
            case core.CountOf(select):
                picked = (pl.col("kind") == select.kind) & event_cond(select.where)
                if select.program is not None:
                    picked = picked & (pl.col("program") == select.program).fill_null(False)
                event_sums.append(
                    pl.when(picked).then(pl.col("count")).otherwise(0).sum().mul(scale).alias(name))
            case core.QualifiedIn(program):
                tp = tp.with_columns(
                    pl.when(pl.col(state.facts.programs[program])).then(scale).otherwise(0)
                    .cast(pl.Int64).alias(name))
            case core.BestOf():
                pass  # the largest of its groups, once they are computed (_best_groups)
            case core.ChoiceOf():  # settled from the other requirements (_choices)
                tp = tp.with_columns(pl.lit(0, pl.Int64).alias(name))
            case _:
                if name not in tp.columns:  # no award at all
                    tp = tp.with_columns(pl.lit(0, pl.Int64).alias(name))
    if event_sums:
        kinds = sorted({m.select.kind for m in measures if isinstance(m, core.CountOf)})
        tp = join_flags(
            tp, ev.lazy().filter(pl.col("kind").is_in(kinds)).group_by(K).agg(event_sums)
            .collect(engine="streaming"), 0)
    tp = _best_groups(tp, measures)
    factor_digits, factor = _factor(policy.reduction)
    entries: list[tuple[pl.Expr, pl.Expr]] = []
    met_all: pl.Expr = pl.lit(True)
    extra: list[pl.Expr] = []
    yearly = _YearlyMeasures(state) if any(ln.per_year for r in policy.requirements for ln in r.lines) else None
    for index, requirement in enumerate(policy.requirements):
        if yearly is not None and requirement.lines and requirement.lines[0].per_year:
            waived = pl.lit(False)
            for cond in requirement.waived_when:
                waived = waived | teacher_cond(cond)
            for year in yearly.years:
                present, met, entry = yearly.entry(requirement, year, waived)
                entries.append((present, entry))
                met_all = met_all & (~present | met)
            continue
        chosen: Any = None
        required_chain: Any = None
        for line in requirement.lines:
            holds = teacher_cond(line.when)
            if line.since is not None:  # a dated line: periods starting on or after its day (issue 9, E2)
                holds = holds & (pl.col("pstart") >= pl.lit(line.since, pl.Date))
            amount = plan.fixed(line.amount)
            required = ((pl.lit(amount, pl.Int64) * factor) // (10**factor_digits) if line.reducible
                        else pl.lit(amount, pl.Int64))
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
        for cond in requirement.waived_when:
            waived = waived | teacher_cond(cond)
        extra += [chosen.otherwise(None).alias(actual_col),
                  required_chain.otherwise(None).alias(required_col),
                  waived.alias(f"__wv{index}")]
        present = pl.col(required_col).is_not_null()
        met = pl.col(f"__wv{index}") | (pl.col(actual_col) >= pl.col(required_col))
        entries.append((present, pl.struct(
            pl.lit(requirement.name, pl.String).alias("name"),
            ledger_decimal(pl.col(required_col), plan.digits).alias("required"),
            ledger_decimal(pl.col(actual_col), plan.digits).alias("actual"),
            met.alias("met"),
            pl.col(f"__wv{index}").alias("waived"),
        )))
        if not requirement.alternative:  # an alternative counts through its choice only
            met_all = met_all & (~present | met)
    if yearly is not None:
        tp = tp.with_columns(yearly.columns(tp.height))
    if extra:
        tp = tp.with_columns(extra)
        tp = carry_forward(state, tp)
    tp = _choices(state, tp)
    # one entry per (teacher-period, requirement that applies), requirements by name
    long = (pl.concat([tp.filter(present).select(K, entry.alias("entry")) for present, entry in entries])
            .sort(K, maintain_order=True) if entries
            else pl.DataFrame(schema={K: pl.Int64, "entry": LEDGER_REQUIREMENTS.inner}))
    listed = lists_by_key(long[K].to_numpy(), tp.height, long["entry"], "requirements")
    return attrs.evolve(state, tp=tp.with_columns(
        listed.cast(LEDGER_REQUIREMENTS), met_all.alias("met")))


def _best_groups(tp: pl.DataFrame, measures: Mapping[core.Measure, str]) -> pl.DataFrame:
    """A best-of measure: the largest of its groups' measures (each computed as any other)."""
    best = [pl.max_horizontal([pl.col(measures[group]) for _, group in m.groups]).alias(name)
            for m, name in measures.items() if isinstance(m, core.BestOf) and m.groups]
    return tp.with_columns(best) if best else tp


def _met_column(tp: pl.DataFrame, index: int) -> pl.Expr:
    """Requirement ``index`` applies to the teacher and is met or waived (false when it has no line)."""
    if f"__req{index}" not in tp.columns:
        return pl.lit(False)
    required = pl.col(f"__req{index}")
    return (required.is_not_null()
            & (pl.col(f"__wv{index}") | (pl.col(f"__a{index}") >= required)).fill_null(False))


def _choices(state: BatchState, tp: pl.DataFrame) -> pl.DataFrame:
    """Choices, settled once every other requirement is (choices do not nest): a choice's
    actual is the number of its requirements that apply and are met or waived; then
    ``__rmI`` (requirement I applies and is met) for ``requirement X met`` in outcomes.
    Reproduces ``interpreter.settle_choices``."""
    policy, measures, scale = state.core, state.measures, state.plan.scale
    index_of = {r.name: i for i, r in enumerate(policy.requirements)}
    counts = [
        pl.sum_horizontal([_met_column(tp, index_of[n]).cast(pl.Int64) for n in m.names] or [pl.lit(0, pl.Int64)])
        .mul(scale).cast(pl.Int64).alias(name)
        for m, name in measures.items() if isinstance(m, core.ChoiceOf)
    ]
    if counts:
        tp = tp.with_columns(counts)
        teacher_cond = state.teacher_cond()
        actuals: list[pl.Expr] = []
        for index, requirement in enumerate(policy.requirements):
            if not any(isinstance(line.measure, core.ChoiceOf) for line in requirement.lines):
                continue
            chosen: Any = None
            for line in requirement.lines:
                holds, actual = teacher_cond(line.when), pl.col(measures[line.measure])
                chosen = pl.when(holds).then(actual) if chosen is None else chosen.when(holds).then(actual)
            actuals.append(chosen.otherwise(None).alias(f"__a{index}"))
        tp = tp.with_columns(actuals)
    return tp.with_columns(_met_column(tp, index).alias(f"__rm{index}")
                           for index in range(len(policy.requirements)))


def carry_forward(state: BatchState, tp: pl.DataFrame) -> pl.DataFrame:
    """Carry-forward (issue 9, E2; :class:`credit_rules.core.Carry`) on the chosen actual
    amounts ``__a{i}``: the amount carried in, ``__cf{i}``, is added to them.

    Carry-forward needs the policy's fixed periods (``check`` E274), so every teacher has
    every period, in order, in consecutive rows of ``tp``: the carry into period ``p`` is
    the previous row's ``min(cap, max(0, actual + carry - required))`` (0 in a period
    where the requirement does not apply), and 0 in a teacher's first period. The
    recurrence is solved by iterating over the period index, one vectorised pass per
    period (never a loop over teachers)."""
    policy, plan = state.core, state.plan
    fixed = policy.periods.fixed
    carrying = [(index, r.carry) for index, r in enumerate(policy.requirements) if r.carry is not None]
    if not carrying or fixed is None:
        return tp
    first = pl.col("pstart") == pl.lit(fixed[0].start, pl.Date)
    for index, carry in carrying:
        actual, required, name = pl.col(f"__a{index}"), pl.col(f"__req{index}"), f"__cf{index}"
        if f"__req{index}" not in tp.columns:
            continue  # the requirement has no line: never applies
        cap = pl.lit(plan.fixed(carry.amount), pl.Int64)
        tp = tp.with_columns(pl.lit(0, pl.Int64).alias(name))
        for _ in range(len(fixed) - 1):
            surplus = actual + pl.col(name) - required
            out = pl.when(required.is_not_null()).then(
                pl.min_horizontal(cap, pl.max_horizontal(surplus, pl.lit(0, pl.Int64)))).otherwise(0)
            tp = tp.with_columns(pl.when(first).then(0).otherwise(out.shift(1)).cast(pl.Int64).alias(name))
        tp = tp.with_columns(pl.when(required.is_not_null()).then(pl.col(name)).otherwise(0).alias(name))
        tp = tp.with_columns((actual + pl.col(name)).alias(f"__a{index}"))
    return tp


def carry_trace(state: BatchState) -> BatchState:
    """The trace entries ``carry_forward:NAME`` (issue 9, E2) after the rules' entries, in
    requirement order: the amount carried into each requirement, where it is not 0."""
    policy, plan, tp = state.core, state.plan, state.tp
    carrying = [(index, r) for index, r in enumerate(policy.requirements)
                if r.carry is not None and f"__cf{index}" in tp.columns]
    if not state.trace or not carrying:
        return state
    entries: list[pl.Expr] = []
    zero = ledger_decimal(pl.lit(0, pl.Int64), plan.digits)
    for index, requirement in carrying:
        carry = requirement.carry
        assert carry is not None
        amount = ledger_decimal(pl.col(f"__cf{index}"), plan.digits)
        entry = pl.struct(
            pl.lit(requirement.carry_trace_rule, pl.String).alias("rule"),
            pl.lit(carry.source or requirement.source, pl.String).alias("source"),
            (amount if carry.unit == "credits" else zero).alias("credits"),
            (amount if carry.unit == "hours" else zero).alias("hours"),
            pl.lit([], pl.List(pl.String)).alias("events"),
        )
        entries.append(pl.when(pl.col(f"__cf{index}") > 0).then(entry).otherwise(None))
    added = pl.concat_list(entries).list.drop_nulls()
    trace = pl.concat_list(pl.col("trace"), added).cast(LEDGER_TRACE)
    return attrs.evolve(state, tp=tp.with_columns(trace.alias("trace")))


def _factor(reduction: core.Reduction | None) -> tuple[int, pl.Expr]:
    """The reduction factor of each teacher as an integer at 10^digits, looked up in the
    core's table by the year of the teacher's date (1 outside the table's range)."""
    if reduction is None or reduction.attribute not in ROSTER_DATE_COLUMNS:
        return 0, pl.lit(1, pl.Int64)
    digits = max(places(f) for _, f in reduction.factors)
    unit = 10**digits
    years = [year for year, _ in reduction.factors]
    scaled = [int(Fraction(f) * unit) for _, f in reduction.factors]
    day = pl.col(reduction.attribute)
    looked_up = day.dt.year().cast(pl.Int64).replace_strict(years, scaled, default=unit,
                                                            return_dtype=pl.Int64)
    return digits, pl.when(day.is_between(reduction.start, reduction.end)).then(looked_up).otherwise(unit)


class _YearlyMeasures:
    """issue 9 (B): requirements ``per year``: each measure summed per (teacher-period,
    calendar year), the whole months employed in each year, and one entry per year
    (:func:`credit_rules.core.nodes.year_shares`, :func:`~credit_rules.core.nodes.prorated`)."""

    def __init__(self, state: BatchState) -> None:
        self.state = state
        window = state.core.window
        assert window is not None, "check refuses a requirement per year without a window"
        self.years = list(range(window.start.year, window.end.year + 1))
        self.made: dict[tuple[str, int], np.ndarray[Any, Any]] = {}

    def _sums(self, measure: core.Measure, name: str) -> np.ndarray[Any, Any]:
        """Per teacher-period row, per year of the window: the measure (n_tp x n_years)."""
        state, y0, n_years = self.state, self.years[0], len(self.years)
        n_tp = state.tp.height
        out = np.zeros(max(n_tp, 1) * n_years, dtype=np.int64)
        ev = state.ev
        year_of_row = np.zeros(int(ev[ROW].to_numpy().max()) + 1 if ev.height else 1, dtype=np.int64)
        year_of_row[ev[ROW].to_numpy()] = ev["day"].dt.year().to_numpy()
        if isinstance(measure, core.CreditedOf | core.HoursOf):
            awards = state.awards
            if awards.height:
                years = year_of_row[awards[ROW].to_numpy()]
                inside = awards[f"__v{name}"].fill_null(False).to_numpy()
                value = awards["credited" if isinstance(measure, core.CreditedOf) else "hours_k"].to_numpy()
                code = awards[K].to_numpy() * n_years + (years - y0)
                np.add.at(out, code[inside], value[inside])
        elif isinstance(measure, core.CountOf):
            select = measure.select
            picked = (pl.col("kind") == select.kind) & state.event_cond()(select.where)
            if select.program is not None:
                picked = picked & (pl.col("program") == select.program).fill_null(False)
            counted = ev.filter(picked)
            if counted.height:
                years = counted["day"].dt.year().to_numpy().astype(np.int64)
                code = counted[K].to_numpy() * n_years + (years - y0)
                np.add.at(out, code, counted["count"].to_numpy().astype(np.int64) * state.plan.scale)
        return out.reshape(max(n_tp, 1), n_years)

    def column(self, measure: core.Measure, year: int) -> str:
        name = self.state.measures[measure]
        if (name, self.years[0]) not in self.made:
            sums = self._sums(measure, name)
            for i, y in enumerate(self.years):
                self.made[(name, y)] = sums[:, i]
        return f"{name}@{year}"

    def columns(self, n_tp: int) -> list[pl.Series]:
        return [pl.Series(f"{name}@{year}", values[:n_tp], dtype=pl.Int64)
                for (name, year), values in self.made.items()]

    def entry(self, requirement: core.Requirement, year: int, waived: pl.Expr,
              ) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
        plan, teacher_cond = self.state.plan, self.state.teacher_cond()
        months = _months(year)
        actual: Any = None
        required: Any = None
        for line in requirement.lines:
            holds = teacher_cond(line.when)
            step = 10 ** (plan.digits - share_places(line.amount))  # rounded down to it
            share = (pl.lit(plan.fixed(line.amount), pl.Int64) * months) // (12 * step) * step
            measured = pl.col(self.column(line.measure, year))
            actual = (pl.when(holds).then(measured) if actual is None else actual.when(holds).then(measured))
            required = (pl.when(holds).then(share) if required is None else required.when(holds).then(share))
        overlaps = (pl.col("pstart").dt.year() <= year) & (pl.col("pend").dt.year() >= year)
        actual_e, required_e = actual.otherwise(None), required.otherwise(None)
        present = overlaps & required_e.is_not_null()
        met = waived | (actual_e >= required_e)
        entry = pl.struct(
            pl.lit(f"{requirement.name}/{year}", pl.String).alias("name"),
            ledger_decimal(required_e, plan.digits).alias("required"),
            ledger_decimal(actual_e, plan.digits).alias("actual"),
            met.alias("met"), waived.alias("waived"),
        )
        return present, met, entry


def _months(year: int) -> pl.Expr:
    """The whole months of ``year`` inside the teacher-period and the employment dates
    (:func:`credit_rules.core.nodes.year_shares`), per tp row."""
    start = pl.max_horizontal(pl.col("pstart"), pl.lit(dt.date(year, 1, 1)), pl.col("hired_on"))
    end = pl.min_horizontal(pl.col("pend"), pl.lit(dt.date(year, 12, 31)), pl.col("retired_on"))
    first = start.dt.year().cast(pl.Int64) * 12 + start.dt.month().cast(pl.Int64) - 1 \
        + (start.dt.day() != 1).cast(pl.Int64)
    following = end + pl.duration(days=1)
    last = end.dt.year().cast(pl.Int64) * 12 + end.dt.month().cast(pl.Int64) - 1 \
        - (following.dt.day() != 1).cast(pl.Int64)
    return pl.when(start <= end).then(pl.max_horizontal(last - first + 1, pl.lit(0, pl.Int64))).otherwise(0)
