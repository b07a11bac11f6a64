"""Issue 9 part A: a rule's own conversion rate, declared rounding, minutes and days.

Each test says what it proves; the engines are compared on the same loaded events, and the
differential tests (tests/test_bulk_differential.py) draw these constructs too.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from credit_rules import core
from credit_rules.api import evaluate
from credit_rules.compile import compile_source
from credit_rules.eval import bulk
from credit_rules.eval.explain import explain
from credit_rules.io import load_events
from credit_rules.syntax.parser import parse
from credit_rules.syntax.printer import print_policy

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "rates_rounding_units.policy"

RATES = """policy rates
  window 2024-01-01 .. 2024-12-31
  10 hours = 1 credit
  40 minutes = 1 hour
  1 day = 6 hours rounded down per period

rule offline:
  on training
  where format offline
  count hours
  at 6 hours = 1 credit
  rounded down to 0.5 credits per event

rule online:
  on training
  where format online
  count hours
  at 12 hours = 1 credit
  rounded half up to 1 credit per period

rule other:
  on training
  where format lecture
  count hours

rule talk:
  on observation
  3 hours
  at 6 hours = 1 credit
"""

RATES_ZH = """政策 rates
  时段 2024-01-01 至 2024-12-31
  10学时折合1学分
  40分钟折合1学时
  1天折合6学时合计向下取整

规则 offline：
  事件 training
  其中形式 offline
  计学时
  按6学时折合1学分
  逐条按0.5学分向下取整

规则 online：
  事件 training
  其中形式 online
  计学时
  按12学时折合1学分
  合计按1学分四舍五入

规则 other：
  事件 training
  其中形式 lecture
  计学时

规则 talk：
  事件 observation
  计3学时
  按6学时折合1学分
"""


def _events(rows: list[dict[str, Any]]) -> Any:
    columns = ["event_id", "teacher_id", "at", "kind", "hours", "minutes", "days", "format"]
    frame = pl.DataFrame({c: [r.get(c) for r in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String))
    return load_events(frame)


def _both(text: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ledger JSON of both engines, asserted identical."""
    policy = compile_source(text, "p.policy")
    table = _events(rows)
    got = [[r.to_json() for r in evaluate(policy, table, engine=e).rows] for e in ("interpreter", "bulk")]
    assert got[0] == got[1]
    assert not bulk.compile_plan(policy).fallbacks  # evaluated natively in Polars
    return got[0]


def _rules(row: dict[str, Any]) -> dict[str, str]:
    return {t["rule"]: t["credits"] for t in row["trace"]}


# ------------------------------------------------------------------ syntax
def test_chinese_keywords_build_the_same_tree() -> None:
    """按6学时折合1学分, 逐条/合计 rounding and 40分钟折合1学时 parse to the English tree."""
    assert parse(RATES_ZH) == parse(RATES)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_formatter_round_trips_the_example(lang: str) -> None:
    """fmt in either language gives text that parses back to the same tree, and is stable."""
    tree = parse(EXAMPLE.read_text(encoding="utf-8"))
    text = print_policy(tree, lang=lang)  # type: ignore[arg-type]
    assert parse(text) == tree
    assert print_policy(parse(text), lang=lang) == text  # type: ignore[arg-type]


def test_the_example_is_canonical() -> None:
    """The example is written the way `credit-rules fmt` prints it."""
    text = EXAMPLE.read_text(encoding="utf-8")
    assert print_policy(parse(text)) == text


# ------------------------------------------------------------------ lowering
def test_rates_and_rounding_are_decided_in_the_core() -> None:
    """The engines never see a rule rate: it is the core amount; rounding is core data."""
    policy = core.lower(compile_source(RATES, "p.policy"))
    offline, online, other, talk = (policy.award(n) for n in ("offline", "online", "other", "talk"))
    assert offline.amount == core.Prorated(Decimal(1), Decimal(6))  # 1/6 is no finite decimal
    assert offline.rounding == core.Rounding("down", Decimal("0.5"), pooled=False)
    assert online.rounding == core.Rounding("half up", Decimal(1), pooled=True)
    assert other.amount == core.PerHour(Decimal("0.1"))  # the header rate stays the default
    assert talk.amount == core.Fixed(Decimal("0.5"), Decimal(3))  # 3 hours at the rule's rate
    assert [u.unit for u in policy.units] == ["minutes", "days"]


def test_a_finite_rule_rate_is_a_plain_per_hour_amount() -> None:
    """`at 4 hours = 1 credit` lowers to 0.25 credits per hour, no rounding needed."""
    text = RATES.replace("at 6 hours = 1 credit\n  rounded down to 0.5 credits per event", "at 4 hours = 1 credit")
    policy = core.lower(compile_source(text, "p.policy"))
    assert policy.award("offline").amount == core.PerHour(Decimal("0.25"))
    assert policy.award("offline").rounding is None


