"""A checked policy made ready for the bulk engine: its exact fixed-point scale, and what
cannot be vectorised (SPEC §4: "Arithmetic is exact decimal. No binary float ever
reaches a result").

Numbers are fixed-point Int64 at one scale per plan, ``10^digits`` (``digits`` >= 6, the
micro-units of the event table): every constant of the policy (rate, amounts, caps,
requirements times the reduction factors) is an exact integer at that scale, so every
sum, product, block division and comparison is exact integer arithmetic. With
``10 hours = 1 credit`` the scale is 10^7, so values up to ~9.2 * 10^11 credits are
exact; a plan that would need more than 10^10 lists a fallback (``plan.fallbacks``) and
:func:`credit_rules.api.evaluate` gives that policy to the interpreter.

Int64 never wraps silently. Constants are bounded by ``check`` (every number a policy
states is at most 1,000,000), and a plan whose constant products (a requirement times its
reduction factor) could pass Int64 lists a fallback. Sums depend on the data: before the
first sum is formed, :func:`check_sums` bounds, for every teacher-period of a batch, the
magnitude of every sum the stages form (awards, block running sums, the register's cap
totals and running sums, totals, breakdowns, measures, trace sums) from the events'
hours, credits and counts; if any bound reaches Int64 the batch is refused with
:class:`BulkOverflow` (the interpreter computes it exactly), never answered wrongly.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from fractions import Fraction

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.eval.bulk.conditions import Unsupported
from credit_rules.eval.bulk.fields import Facts, event_compiler, event_conds, teacher_compiler, teacher_conds
from credit_rules.schema import MICRO_DIGITS

MAX_DIGITS = 10
#: The largest magnitude an Int64 sum may reach, with a margin for the float64 bound
#: (relative error below n * 2^-53 for n summands: far below 10^-6 for n < 10^9).
INT64_SAFE = float(2**63) * (1 - 1e-6)


class BulkOverflow(ArithmeticError):
    """A batch whose sums could pass Int64 at the plan's scale: the bulk engine refuses it
    rather than wrap; evaluate it with the interpreter (exact decimals)."""


def places(value: Decimal) -> int:
    """Decimal places of ``value`` once trailing zeros are dropped."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(-exponent, 0)


@attrs.frozen
class BulkPlan:
    """A policy ready for :func:`~credit_rules.eval.bulk.run`: its fixed-point scale and
    what cannot be vectorised.

    ``fallbacks`` lists ``(construct, reason)``; when it is not empty the bulk engine
    refuses the plan and :mod:`credit_rules.api` evaluates the policy with the interpreter
    (same results, no speed).
    """

    policy: ir.Policy
    digits: int
    fallbacks: tuple[tuple[str, str], ...] = ()

    @functools.cached_property
    def core(self) -> core.Policy:
        """The policy's core form: every decision the stages read. Kept on the plan: the
        stages ask for it many times per batch, and a lookup in ``lower``'s cache would
        hash the whole policy each time."""
        return core.lower(self.policy)

    @property
    def scale(self) -> int:
        return int(10**self.digits)

    def fixed(self, value: Decimal) -> int:
        """``value`` as an exact integer at the plan's scale."""
        x = Fraction(value) * self.scale
        if x.denominator != 1:
            raise AssertionError(f"{value} is not exact at 10^-{self.digits}")
        return int(x)

    def scaled(self, column: str) -> pl.Expr:
        """A micro-unit ``column`` at the plan's scale (null as 0)."""
        return pl.col(column).fill_null(0) * pl.lit(10 ** (self.digits - MICRO_DIGITS), pl.Int64)

    def rate_times(self, column: str, rate: Decimal) -> pl.Expr:
        """``column`` (micro-units) times an exact decimal ``rate``, at the plan's scale."""
        numerator = Fraction(rate) * 10 ** places(rate)
        assert numerator.denominator == 1
        shift = self.digits - MICRO_DIGITS - places(rate)
        assert shift >= 0, "the plan's scale covers the rate"
        return pl.col(column).fill_null(0) * pl.lit(int(numerator) * 10**shift, pl.Int64)


