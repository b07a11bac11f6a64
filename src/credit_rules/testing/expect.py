"""The ``expect`` clauses of a test block, checked against ledger rows.

``expect ID …`` checks the teacher's ledger row: the row of ``period A .. B`` when given,
else the teacher's only row. Checks: ``credits``, ``hours``, ``leave_days``, ``grade``
(``none`` for no grade), ``excellent_eligible``, ``met``, ``rows`` (how many rows the
teacher has), ``by_category.X``, ``by_level.X`` (0 when absent), ``period_start``,
``period_end``; ``requirement N met | not met | waived | absent``, ``requirement N
required V``, ``requirement N actual V``; ``rule R credits|hours OP V`` and ``rule R
events (e1, e2)`` (the rule's trace entry).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from credit_rules.errors import did_you_mean
from credit_rules.records import LedgerRow, RequirementResult
from credit_rules.syntax import ast
from credit_rules.testing.blocks import PolicyUnderTest, SetupError, value_text
from credit_rules.values import canonical


@attrs.frozen
class Mismatch:
    """One expectation that did not hold."""

    check: str
    expected: str
    actual: str
    line: int

    def __str__(self) -> str:
        return f"line {self.line}: {self.check}: expected {self.expected}, got {self.actual}"



_NUMBER_FIELDS = ("credits", "hours", "leave_days", "rows", "credited_hours")  # credited_hours: issue 9 (B)
_BOOL_FIELDS = ("excellent_eligible", "met")
_DATE_FIELDS = ("period_start", "period_end")
_FIELDS = (*_NUMBER_FIELDS, *_BOOL_FIELDS, *_DATE_FIELDS, "grade", "by_category.", "by_level.")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return canonical(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _holds(actual: Any, op: str, expected: Any) -> bool:
    if actual is None or expected is None:
        return (actual == expected) if op == "=" else (actual != expected) if op == "!=" else False
    return bool(_OPS[op](actual, expected))


def _expected(field: str, value: ast.Value, line: int) -> Any:
    """The expected value of ``field`` as a Python value, checked against the field's type."""
    base = field.split(".", 1)[0] + "." if "." in field else field
    if base in (*_NUMBER_FIELDS, "by_category.", "by_level.", "credits", "hours"):
        if isinstance(value, ast.Number):
            return value.value
        raise SetupError(f"line {line}: `{field}` is a number")
    if base in _BOOL_FIELDS:
        if isinstance(value, ast.Bool):
            return value.value
        raise SetupError(f"line {line}: `{field}` is true or false")
    if base in _DATE_FIELDS:
        if isinstance(value, ast.DateValue):
            return value.value
        raise SetupError(f"line {line}: `{field}` is a date")
    if base == "grade":
        if isinstance(value, ast.Word | ast.Text):
            return None if value.text in ("none", "null") else value.text
        raise SetupError(f"line {line}: `grade` is a word: excellent, qualified, unqualified or none")
    known = [f.rstrip(".") for f in _FIELDS]
    hint = did_you_mean(field, known) or f"one of: {', '.join(known)}"
    raise SetupError(f"line {line}: cannot check `{field}`; {hint}")


def field_value(row: LedgerRow, rows: Sequence[LedgerRow], field: str) -> Any:
    if field == "rows":
        return Decimal(len(rows))
    if field.startswith("by_category."):
        return row.by_category.get(field.split(".", 1)[1], Decimal(0))
    if field.startswith("by_level."):
        return row.by_level.get(field.split(".", 1)[1], Decimal(0))
    if field == "leave_days":
        return Decimal(row.leave_days)
    return getattr(row, field)


def check_names(put: PolicyUnderTest, test: ast.Test) -> None:
    """Unknown requirement or rule names in expectations are mistakes in the test itself."""
    requirements = [r.name for r in put.policy.requirements]
    rules = [r.name for r in put.policy.rules]
    for clause in test.clauses:
        if not isinstance(clause, ast.Expect):
            continue
        for check in clause.checks:
            if isinstance(check, ast.ExpectRequirement | ast.ExpectRequired | ast.ExpectActual):
                if check.requirement.partition("/")[0] not in requirements:  # NAME/YEAR: issue 9 (B)
                    hint = did_you_mean(check.requirement, requirements) or f"one of: {', '.join(requirements)}"
                    raise SetupError(f"line {check.span.line}: unknown requirement `{check.requirement}`; {hint}")
            elif isinstance(check, ast.ExpectRule | ast.ExpectRuleEvents):
                if check.rule not in rules:
                    hint = did_you_mean(check.rule, rules) or f"one of: {', '.join(rules)}"
                    raise SetupError(f"line {check.span.line}: unknown rule `{check.rule}`; {hint}")
                if isinstance(check, ast.ExpectRule) and check.field not in ("credits", "hours"):
                    raise SetupError(f"line {check.span.line}: a rule has `credits` or `hours`, "
                                         f"not `{check.field}`")
            elif isinstance(check, ast.ExpectField):
                _expected(check.field, check.value, check.span.line)