def test_the_plan_scale_covers_a_fine_rounding_step() -> None:
    """A step of 10^-9 credit needs 9 places at the bulk engine's fixed point."""
    text = RATES.replace("rounded half up to 1 credit per period", "rounded half up to 0.000000001 credit per period")
    assert bulk.compile_plan(compile_source(text, "p.policy")).digits >= 9


# ------------------------------------------------------------------ evaluation
def test_each_rule_converts_at_its_own_rate_and_rounds() -> None:
    """8 h offline = 4/3 -> 1 (down to 0.5); online 5 h + 2 h = 7/12 pooled -> 0 then 1;
    10 h lecture at the header rate = 1; 3 h talk at 6 h = 1 credit = 0.5."""
    rows = [
        {"event_id": "a", "teacher_id": "t", "at": "2024-03-01", "kind": "training", "hours": "8", "format": "offline"},
        {"event_id": "b", "teacher_id": "t", "at": "2024-03-02", "kind": "training", "hours": "5", "format": "online"},
        {"event_id": "c", "teacher_id": "t", "at": "2024-03-03", "kind": "training", "hours": "2", "format": "online"},
        {"event_id": "d", "teacher_id": "t", "at": "2024-03-04", "kind": "training", "hours": "10", "format": "lecture"},
        {"event_id": "e", "teacher_id": "t", "at": "2024-03-05", "kind": "observation"},
    ]
    [row] = _both(RATES, rows)
    assert _rules(row) == {"offline": "1", "online": "1", "other": "1", "talk": "0.5"}
    assert (row["credits"], row["hours"]) == ("3.5", "28")


@pytest.mark.parametrize(("hours", "credits"), [("6", "1"), ("5.99", "0"), ("18", "2"), ("17.99", "1")])
def test_half_up_rounds_an_exact_half_up(hours: str, credits: str) -> None:
    """Pooled half up at 12 h = 1 credit: 6 h is exactly 0.5 -> 1; 5.99 h -> 0."""
    rows = [{"event_id": "a", "teacher_id": "t", "at": "2024-03-01", "kind": "training", "hours": hours,
             "format": "online"}]
    [row] = _both(RATES, rows)
    assert _rules(row)["online"] == credits


def test_pooled_rounding_lands_each_increment_on_an_event() -> None:
    """Three online events of 5 h: running totals 5/12, 10/12, 15/12 round to 0, 1, 1: the
    award is on the second event, the period total is round(15/12) = 1."""
    policy = compile_source(RATES, "p.policy")
    rows = [{"event_id": f"e{i}", "teacher_id": "t", "at": f"2024-03-0{i}", "kind": "training", "hours": "5",
             "format": "online"} for i in (1, 2, 3)]
    [period] = explain(policy, _events(rows).events(), None, "t", policy_text=RATES)
    online = next(r for r in period.rules if r.rule == "online")
    assert [(a.event_id, a.awarded) for a in online.awards] == [
        ("e1", Decimal(0)), ("e2", Decimal(1)), ("e3", Decimal(0))]
    assert online.awards[1].unrounded == "running total 5/6 rounded half up to 1"
    assert online.text == "count hours; at 12 hours = 1 credit; rounded half up to 1 credit per period"
    _both(RATES, rows)


def test_minutes_and_days_are_the_documents_hours() -> None:
    """90 minutes at 40 minutes = 1 hour are 2.25 hours (0.225 credits at the header rate);
    0.7 + 0.7 days pooled: 4.2 -> 4, 8.4 -> 8 hours, so the second day adds 4."""
    rows = [
        {"event_id": "a", "teacher_id": "t", "at": "2024-03-01", "kind": "training", "minutes": "90",
         "format": "lecture"},
        {"event_id": "b", "teacher_id": "t", "at": "2024-03-02", "kind": "training", "days": "0.7",
         "format": "lecture"},
        {"event_id": "c", "teacher_id": "t", "at": "2024-03-03", "kind": "training", "days": "0.7",
         "format": "lecture"},
    ]
    [row] = _both(RATES, rows)
    assert (row["hours"], row["credits"]) == ("10.25", "1.025")
    policy = compile_source(RATES, "p.policy")
    [period] = explain(policy, _events(rows).events(), None, "t", policy_text=RATES)
    other = next(r for r in period.rules if r.rule == "other")
    assert [a.hours for a in other.awards] == [Decimal("2.25"), Decimal(4), Decimal(4)]
    assert other.awards[0].converted == "90 minutes = 2.25 hours by `40 minutes = 1 hour` (line 4)"
    assert other.awards[2].converted == "0.7 days = 4 hours by `1 day = 6 hours rounded down per period` (line 5)"