def score_micro(value: Decimal) -> int:
    """A score threshold in micro-units, rounded so that ``score_u >= it`` is exact."""
    x = Fraction(value) * 10**MICRO_DIGITS
    return int(-((-x.numerator) // x.denominator))  # ceil


def _digits(policy: core.Policy) -> int:
    """The decimal places every constant of the core needs (and 6 for the event columns)."""
    need = [MICRO_DIGITS]
    for award in policy.awards:
        match award.amount:
            case core.PerHour(rate):
                need.append(MICRO_DIGITS + places(rate))
            case core.Fixed(credits, hours) | core.Blocks(credits, hours):
                need += [places(credits), places(hours)]
            case core.Prorated():  # only its rounded awards reach a sum
                pass
        if award.rounding is not None:
            need.append(places(award.rounding.step))
    rate_places = max((places(a.amount.credits_per_hour) for a in policy.awards
                       if isinstance(a.amount, core.PerHour)), default=0)
    for cap in policy.caps:
        need.append(places(cap.amount))
        if cap.measure == "hours":  # issue 9 (B): admitted hours times a rate stay exact
            need.append(places(cap.amount) + rate_places)
            need += [places(a.amount.hours) + rate_places for a in policy.awards
                     if isinstance(a.amount, core.Fixed)]
    factor_places = max((places(f) for _, f in policy.reduction.factors), default=0) \
        if policy.reduction else 0
    for requirement in policy.requirements:
        for line in requirement.lines:
            need.append(places(line.amount) + (factor_places if line.reducible else 0))
        if requirement.carry is not None:  # issue 9 (E2)
            need.append(places(requirement.carry.amount))
    return max(need)


def compile_plan(policy: ir.Policy) -> BulkPlan:
    """Check that every construct of ``policy`` compiles, and fix the arithmetic scale."""
    fallbacks: list[tuple[str, str]] = []
    try:
        digits = _digits(core.lower(policy))
    except (ValueError, ArithmeticError) as exc:
        return BulkPlan(policy, MICRO_DIGITS, (("exact arithmetic", str(exc)),))
    if digits > MAX_DIGITS:
        fallbacks.append((
            "exact arithmetic",
            f"amounts need 10^-{digits} precision; Int64 fixed point stops at 10^-{MAX_DIGITS}",
        ))
    for award in core.lower(policy).awards:
        if isinstance(award.amount, core.Blocks) and award.amount.hours <= 0:
            fallbacks.append((f"rule {award.name}", "a block of zero hours"))
    plan = BulkPlan(policy, min(digits, MAX_DIGITS), tuple(fallbacks))
    fallbacks.extend(_constant_overflows(plan))
    try:
        _dry_compile(plan)
    except Unsupported as exc:
        fallbacks.append(("condition", str(exc)))
    return BulkPlan(policy, plan.digits, tuple(fallbacks))


def _constant_overflows(plan: BulkPlan) -> list[tuple[str, str]]:
    """Constant products the stages form that could pass Int64 (a requirement amount
    times its reduction factor at the factor's scale)."""
    lowered = plan.core
    out: list[tuple[str, str]] = []
    if lowered.reduction is None or not lowered.reduction.factors:
        return out
    factor_places = max(places(f) for _, f in lowered.reduction.factors)
    largest = max([Decimal(1), *(abs(f) for _, f in lowered.reduction.factors)])
    for requirement in lowered.requirements:
        for line in requirement.lines:
            if line.reducible and float(abs(line.amount)) * plan.scale * float(largest) \
                    * 10.0**factor_places >= INT64_SAFE:
                out.append((f"requirement {requirement.name}",
                            "its amount times the reduction factor passes Int64 at the plan's scale"))
    return out


def sum_bound(plan: BulkPlan, ev: pl.DataFrame, key: str) -> float:
    """The largest magnitude any sum of one teacher-period could reach, at the plan's scale.

    Per teacher-period ``key`` of ``ev`` (the events the policy reads), from the sums of
    the absolute hours, credits and counts and the number of events: each award of each
    rule is bounded by its amount (hours x rate, stated credits, fixed amounts, whole
    blocks plus one), and every sum a stage forms is a sum of some of them.
    """
    if ev.height == 0:
        return 0.0
    per_hour = 0.0  # credits + hours per hour of an event, over all rules
    per_credit = 0.0
    per_event = 0.0
    for award in plan.core.awards:
        match award.amount:
            case core.PerHour(rate):
                per_hour += 1 + float(abs(rate))
            case core.Stated():
                per_hour += 1
                per_credit += 1
            case core.Fixed(fixed_credits, fixed_hours):
                per_event += float(abs(fixed_credits) + abs(fixed_hours))
            case core.Blocks(block_credits, block_hours):
                size = float(abs(block_hours)) or 1.0
                per_hour += 1 + float(abs(block_credits)) / size
                per_event += float(abs(block_credits))
            case core.Prorated(per_credits, per_hours):  # the numerator column: hours x p
                per_hour += 1 + float((Fraction(per_credits) / Fraction(per_hours)).numerator)
        if award.rounding is not None:  # rounding half up adds at most one step per award
            per_event += float(abs(award.rounding.step))
    # a carried amount (at most its cap) is added to a requirement's actual amount (issue 9, E2)
    carried = float(sum(abs(r.carry.amount) for r in plan.core.requirements if r.carry is not None))
    parts: list[pl.Expr] = [pl.len().cast(pl.Float64) * per_event + carried]
    for column, weight in (("hours_u", per_hour / 10**MICRO_DIGITS), ("credits_u", per_credit / 10**MICRO_DIGITS),
                           ("count", 1.0)):
        if column in ev.columns:
            parts.append(pl.col(column).cast(pl.Float64).abs().fill_null(0).sum() * weight)
    # a whole batch under the limit needs no grouping
    whole = float(ev.select(pl.sum_horizontal(parts)).item() or 0.0) * plan.scale
    if whole < INT64_SAFE:
        return whole
    per_key = ev.group_by(key).agg(pl.sum_horizontal(parts).alias("__bound"))
    return float(per_key["__bound"].max() or 0.0) * plan.scale  # type: ignore[arg-type]


def check_sums(plan: BulkPlan, ev: pl.DataFrame, key: str) -> None:
    """Raise :class:`BulkOverflow` if a teacher-period's sums could pass Int64."""
    bound = sum_bound(plan, ev, key)
    if bound >= INT64_SAFE:
        raise BulkOverflow(
            f"policy {plan.policy.name}: a teacher-period's sums could reach {bound:.3g} at the "
            f"bulk engine's scale 10^{plan.digits}, beyond Int64 ({2**63 - 1}); "
            "evaluate this batch with the interpreter")


def _dry_compile(plan: BulkPlan) -> None:
    """Compile every condition once against placeholder columns (raises Unsupported)."""
    inputs = plan.core.inputs
    declared = tuple(c.name for c in inputs.of(ir.Scope.EVENT))
    event = event_compiler(("extra", *declared), view=False, inputs=inputs)
    view = event_compiler(("extra", *declared), view=True, inputs=inputs)
    teacher = teacher_compiler(plan.digits, Facts.placeholder(), outcome=True, inputs=inputs)
    for cond in teacher_conds(plan.core):
        teacher(cond)
    for cond, on_award in event_conds(plan.core):
        (view if on_award else event)(cond)
