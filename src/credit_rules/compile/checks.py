"""Static checks over the checked IR. Each check is a function returning diagnostics;
``CHECKS`` is the visible pipeline (sqlglot's ``RULES`` habit)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from credit_rules import ir
from credit_rules.errors import Diagnostic, Severity
from credit_rules.syntax import ast
from credit_rules.values import periods_within

Check = Callable[[ir.Policy, ast.Policy], list[Diagnostic]]


def _produces_credits(policy: ir.Policy) -> bool:
    for rule in policy.rules:
        match rule.award:
            case ir.CountCredits() | ir.Block():
                return True
            case ir.Fixed(_, unit) | ir.IfQualified(_, unit):
                if unit == "credits" or policy.rate is not None:
                    return True
            case ir.CountHours():
                if policy.rate is not None:
                    return True
    return False


def _produces_hours(policy: ir.Policy) -> bool:
    for rule in policy.rules:
        match rule.award:
            case ir.CountHours() | ir.Block():
                return True
            case ir.Fixed(_, "hours") | ir.IfQualified(_, "hours"):
                return True
    return False


def check_units(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """A credit requirement in a policy that awards no credits is hours written as credits."""
    out: list[Diagnostic] = []
    credits, hours = _produces_credits(policy), _produces_hours(policy)
    for requirement in policy.requirements:
        for line in requirement.lines:
            if isinstance(line.measure, ir.MeasureCredits) and not credits:
                out.append(Diagnostic(
                    "E150", f"requirement `{requirement.name}` counts credits, but no rule awards credits",
                    line.span,
                    "hours used where credits are expected? write `hours`, or declare `10 hours = 1 credit`"
                    if hours else "add a rule that awards credits",
                ))
            if isinstance(line.measure, ir.MeasureHours) and not hours:
                out.append(Diagnostic(
                    "E151", f"requirement `{requirement.name}` counts hours, but no rule counts hours",
                    line.span, "add a rule with `count hours`, or write the requirement in credits",
                ))
    return out


def _same_filter(a: ir.Cond | None, b: ir.Cond | None) -> bool:
    return a == b


def check_impossible_requirements(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """A requirement above the cap on the very same credits can never be met."""
    out: list[Diagnostic] = []
    for requirement in policy.requirements:
        for line in requirement.lines:
            if not isinstance(line.measure, ir.MeasureCredits):
                continue
            for cap in policy.caps:
                if not _same_filter(cap.of, line.measure.of):
                    continue
                ceiling = cap.amount
                if cap.per is not None:
                    if policy.window is None:
                        continue
                    ceiling = cap.amount * len(periods_within(cap.per, policy.window))
                if ceiling < line.amount:
                    out.append(Diagnostic(
                        "E152",
                        f"requirement `{requirement.name}` asks at least {line.amount} credits "
                        f"but cap `{cap.name}` allows at most {ceiling}",
                        line.span, "lower the requirement or raise the cap",
                        notes=(("the cap is here", cap.span),),
                    ))
    return out


def check_requirement_variants(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """Lines after an unconditional line can never apply (the first matching line wins)."""
    out: list[Diagnostic] = []
    for requirement in policy.requirements:
        for index, line in enumerate(requirement.lines[:-1]):
            if line.when is None:
                for later in requirement.lines[index + 1:]:
                    out.append(Diagnostic(
                        "W153", f"this line of `{requirement.name}` can never apply", later.span,
                        "the line before it applies to everyone; put the `when` lines first",
                        Severity.WARNING,
                    ))
                break
    return out


def check_caps(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for cap in policy.caps:
        if cap.amount < 0:
            out.append(Diagnostic("E154", f"cap `{cap.name}` is negative", cap.span))
        elif cap.amount == Decimal(0):
            out.append(Diagnostic("W155", f"cap `{cap.name}` allows nothing", cap.span,
                                  "a cap of 0 makes the rules it covers useless", Severity.WARNING))
    return out


def check_waivers(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    names = {r.name for r in policy.requirements}
    for waiver in policy.waivers:
        if set(waiver.names) >= names and names:
            out.append(Diagnostic(
                "W156", "this waiver waives every requirement", waiver.span,
                "is that intended? a waived requirement is reported as met", Severity.WARNING,
            ))
    return out


CHECKS: tuple[Check, ...] = (
    check_units,
    check_impossible_requirements,
    check_requirement_variants,
    check_caps,
    check_waivers,
)


def run_checks(policy: ir.Policy, tree: ast.Policy) -> list[Diagnostic]:
    """Run every check in ``CHECKS`` and return all their diagnostics."""
    out: list[Diagnostic] = []
    for check in CHECKS:
        out.extend(check(policy, tree))
    return out
