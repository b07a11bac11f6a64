"""Hostile policies: every one gets a diagnostic from `check`, never a traceback, a hang,
or a policy that passes and then goes wrong in an engine (issue 11, policy side)."""

from __future__ import annotations

import pytest

from credit_rules.compile import check_source
from credit_rules.compile.from_syntax import MAX_LITERAL, MAX_PERIODS, WINDOW_YEARS
from credit_rules.errors import Diagnostic
from credit_rules.syntax.parser import MAX_ITEMS, MAX_NESTING, MAX_POLICY_BYTES

HEAD = "policy p\n  window 2023-01-01 .. 2023-12-31\n"


def codes(text: str) -> list[Diagnostic]:
    policy, diagnostics = check_source(text, "hostile.policy")
    errors = [d for d in diagnostics if d.is_error]
    assert policy is None and errors, "a hostile policy must not pass check"
    return errors


def only(text: str, code: str) -> Diagnostic:
    errors = codes(text)
    assert [d.code for d in errors] == [code], [d.one_line() for d in errors]
    return errors[0]


def rule_where(cond: str) -> str:
    return HEAD + f"rule r:\n  on training\n  where {cond}\n  count hours\n"


# ---------------------------------------------------------------- 1. nesting and size
@pytest.mark.parametrize("shape", [
    lambda n: "not " * n + "category ethics",
    lambda n: "非" * n + "category ethics",
    lambda n: "not (" * n + "category ethics" + ")" * n,
    lambda n: "(category ethics and (" * n + "level school" + "))" * n,
    lambda n: "(category ethics or not (" * n + "level school" + "))" * n,
], ids=["not", "非", "not-parens", "and", "or-not"])
# 5,000 levels are five times Python's recursion limit: a recursion per level would fail there.
# 20,000 (up to 1.9 s each) is the soak run (pytest -m slow).
@pytest.mark.parametrize("depth", [MAX_NESTING + 1, 500, 5_000, pytest.param(20_000, marks=pytest.mark.slow)])
def test_deep_nesting_is_a_diagnostic_not_a_recursion_error(shape, depth: int) -> None:
    """Conditions nested beyond MAX_NESTING get E008 at the line of the condition, never RecursionError."""
    found = only(rule_where(shape(depth)), "E008")
    assert found.span.line == 5 and found.span.file == "hostile.policy"
    assert found.hint


def test_nesting_up_to_the_limit_still_checks() -> None:
    """A condition exactly MAX_NESTING deep passes check (the limit is not off by one)."""
    policy, diagnostics = check_source(rule_where("not " * (MAX_NESTING - 1) + "(category ethics or level school)"))
    assert policy is not None, [d.one_line() for d in diagnostics]


# 10,000 pairs in the default run (ten times the recursion limit), 100,000 in the soak run.
@pytest.mark.parametrize("pairs", [10_000, pytest.param(100_000, marks=pytest.mark.slow)])
def test_deep_parentheses_alone_build_no_nesting(pairs: int) -> None:
    """Redundant parentheses (thousands of pairs) make no nesting: the policy checks, nothing recurses."""
    policy, _ = check_source(rule_where("(" * pairs + "category ethics" + ")" * pairs))
    assert policy is not None


