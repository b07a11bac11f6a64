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
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.eval.bulk.conditions import Unsupported
from credit_rules.eval.bulk.fields import Facts, event_compiler, event_conds, teacher_compiler, teacher_conds
from credit_rules.schema import MICRO_DIGITS

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
    def core(self) -> core.Policy:
        """The policy's core form: every decision the stages read (lowered once, cached)."""
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
    for cap in policy.caps:
        need.append(places(cap.amount))
    factor_places = max((places(f) for _, f in policy.reduction.factors), default=0) \
        if policy.reduction else 0
    for requirement in policy.requirements:
        for line in requirement.lines:
            need.append(places(line.amount) + (factor_places if line.reducible else 0))
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
    try:
        _dry_compile(plan)
    except Unsupported as exc:
        fallbacks.append(("condition", str(exc)))
    return BulkPlan(policy, plan.digits, tuple(fallbacks))


def _dry_compile(plan: BulkPlan) -> None:
    """Compile every condition once against placeholder columns (raises Unsupported)."""
    event = event_compiler(("extra",), view=False)
    view = event_compiler(("extra",), view=True)
    teacher = teacher_compiler(plan.digits, Facts.placeholder(), outcome=True)
    for cond in teacher_conds(plan.core):
        teacher(cond)
    for cond, on_award in event_conds(plan.core):
        (view if on_award else event)(cond)
