"""Test blocks, invariants, coverage, `credit-rules test` and the pytest plugin (issue #4)."""

from __future__ import annotations

import re
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POLICIES, examples
from credit_rules.cli import main
from credit_rules.eval import interpreter
from credit_rules.syntax import ast
from credit_rules.syntax.parser import parse
from credit_rules.testing.blocks import PolicyUnderTest, value_text
from credit_rules.testing.coverage import Coverage
from credit_rules.testing.invariants import counterexample_block, counterexample_test
from credit_rules.testing.runner import load, run_file, run_invariant, run_test
from credit_rules.testing.strategies import Case, cases

pytest_plugins = ["pytester"]

REMOTE = textwrap.dedent('''\
    policy remote
      window 2017-09-01 .. 2018-08-31
      evaluate over window
    grade from assessment in program "remote-2017"
    rule remote_credit:
      program "remote-2017"
      18 credits if qualified
    rule attendance:
      on task_missed
      absent task = one day leave
    penalty reprimand:
      on reprimand
      no credits
      not excellent
    excellent when qualified in program "remote-2017" and leave_days = 0 and no reprimand
    require qualified:
      qualified in program "remote-2017"
    ''')

PASSING = textwrap.dedent('''
    test "qualified":
      teacher t1 roles = "teacher;instructor"
      event a1 kind = assessment at = 2018-01-10 program = "remote-2017" grade = qualified
      expect t1 credits = 18, grade = qualified, excellent_eligible = true, requirement qualified met,
        rule remote_credit events (a1), leave_days = 0, rows = 1
    ''')

FAILING = textwrap.dedent('''
    test "wrong credits":
      teacher t1
      event a1 kind = assessment at = 2018-01-10 program = "remote-2017" grade = qualified
      event m1 kind = task_missed at = "2018-01-11T09:00"
      expect t1 credits = 17, excellent_eligible = true, requirement qualified not met
    ''')


def write(tmp_path: Path, text: str, name: str = "remote.policy") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def only_test(text: str, tmp_path: Path) -> tuple[object, ast.Test]:
    put = load(write(tmp_path, text))
    (test,) = put.tests
    return put, test


# ---------------------------------------------------------------------- grammar
def test_expectations_parse_into_their_nodes() -> None:
    """Dotted fields, `grade` right after the teacher, waived/actual and rule checks parse."""
    tree = parse(REMOTE + textwrap.dedent('''
        test "forms":
          expect t1 grade = none, by_level.municipal = 7, requirement qualified waived,
            requirement qualified actual 1, rule remote_credit credits >= 18, rule remote_credit events (a1, "x-2")
        '''))
    test = tree.items[-1]
    assert isinstance(test, ast.Test)
    (expect,) = test.clauses
    assert isinstance(expect, ast.Expect)
    assert [type(c).__name__ for c in expect.checks] == [
        "ExpectField", "ExpectField", "ExpectRequirement", "ExpectActual", "ExpectRule", "ExpectRuleEvents",
    ]
    assert expect.checks[0] == ast.ExpectField("grade", "=", ast.Word("none"))
    assert expect.checks[1] == ast.ExpectField("by_level.municipal", "=", ast.Number(Decimal(7)))
    assert expect.checks[5] == ast.ExpectRuleEvents("remote_credit", ("a1", "x-2"))


# ---------------------------------------------------------------------- runner
def test_a_passing_block_passes_on_every_engine(tmp_path: Path, engine: str) -> None:
    put, test = only_test(REMOTE + PASSING, tmp_path)
    outcome = run_test(put, test, engine)  # type: ignore[arg-type]
    assert outcome.passed, outcome.report()