def test_a_policy_over_the_size_limit_gets_E007_at_the_line_that_crosses_it() -> None:
    """A text over MAX_POLICY_BYTES of UTF-8 gets E007 before parsing, at the line where the limit is crossed."""
    line = "# " + "学" * 99 + "\n"  # 300 bytes
    text = HEAD + line * (MAX_POLICY_BYTES // len(line.encode()) + 10)
    found = only(text, "E007")
    assert found.span.line > 3 and "at most 2,097,152" in found.message


def test_too_many_items_get_E009() -> None:
    """More than MAX_ITEMS items get E009 at the first item over the limit."""
    rules = "".join(f'rule r{i}: on training program "p{i}" count hours\n' for i in range(MAX_ITEMS + 1))
    found = only(HEAD + rules, "E009")
    assert found.span.line == 3 + MAX_ITEMS


# ---------------------------------------------------------------- 2. literals
BIG = "1000000000000"


@pytest.mark.parametrize("text", [
    HEAD + f"rule r: on training {BIG} credits\n",
    HEAD + f"rule r: on training {BIG} hours\n",
    HEAD + f'rule r: program "x" {BIG} credits if qualified\n',
    HEAD + f"rule r: on training 3 credits per {BIG} hours\n",
    HEAD + f"rule r: on training {BIG} credits per 30 hours\n",
    HEAD + f"rule r: on training 1 credits per {BIG} hours pro rata\n",
    HEAD + f"rule r: on training count credits\ncap c: at most {BIG} credits\n",
    HEAD + f"rule r: on training count credits\nrequire t: at least {BIG} credits\n",
    HEAD + "rule r: on training count credits\nrequire t: at least 1000000 credits\ncap c: at most 200% of t\n",
    HEAD + f"rule r: on training count credits\nrequire t: at least {BIG} training\n",
    HEAD.replace("\n  window", f" {BIG} hours = 1 credit\n  window") + "rule r: on training count hours\n",
    HEAD.replace("\n  window", f" 1 hours = {BIG} credit\n  window") + "rule r: on training count hours\n",
    rule_where(f"hours >= {BIG}"),
    rule_where(f"score in (1, {BIG})"),
    HEAD + f'rule r: on training count credits\ngrade from score in program "a": excellent at {BIG}, else qualified\n',
    HEAD + f'rule r: on training count credits\nrank x: by score in program "a" top {"9" * 5000}\n'
           "excellent when ranked x\n",
    HEAD + "rule r: on training 9223372036854775808 credits\n",
], ids=["fixed", "fixed-hours", "if-qualified", "block-hours", "block-credits", "pro-rata", "cap", "requirement",
        "cap-percent", "count", "conversion-hours", "conversion-credits", "where", "member", "threshold", "top",
        "int64"])
def test_numbers_beyond_the_literal_maximum_get_E114(text: str) -> None:
    """Every number a policy states above MAX_LITERAL gets E114 (the bulk engine never sees it)."""
    found = only(text, "E114")
    assert f"{MAX_LITERAL:,}" in found.message and len(found.message) < 200


def test_the_literal_maximum_itself_is_allowed() -> None:
    """Exactly MAX_LITERAL credits is a valid amount (the limit is inclusive)."""
    policy, diagnostics = check_source(HEAD + f"rule r: on training {MAX_LITERAL} credits\n")
    assert policy is not None, [d.one_line() for d in diagnostics]


# ---------------------------------------------------------------- 4. windows and periods
@pytest.mark.parametrize("window", [
    "0001-01-01 .. 2023-12-31", "2023-01-01 .. 9999-12-31", "1000-01-01 .. 9999-12-31", "1899-12-31 .. 1900-12-31",
    "2199-01-01 .. 2200-01-01",
])
@pytest.mark.parametrize("evaluate", ["", "  evaluate per semester\n", "  evaluate per school year\n"])
def test_windows_outside_the_year_range_get_E115(window: str, evaluate: str) -> None:
    """A window reaching outside WINDOW_YEARS gets E115 however it is evaluated (no period arithmetic near year 1 or 9999)."""
    text = f"policy p\n  window {window}\n{evaluate}rule r: on training count hours\n"
    only(text, "E115")


def test_too_many_periods_per_window_get_E116() -> None:
    """A per-semester window of more than MAX_PERIODS semesters gets E116; the same window per school year passes."""
    first, last = WINDOW_YEARS
    window = f"  window {first}-01-01 .. {last}-12-31\n"
    found = only(f"policy p\n{window}  evaluate per semester\nrule r: on training count hours\n", "E116")
    assert f"at most {MAX_PERIODS}" in found.message
    policy, _ = check_source(f"policy p\n{window}  evaluate per school year\nrule r: on training count hours\n")
    assert policy is not None


def test_the_ends_of_the_year_range_are_allowed() -> None:
    """A window from the first day of 1900 to the last of 2199 evaluated over the window passes."""
    policy, _ = check_source("policy p\n  window 1900-01-01 .. 2199-12-31\nrule r: on training count hours\n")
    assert policy is not None


# ---------------------------------------------------------------- 5. conflicts of big policies
def _all_pairs_conflicts(text: str) -> list[str]:
    """The E160 diagnostics as the check made them before it was indexed: every pair compared."""
    from credit_rules.compile.checks import _counts_credits_or_hours, _rule_events
    from credit_rules.compile.from_syntax import from_syntax
    from credit_rules.compile.satisfiability import may_overlap
    from credit_rules.syntax.parser import parse

    policy, _ = from_syntax(parse(text, "big.policy"), "big.policy")
    assert policy is not None
    rules = [r for r in sorted(policy.rules, key=lambda r: (r.span.line, r.span.col)) if _counts_credits_or_hours(r)]
    found = []
    for index, a in enumerate(rules):
        for b in rules[index + 1:]:
            if a.exception_to == b.name or b.exception_to == a.name:
                continue
            if may_overlap(a.where, b.where, _rule_events(a), _rule_events(b)) and may_overlap(a.when, b.when):
                found.append(f"{b.span}: {a.name} {b.name}")
    return found


def test_indexed_conflict_check_reports_exactly_the_all_pairs_conflicts() -> None:
    """check_conflicts, indexed by (kind, program), reports the same E160s as comparing every pair."""
    kinds = ["training", "observation", "lesson_given"]
    programs = ['program "a"', 'program "b"', ""]
    wheres = ["", "where category ethics", "where not category ethics", "where level school or category ethics"]
    rules = []
    for i in range(60):
        kind, program, where = kinds[i % 3], programs[(i // 3) % 3], wheres[(i // 9) % 4]
        when = "when role class_teacher" if i % 5 == 0 else ""
        exception = f"exception to r{i - 1}" if i % 11 == 0 and i else ""
        rules.append(f"rule r{i}: on {kind} {program} {where} {when} {exception} count hours")
    rules.append('rule q1: program "a" 3 credits if qualified')
    rules.append('rule q2: program "a" 2 credits if qualified')
    rules.append("rule q3: on assessment count hours")
    rules.append("rule lv: absent task = one day leave")
    text = HEAD + "\n".join(rules) + "\n"
    _, diagnostics = check_source(text, "big.policy")
    indexed = [f"{d.span}: {d.message.split('`')[1]} {d.message.split('`')[3]}"
               for d in diagnostics if d.code == "E160"]
    expected = _all_pairs_conflicts(text)
    assert len(expected) > 50
    assert sorted(indexed) == sorted(expected)
