"""Issue 9, part B: calendar years (`per year`, `per day`) and caps at every grain (per
event, per column, combined with a period; caps on study hours) with the ledger's
``credited_hours``. Every result is checked on both engines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from credit_rules.api import ENGINES, evaluate, shipped_policies
from credit_rules.compile import compile_source, load_policy
from credit_rules.core import lower
from credit_rules.errors import PolicyError
from credit_rules.eval.interpreter import evaluate_detailed
from credit_rules.records import LedgerRow
from credit_rules.syntax.parser import parse
from credit_rules.syntax.printer import print_policy
from credit_rules.testing.builders import make_event
from credit_rules.values import Period, PeriodKind, period_of, periods_within

HEADER = """policy b
  cycle 2021-01-01 .. 2025-12-31
  evaluate per year
  10 hours = 1 credit
rule hours: on training count hours
rule stated: on credit_award count credits
rule fixed: on observation 2 credits
"""


def _ledger(caps: str, events: list[dict[str, Any]], engine: str) -> list[LedgerRow]:
    policy = compile_source(HEADER + caps)
    for e in events:
        e.setdefault("teacher_id", "t1")
    return evaluate(policy, events, {}, as_of=dt.date(2022, 12, 31), engine=engine).rows  # type: ignore[arg-type]


def _year(rows: list[LedgerRow], year: int) -> LedgerRow:
    return next(r for r in rows if r.period_start == dt.date(year, 1, 1))


def test_calendar_year_and_day_are_periods() -> None:
    """`per year` is Jan 1 .. Dec 31; `per day` is the day; a cycle holds five years."""
    assert period_of(PeriodKind.YEAR, dt.date(2023, 9, 1)) == Period(dt.date(2023, 1, 1), dt.date(2023, 12, 31))
    assert period_of(PeriodKind.DAY, dt.date(2024, 2, 29)) == Period(dt.date(2024, 2, 29), dt.date(2024, 2, 29))
    cycle = Period(dt.date(2021, 3, 1), dt.date(2025, 12, 31))
    assert [p.start.year for p in periods_within(PeriodKind.YEAR, cycle)] == [2021, 2022, 2023, 2024, 2025]
    assert periods_within(PeriodKind.YEAR, cycle)[0].start == dt.date(2021, 3, 1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_grains_round_trip_through_fmt(lang: str) -> None:
    """Every new grain prints and parses back to the same tree, in English and Chinese."""
    text = HEADER + (
        "cap a: at most 4 credits per year of format degree\n"
        "cap b: at most 10 credits per event\n"
        "cap c: at most 10 credits per course\n"
        "cap d: at most 2 hours per resource per day\n"
        "cap e: at most 100 hours of format online\n")
    tree = parse(text)
    printed = print_policy(tree, lang=lang)  # type: ignore[arg-type]
    assert parse(printed) == tree
    if lang == "zh":
        assert "每年核算" in printed and "至多2学时 每日 每 resource" in printed and "每次" in printed
    assert lower(compile_source(printed)) == lower(compile_source(text))


def test_chinese_synonyms_parse() -> None:
    """每自然年 / 每天 are accepted as written in bureau documents."""
    zh = HEADER + "上限 a：至多4学分 每自然年\n上限 b：至多2学时 每天 每 resource\n"
    en = HEADER + "cap a: at most 4 credits per year\ncap b: at most 2 hours per day per resource\n"
    assert lower(compile_source(zh)) == lower(compile_source(en))


@pytest.mark.parametrize("engine", ENGINES)
def test_hours_cap_cuts_hours_and_credits_follow_the_rate(engine: str) -> None:
    """50 hours of online study: 40 then 10 of 40 admitted; per-hour credits follow (4 + 1)."""
    rows = _ledger("cap online: at most 50 hours of format online\n", [
        {"event_id": "e1", "at": "2022-03-01", "kind": "training", "hours": "40", "format": "online"},
        {"event_id": "e2", "at": "2022-03-02", "kind": "training", "hours": "40", "format": "online"},
        {"event_id": "e3", "at": "2022-03-03", "kind": "training", "hours": "5"},
    ], engine)
    row = _year(rows, 2022)
    assert (row.credits, row.hours, row.credited_hours) == (Decimal("5.5"), Decimal(85), Decimal(55))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_whole_award_that_does_not_fit_an_hours_cap_earns_nothing(engine: str) -> None:
    """Stated credits are whole: 8 of 10 hours free is not enough, and it takes no hours."""
    rows = _ledger("cap h: at most 10 hours\n", [
        {"event_id": "a", "at": "2022-03-01", "kind": "training", "hours": "2"},
        {"event_id": "b", "at": "2022-03-02", "kind": "credit_award", "hours": "9", "credits": "3"},
        {"event_id": "c", "at": "2022-03-03", "kind": "credit_award", "hours": "8", "credits": "1"},
    ], engine)
    row = _year(rows, 2022)
    assert (row.credits, row.credited_hours) == (Decimal("1.2"), Decimal(10))


@pytest.mark.parametrize("engine", ENGINES)
def test_cut_to_zero_by_a_credit_cap_takes_no_hours(engine: str) -> None:
    """SPEC §4 for hours registers: an award a credit cap cuts to 0 leaves the hours cap untouched."""
    rows = _ledger("cap lectures: at most 1 credits of format lecture\ncap h: at most 20 hours\n", [
        {"event_id": "a", "at": "2022-03-01", "kind": "training", "hours": "10", "format": "lecture"},
        {"event_id": "b", "at": "2022-03-02", "kind": "training", "hours": "15", "format": "lecture"},
        {"event_id": "c", "at": "2022-03-03", "kind": "training", "hours": "10"},
    ], engine)
    row = _year(rows, 2022)
    # a: 1 credit, 10 h; b: 0 credits (lectures full), 0 h taken; c: 10 h free -> 1 credit
    assert (row.credits, row.hours, row.credited_hours) == (Decimal(2), Decimal(35), Decimal(20))


@pytest.mark.parametrize("engine", ENGINES)
def test_per_event_cap_spans_every_rule(engine: str) -> None:
    """`per event`: 3 credits an event, whichever rules credit it; events are separate."""
    rows = _ledger("cap e: at most 3 credits per event\n", [
        {"event_id": "a", "at": "2022-03-01", "kind": "training", "hours": "45"},
        {"event_id": "b", "at": "2022-03-02", "kind": "training", "hours": "20"},
        {"event_id": "c", "at": "2022-03-03", "kind": "credit_award", "credits": "9"},
    ], engine)
    assert _year(rows, 2022).credits == Decimal(8)


@pytest.mark.parametrize("engine", ENGINES)
def test_per_column_cap_and_a_missing_value(engine: str) -> None:
    """`per course`: one register per course; an event without a course is not under the cap."""
    rows = _ledger("cap c: at most 5 credits per course\n", [
        {"event_id": "a", "at": "2022-03-01", "kind": "training", "hours": "40", "course": "math"},
        {"event_id": "b", "at": "2022-03-02", "kind": "training", "hours": "40", "course": "math"},
        {"event_id": "c", "at": "2022-03-03", "kind": "training", "hours": "40", "course": "art"},
        {"event_id": "d", "at": "2022-03-04", "kind": "training", "hours": "40"},
    ], engine)
    assert _year(rows, 2022).credits == Decimal(13)


@pytest.mark.parametrize("engine", ENGINES)
def test_per_column_per_day_and_per_year_grains(engine: str) -> None:
    """`per resource per day` restarts each day; `per year` restarts on Jan 1, not Sep 1."""
    rows = _ledger("cap r: at most 2 hours per resource per day\ncap y: at most 4 credits per year of format degree\n", [
        {"event_id": "a", "at": "2022-03-01T09:00", "kind": "training", "hours": "1.5", "resource": "m"},
        {"event_id": "b", "at": "2022-03-01T10:00", "kind": "training", "hours": "1.5", "resource": "m"},
        {"event_id": "c", "at": "2022-03-02T10:00", "kind": "training", "hours": "1.5", "resource": "m"},
        {"event_id": "d", "at": "2022-12-30", "kind": "credit_award", "credits": "3", "format": "degree"},
        {"event_id": "e", "at": "2022-12-31", "kind": "credit_award", "credits": "3", "format": "degree"},
        {"event_id": "f", "at": "2023-01-01", "kind": "credit_award", "credits": "3", "format": "degree"},
    ], engine)
    assert (_year(rows, 2022).credits, _year(rows, 2022).credited_hours) == (Decimal("4.35"), Decimal("3.5"))
    assert _year(rows, 2023).credits == Decimal(3)


def test_misused_grains_are_diagnostics() -> None:
    """Two periods, two columns, a numeric column, per event with another grain: each an error."""
    for caps, code in [("per year per semester", "E182"), ("per room per course", "E183"),
                       ("per score", "E184"), ("per event per day", "E185")]:
        with pytest.raises(PolicyError) as raised:
            compile_source(HEADER + f"cap x: at most 2 credits {caps}\n")
        assert code in str(raised.value)


@pytest.mark.parametrize("path", shipped_policies(), ids=lambda p: Path(p).stem)
def test_credited_hours_of_the_shipped_policies(path: Path) -> None:
    """SPEC §5 addition: for the shipped policies (no hours caps) ``credited_hours`` is the
    hours of every award neither voided nor cut to 0 credits by a cap, on both engines."""
    policy = load_policy(path)
    events = [
        make_event("m1", "t1", "2022-09-10", "training", hours="70", category="knowledge", level="municipal"),
        make_event("m2", "t1", "2022-10-10", "training", hours="20", category="practice", level="municipal"),
        make_event("s1", "t1", "2022-11-10", "training", hours="20", category="practice", level="school"),
        make_event("r1", "t2", "2022-11-10", "training", hours="20", category="ethics", level="school"),
        make_event("p1", "t2", "2022-11-11", "reprimand"),
    ]
    as_of = dt.date(2023, 1, 1)
    detailed = evaluate_detailed(policy, events, {}, as_of=as_of)
    bulk = evaluate(policy, events, {}, as_of=as_of, engine="bulk").rows  # type: ignore[arg-type]
    for tp, row in zip(detailed, bulk, strict=True):
        voided = any(p.void_credits for p, _ in tp.penalties)
        kept = sum((a.hours for a in tp.awards if not voided and not (a.credited == 0 and a.credits > 0)),
                   Decimal(0))
        assert tp.row.credited_hours == kept == row.credited_hours
        assert row.credited_hours <= row.hours
    if path.stem == "five_year_cycle":  # municipal full at 7: m2 cut to 0 keeps none of its 20 h
        row = next(r for r in bulk if r.teacher_id == "t1" and r.credits)
        assert (row.hours, row.credited_hours) == (Decimal(110), Decimal(90))


YEARLY = """policy y
  cycle 2021-01-01 .. 2025-12-31
  10 hours = 1 credit
