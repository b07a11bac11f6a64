"""Run the ``test`` blocks and ``invariant`` lines written in a policy file.

The jobs live in their own modules: :mod:`~credit_rules.testing.blocks` reads a block's
roster, events and as-of date through the real loaders; :mod:`~credit_rules.testing.expect`
checks its ``expect`` clauses against ledger rows; :mod:`~credit_rules.testing.invariants`
checks invariants on generated inputs and shrinks a failure to a test block. This module
runs them on every engine and reports each as an :class:`Outcome`.

Each block runs once per available engine; a failure reports expected and actual values
and the interpreter's explanation of that teacher. A failing invariant reports the shrunk
counterexample as a test block to paste into the policy.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, Protocol

import attrs

from credit_rules import ir
from credit_rules.api import ENGINES, evaluate
from credit_rules.errors import PolicyError
from credit_rules.eval import interpreter
from credit_rules.eval.interpreter import TeacherPeriod, ranked_sets
from credit_rules.eval.messages import Lang, message
from credit_rules.records import LedgerRow
from credit_rules.syntax import ast
from credit_rules.testing.blocks import BlockInput, PolicyUnderTest, SetupError, block_input, load
from credit_rules.testing.expect import Mismatch, check_expectations, check_names
from credit_rules.testing.explain_text import explain_row
from credit_rules.testing.invariants import counterexample_block, shrunk_violation

__all__ = [
    "DEFAULT_EXAMPLES",
    "Mismatch",
    "Outcome",
    "PolicyUnderTest",
    "Recorder",
    "SetupError",
    "available_engines",
    "load",
    "policy_files",
    "run_file",
    "run_invariant",
    "run_test",
]

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
    #: the language of the report (``credit-rules test --lang zh``)
    lang: Lang = "en"

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None and self.counterexample is None

    @property
    def title(self) -> str:
        if self.kind == "test":
            return message("test.title", self.lang, file=self.file, line=self.line, name=self.name,
                           engine=self.engine)
        return message("test.invariant_title", self.lang, file=self.file, line=self.line, name=self.name)

    def report(self) -> str:
        """The failure as plain text: what was expected, what came out, and why."""
        lines: list[str] = []
        if self.error is not None:
            lines.append(self.error)
        lines.extend(str(m) for m in self.mismatches)
        if self.counterexample is not None:
            lines.append(message("test.counterexample", self.lang))
            lines.append(self.counterexample)
        if self.explanation:
            lines.append(message("test.explanation", self.lang))
            lines.append(self.explanation)
        return "\n".join(lines)


# ---------------------------------------------------------------------- running
def _run_engine(put: PolicyUnderTest, data: BlockInput, engine: str) -> tuple[list[LedgerRow], list[TeacherPeriod]]:
    """Ledger rows of ``engine`` and the interpreter's detailed results (for explanations)."""
    detailed = interpreter.evaluate_detailed(put.policy, data.events.events(), data.teachers, as_of=data.as_of)
    if engine == "interpreter":
        return [tp.row for tp in detailed], detailed
    ledger = evaluate(put.policy, data.events, data.teachers, as_of=data.as_of, engine=engine)  # type: ignore[arg-type]
    return list(ledger.rows), detailed


def run_test(put: PolicyUnderTest, test: ast.Test, engine: str = "interpreter",
             recorder: Recorder | None = None, lang: Lang = "en") -> Outcome:
    """Run one test block with one engine; ``lang``: the language of a failure's report."""
    base = Outcome(put.path, "test", test.name, engine, test.span.line, lang=lang)
    try:
        check_names(put, test, lang)
        data = block_input(put, test)
        rows, detailed = _run_engine(put, data, engine)
        mismatches: list[Mismatch] = []
        failing: list[str] = []
        for clause in test.clauses:
            if isinstance(clause, ast.Expect):
                found = check_expectations(clause, rows, put.policy, lang)
                mismatches.extend(found)
                if found and clause.teacher_id not in failing:
                    failing.append(clause.teacher_id)
    except SetupError as exc:
        return attrs.evolve(base, error=message("test.setup_error", lang, reason=exc))
    except PolicyError as exc:
        return attrs.evolve(base, error=exc.render())
    if recorder is not None and engine == "interpreter":
        recorder.record(put.policy, detailed)
    explanation = ""
    if failing:
        ranked = ranked_sets(put.policy, detailed) if put.policy.ranks else [frozenset[str]()] * len(detailed)
        explanation = "\n".join(explain_row(put.policy, tp, lang, ranked=chosen)
                                for tp, chosen in zip(detailed, ranked, strict=True)
                                if tp.teacher.teacher_id in failing)
    return attrs.evolve(base, mismatches=tuple(mismatches), explanation=explanation)


def run_invariant(put: PolicyUnderTest, invariant: ir.Invariant, examples: int = DEFAULT_EXAMPLES,
                  lang: Lang = "en") -> Outcome:
    """Check one invariant on ``examples`` generated inputs; report the shrunk counterexample."""
    base = Outcome(put.path, "invariant", invariant.name, "interpreter", invariant.span.line, lang=lang)
    violation = shrunk_violation(put.policy, invariant, examples)
    if violation is None:
        return base
    if violation.crash is not None:
        block = counterexample_block(put, invariant, violation.case, None)
        return attrs.evolve(base, error=message("test.invariant_crash", lang, error=violation.crash),
                            counterexample=block)
    assert violation.failing is not None
    failing = violation.failing
    return attrs.evolve(
        base,
        error=message("test.invariant_fails", lang, name=invariant.name, teacher=failing.teacher.teacher_id,
                      start=failing.period.start, end=failing.period.end),
        counterexample=counterexample_block(put, invariant, violation.case, failing),
        explanation=explain_row(put.policy, failing, lang),
    )


# ---------------------------------------------------------------------- a whole file
def run_file(put: PolicyUnderTest, engines: Sequence[str] | None = None, *, examples: int = DEFAULT_EXAMPLES,
             invariants: bool = True, recorder: Recorder | None = None, lang: Lang = "en") -> list[Outcome]:
    """Every test block on every engine, then every invariant; failures reported in ``lang``."""
    engines = tuple(engines) if engines is not None else available_engines()
    outcomes = [run_test(put, test, engine, recorder, lang) for test in put.tests for engine in engines]
    if invariants:
        outcomes += [run_invariant(put, inv, examples, lang) for inv in put.invariants]
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
