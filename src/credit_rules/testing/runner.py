"""Run the ``test`` blocks and ``invariant`` lines written in a policy file.

A test block is a roster, events and the ledger values expected of them::

    test "a qualified participant earns 18 credits":
      teacher t1 roles = "teacher;instructor"
      event a1 kind = assessment at = 2018-01-10 program = "remote-2017" grade = qualified
      expect t1 credits = 18, grade = qualified, excellent_eligible = true,
        requirement qualified met, rule remote_credit events (a1)

- ``teacher ID attr = value …`` is a roster row (``roles = "teacher;class_teacher"``,
  ``hired_on = 2023-05-01``, any roster column);
- ``event ID attr = value …`` is an event row; ``teacher_id`` defaults to the last
  ``teacher`` declared above it in the block; ``at`` is a date or a quoted datetime
  (``at = "2023-04-30T23:00"``). Rows go through the same loaders and validation as
  real input, and a row they reject fails the test with the reason;
- ``as of DATE`` decides the current period of per-semester policies (default: the
  end of the policy's window, else the day of the latest event);
- ``expect ID …`` checks the teacher's ledger row: the row of ``period A .. B`` when
  given, else the teacher's only row. Checks: ``credits``, ``hours``, ``leave_days``,
  ``grade`` (``none`` for no grade), ``excellent_eligible``, ``met``, ``rows`` (how many
  rows the teacher has), ``by_category.X``, ``by_level.X`` (0 when absent),
  ``period_start``, ``period_end``; ``requirement N met | not met | waived | absent``,
  ``requirement N required V``, ``requirement N actual V``; ``rule R credits|hours OP V``
  and ``rule R events (e1, e2)`` (the rule's trace entry).

Each block runs once per available engine; a failure reports expected and actual values
and the interpreter's explanation of that teacher. Invariants must hold for every teacher
and period of Hypothesis-generated inputs (:func:`credit_rules.testing.strategies.cases`);
a failure reports the shrunk counterexample as a test block to paste into the policy.
"""

from __future__ import annotations

import datetime as dt
import difflib
import importlib
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, Protocol

import attrs
from hypothesis import HealthCheck, Phase, Verbosity, find, settings
from hypothesis.errors import NoSuchExample

from credit_rules import ir
from credit_rules.api import ENGINES, evaluate
from credit_rules.compile import compile_ast
from credit_rules.errors import InputError, PolicyError, did_you_mean
from credit_rules.eval import interpreter
from credit_rules.eval.conditions import teacher_holds
from credit_rules.eval.interpreter import TeacherPeriod, outcome_facts, ranked_sets
from credit_rules.io import EventTable, load_events, load_roster
from credit_rules.records import LedgerRow, RequirementResult, Teacher
from credit_rules.schema import EVENT_COLUMNS, ROSTER_COLUMNS
from credit_rules.syntax import ast
from credit_rules.syntax.parser import parse
from credit_rules.testing.explain_text import explain_row
from credit_rules.testing.strategies import Case, cases, text_frame
from credit_rules.values import PeriodKind, canonical

DEFAULT_EXAMPLES = 100


def available_engines() -> tuple[str, ...]:
    """The engines whose module imports and provides ``evaluate`` (the interpreter always)."""
    found = ["interpreter"]
    for engine in ENGINES:
        if engine == "interpreter":
            continue
        try:
            module = importlib.import_module(f"credit_rules.eval.{engine}")
        except ImportError:
            continue
        if callable(getattr(module, "evaluate", None)):
            found.append(engine)
    return tuple(found)


class Recorder(Protocol):
    """Receives every interpreter result of a test block (coverage uses it)."""

    def record(self, policy: ir.Policy, results: Sequence[TeacherPeriod]) -> None: ...


# ---------------------------------------------------------------------- results
@attrs.frozen
class Mismatch:
    """One expectation that did not hold."""

    check: str
    expected: str
    actual: str
    line: int

    def __str__(self) -> str:
        return f"line {self.line}: {self.check}: expected {self.expected}, got {self.actual}"


