"""The static checks of issue #4: conflicts and exceptions, rules that never fire, unused
declarations, requirements nothing can satisfy, and `check --events`."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from conftest import POLICIES
from credit_rules.cli import main
from credit_rules.compile import check_source, compile_source
from credit_rules.eval.interpreter import evaluate
from credit_rules.testing.builders import make_event

HEAD = "policy p\n  cycle 2021-01-01 .. 2025-12-31\n  10 hours = 1 credit\n"


def codes(text: str) -> list[str]:
    return [d.code for d in check_source(HEAD + text, "p.policy")[1]]


def test_overlapping_rules_conflict_and_both_spans_are_reported() -> None:
    """Two rules crediting the same training event count it twice: an error naming both."""
    _, diagnostics = check_source(HEAD + "rule a: on training count hours\n"
                                  "rule b: on training where category practice 3 credits per 30 hours\n", "p.policy")
    (conflict,) = diagnostics
    assert conflict.code == "E160"
    assert conflict.span.line == 5
    assert [span.line for _, span in conflict.notes] == [4]


def test_disjoint_filters_do_not_conflict() -> None:
    assert codes("rule a: on training where category != practice count hours\n"
                 "rule b: on training where category practice 3 credits per 30 hours\n") == []
    assert codes("rule a: on training count hours\nrule b: on credit_award count credits\n") == []
    assert codes('rule a: program "x" 1 credit if qualified\nrule b: program "y" 2 credits if qualified\n') == []
    assert codes("rule a: on training when title = senior count hours\n"
                 "rule b: on training when title != senior 3 credits per 30 hours\n") == []


def test_an_exception_resolves_the_conflict_and_takes_precedence() -> None:
    """`exception to a`: where b fires on an event, a does not."""
    policy = compile_source(HEAD + "rule a: on training count hours\n"
                            "rule b: exception to a on training where category class_teacher 3 credits per 30 hours\n")
    events = [make_event("x", "t", "2022-01-01", "training", hours="30", category="class_teacher"),
              make_event("y", "t", "2022-01-02", "training", hours="10", category="ethics")]
    (row,) = evaluate(policy, events, {}, as_of=dt.date(2025, 1, 1))
    assert {t.rule: (t.credits, t.events) for t in row.trace} == {
        "a": (Decimal(1), ("y",)), "b": (Decimal(3), ("x",))}


def test_exceptions_must_name_a_rule_and_do_not_chain() -> None:
    assert codes("rule a: on training count hours\nrule b: exception to c on training count hours\n")[0] == "E108"
    found = codes("rule a: on training count hours\nrule b: exception to a on training count hours\n"
                  "rule c: exception to b on training count hours\n")
    assert "E109" in found


def test_a_self_contradicting_rule_never_fires() -> None:
    assert codes("rule a: on training where category ethics and category knowledge count hours\n") == ["W161"]


def test_a_requirement_no_rule_can_feed_is_reported() -> None:
    found = codes("rule a: on training where level district as level municipal count hours\n"
                  "require school: at least 18 credits of level school\n")
    assert found == ["W164"]


def test_an_unused_rank_is_reported() -> None:
    found = codes('rule a: on training count hours\nrank r: by score in program "p" top 1\n')
    assert found == ["W162"]


def test_check_events_lists_what_no_rule_uses(tmp_path: Path) -> None:
    events = tmp_path / "e.jsonl"
    rows = [
        {"event_id": "1", "teacher_id": "t", "at": "2022-12-05", "kind": "training", "hours": "2", "program": "x"},
        {"event_id": "2", "teacher_id": "t", "at": "2022-12-05", "kind": "party", "mood": "good"},
        {"event_id": "3", "teacher_id": "t", "at": "2022-12-05", "kind": "assessment", "program": "unknown-prog"},
    ]
    events.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(POLICIES / "lanxi_2023.policy"), "--events", str(events)])
    assert result.exit_code == 0
    assert "event kind `party` (1 events) is not used" in result.stderr
    assert "program `unknown-prog` (1 events) is not used" in result.stderr
    assert "program `x`" not in result.stderr  # training of any program counts
    assert "column `mood` is not used" in result.stderr
    strict = CliRunner().invoke(main, ["check", "--strict", str(POLICIES / "lanxi_2023.policy"), "--events", str(events)])
    assert strict.exit_code == 1
