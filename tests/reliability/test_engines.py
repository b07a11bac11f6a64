"""The bulk engine's Int64 fixed point never wraps: large sums give the interpreter's
ledger, and sums that could pass Int64 are refused, never answered differently
(issue 11, engine side)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from credit_rules import api
from credit_rules.compile import compile_source
from credit_rules.eval import bulk
from credit_rules.eval.bulk.plan import BulkOverflow
from credit_rules.records import Event

TZ = ZoneInfo("Asia/Shanghai")
AS_OF = dt.date(2023, 6, 1)
# `72.0000000001` makes the plan's scale 10^10, the largest the bulk engine uses
POLICY = """policy big
  window 2023-01-01 .. 2023-12-31
  10 hours = 1 credit
rule r: on training {award}
cap c: at most 999999 credits of category ethics
require t: at least 72.0000000001 credits
require h: at least 72 credits of level school
"""
AWARDS = {"stated": "count credits", "hours": "count hours", "blocks": "3 credits per 30 hours",
          "fixed": "100000 credits"}


def events(n: int, teacher: str = "t1") -> list[Event]:
    """``n`` events of 100,000 hours and 100,000 credits each (the per-event input limit)."""
    out = []
    for i in range(n):
        at = dt.datetime(2023, 3, 1, tzinfo=TZ) + dt.timedelta(minutes=i)
        out.append(Event(f"{teacher}-{i:06d}", teacher, at, at.date(), int(at.timestamp()) * 1_000_000,
                         "training", hours=Decimal(100_000), credits=Decimal(100_000),
                         category="ethics" if i % 2 else None, level="school" if i % 3 else None))
    return out


def ledger(policy: Any, rows: list[Event], engine: str) -> list[dict[str, Any]]:
    return [r.to_json() for r in api.evaluate(policy, rows, engine=engine, as_of=AS_OF).rows]  # type: ignore[arg-type]


@pytest.mark.parametrize("award", sorted(AWARDS))
def test_many_large_events_give_the_interpreters_ledger_on_bulk(award: str) -> None:
    """A teacher with thousands of 100,000-hour events at scale 10^10 gets the same ledger on both engines, no negative total."""
    policy = compile_source(POLICY.format(award=AWARDS[award]))
    assert bulk.compile_plan(policy).digits == 10
    rows = events(1500) + events(3, "t2")
    expected = ledger(policy, rows, "interpreter")
    assert ledger(policy, rows, "bulk") == expected
    assert all(not row["credits"].startswith("-") and not row["hours"].startswith("-") for row in expected)


@pytest.mark.parametrize("award", sorted(AWARDS))
def test_sums_that_could_pass_int64_are_refused_never_wrapped(award: str) -> None:
    """Sums beyond Int64 (10,000 events of 100,000 at 10^10) make bulk raise BulkOverflow; api then gives the interpreter's ledger."""
    policy = compile_source(POLICY.format(award=AWARDS[award]))
    rows = events(10_000) + events(3, "t2")
    expected = ledger(policy, rows, "interpreter")
    assert all(not row["hours"].startswith("-") for row in expected)
    with pytest.raises(BulkOverflow, match="beyond Int64"):
        bulk.run(bulk.compile_plan(policy), _frame(rows), None, as_of=AS_OF)
    assert ledger(policy, rows, "bulk") == expected  # api gives the batch to the interpreter


def _frame(rows: list[Event]) -> Any:
    from credit_rules.io.frames import events_to_frame

    return events_to_frame(rows)


def test_a_requirement_times_its_reduction_factor_beyond_int64_is_a_fallback() -> None:
    """A reducible requirement whose fixed-point amount times the factor passes Int64 makes the plan fall back to the interpreter."""
    text = """policy p
  cycle 2021-01-01 .. 2025-12-31
rule r: on training count credits
require total: at least 999999.9999999 credits
reduce credit requirements by 1/1000 per year before hired_on
"""
    plan = bulk.compile_plan(compile_source(text))
    assert ("requirement total", "its amount times the reduction factor passes Int64 at the plan's scale") \
        in plan.fallbacks
    shipped = bulk.compile_plan(compile_source(text.replace("999999.9999999", "36")))
    assert not shipped.fallbacks
