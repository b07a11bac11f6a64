"""A policy file under test, and the input of one ``test`` block.

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
  end of the policy's window, else the day of the latest event).

The ``expect`` clauses are checked by :mod:`credit_rules.testing.expect`.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import attrs

from credit_rules import core, ir
from credit_rules.compile import compile_ast, layer_sources
from credit_rules.core import lower
from credit_rules.errors import InputError, PolicyError
from credit_rules.io import EventTable
from credit_rules.io.units import reject_unconvertible
from credit_rules.records import Teacher
from credit_rules.schema import EVENT_COLUMNS, ROSTER_COLUMNS, UNIT_EVENT_COLUMNS
from credit_rules.syntax import ast
from credit_rules.syntax.parser import parse
from credit_rules.testing.strategies import text_frame
from credit_rules.testing.strategies.events import load_roster_rows, load_rows


class SetupError(Exception):
    """A test block that cannot run: a rejected row, an unknown name, a missing date."""


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
        raise PolicyError(diagnostics, layer_sources(diagnostics, {name: text}))
    return PolicyUnderTest(name, text, tree, policy)


def value_text(value: ast.Value) -> str:
    """A value written in a test block as the text a file would hold (``2018-01-10``, ``18``)."""
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
    """What a test block feeds the engines: validated events, the roster and the as-of day."""

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
            row = {"teacher_id": clause.teacher_id, **{a.name: value_text(a.value) for a in clause.attributes}}
            _check_columns("teacher", clause.teacher_id, row, ROSTER_COLUMNS, clause.span.line)
            roster_rows.append(row)
            roster_lines[len(roster_rows)] = clause.span.line
            last_teacher = clause.teacher_id
        elif isinstance(clause, ast.TestEvent):
            row = {"event_id": clause.event_id, **{a.name: value_text(a.value) for a in clause.attributes}}
            _check_columns("event", clause.event_id, row, (*EVENT_COLUMNS, *UNIT_EVENT_COLUMNS), clause.span.line)
            if "teacher_id" not in row:
                if last_teacher is None:
                    raise SetupError(
                        f"line {clause.span.line}: event {clause.event_id} has no teacher_id and no "
                        "`teacher` is declared above it; add `teacher_id = ID`"
                    )
                row["teacher_id"] = last_teacher
            event_rows.append(row)
            event_lines[len(event_rows)] = clause.span.line
    inputs = lower(put.policy).inputs  # issue 9 (C): declared columns and vocabularies
    events = load_rows(text_frame(event_rows, ("event_id", "teacher_id", "at", "kind")), put.policy.timezone,
                       inputs)
    events = reject_unconvertible(core.lower(put.policy), events)  # issue 9 (A): minutes, days
    problems = []
    if events.rejects.height:
        problems.append(_rejects(events.rejects, "event_id", event_lines, "event"))
    teachers: dict[str, Teacher] = {}
    if roster_rows:
        roster = load_roster_rows(text_frame(roster_rows, ("teacher_id",)), inputs)
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
