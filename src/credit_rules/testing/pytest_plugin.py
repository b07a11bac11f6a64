"""pytest plugin: collect the ``test`` blocks and ``invariant`` lines of ``*.policy`` files.

Registered through the ``pytest11`` entry point, so installing credit-rules is enough::

    $ pytest policies/
    policies/five_year_cycle.policy ........                            [100%]

Each test block becomes one item per available engine (``NAME[interpreter]``,
``NAME[bulk]``) and each invariant one item (``invariant NAME``), plus, when a soak size is
set, one more marked ``slow`` (``invariant NAME[soak]``, run by ``pytest -m slow``). A failure prints the
expected and actual values and the explanation of the teacher, or the shrunk
counterexample of an invariant as a test block. Only ``.policy`` files that contain a
``test`` block or an ``invariant`` are collected (files of deliberately broken policies,
such as golden diagnostics, are left alone).

Options: ``--policy-examples N`` (or the ini value ``credit_rules_examples``) sets how many
generated inputs each invariant is checked on (default 100); the ini value
``credit_rules_soak_examples`` (default 0: no soak items) sets the size of the soak run.
``--policy-lang zh`` (or the ini value ``credit_rules_lang``) reports failures in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from credit_rules import ir
from credit_rules.errors import CreditRulesError, PolicyError
from credit_rules.eval.messages import Lang
from credit_rules.syntax import ast
from credit_rules.testing.runner import (
    DEFAULT_EXAMPLES,
    Outcome,
    PolicyUnderTest,
    available_engines,
    load,
    run_invariant,
    run_test,
)

_HAS_TESTS = re.compile(r'^\s*(?:test|测试)\s*"|^\s*(?:invariant|恒成立|不变式)\s', re.MULTILINE)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("credit-rules", "credit-rules policy tests")
    group.addoption("--policy-examples", type=int, default=None, metavar="N",
                    help="generated inputs per policy invariant (default: ini credit_rules_examples or 100)")
    group.addoption("--policy-lang", choices=("en", "zh"), default=None,
                    help="language of policy test failures: en or zh (default: ini credit_rules_lang or en)")
    parser.addini("credit_rules_examples", "generated inputs per policy invariant", default=str(DEFAULT_EXAMPLES))
    parser.addini("credit_rules_lang", "language of policy test failures: en or zh", default="en")
    parser.addini("credit_rules_soak_examples",
                  "generated inputs per policy invariant in its soak item, marked slow (0: no soak items)",
                  default="0")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix != ".policy":
        return None
    try:
        text = file_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    if not _HAS_TESTS.search(text):
        return None
    return PolicyFile.from_parent(parent, path=file_path)


class PolicyFile(pytest.File):
    """A ``.policy`` file: its test blocks (once per engine) and its invariants."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            put = load(self.path)
        except PolicyError as exc:
            raise self.CollectError(exc.render()) from None
        except CreditRulesError as exc:
            raise self.CollectError(str(exc)) from None
        for test in put.tests:
            for engine in available_engines():
                yield BlockItem.from_parent(self, name=f"{test.name}[{engine}]", put=put, test=test,
                                                engine=engine)
        soak = int(self.config.getini("credit_rules_soak_examples"))
        for invariant in put.invariants:
            yield InvariantItem.from_parent(self, name=f"invariant {invariant.name}", put=put,
                                            invariant=invariant)
            if soak > 0:
                item = InvariantItem.from_parent(self, name=f"invariant {invariant.name}[soak]", put=put,
                                                 invariant=invariant, examples=soak)
                item.add_marker(pytest.mark.slow)
                yield item


class PolicyTestFailure(Exception):
    """Carries the runner's outcome to ``repr_failure``."""

    def __init__(self, outcome: Outcome):
        super().__init__(outcome.title)
        self.outcome = outcome


class _PolicyItem(pytest.Item):
    line = 0

    @property
    def lang(self) -> Lang:
        chosen = self.config.getoption("--policy-lang") or self.config.getini("credit_rules_lang")
        return "zh" if chosen == "zh" else "en"

    def _run(self) -> Outcome:  # pragma: no cover - overridden
        raise NotImplementedError

    def runtest(self) -> None:
        outcome = self._run()
        if not outcome.passed:
            raise PolicyTestFailure(outcome)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, PolicyTestFailure):
            outcome = excinfo.value.outcome
            return f"{outcome.title}\n{outcome.report()}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, max(self.line - 1, 0), self.name


class BlockItem(_PolicyItem):
    """One ``test`` block run with one engine."""

    def __init__(self, *, put: PolicyUnderTest, test: ast.Test, engine: str, **kwargs: Any):
        super().__init__(**kwargs)
        self.put, self.test, self.engine = put, test, engine
        self.line = test.span.line

    def _run(self) -> Outcome:
        return run_test(self.put, self.test, self.engine, lang=self.lang)


class InvariantItem(_PolicyItem):
    """One ``invariant`` checked on generated inputs."""

    def __init__(self, *, put: PolicyUnderTest, invariant: ir.Invariant, examples: int | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.put, self.invariant, self.examples = put, invariant, examples
        self.line = invariant.span.line

    def _run(self) -> Outcome:
        examples = self.examples
        if examples is None:
            examples = self.config.getoption("--policy-examples")
        if examples is None:
            examples = int(self.config.getini("credit_rules_examples"))
        return run_invariant(self.put, self.invariant, examples, self.lang)
