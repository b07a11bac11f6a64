"""A checked policy made ready for the bulk engine: its exact fixed-point scale, and what
cannot be vectorised (SPEC §4: "Arithmetic is exact decimal. No binary float ever
reaches a result").

Numbers are fixed-point Int64 at one scale per plan, ``10^digits`` (``digits`` >= 6, the
micro-units of the event table): every constant of the policy (rate, amounts, caps,
requirements times the reduction fraction) is an exact integer at that scale, so every
sum, product, block division and comparison is exact integer arithmetic. With
``10 hours = 1 credit`` the scale is 10^7, so values up to ~9.2 * 10^11 credits are
exact; a plan that would need more than 10^10 lists a fallback (``plan.fallbacks``) and
:func:`credit_rules.api.evaluate` gives that policy to the interpreter.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import attrs
import polars as pl

from credit_rules import ir
from credit_rules.eval.bulk.conditions import Unsupported
from credit_rules.eval.bulk.fields import Facts, event_compiler, teacher_compiler
from credit_rules.schema import MICRO_DIGITS
from credit_rules.values import exact_div

MAX_DIGITS = 10


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


def _digits(policy: ir.Policy) -> int:
    need = [MICRO_DIGITS]
    rate = policy.rate
    if rate is not None:
        need.append(MICRO_DIGITS + places(rate))
    for rule in policy.rules:
        award = rule.award
        if isinstance(award, ir.Fixed | ir.IfQualified):
            need.append(places(award.amount))
            if award.unit == "hours" and rate is not None:
                need.append(places(award.amount * rate))
        elif isinstance(award, ir.Block):
            need += [places(award.credits), places(award.hours)]
            if award.pro_rata:
                need.append(MICRO_DIGITS + places(exact_div(award.credits, award.hours)))
    for cap in policy.caps:
        need.append(places(cap.amount))
    fraction = places(policy.reduction.fraction) if policy.reduction else 0
    for requirement in policy.requirements:
        for line in requirement.lines:
            extra = fraction if isinstance(line.measure, ir.MeasureCredits) else 0
            need.append(places(line.amount) + extra)
    return max(need)


def compile_plan(policy: ir.Policy) -> BulkPlan:
    """Check that every construct of ``policy`` compiles, and fix the arithmetic scale."""
    fallbacks: list[tuple[str, str]] = []
    try:
        digits = _digits(policy)
    except (ValueError, ArithmeticError) as exc:
        return BulkPlan(policy, MICRO_DIGITS, (("exact arithmetic", str(exc)),))
    if digits > MAX_DIGITS:
        fallbacks.append((
            "exact arithmetic",
            f"amounts need 10^-{digits} precision; Int64 fixed point stops at 10^-{MAX_DIGITS}",
        ))
    for rule in policy.rules:
        if isinstance(rule.award, ir.Block) and rule.award.hours <= 0:
            fallbacks.append((f"rule {rule.name}", "a block of zero hours"))
    plan = BulkPlan(policy, min(digits, MAX_DIGITS), tuple(fallbacks))
    try:
        _dry_compile(plan)
    except Unsupported as exc:
        fallbacks.append(("condition", str(exc)))
    return BulkPlan(policy, plan.digits, tuple(fallbacks))


def _dry_compile(plan: BulkPlan) -> None:
    """Compile every condition once against placeholder columns (raises Unsupported)."""
    policy = plan.policy
    event = event_compiler(("extra",), view=False)
    view = event_compiler(("extra",), view=True)
    teacher = teacher_compiler(plan.digits, Facts.placeholder(), outcome=True)
    for rule in policy.rules:
        event(rule.where)
        teacher(rule.when)
    for cap in policy.caps:
        view(cap.of)
    for penalty in policy.penalties:
        event(penalty.where)
    for requirement in policy.requirements:
        for line in requirement.lines:
            teacher(line.when)
            measure = line.measure
            if isinstance(measure, ir.MeasureCredits | ir.MeasureHours):
                view(measure.of)
            elif isinstance(measure, ir.MeasureCount):
                event(measure.where)
    for waiver in policy.waivers:
        teacher(waiver.when)
    if policy.excellent:
        teacher(policy.excellent.when)
    for rank in policy.ranks:
        teacher(rank.among)
