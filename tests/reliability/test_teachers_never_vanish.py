"""SPEC §5: every teacher named in the input gets its ledger rows, whatever went wrong
with its rows (issue 11, "Teachers who vanish")."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from credit_rules.api import ENGINES, evaluate
from credit_rules.io import load_roster

POLICIES = Path(__file__).resolve().parents[2] / "policies"
EVENTS = """event_id,teacher_id,at,kind,hours,category,level
e1,ok,2022-03-01,training,10,ethics,school
e2,bad,2022-03-01,training,-5,ethics,school
e3,clash,2022-03-01,training,10,ethics,school
e3,clash,2022-03-01,training,12,ethics,school
"""
ROSTER = """teacher_id,title,hired_on
ok,senior,2010-09-01
lost,senior,2023-02-30
"""


@pytest.fixture
def inputs(tmp_path: Path) -> tuple[Path, Path]:
    events, roster = tmp_path / "events.csv", tmp_path / "roster.csv"
    events.write_text(EVENTS, encoding="utf-8")
    roster.write_text(ROSTER, encoding="utf-8")
    return events, roster


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("policy", ["five_year_cycle", "lesson_observation"])
def test_teachers_with_only_bad_rows_still_get_their_rows(
    inputs: tuple[Path, Path], engine: str, policy: str
) -> None:
    """A teacher whose only event was rejected, one whose only events conflict, and one
    whose roster row was rejected each get rows with 0 credits, on both engines."""
    events, roster_file = inputs
    roster = load_roster(roster_file)
    assert tuple(roster.unresolved_teacher_ids()) == ("lost",)
    ledger = evaluate(POLICIES / f"{policy}.policy", events, roster, as_of=dt.date(2025, 12, 31),
                      engine=engine)  # type: ignore[arg-type]
    by_teacher = {r.teacher_id for r in ledger.rows}
    assert by_teacher == {"ok", "bad", "clash", "lost"}
    for row in ledger.rows:
        if row.teacher_id != "ok":
            assert row.credits == 0 and row.trace == ()


def test_both_engines_give_the_same_rows_for_them(inputs: tuple[Path, Path]) -> None:
    """The rows of such teachers are byte-identical between the engines."""
    events, roster_file = inputs
    roster = load_roster(roster_file)
    ledgers = [evaluate(POLICIES / "lesson_observation.policy", events, roster,
                        as_of=dt.date(2025, 12, 31), engine=engine).to_json()  # type: ignore[arg-type]
               for engine in ENGINES]
    assert ledgers[0] == ledgers[1]


@pytest.mark.parametrize("batch_rows", [None, 2])
def test_recompute_keeps_them_too(inputs: tuple[Path, Path], tmp_path: Path, batch_rows: int | None) -> None:
    """recompute, whole or in batches, gives the same teachers their rows as evaluate does."""
    import polars as pl

    from credit_rules.io import read_ledger
    from credit_rules.recompute import recompute

    events_csv, roster_file = inputs
    events = tmp_path / "events.parquet"
    pl.read_csv(events_csv, infer_schema=False).write_parquet(events)
    out = tmp_path / "out"
    kwargs = {} if batch_rows is None else {"batch_rows": batch_rows}
    recompute([POLICIES / "lesson_observation.policy"], events, roster_file, out,
              as_of=dt.date(2025, 12, 31), **kwargs)
    rows = read_ledger(out / "lesson_observation.parquet")
    expected = evaluate(POLICIES / "lesson_observation.policy", events, load_roster(roster_file),
                        as_of=dt.date(2025, 12, 31), engine="interpreter").to_json()
    assert rows == expected
    assert {r["teacher_id"] for r in rows} == {"ok", "bad", "clash", "lost"}


def test_eval_names_teachers_whose_roster_row_was_rejected(inputs: tuple[Path, Path]) -> None:
    """A rejected roster row is reported with the teacher's id, not silently dropped."""
    from click.testing import CliRunner

    from credit_rules.cli import main

    events, roster = inputs
    result = CliRunner().invoke(main, ["eval", str(POLICIES / "five_year_cycle.policy"), "--events",
                                       str(events), "--roster", str(roster), "--as-of", "2025-12-31"])
    assert result.exit_code == 0, result.output
    assert "roster rows of 1 teacher(s) were rejected (lost)" in result.stderr
    strict = CliRunner().invoke(main, ["eval", str(POLICIES / "five_year_cycle.policy"), "--events",
                                       str(events), "--roster", str(roster), "--strict-input"])
    assert strict.exit_code == 2
