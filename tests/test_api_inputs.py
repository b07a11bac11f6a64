"""The library takes what a training system holds: lists of dicts and a roster dict, and
hands back normalised decimals (issue 10, "One teacher fast")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from credit_rules import UsageError, evaluate

POLICY = Path(__file__).resolve().parents[1] / "policies" / "five_year_cycle.policy"
AS_OF = dt.date(2025, 12, 31)
EVENTS = [
    {"event_id": "e1", "teacher_id": "t1", "at": "2022-03-01", "kind": "training", "hours": 379,
     "category": "knowledge", "level": "school"},
    {"event_id": "e2", "teacher_id": "t1", "at": dt.date(2022, 4, 1), "kind": "training",
     "hours": Decimal("0.5"), "category": "ethics", "level": "district"},
    {"event_id": "e3", "teacher_id": "t2", "at": dt.datetime(2023, 5, 1, 9, 30), "kind": "training",
     "hours": 0.1, "category": "ethics", "level": "district"},
]
CSV = """event_id,teacher_id,at,kind,hours,category,level
e1,t1,2022-03-01,training,379,knowledge,school
e2,t1,2022-04-01,training,0.5,ethics,district
e3,t2,2023-05-01T09:30:00,training,0.1,ethics,district
"""
ROSTER = {"t1": {"title": "senior", "roles": ["teacher", "class_teacher"], "hired_on": dt.date(2010, 9, 1)}}
ROSTER_CSV = "teacher_id,title,roles,hired_on\nt1,senior,teacher;class_teacher,2010-09-01\n"


@pytest.mark.parametrize("engine", ["interpreter", "bulk"])
def test_dicts_give_the_ledger_of_the_same_rows_in_a_file(tmp_path: Path, engine: str) -> None:
    """A list of event dicts and a roster dict are validated like files and give the same ledger."""
    (tmp_path / "events.csv").write_text(CSV, encoding="utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER_CSV, encoding="utf-8")
    from_files = evaluate(POLICY, tmp_path / "events.csv", tmp_path / "roster.csv", as_of=AS_OF, engine=engine)  # type: ignore[arg-type]
    from_dicts = evaluate(POLICY, EVENTS, ROSTER, as_of=AS_OF, engine=engine)  # type: ignore[arg-type]
    assert from_dicts.to_json() == from_files.to_json()
    assert [r["title"] for r in from_dicts.roster.frame.iter_rows(named=True)] == ["senior"]  # type: ignore[union-attr]


@pytest.mark.parametrize("engine", ["interpreter", "bulk"])
def test_decimals_come_back_normalised(engine: str) -> None:
    """Ledger decimals carry no trailing zeros and no exponent, whichever engine made them."""
    row = evaluate(POLICY, EVENTS, ROSTER, as_of=AS_OF, engine=engine).rows[0]  # type: ignore[arg-type]
    assert repr(row.hours) == "Decimal('379.5')"
    assert repr(row.credits) == "Decimal('37.95')"
    total = next(r for r in row.requirements if r.name == "total")
    assert repr(total.required) == "Decimal('54')"
    assert all(str(v) == format(v, "f") for v in [*row.by_category.values(), *row.by_level.values()])


def test_a_value_that_cannot_be_read_exactly_is_refused() -> None:
    """An object the loader cannot turn into text exactly is a usage error, not a guess."""
    with pytest.raises(UsageError, match="cannot read a"):
        evaluate(POLICY, [{**EVENTS[0], "hours": object()}], as_of=AS_OF)