def test_a_failing_block_reports_expected_actual_and_explanation(tmp_path: Path, engine: str) -> None:
    put, test = only_test(REMOTE + FAILING, tmp_path)
    outcome = run_test(put, test, engine)  # type: ignore[arg-type]
    assert not outcome.passed
    found = {(m.check, m.expected, m.actual) for m in outcome.mismatches}
    assert found == {
        ("credits", "17", "18"),
        ("excellent_eligible", "true", "false"),
        ("requirement qualified", "not met", "met"),
    }
    report = outcome.report()
    assert "line 23: credits: expected 17, got 18" in report
    assert "rule remote_credit: 18 credits" in report  # the explanation of t1
    assert "leave days from: m1" in report


def test_events_default_to_the_last_teacher_declared(tmp_path: Path) -> None:
    put, test = only_test(REMOTE + textwrap.dedent('''
        test "two teachers":
          teacher a
          event a1 kind = assessment at = 2018-01-10 program = "remote-2017" grade = qualified
          teacher b
          event b1 kind = task_missed at = 2018-01-10
          expect a credits = 18, leave_days = 0
          expect b credits = 0, leave_days = 1
        '''), tmp_path)
    assert run_test(put, test).passed  # type: ignore[arg-type]


def test_an_event_without_a_teacher_is_a_setup_error(tmp_path: Path) -> None:
    put, test = only_test(REMOTE + 'test "x":\n  event a1 kind = reprimand at = 2018-01-10\n', tmp_path)
    outcome = run_test(put, test)  # type: ignore[arg-type]
    assert outcome.error is not None and "has no teacher_id" in outcome.error


def test_test_events_are_validated_like_real_input(tmp_path: Path) -> None:
    """A row the event loader rejects fails the test with the loader's reason and the line."""
    put, test = only_test(REMOTE + textwrap.dedent('''
        test "bad row":
          teacher t1
          event a1 kind = training at = "2018-13-01" hours = 2
        '''), tmp_path)
    outcome = run_test(put, test)  # type: ignore[arg-type]
    assert outcome.error is not None
    assert "line 21: event a1 rejected" in outcome.error
    assert "at" in outcome.error


def test_typos_in_expectations_are_reported_with_a_hint(tmp_path: Path) -> None:
    put, test = only_test(REMOTE + 'test "x":\n  teacher t1\n  expect t1 requirement qualifed met\n', tmp_path)
    outcome = run_test(put, test)  # type: ignore[arg-type]
    assert outcome.error is not None and "did you mean `qualified`?" in outcome.error
    put, test = only_test(REMOTE + 'test "x":\n  event e teacher_id = t1 kind = training at = 2018-01-01 hour = 2\n',
                          tmp_path)
    outcome = run_test(put, test)  # type: ignore[arg-type]
    assert outcome.error is not None and "did you mean `hours`?" in outcome.error


def test_a_teacher_with_several_rows_needs_a_period(tmp_path: Path) -> None:
    text = (POLICIES / "lesson_observation.policy").read_text(encoding="utf-8").split("# ----")[0]
    put, test = only_test(text + textwrap.dedent('''
        test "which semester?":
          as of 2024-03-01
          teacher x
          event o1 kind = observation at = 2023-10-01
          expect x met = false
        '''), tmp_path)
    outcome = run_test(put, test)  # type: ignore[arg-type]
    (mismatch,) = outcome.mismatches
    assert mismatch.expected.startswith("one row") and "2 rows" in mismatch.actual


# ---------------------------------------------------------------------- invariants
def test_a_false_invariant_gives_a_shrunk_counterexample_that_pastes_back_as_a_passing_test(tmp_path: Path) -> None:
    put = load(write(tmp_path, REMOTE + "invariant never_credited: credits = 0\n"))
    (invariant,) = put.invariants
    outcome = run_invariant(put, invariant, examples=200)
    assert not outcome.passed
    block = outcome.counterexample
    assert block is not None
    # Shrunk: one teacher, one qualifying assessment, nothing else.
    events = [line for line in block.splitlines() if line.strip().startswith("event ")]
    assert len(events) == 1 and "kind = assessment" in events[0] and '"remote-2017"' in events[0]
    assert "expect t1 credits = 18" in block
    # The counterexample is a valid test block that pins down today's behaviour.
    pasted = load(write(tmp_path, REMOTE + "\n" + block + "\n", "pasted.policy"))
    (test,) = pasted.tests
    assert run_test(pasted, test).passed


