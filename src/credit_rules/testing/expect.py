"""The ``expect`` clauses of a test block, checked against ledger rows.

``expect ID …`` checks the teacher's ledger row: the row of ``period A .. B`` when given,
else the teacher's only row. Checks: ``credits``, ``hours``, ``leave_days``, ``grade``
(``none`` for no grade), ``excellent_eligible``, ``met``, ``rows`` (how many rows the
teacher has), ``by_category.X``, ``by_level.X`` (0 when absent), ``period_start``,
``period_end``; ``requirement N met | not met | waived | absent``, ``requirement N
required V``, ``requirement N actual V``; ``rule R credits|hours OP V`` and ``rule R
events (e1, e2)`` (the rule's trace entry); ``outcome O`` / ``not outcome O`` (a named
outcome's entry of ``outcomes``).
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from credit_rules import ir
from credit_rules.errors import did_you_mean
from credit_rules.eval.messages import Lang, amount, message, state_name
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
    lang: Lang = "en"

    def __str__(self) -> str:
        return message("test.mismatch", self.lang, line=self.line, check=self.check, expected=self.expected,
                       actual=self.actual)



_NUMBER_FIELDS = ("credits", "hours", "leave_days", "rows", "credited_hours")  # credited_hours: issue 9 (B)
_BOOL_FIELDS = ("excellent_eligible", "met")
_DATE_FIELDS = ("period_start", "period_end")
_FIELDS = (*_NUMBER_FIELDS, *_BOOL_FIELDS, *_DATE_FIELDS, "grade", "by_category.", "by_level.")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def _show(value: Any, lang: Lang = "en", unit: tuple[str, str | None] | None = None) -> str:
    """A value as a failure shows it; in Chinese every figure has its ``unit`` (name, kind)."""
    if value is None:
        return message("none", lang)
    if isinstance(value, bool):
        return message("true" if value else "false", lang)
    if isinstance(value, Decimal):
        if lang == "zh" and unit is not None:
            return amount(value, unit[0], lang, kind=unit[1])
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


def _hint(name: str, known: Sequence[str], lang: Lang) -> str:
    """The closest known name (``did you mean `x`?``), else the list of known names."""
    hint = did_you_mean(name, known)
    if hint is None:
        return message("setup.one_of", lang, names=", ".join(known))
    if lang == "en":
        return hint
    closest = hint.split("`")[1]  # did_you_mean's one sentence: did you mean `x`?
    return message("setup.did_you_mean", lang, name=closest)


def _expected(field: str, value: ast.Value, line: int, lang: Lang = "en") -> Any:
    """The expected value of ``field`` as a Python value, checked against the field's type."""
    base = field.split(".", 1)[0] + "." if "." in field else field
    if base in (*_NUMBER_FIELDS, "by_category.", "by_level.", "credits", "hours"):
        if isinstance(value, ast.Number):
            return value.value
        raise SetupError(message("setup.number", lang, line=line, field=field))
    if base in _BOOL_FIELDS:
        if isinstance(value, ast.Bool):
            return value.value
        raise SetupError(message("setup.bool", lang, line=line, field=field))
    if base in _DATE_FIELDS:
        if isinstance(value, ast.DateValue):
            return value.value
        raise SetupError(message("setup.date", lang, line=line, field=field))
    if base == "grade":
        if isinstance(value, ast.Word | ast.Text):
            return None if value.text in ("none", "null") else value.text
        raise SetupError(message("setup.grade", lang, line=line))
    known = [f.rstrip(".") for f in _FIELDS]
    hint = _hint(field, known, lang)
    raise SetupError(message("setup.unknown_field", lang, line=line, field=field, hint=hint))


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


def check_names(put: PolicyUnderTest, test: ast.Test, lang: Lang = "en") -> None:
    """Unknown requirement or rule names in expectations are mistakes in the test itself."""
    requirements = [r.name for r in put.policy.requirements]
    rules = [r.name for r in put.policy.rules]
    for clause in test.clauses:
        if not isinstance(clause, ast.Expect):
            continue
        for check in clause.checks:
            if isinstance(check, ast.ExpectRequirement | ast.ExpectRequired | ast.ExpectActual):
                if check.requirement.partition("/")[0] not in requirements:  # NAME/YEAR: issue 9 (B)
                    hint = _hint(check.requirement, requirements, lang)
                    raise SetupError(message("setup.unknown_requirement", lang, line=check.span.line,
                                             name=check.requirement, hint=hint))
            elif isinstance(check, ast.ExpectRule | ast.ExpectRuleEvents):
                if check.rule not in rules:
                    hint = _hint(check.rule, rules, lang)
                    raise SetupError(message("setup.unknown_rule", lang, line=check.span.line, name=check.rule,
                                             hint=hint))
                if isinstance(check, ast.ExpectRule) and check.field not in ("credits", "hours"):
                    raise SetupError(message("setup.rule_field", lang, line=check.span.line, field=check.field))
            elif isinstance(check, ast.ExpectField):
                _expected(check.field, check.value, check.span.line, lang)
            elif isinstance(check, ast.ExpectOutcome):
                outcomes = [o.name for o in put.policy.outcomes]
                if check.outcome not in outcomes:
                    raise SetupError(message("setup.unknown_outcome", lang, line=check.span.line,
                                             name=check.outcome, hint=_hint(check.outcome, outcomes, lang)))


def _requirement(row: LedgerRow, name: str) -> RequirementResult | None:
    return next((r for r in row.requirements if r.name == name), None)