def test_a_row_with_two_units_is_rejected_with_a_reason() -> None:
    """hours and minutes on one row: which counts would be a guess."""
    table = _events([{"event_id": "a", "teacher_id": "t", "at": "2024-03-01", "kind": "training",
                      "hours": "2", "minutes": "30"}])
    assert len(table) == 0
    assert "more than one of hours, minutes, days" in table.rejects["reason"][0]


def test_minutes_without_a_conversion_are_rejected_never_zero_hours() -> None:
    """A policy that declares no minutes conversion rejects a row carrying minutes, on both engines."""
    text = RATES.replace("  40 minutes = 1 hour\n", "")
    policy = compile_source(text, "p.policy")
    rows = [{"event_id": "a", "teacher_id": "t", "at": "2024-03-01", "kind": "training", "minutes": "90",
             "format": "lecture"}]
    for engine in ("interpreter", "bulk"):
        ledger = evaluate(policy, _events(rows), engine=engine)  # type: ignore[arg-type]
        assert ledger.events is not None
        assert ledger.events.report.rejected == 1
        assert "declares no conversion of minutes" in ledger.events.rejects["reason"][0]
        assert [r.to_json()["hours"] for r in ledger.rows] == ["0"]  # the teacher keeps a row


def test_minutes_not_exact_to_a_micro_hour_are_rejected() -> None:
    """0.000001 minutes at 40 minutes = 1 hour is 2.5e-8 hours: rejected with the reason."""
    policy = compile_source(RATES, "p.policy")
    rows = [{"event_id": "a", "teacher_id": "t", "at": "2024-03-01", "kind": "training", "minutes": "0.000001",
             "format": "lecture"}]
    ledger = evaluate(policy, _events(rows), engine="bulk")
    assert ledger.events is not None and ledger.events.report.rejected == 1
    assert "not exact to 0.000001 hour" in ledger.events.rejects["reason"][0]


def test_engines_refuse_unconverted_minutes_given_directly() -> None:
    """Bypassing the loader's policy check (e.g. bulk.run on a raw table), both engines stop
    with a reason rather than read minutes as 0 hours."""
    from credit_rules.errors import UsageError
    from credit_rules.eval import interpreter

    policy = compile_source(RATES.replace("  40 minutes = 1 hour\n", ""), "p.policy")
    table = _events([{"event_id": "a", "teacher_id": "t", "at": "2024-03-01", "kind": "training",
                      "minutes": "90", "format": "lecture"}])
    with pytest.raises(UsageError, match="declares no conversion of minutes"):
        interpreter.evaluate(policy, table.events())
    with pytest.raises(UsageError, match="declares no conversion of minutes"):
        bulk.run(bulk.compile_plan(policy), table.frame, None, as_of=table.events()[0].day)


def test_check_events_warns_of_minutes_a_policy_cannot_convert(tmp_path: Path) -> None:
    """`check --events` says which rows will be rejected for carrying an undeclared unit."""
    from click.testing import CliRunner

    from credit_rules.cli import main

    events = tmp_path / "events.csv"
    events.write_text("event_id,teacher_id,at,kind,minutes,format\na,t,2024-03-01,training,90,lecture\n",
                      encoding="utf-8")
    without = tmp_path / "p.policy"
    without.write_text(RATES.replace("  40 minutes = 1 hour\n", ""), encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(without), "--events", str(events)])
    assert "W172" in result.output and "1 events carry minutes" in result.output
    with_minutes = tmp_path / "q.policy"
    with_minutes.write_text(RATES, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(with_minutes), "--events", str(events)])
    assert "W172" not in result.output and "minutes" not in result.output


def test_minutes_and_days_survive_the_frame_round_trip() -> None:
    """Events with minutes or days read back from a frame as the same events."""
    from credit_rules.io.frames import events_to_frame, frame_to_events

    table = _events([
        {"event_id": "a", "teacher_id": "t", "at": "2024-03-01", "kind": "training", "minutes": "90.5"},
        {"event_id": "b", "teacher_id": "t", "at": "2024-03-02", "kind": "training", "days": "0.000001"},
    ])
    events = table.events()
    assert [(e.minutes, e.days) for e in events] == [(Decimal("90.5"), None), (None, Decimal("0.000001"))]
    assert frame_to_events(table.frame, table.timezone) == events
    assert frame_to_events(events_to_frame(events), table.timezone) == events