def _requirement(row: LedgerRow, name: str) -> RequirementResult | None:
    return next((r for r in row.requirements if r.name == name), None)


def _state(result: RequirementResult | None) -> str:
    if result is None:
        return "absent"
    if result.waived:
        return "waived"
    return "met" if result.met else "not met"


def _select_row(expect: ast.Expect, rows: Sequence[LedgerRow]) -> LedgerRow | Mismatch:
    line = expect.span.line
    period = next((c for c in expect.checks if isinstance(c, ast.ExpectPeriod)), None)
    periods = ", ".join(f"{r.period_start} .. {r.period_end}" for r in rows) or "none"
    if period is not None:
        for row in rows:
            if (row.period_start, row.period_end) == (period.start, period.end):
                return row
        return Mismatch(f"row of {expect.teacher_id}", f"a row for {period.start} .. {period.end}",
                        f"rows for {periods}", period.span.line)
    if len(rows) == 1:
        return rows[0]
    if not rows:
        return Mismatch(f"row of {expect.teacher_id}", "a ledger row",
                        "none (the teacher is in neither the roster nor the events)", line)
    return Mismatch(f"row of {expect.teacher_id}", "one row (say which with `period A .. B`)",
                    f"{len(rows)} rows: {periods}", line)


def check_expectations(expect: ast.Expect, rows: Sequence[LedgerRow]) -> list[Mismatch]:
    """Compare one ``expect`` clause with the teacher's ledger rows."""
    mine = [r for r in rows if r.teacher_id == expect.teacher_id]
    only_count = all(isinstance(c, ast.ExpectField) and c.field == "rows" for c in expect.checks)
    selected = None if only_count else _select_row(expect, mine)
    if isinstance(selected, Mismatch):
        return [selected]
    out: list[Mismatch] = []
    for check in expect.checks:
        line = check.span.line
        match check:
            case ast.ExpectPeriod():
                continue
            case ast.ExpectField(field, op, value):
                expected = _expected(field, value, line)
                actual = (Decimal(len(mine)) if field == "rows"
                          else field_value(selected, mine, field) if selected is not None else None)
                if not _holds(actual, op, expected):
                    shown = _show(expected) if op == "=" else f"{op} {_show(expected)}"
                    out.append(Mismatch(field, shown, _show(actual), line))
            case ast.ExpectRequirement(name, state):
                assert selected is not None
                actual_state = _state(_requirement(selected, name))
                ok = actual_state == state or (state == "met" and actual_state == "waived")
                if not ok:
                    out.append(Mismatch(f"requirement {name}", state, actual_state, line))
            case ast.ExpectRequired(name, value) | ast.ExpectActual(name, value):
                assert selected is not None
                what = "required" if isinstance(check, ast.ExpectRequired) else "actual"
                result = _requirement(selected, name)
                expected_amount = value.value if isinstance(value, ast.Number) else value_text(value)
                got = None if result is None else (result.required if what == "required" else result.actual)
                if got is None or got != expected_amount:
                    out.append(Mismatch(f"requirement {name} {what}", _show(expected_amount),
                                        "absent" if result is None else _show(got), line))
            case ast.ExpectRule(rule, field, op, value):
                assert selected is not None
                entry = next((t for t in selected.trace if t.rule == rule), None)
                got_amount = Decimal(0) if entry is None else (entry.credits if field == "credits" else entry.hours)
                expected_amount = _expected("credits", value, line)
                if not _holds(got_amount, op, expected_amount):
                    shown = _show(expected_amount) if op == "=" else f"{op} {_show(expected_amount)}"
                    out.append(Mismatch(f"rule {rule} {field}", shown, _show(got_amount), line))
            case ast.ExpectRuleEvents(rule, events):
                assert selected is not None
                entry = next((t for t in selected.trace if t.rule == rule), None)
                got_events = () if entry is None else entry.events
                if tuple(got_events) != tuple(events):
                    out.append(Mismatch(f"rule {rule} events", f"({', '.join(events)})",
                                        f"({', '.join(got_events)})", line))
    return out