@attrs.frozen
class Outcome:
    """The result of one test block on one engine, or of one invariant."""

    file: str
    kind: Literal["test", "invariant"]
    name: str
    engine: str
    line: int
    mismatches: tuple[Mismatch, ...] = ()
    error: str | None = None
    explanation: str = ""
    counterexample: str | None = None

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None and self.counterexample is None

    @property
    def title(self) -> str:
        if self.kind == "test":
            return f'{self.file}:{self.line}: test "{self.name}" [{self.engine}]'
        return f"{self.file}:{self.line}: invariant {self.name}"

    def report(self) -> str:
        """The failure as plain text: what was expected, what came out, and why."""
        lines: list[str] = []
        if self.error is not None:
            lines.append(self.error)
        lines.extend(str(m) for m in self.mismatches)
        if self.counterexample is not None:
            lines.append("counterexample (shrunk; paste it into the policy to keep it as a test):")
            lines.append(self.counterexample)
        if self.explanation:
            lines.append("explanation (interpreter):")
            lines.append(self.explanation)
        return "\n".join(lines)


class SetupError(Exception):
    """A test block that cannot run: a rejected row, an unknown name, a missing date."""


# ---------------------------------------------------------------------- the policy under test
@attrs.frozen
class PolicyUnderTest:
    """A policy file with its AST (for the test blocks) and its checked IR."""

    path: str
    text: str
    tree: ast.Policy
    policy: ir.Policy

    @property
    def tests(self) -> tuple[ast.Test, ...]:
        return tuple(i for i in self.tree.items if isinstance(i, ast.Test))

    @property
    def invariants(self) -> tuple[ir.Invariant, ...]:
        return self.policy.invariants


def load(path: str | Path, text: str | None = None) -> PolicyUnderTest:
    """Read, parse and check a policy; raise :class:`PolicyError` on any error."""
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{name}: cannot read the policy ({exc.strerror}); check the path") from None
    tree = parse(text, name)
    policy, diagnostics = compile_ast(tree, name)
    if policy is None:
        raise PolicyError(diagnostics, {name: text})
    return PolicyUnderTest(name, text, tree, policy)


# ---------------------------------------------------------------------- test input
def _text(value: ast.Value) -> str:
    match value:
        case ast.Word(text) | ast.Text(text):
            return text
        case ast.Number(number):
            return str(number)
        case ast.DateValue(day):
            return day.isoformat()
        case ast.Bool(flag):
            return "true" if flag else "false"
    raise AssertionError(value)  # pragma: no cover


def _check_columns(what: str, ident: str, names: Iterable[str], known: Sequence[str], line: int) -> None:
    for name in names:
        if name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        if close:
            raise SetupError(
                f"line {line}: {what} {ident}: unknown column `{name}`; did you mean `{close[0]}`?"
            )


@attrs.frozen
class BlockInput:
    events: EventTable
    teachers: dict[str, Teacher]
    as_of: dt.date


def _rejects(frame: Any, key: str, lines: dict[int, int], what: str) -> str:
    out = []
    for row in frame.iter_rows(named=True):
        out.append(f"line {lines.get(row['row'], 0)}: {what} {row[key]} rejected: {row['reason']}")
    return "\n".join(out)


def block_input(put: PolicyUnderTest, test: ast.Test) -> BlockInput:
    """The roster, events and as-of date of a test block, through the real loaders."""
    roster_rows: list[dict[str, str]] = []
    event_rows: list[dict[str, str]] = []
    roster_lines: dict[int, int] = {}
    event_lines: dict[int, int] = {}
    as_of: dt.date | None = None
    last_teacher: str | None = None
    for clause in test.clauses:
        if isinstance(clause, ast.TestAsOf):
            as_of = clause.date
        elif isinstance(clause, ast.TestTeacher):
            row = {"teacher_id": clause.teacher_id, **{a.name: _text(a.value) for a in clause.attributes}}
            _check_columns("teacher", clause.teacher_id, row, ROSTER_COLUMNS, clause.span.line)
            roster_rows.append(row)
            roster_lines[len(roster_rows)] = clause.span.line
            last_teacher = clause.teacher_id
        elif isinstance(clause, ast.TestEvent):
            row = {"event_id": clause.event_id, **{a.name: _text(a.value) for a in clause.attributes}}
            _check_columns("event", clause.event_id, row, EVENT_COLUMNS, clause.span.line)
            if "teacher_id" not in row:
                if last_teacher is None:
                    raise SetupError(
                        f"line {clause.span.line}: event {clause.event_id} has no teacher_id and no "
                        "`teacher` is declared above it; add `teacher_id = ID`"
                    )
                row["teacher_id"] = last_teacher
            event_rows.append(row)
            event_lines[len(event_rows)] = clause.span.line
    events = load_events(text_frame(event_rows, ("event_id", "teacher_id", "at", "kind")),
                         timezone=put.policy.timezone)
    problems = []
    if events.rejects.height:
        problems.append(_rejects(events.rejects, "event_id", event_lines, "event"))
    teachers: dict[str, Teacher] = {}
    if roster_rows:
        roster = load_roster(text_frame(roster_rows, ("teacher_id",)))
        if roster.rejects.height:
            problems.append(_rejects(roster.rejects, "teacher_id", roster_lines, "teacher"))
        teachers = roster.teachers()
    if problems:
        raise SetupError("\n".join(problems))
    if as_of is None:
        if put.policy.window is not None:
            as_of = put.policy.window.end
        elif len(events):
            as_of = max(e.day for e in events.events())
        else:
            raise SetupError(f"line {test.span.line}: say which day the test is about: `as of YYYY-MM-DD`")
    return BlockInput(events, teachers, as_of)