def _state(result: RequirementResult | None) -> str:
    if result is None:
        return "absent"
    if result.waived:
        return "waived"
    return "met" if result.met else "not met"


def _select_row(expect: ast.Expect, rows: Sequence[LedgerRow], lang: Lang = "en") -> LedgerRow | Mismatch:
    line = expect.span.line
    period = next((c for c in expect.checks if isinstance(c, ast.ExpectPeriod)), None)
    to = " .. " if lang == "en" else " 至 "
    periods = message("list.sep", lang).join(f"{r.period_start}{to}{r.period_end}" for r in rows) \
        or message("none", lang)
    row_of = message("check.row_of", lang, teacher=expect.teacher_id)
    if period is not None:
        for row in rows:
            if (row.period_start, row.period_end) == (period.start, period.end):
                return row
        return Mismatch(row_of, message("check.a_row_for", lang, start=period.start, end=period.end),
                        message("check.rows_for", lang, periods=periods), period.span.line, lang)
    if len(rows) == 1:
        return rows[0]
    if not rows:
        return Mismatch(row_of, message("check.a_row", lang), message("check.no_row", lang), line, lang)
    return Mismatch(row_of, message("check.one_row", lang), message("check.n_rows", lang, n=len(rows), periods=periods),
                    line, lang)


#: the unit of a ledger field's figures (Chinese failures show it)
_FIELD_UNITS: dict[str, tuple[str, str | None]] = {
    "credits": ("credits", None), "hours": ("hours", None), "leave_days": ("days", None),
    "by_category.": ("credits", None), "by_level.": ("credits", None),
}


def _field_unit(field: str) -> tuple[str, str | None] | None:
    return _FIELD_UNITS.get(field.split(".", 1)[0] + "." if "." in field else field)


def _requirement_unit(policy: ir.Policy | None, name: str) -> tuple[str, str | None] | None:
    requirement = None if policy is None else next((r for r in policy.requirements if r.name == name), None)
    if requirement is None:
        return None
    measure = requirement.lines[0].measure
    return requirement.unit, measure.kind if isinstance(measure, ir.MeasureCount) else None


def check_expectations(expect: ast.Expect, rows: Sequence[LedgerRow], policy: ir.Policy | None = None,
                       lang: Lang = "en") -> list[Mismatch]:
    """Compare one ``expect`` clause with the teacher's ledger rows; ``lang``: the language of
    the mismatches (in Chinese every figure has its unit, read from ``policy``)."""
    mine = [r for r in rows if r.teacher_id == expect.teacher_id]
    only_count = all(isinstance(c, ast.ExpectField) and c.field == "rows" for c in expect.checks)
    selected = None if only_count else _select_row(expect, mine, lang)
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
                    unit = _field_unit(field)
                    shown = _show(expected, lang, unit)
                    shown = shown if op == "=" else f"{op} {shown}"
                    out.append(Mismatch(field, shown, _show(actual, lang, unit), line, lang))
            case ast.ExpectRequirement(name, state):
                assert selected is not None
                actual_state = _state(_requirement(selected, name))
                ok = actual_state == state or (state == "met" and actual_state == "waived")
                if not ok:
                    out.append(Mismatch(message("check.requirement", lang, name=name), state_name(state, lang),
                                        state_name(actual_state, lang), line, lang))
            case ast.ExpectRequired(name, value) | ast.ExpectActual(name, value):
                assert selected is not None
                what = "required" if isinstance(check, ast.ExpectRequired) else "actual"
                result = _requirement(selected, name)
                expected_amount = value.value if isinstance(value, ast.Number) else value_text(value)
                got = None if result is None else (result.required if what == "required" else result.actual)
                if got is None or got != expected_amount:
                    unit = _requirement_unit(policy, name)
                    out.append(Mismatch(message(f"check.requirement_{what}", lang, name=name),
                                        _show(expected_amount, lang, unit),
                                        state_name("absent", lang) if result is None else _show(got, lang, unit),
                                        line, lang))
            case ast.ExpectRule(rule, field, op, value):
                assert selected is not None
                entry = next((t for t in selected.trace if t.rule == rule), None)
                got_amount = Decimal(0) if entry is None else (entry.credits if field == "credits" else entry.hours)
                expected_amount = _expected("credits", value, line)
                if not _holds(got_amount, op, expected_amount):
                    unit = (field, None)
                    shown = _show(expected_amount, lang, unit)
                    shown = shown if op == "=" else f"{op} {shown}"
                    out.append(Mismatch(message("check.rule", lang, rule=rule, field=field), shown,
                                        _show(got_amount, lang, unit), line, lang))
            case ast.ExpectOutcome(name, holds):
                assert selected is not None
                got_outcome = selected.outcomes.get(name)
                if got_outcome is not holds:
                    out.append(Mismatch(message("check.outcome", lang, outcome=name), _show(holds, lang),
                                        _show(got_outcome, lang), line, lang))
            case ast.ExpectRuleEvents(rule, events):
                assert selected is not None
                entry = next((t for t in selected.trace if t.rule == rule), None)
                got_events = () if entry is None else entry.events
                if tuple(got_events) != tuple(events):
                    sep = ", " if lang == "en" else "，"  # as a test block writes it
                    open_, close = ("(", ")") if lang == "en" else ("（", "）")
                    out.append(Mismatch(message("check.rule_events", lang, rule=rule),
                                        f"{open_}{sep.join(events)}{close}", f"{open_}{sep.join(got_events)}{close}",
                                        line, lang))
    return out