def test_invariants_catch_a_broken_policy(tmp_path: Path) -> None:
    """Drop `no credits` from the reprimand penalty: the shipped invariant finds it."""
    shipped = (POLICIES / "shandong_remote_2017.policy").read_text(encoding="utf-8")
    broken = shipped.replace("  no credits\n", "", 1)
    assert broken != shipped
    put = load(write(tmp_path, broken))
    invariant = next(i for i in put.invariants if i.name == "reprimand_voids_credits_and_excellence")
    outcome = run_invariant(put, invariant, examples=200)
    assert outcome.counterexample is not None
    assert "kind = reprimand" in outcome.counterexample
    # the shipped policy itself passes (its soak run, `pytest -m slow`, checks 200 inputs)
    assert run_invariant(load(POLICIES / "shandong_remote_2017.policy"), invariant, examples=15).passed


SHIPPED = {path.stem: load(path) for path in sorted(POLICIES.glob("*.policy"))}
CASES = {put.path: cases(put.policy) for put in SHIPPED.values()}


@st.composite
def shipped_cases(draw: st.DrawFn) -> tuple[PolicyUnderTest, Case]:
    put = SHIPPED[draw(st.sampled_from(sorted(SHIPPED)))]
    return put, draw(CASES[put.path])


@examples(quick=15, soak=300)
def test_counterexample_blocks_are_printed_by_the_formatter_and_read_back(examples: int) -> None:
    """A generated case printed as a counterexample block parses back to the very ast.Test built
    for it, and its rows read back as the same text: pasting it reproduces the input."""

    @settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(shipped_cases())
    def check(drawn: tuple[PolicyUnderTest, Case]) -> None:
        put, case = drawn
        invariant = put.invariants[0]
        results = interpreter.evaluate_detailed(put.policy, case.event_table(put.policy.timezone).events(),
                                                case.teachers(), as_of=case.as_of)
        failing = results[0] if results else None
        test = counterexample_test(put, invariant, case, failing)
        block = counterexample_block(put, invariant, case, failing)
        (parsed,) = parse(f"policy p\n\n{block}\n").items
        assert parsed == test
        assert isinstance(parsed, ast.Test)
        rows = [{"teacher_id" if isinstance(c, ast.TestTeacher) else "event_id":
                 c.teacher_id if isinstance(c, ast.TestTeacher) else c.event_id,
                 **{a.name: value_text(a.value) for a in c.attributes}}
                for c in parsed.clauses if isinstance(c, ast.TestTeacher | ast.TestEvent)]
        assert rows == [*case.roster, *case.events]

    check()


def test_every_shipped_policy_carries_tests_and_an_invariant() -> None:
    for path in sorted(POLICIES.glob("*.policy")):
        put = load(path)
        assert put.tests, path
        assert put.invariants, path
        assert "# ---------------------------------------------------------------- tests" in put.text


# ---------------------------------------------------------------------- coverage
def test_coverage_counts_rules_caps_and_requirement_lines(tmp_path: Path) -> None:
    policy = textwrap.dedent('''\
        policy small
          window 2023-01-01 .. 2023-12-31
          evaluate over window
          10 hours = 1 credit
        rule hours:
          on training
          where category != class_teacher
          count hours
        rule awards:
          on credit_award
          count credits
        cap school_at_most: at most 2 credits of level school
        require total:
          at least 5 credits when title = senior
          at least 3 credits

        test "one junior teacher":
          teacher t1 title = junior
          event e1 kind = training at = 2023-03-01 hours = 10 level = school
          expect t1 credits = 1
        ''')
    put = load(write(tmp_path, policy, "small.policy"))
    coverage = Coverage()
    run_file(put, ["interpreter"], invariants=False, recorder=coverage)
    (file,) = coverage.files()
    status = {item.label: item.key in file.covered for item in file.items}
    assert status == {
        "rule hours": True, "where of rule hours": True, "rule awards": False,
        "cap school_at_most (cut an award)": False,
        "requirement total line 1": False, "requirement total line 2": True,
    }
    assert file.counts == (3, 6)
    assert file.percent == 50.0
    lines = file.lines(put.text)
    assert any(re.match(r"\s+12  NOT covered  cap school_at_most", line) for line in lines)