rule hours: on training count hours
require yearly:
  at least 50 hours per year when title = senior
  at least 30 hours per year
require refl: at least 2 reflections per year
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_requirement_per_year_has_one_entry_per_calendar_year(engine: str) -> None:
    """`per year`: entries yearly/2021 .. yearly/2025, each measured in its own year;
    hired 2022-03-15: 9 whole months of 2022 (50 x 9/12 = 37.5); retired 2024-06-30: 6."""
    from credit_rules.testing.builders import make_teacher

    policy = compile_source(YEARLY)
    events = [
        {"event_id": "a", "teacher_id": "t1", "at": "2022-03-01", "kind": "training", "hours": "40"},
        {"event_id": "b", "teacher_id": "t1", "at": "2022-11-02", "kind": "training", "hours": "20"},
        {"event_id": "c", "teacher_id": "t1", "at": "2023-03-03", "kind": "reflection"},
        {"event_id": "d", "teacher_id": "t2", "at": "2024-03-03", "kind": "training", "hours": "15"},
    ]
    roster = {"t1": make_teacher("t1", title="senior", hired_on="2022-03-15"),
              "t2": make_teacher("t2", retired_on="2024-06-30")}
    rows = evaluate(policy, events, roster, as_of=dt.date(2025, 1, 1), engine=engine).rows  # type: ignore[arg-type]
    got = {r.teacher_id: {q.name: (q.required, q.actual, q.met) for q in r.requirements} for r in rows}
    assert [n for n in got["t1"] if n.startswith("yearly/")] == [f"yearly/{y}" for y in range(2021, 2026)]
    assert got["t1"]["yearly/2021"] == (0, 0, True)  # not yet employed: nothing asked
    assert got["t1"]["yearly/2022"] == (Decimal("37.5"), 60, True)
    assert got["t1"]["yearly/2023"] == (50, 0, False)
    assert got["t1"]["refl/2022"] == (Decimal("1.5"), 0, False)
    assert got["t1"]["refl/2023"] == (2, 1, False)
    assert got["t2"]["yearly/2024"] == (15, 15, True)
    assert got["t2"]["yearly/2025"] == (0, 0, True)
    assert not any(r.met for r in rows)