# ---------------------------------------------------------------------- expectations
_NUMBER_FIELDS = ("credits", "hours", "leave_days", "rows")
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


def _field_value(row: LedgerRow, rows: Sequence[LedgerRow], field: str) -> Any:
    if field == "rows":
        return Decimal(len(rows))
    if field.startswith("by_category."):
        return row.by_category.get(field.split(".", 1)[1], Decimal(0))
    if field.startswith("by_level."):
        return row.by_level.get(field.split(".", 1)[1], Decimal(0))
    if field == "leave_days":
        return Decimal(row.leave_days)
    return getattr(row, field)


def _check_names(put: PolicyUnderTest, test: ast.Test) -> None:
    """Unknown requirement or rule names in expectations are mistakes in the test itself."""
    requirements = [r.name for r in put.policy.requirements]
    rules = [r.name for r in put.policy.rules]
    for clause in test.clauses:
        if not isinstance(clause, ast.Expect):
            continue
        for check in clause.checks:
            if isinstance(check, ast.ExpectRequirement | ast.ExpectRequired | ast.ExpectActual):
                if check.requirement not in requirements:
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
                          else _field_value(selected, mine, field) if selected is not None else None)
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
                expected_amount = value.value if isinstance(value, ast.Number) else _text(value)
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


# ---------------------------------------------------------------------- running
def _run_engine(put: PolicyUnderTest, data: BlockInput, engine: str) -> tuple[list[LedgerRow], list[TeacherPeriod]]:
    """Ledger rows of ``engine`` and the interpreter's detailed results (for explanations)."""
    detailed = interpreter.evaluate_detailed(put.policy, data.events.events(), data.teachers, as_of=data.as_of)
    if engine == "interpreter":
        return [tp.row for tp in detailed], detailed
    ledger = evaluate(put.policy, data.events, data.teachers, as_of=data.as_of, engine=engine)  # type: ignore[arg-type]
    return list(ledger.rows), detailed


def run_test(put: PolicyUnderTest, test: ast.Test, engine: str = "interpreter",
             recorder: Recorder | None = None) -> Outcome:
    """Run one test block with one engine."""
    base = Outcome(put.path, "test", test.name, engine, test.span.line)
    try:
        _check_names(put, test)
        data = block_input(put, test)
        rows, detailed = _run_engine(put, data, engine)
        mismatches: list[Mismatch] = []
        failing: list[str] = []
        for clause in test.clauses:
            if isinstance(clause, ast.Expect):
                found = check_expectations(clause, rows)
                mismatches.extend(found)
                if found and clause.teacher_id not in failing:
                    failing.append(clause.teacher_id)
    except SetupError as exc:
        return attrs.evolve(base, error=str(exc))
    except PolicyError as exc:
        return attrs.evolve(base, error=exc.render())
    if recorder is not None and engine == "interpreter":
        recorder.record(put.policy, detailed)
    explanation = "\n".join(explain_row(put.policy, tp) for tp in detailed if tp.teacher.teacher_id in failing)
    return attrs.evolve(base, mismatches=tuple(mismatches), explanation=explanation)


# ---------------------------------------------------------------------- invariants
@attrs.frozen
class Violation:
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


