"""``invariant`` lines: checked on Hypothesis-generated inputs, failures shrunk to a test block.

An invariant must hold for every teacher and period of the inputs
:func:`credit_rules.testing.strategies.cases` draws for the policy. The shrunk
counterexample is built as an :class:`~credit_rules.syntax.ast.Test` node and printed by
the formatter, so it pastes back into the policy as a test block that pins down what the
policy does today.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis.errors import NoSuchExample

from credit_rules import ir
from credit_rules.eval import interpreter
from credit_rules.eval.conditions import teacher_holds
from credit_rules.eval.interpreter import TeacherPeriod, outcome_facts, ranked_sets
from credit_rules.syntax import ast
from credit_rules.syntax.printer import print_policy
from credit_rules.testing.blocks import PolicyUnderTest
from credit_rules.testing.expect import field_value
from credit_rules.testing.strategies import Case, cases
from credit_rules.values import PeriodKind, canonical


@attrs.frozen
class Violation:
    """A generated input on which an invariant fails (``failing``) or evaluation crashed (``crash``)."""

    case: Case
    results: tuple[TeacherPeriod, ...]
    failing: TeacherPeriod | None
    crash: str | None = None


def find_violation(policy: ir.Policy, invariant: ir.Invariant, case: Case) -> Violation | None:
    """Evaluate ``case`` and return the first teacher-period where ``invariant`` fails."""
    try:
        events = case.event_table(policy.timezone).events()
        results = interpreter.evaluate_detailed(policy, events, case.teachers(), as_of=case.as_of)
    except Exception as exc:  # a crash on valid input is a failure too
        return Violation(case, (), None, f"{type(exc).__name__}: {exc}")
    for tp, ranked in zip(results, ranked_sets(policy, results), strict=True):
        if not teacher_holds(invariant.cond, outcome_facts(tp, ranked)):
            return Violation(case, tuple(results), tp)
    return None


def shrunk_violation(policy: ir.Policy, invariant: ir.Invariant, examples: int) -> Violation | None:
    """Search ``examples`` generated inputs (derandomized: the same run every time) for a
    violation and shrink it to the smallest; None when the invariant held on all of them."""
    config = settings(
        max_examples=examples, derandomize=True, database=None, deadline=None,
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
    )
    try:
        found = find(cases(policy), lambda case: find_violation(policy, invariant, case) is not None,
                     settings=config)
    except NoSuchExample:
        return None
    return find_violation(policy, invariant, found)


# ---------------------------------------------------------------------- counterexamples as test blocks
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NUMBER = re.compile(r"\d+(\.\d+)?\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_DATE_COLUMNS = ("at", "hired_on", "retired_on")
_NUMBER_COLUMNS = ("hours", "credits", "score", "count", "words")


def cell_value(column: str, text: str) -> ast.Value:
    """One cell of a generated row as a test-block value: a date or a number where the
    column holds one, a bare word where the grammar reads one, else quoted text."""
    if _DATE.match(text) and column in _DATE_COLUMNS:
        return ast.DateValue(dt.date.fromisoformat(text))
    if _NUMBER.match(text) and column in _NUMBER_COLUMNS:
        return ast.Number(Decimal(text))
    if _NAME.match(text) and text not in ("true", "false"):
        return ast.Word(text)
    return ast.Text(text)


def outcome_value(value: Any) -> ast.Value:
    """A ledger value as an expected value: ``none``, ``true``, a canonical number, a date, a word."""
    if value is None:
        return ast.Word("none")
    if isinstance(value, bool):
        return ast.Bool(value)
    if isinstance(value, Decimal | int):
        return ast.Number(Decimal(canonical(Decimal(value))))
    if isinstance(value, dt.date):
        return ast.DateValue(value)
    return cell_value("", str(value))


def _assigns(row: dict[str, str], key: str) -> tuple[ast.Assign, ...]:
    return tuple(ast.Assign(k, cell_value(k, v)) for k, v in row.items() if k != key)


def counterexample_test(put: PolicyUnderTest, invariant: ir.Invariant, case: Case,
                        failing: TeacherPeriod | None) -> ast.Test:
    """The case as a test block that pins down what the policy does today: its roster and
    events, and for the failing teacher-period the credits and every outcome the invariant reads."""
    clauses: list[ast.TestClause] = [ast.TestAsOf(case.as_of)]
    clauses += [ast.TestTeacher(row["teacher_id"], _assigns(row, "teacher_id")) for row in case.roster]
    clauses += [ast.TestEvent(row["event_id"], _assigns(row, "event_id")) for row in case.events]
    if failing is not None:
        r = failing.row
        checks: list[ast.Expectation] = []
        if put.policy.evaluate is not PeriodKind.WINDOW:
            checks.append(ast.ExpectPeriod(r.period_start, r.period_end))
        facts = [n.field for n in ir.walk(invariant.cond)
                 if isinstance(n, ir.Compare | ir.Member) and n.scope is ir.Scope.FACT]
        for field in dict.fromkeys(["credits", *facts]):
            checks.append(ast.ExpectField(field, "=", outcome_value(field_value(r, [r], field))))
        clauses.append(ast.Expect(r.teacher_id, tuple(checks)))
    return ast.Test(f"counterexample to invariant {invariant.name}", tuple(clauses))


def counterexample_block(put: PolicyUnderTest, invariant: ir.Invariant, case: Case,
                         failing: TeacherPeriod | None) -> str:
    """:func:`counterexample_test` as canonical policy text, printed by the formatter."""
    test = counterexample_test(put, invariant, case, failing)
    printed = print_policy(ast.Policy(ast.Header(put.tree.header.name), (test,)))
    return printed.split("\n\n", 1)[1].rstrip("\n")  # the block alone, without the header
