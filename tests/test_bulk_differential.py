"""Differential tests: the bulk engine gives byte-identical ledgers to the interpreter.

Generated rosters and raw event rows (duplicates, shared timestamps, zero and fractional
hours, period-boundary days, missing columns) go through the same loader, then both
engines, under every shipped policy and under small generated policies.
"""

from __future__ import annotations

import ast
import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import examples
from credit_rules.api import bulk_ledger, evaluate, with_named_teachers
from credit_rules.compile import compile_source, load_policy
from credit_rules.core import lower
from credit_rules.eval import bulk
from credit_rules.io import load_events
from credit_rules.io.frames import roster_frame, rows_from_frame, rows_to_frame
from credit_rules.io.units import reject_unconvertible
from credit_rules.records import Teacher
from credit_rules.schema import EVENT_COLUMNS, LEDGER_FRAME, UNIT_EVENT_COLUMNS
from credit_rules.testing.strategies import event_rows, policies, rosters

POLICIES = sorted((Path(__file__).resolve().parents[1] / "policies").glob("*.policy"))
NAMES = [p.stem for p in POLICIES]
_CACHE: dict[str, Any] = {}


def shipped(name: str) -> Any:
    if name not in _CACHE:
        _CACHE[name] = load_policy(POLICIES[NAMES.index(name)])
    return _CACHE[name]

AS_OF = st.sampled_from([dt.date(2023, 1, 31), dt.date(2023, 2, 1), dt.date(2025, 12, 31)])
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
#: Generated inputs per shipped policy and generated policies: QUICK in the default run (or
#: BULK_EXAMPLES), SOAK behind `pytest -m slow`.
QUICK = int(os.environ.get("BULK_EXAMPLES", "8"))
SOAK = 200


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    columns = [*EVENT_COLUMNS, *UNIT_EVENT_COLUMNS, "room", "status"]
    return pl.DataFrame(
        {c: [r.get(c) for r in rows] for c in columns}, schema={c: pl.String for c in columns})


def _compare(policy: Any, rows: list[dict[str, Any]], roster: dict[str, Teacher],
             as_of: dt.date) -> None:
    # issue 9 (A): rows whose minutes/days the policy cannot convert are rejected before
    # either engine sees them (as `api.evaluate` does); bulk.run below reads the same table.
    table = reject_unconvertible(lower(policy), load_events(_frame(rows), timezone=policy.timezone))
    expected = evaluate(policy, table, roster, as_of=as_of, engine="interpreter")
    got = evaluate(policy, table, roster, as_of=as_of, engine="bulk")
    assert [r.to_json() for r in got.rows] == [r.to_json() for r in expected.rows]
    # The bulk frame is exactly the typed ledger of the interpreter's rows.
    named = with_named_teachers(roster_frame(roster), table.seen_teacher_ids, table.frame)
    frame = bulk.run(bulk.compile_plan(policy), table.frame, named, as_of=as_of)
    assert frame.schema == pl.Schema(LEDGER_FRAME)
    assert frame.equals(rows_to_frame(expected.rows))


@pytest.mark.parametrize("name", NAMES)
@examples(quick=QUICK, soak=SOAK)
def test_shipped_policies_agree(name: str, examples: int) -> None:

    @settings(SETTINGS, max_examples=examples)
    @given(rows=event_rows(), roster=rosters(), as_of=AS_OF)
    def check(rows: list[dict[str, Any]], roster: dict[str, Teacher], as_of: dt.date) -> None:
        _compare(shipped(name), rows, roster, as_of)

    check()


@examples(quick=2 * QUICK, soak=SOAK)
def test_generated_policies_agree(examples: int) -> None:

    @settings(SETTINGS, max_examples=examples)
    @given(text=policies(), rows=event_rows(), roster=rosters(), as_of=AS_OF)
    def check(text: str, rows: list[dict[str, Any]], roster: dict[str, Teacher], as_of: dt.date) -> None:
        policy = compile_source(text, "generated.policy")
        plan = bulk.compile_plan(policy)
        assert plan.fallbacks == ()
        _compare(policy, rows, roster, as_of)

    check()


def test_no_shipped_policy_falls_back() -> None:
    for name in NAMES:
        assert bulk.compile_plan(shipped(name)).fallbacks == ()


def test_json_escaping_of_odd_event_ids() -> None:
    rows = [{"event_id": e, "teacher_id": "t\"1", "at": "2022-03-01", "kind": "training",
             "hours": "10", "category": "知识", "level": "school"}
            for e in ('a"b', "c\\d", "tab\there", "ctl\x01", "中文")]
    _compare(shipped("five_year_cycle"), rows, {}, dt.date(2025, 12, 31))


_TINY = """policy tiny
  window 2023-01-01 .. 2023-12-31
  evaluate over window

rule bonus:
  on training
  0.00000000001 credits

require total:
  at least 1 credits
"""


def test_a_policy_bulk_cannot_compile_goes_to_the_interpreter() -> None:
    """A plan with fallbacks is refused by the bulk engine and evaluated by the
    interpreter through the API: the same ledger either way."""
    policy = compile_source(_TINY, "tiny.policy")
    plan = bulk.compile_plan(policy)
    assert plan.fallbacks
    rows = [{"event_id": f"e{i}", "teacher_id": "t1", "at": "2023-03-01", "kind": "training"}
            for i in range(3)]
    table = load_events(_frame(rows), timezone=policy.timezone)
    as_of = dt.date(2023, 12, 31)
    with pytest.raises(bulk.FallbackRequired, match="interpreter"):
        bulk.run(plan, table.frame, None, as_of=as_of)
    expected = evaluate(policy, table, None, as_of=as_of, engine="interpreter")
    got = evaluate(policy, table, None, as_of=as_of, engine="bulk")
    assert [r.to_json() for r in got.rows] == [r.to_json() for r in expected.rows]
    assert got.rows[0].credits == Decimal("0.00000000003")
    frame = bulk_ledger(plan, table.frame, None, as_of=as_of)
    assert [r.to_json() for r in rows_from_frame(frame)] == [r.to_json() for r in expected.rows]


def test_bulk_never_imports_the_interpreter() -> None:
    """No module of the bulk engine imports the interpreter, the API or the readers."""
    folder = Path(bulk.__file__).parent
    for path in sorted(folder.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(("credit_rules.eval.interpreter", "credit_rules.api",
                                            "credit_rules.io")), f"{path.name} imports {name}"


def test_profile_prints_each_stage(monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """CREDIT_RULES_BULK_PROFILE=1 prints every stage of STAGES, and finish, to stderr."""
    monkeypatch.setenv("CREDIT_RULES_BULK_PROFILE", "1")
    policy = shipped("five_year_cycle")
    rows = [{"event_id": "e1", "teacher_id": "t1", "at": "2022-03-01", "kind": "training",
             "hours": "10", "category": "ethics", "level": "school"}]
    table = load_events(_frame(rows), timezone=policy.timezone)
    bulk.run(bulk.compile_plan(policy), table.frame, None, as_of=dt.date(2025, 12, 31))
    printed = [line.split()[1] for line in capsys.readouterr().err.splitlines()
               if line.startswith("[bulk]")]
    assert printed == [stage.__name__ for stage in bulk.STAGES] + ["finish"]