def run_invariant(put: PolicyUnderTest, invariant: ir.Invariant, examples: int = DEFAULT_EXAMPLES) -> Outcome:
    """Check one invariant on ``examples`` generated inputs; report the shrunk counterexample."""
    base = Outcome(put.path, "invariant", invariant.name, "interpreter", invariant.span.line)
    policy = put.policy
    config = settings(
        max_examples=examples, derandomize=True, database=None, deadline=None,
        suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
        phases=(Phase.generate, Phase.shrink),
    )
    try:
        found = find(cases(policy), lambda case: find_violation(policy, invariant, case) is not None,
                     settings=config)
    except NoSuchExample:
        return base
    violation = find_violation(policy, invariant, found)
    assert violation is not None
    if violation.crash is not None:
        block = counterexample_block(put, invariant, violation.case, None)
        return attrs.evolve(base, error=f"evaluating a generated input raised {violation.crash}",
                            counterexample=block)
    assert violation.failing is not None
    return attrs.evolve(
        base,
        error=f"invariant {invariant.name} does not hold for {violation.failing.teacher.teacher_id}, "
              f"{violation.failing.period.start} .. {violation.failing.period.end}",
        counterexample=counterexample_block(put, invariant, violation.case, violation.failing),
        explanation=explain_row(policy, violation.failing),
    )


# ---------------------------------------------------------------------- counterexamples as test blocks
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_NUMBER = re.compile(r"\d+(\.\d+)?\Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_NUMBER_COLUMNS = ("hours", "credits", "score", "count", "words")


def _literal(column: str, text: str) -> str:
    """One cell as policy-language text: bare where the grammar allows, else quoted."""
    if _DATE.match(text) and column in ("at", "hired_on", "retired_on"):
        return text
    if _NUMBER.match(text) and column in _NUMBER_COLUMNS:
        return text
    if _NAME.match(text) and text not in ("true", "false"):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ident(text: str) -> str:
    return text if _NAME.match(text) else '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fact_fields(cond: ir.Cond) -> list[str]:
    found: list[str] = []
    match cond:
        case ir.And(items) | ir.Or(items):
            for item in items:
                found += _fact_fields(item)
        case ir.Not(item):
            found += _fact_fields(item)
        case ir.Compare(field, ir.Scope.FACT) | ir.Member(field, ir.Scope.FACT):
            found.append(field)
    return found


def counterexample_block(put: PolicyUnderTest, invariant: ir.Invariant, case: Case,
                         failing: TeacherPeriod | None) -> str:
    """The case as a test block that pins down what the policy does today."""
    lines = [f'test "counterexample to invariant {invariant.name}":', f"  as of {case.as_of.isoformat()}"]
    for row in case.roster:
        cells = " ".join(f"{k} = {_literal(k, v)}" for k, v in row.items() if k != "teacher_id")
        lines.append(f"  teacher {_ident(row['teacher_id'])} {cells}".rstrip())
    for row in case.events:
        cells = " ".join(f"{k} = {_literal(k, v)}" for k, v in row.items() if k != "event_id")
        lines.append(f"  event {_ident(row['event_id'])} {cells}")
    if failing is not None:
        r = failing.row
        checks: list[str] = []
        if put.policy.evaluate is not PeriodKind.WINDOW:
            checks.append(f"period {r.period_start.isoformat()} .. {r.period_end.isoformat()}")
        fields = dict.fromkeys(["credits", *_fact_fields(invariant.cond)])
        for field in fields:
            value = _field_value(r, [r], field)
            checks.append(f"{field} = {_show(value)}")
        lines.append(f"  expect {_ident(r.teacher_id)} " + ", ".join(checks))
    return "\n".join(lines)


# ---------------------------------------------------------------------- a whole file
def run_file(put: PolicyUnderTest, engines: Sequence[str] | None = None, *, examples: int = DEFAULT_EXAMPLES,
             invariants: bool = True, recorder: Recorder | None = None) -> list[Outcome]:
    """Every test block on every engine, then every invariant."""
    engines = tuple(engines) if engines is not None else available_engines()
    outcomes = [run_test(put, test, engine, recorder) for test in put.tests for engine in engines]
    if invariants:
        outcomes += [run_invariant(put, inv, examples) for inv in put.invariants]
    return outcomes


def policy_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their ``*.policy`` files (recursively, sorted)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.rglob("*.policy")))
        else:
            found.append(path)
    return found