# ---------------------------------------------------------------------- the command
def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout


def test_cli_test_passes_and_prints_the_summary(tmp_path: Path) -> None:
    path = write(tmp_path, REMOTE + PASSING + "invariant reprimand_voids: no reprimand or credits = 0\n")
    code, out = invoke("test", str(path), "--examples", "20", "--engine", "interpreter")
    assert code == 0, out
    assert out.strip().splitlines()[-1] == "2 passed, 0 failed"


def test_cli_test_fails_with_expected_actual_and_exit_one(tmp_path: Path) -> None:
    write(tmp_path, REMOTE + PASSING + FAILING)
    code, out = invoke("test", str(tmp_path), "--engine", "interpreter")
    assert code == 1
    assert 'test "wrong credits" [interpreter]' in out
    assert "credits: expected 17, got 18" in out
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"


def test_cli_coverage_threshold(tmp_path: Path) -> None:
    path = write(tmp_path, REMOTE + PASSING)
    code, out = invoke("test", str(path), "--engine", "interpreter", "--coverage")
    assert code == 0
    assert "NOT covered  rule attendance" in out
    assert "NOT covered  penalty reprimand" in out
    assert "total coverage: 66.7%" in out
    code, out = invoke("test", str(path), "--engine", "interpreter", "--threshold", "70")
    assert code == 1
    assert "below the threshold of 70%" in out
    assert out.strip().splitlines()[-1] == "1 passed, 0 failed"


def test_cli_reports_a_policy_that_does_not_compile(tmp_path: Path) -> None:
    path = write(tmp_path, REMOTE + "rule broken: on training count houses\n")
    code, out = invoke("test", str(path))
    assert code == 1
    assert "does not compile" in out
    assert out.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_cli_runs_the_shipped_policies() -> None:
    # one input per invariant and the test blocks on one engine: the invariants and the blocks
    # on every engine are the plugin's items (policies/*.policy); this is the command and coverage
    code, out = invoke("test", str(POLICIES), "--examples", "1", "--threshold", "80", "--engine", "interpreter")
    assert code == 0, out
    assert re.search(r"^\d+ passed, 0 failed$", out, re.MULTILINE)


# ---------------------------------------------------------------------- pytest plugin
def test_pytest_collects_policy_files(pytester: pytest.Pytester) -> None:
    pytester.makefile(".policy", remote=REMOTE + PASSING + FAILING + "invariant never_credited: credits = 0\n")
    pytester.makefile(".policy", untested="policy broken this is not a policy")  # no tests: not collected
    result = pytester.runpytest("-p", "no:cacheprovider", "--policy-examples", "200", "-rA")
    engines = 2 if "[bulk]" in result.stdout.str() else 1
    result.assert_outcomes(passed=engines, failed=engines + 1)
    result.stdout.fnmatch_lines([
        "*line 29: credits: expected 17, got 18*",
        "*counterexample (shrunk; paste it into the policy to keep it as a test):*",
        '*test "counterexample to invariant never_credited":*',
    ])
    assert "untested.policy" not in result.stdout.str()


def test_test_blocks_run_on_every_engine() -> None:
    """A test block is checked on the bulk engine too: the engines' agreement on every
    example policy is part of `credit-rules test`, not only of the differential tests."""
    from credit_rules.api import ENGINES
    from credit_rules.testing.runner import available_engines

    assert available_engines() == tuple(ENGINES)