def test_requirement_per_year_round_trips_in_both_languages() -> None:
    """`at least 50 hours per year` prints as 至少50学时 每年 and parses back."""
    tree = parse(YEARLY)
    for lang in ("en", "zh"):
        assert parse(print_policy(tree, lang=lang)) == tree  # type: ignore[arg-type]
    assert "至少50学时 每年" in print_policy(tree, lang="zh")


def test_prorating_is_exact_and_rounds_down() -> None:
    """Whole months only; the share is rounded down to 0.01 (or the amount's own places)."""
    from credit_rules.core.nodes import prorated, whole_months

    assert whole_months(dt.date(2023, 3, 15), dt.date(2023, 12, 30)) == 8
    assert whole_months(dt.date(2023, 1, 1), dt.date(2023, 12, 31)) == 12
    assert prorated(Decimal(50), 5) == Decimal("20.83")
    assert prorated(Decimal("0.125"), 1) == Decimal("0.010")
    assert prorated(Decimal("7.2"), 12) == Decimal("7.2")


def test_explain_cites_the_caps_grains_admitted_hours_and_each_year() -> None:
    """`explain` shows what a cap limits and per what, the hours an hours cap admitted, and
    one requirement entry per year citing its line's clause."""
    from credit_rules.eval.explain import cap_text, explain

    example = Path(__file__).resolve().parents[1] / "examples" / "years_and_caps.policy"
    policy = load_policy(example)
    events = [make_event(f"e{i}", "t1", f"2022-03-0{i}", "training", hours="40", format="online")
              for i in (1, 2)]
    (period,) = explain(policy, events, {}, "t1", as_of=dt.date(2025, 12, 31),
                        policy_text=example.read_text(encoding="utf-8"))
    out = period.to_json()
    caps = {c["cap"]: c for c in out["caps"]}
    assert (caps["online_hours"]["unit"], caps["online_hours"]["grains"], caps["online_hours"]["of"]) == \
        ("hours", ["year"], "format online")
    online = next(c for c in period.caps if c.cap == "online_hours")
    assert cap_text(online) == "at most 50 hours per year of format online"
    assert cap_text(online, "zh") == "至多50学时 每年 限 format online"
    assert caps["online_hours"]["cut"] == ["e2"] and caps["one_event"]["cut"] == ["e1", "e2"]
    awards = {a["event"]: a for r in out["rules"] for a in r["awards"]}
    assert awards["e2"]["credited_hours"] == "10" and "credited_hours" not in awards["e1"]
    years = [r for r in out["requirements"] if r["name"].startswith("yearly/")]
    assert [r["name"] for r in years] == [f"yearly/{y}" for y in range(2021, 2026)]
    assert all(r["source"] == "第六条 每年参加培训不少于30学时" for r in years)
