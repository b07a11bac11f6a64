"""Issue 9, construct 10 (E2): carry-forward of a requirement's surplus between periods,
and dated requirement lines (`from DATE:`), on both engines, in both languages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_rules import core
from credit_rules.api import evaluate
from credit_rules.compile import compile_source
from credit_rules.eval import bulk
from credit_rules.eval.explain import explain
from credit_rules.io import load_events
from credit_rules.io.frames import roster_frame, rows_to_frame
from credit_rules.records import LedgerRow, Teacher
from credit_rules.schema import EVENT_COLUMNS
from credit_rules.syntax.parser import parse
from credit_rules.syntax.printer import print_policy

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "carry_forward_and_dates.policy"

POLICY = """policy cf
  window 2021-09-01 .. 2024-08-31
  evaluate per school year
  10 hours = 1 credit

rule training: on training count hours

require total:
  source "第三条"
  from 2023-09-01: at least 9 credits
  at least 5 credits
  carry forward at most 3 credits
    source "第五条 超出部分结转，至多3学分"

require hrs:
  at least 20 hours when any training
  carry forward at most 100 hours
"""

POLICY_ZH = """政策 cf
  时段 2021-09-01 至 2024-08-31
  每学年核算
  10学时折合1学分

规则 training：事件 training 计学时

要求 total：
  依据 "第三条"
  自2023-09-01起：至少9学分
  至少5学分
  结转至多3学分
    依据 "第五条 超出部分结转，至多3学分"

要求 hrs：
  至少20学时 适用于 有 training
  结转不超过100学时
"""


def _events(*rows: tuple[str, str, str, str]) -> list[dict[str, Any]]:
    return [{"event_id": e, "teacher_id": t, "at": at, "kind": "training", "hours": h} for e, t, at, h in rows]


EVENTS = _events(("a", "t1", "2021-10-01", "100"), ("b", "t1", "2022-10-01", "30"),
                 ("c", "t1", "2023-10-01", "70"), ("d", "t2", "2021-10-01", "100"),
                 ("e", "t2", "2023-10-01", "30"))


def _both(policy: Any, events: list[dict[str, Any]] | pl.DataFrame, roster: dict[str, Teacher] | None = None,
          as_of: dt.date = dt.date(2024, 8, 31)) -> list[LedgerRow]:
    """The interpreter's rows, after checking that the bulk engine gives the same ledger."""
    table = load_events(events, timezone=policy.timezone)
    expected = evaluate(policy, table, roster, as_of=as_of, engine="interpreter").rows
    got = evaluate(policy, table, roster, as_of=as_of, engine="bulk").rows
    assert [r.to_json() for r in got] == [r.to_json() for r in expected]
    plan = bulk.compile_plan(policy)
    assert plan.fallbacks == ()
    frame = bulk.run(plan, table.frame, roster_frame(roster or {}), as_of=as_of)
    assert frame.equals(rows_to_frame(expected))
    return list(expected)


def _requirement(row: LedgerRow, name: str) -> tuple[Decimal, Decimal, bool]:
    result = next(r for r in row.requirements if r.name == name)
    return result.required, result.actual, result.met


def _carried(row: LedgerRow) -> dict[str, tuple[Decimal, Decimal]]:
    return {t.rule: (t.credits, t.hours) for t in row.trace if t.rule.startswith("carry_forward:")}


def test_english_and_chinese_give_the_same_tree_and_print_back() -> None:
    """`carry forward` / 结转 and `from D:` / 自D起： parse to one AST; fmt round-trips both ways."""
    english, chinese = parse(POLICY), parse(POLICY_ZH)
    assert english == chinese
    total = english.items[1]
    assert total.carry is not None and total.carry.amount == Decimal(3) and total.carry.unit == "credits"
    assert total.lines[0].since == dt.date(2023, 9, 1) and total.lines[1].since is None
    for lang in ("en", "zh"):
        text = print_policy(english, lang=lang)
        assert parse(text) == english
        assert print_policy(parse(text), lang=lang) == text
    zh = print_policy(english, lang="zh")
    assert "自2023-09-01起：至少9学分" in zh and "结转至多3学分" in zh
    assert "from 2023-09-01: at least 9 credits" in print_policy(chinese)


def test_the_example_prints_canonically_in_both_languages() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    tree = parse(text, str(EXAMPLE))
    assert print_policy(tree) == text
    assert parse(print_policy(tree, lang="zh")) == tree


def test_lowering_makes_both_constructs_data() -> None:
    """The core holds the carry cap and each line's date; nothing is left to the engines to decide."""
    lowered = core.lower(compile_source(POLICY, "cf.policy"))
    total = next(r for r in lowered.requirements if r.name == "total")
    assert total.carry == core.Carry(Decimal(3), "credits", "第五条 超出部分结转，至多3学分")
    assert [line.since for line in total.lines] == [dt.date(2023, 9, 1), None]
    assert not total.lines[0].applies_in(dt.date(2022, 9, 1))
    assert total.lines[0].applies_in(dt.date(2023, 9, 1))


def test_surplus_is_carried_capped_and_chained_on_both_engines() -> None:
    """t1: 10 credits (5 over) carries 3; then 3 + 3 = 6 carries 1; from 2023-09-01 9 are required: 7 + 1 = 8."""
    policy = compile_source(POLICY, "cf.policy")
    rows = {(r.teacher_id, r.period_start.year): r for r in _both(policy, EVENTS)}
    first, second, third = rows["t1", 2021], rows["t1", 2022], rows["t1", 2023]
    assert _requirement(first, "total") == (5, 10, True)
    assert _carried(first) == {}
    assert _requirement(second, "total") == (5, 6, True)
    assert second.credits == 3  # the carry is not new credit
    assert _carried(second) == {"carry_forward:hrs": (0, 80), "carry_forward:total": (3, 0)}
    assert _requirement(third, "total") == (9, 8, False)
    assert _carried(third)["carry_forward:total"] == (1, 0)
    assert not third.met
    # the trace keeps the rules' entries first, then the carries by requirement name
    assert [t.rule for t in third.trace] == ["training", "carry_forward:hrs", "carry_forward:total"]
    assert next(t for t in third.trace if t.rule == "carry_forward:total").source == "第五条 超出部分结转，至多3学分"
    assert sum(t.credits for t in third.trace if t.rule == "training") == third.credits


def test_a_period_where_the_requirement_does_not_apply_carries_nothing_through() -> None:
    """t2 has no training in 2022/23: `hrs` does not apply there, so 2023/24 starts with nothing carried."""
    policy = compile_source(POLICY, "cf.policy")
    rows = {(r.teacher_id, r.period_start.year): r for r in _both(policy, EVENTS)}
    assert "hrs" not in [r.name for r in rows["t2", 2022].requirements]
    assert _requirement(rows["t2", 2023], "hrs") == (20, 30, True)
    assert "carry_forward:hrs" not in _carried(rows["t2", 2023])
    # `total` applies every year: 10 credits carry 3 into 2022/23 (0 + 3 < 5: nothing onwards)
    assert _requirement(rows["t2", 2022], "total") == (5, 3, False)
    assert _requirement(rows["t2", 2023], "total") == (9, 3, False)


def test_a_dated_line_applies_from_the_first_period_starting_on_or_after_its_date() -> None:
    """`from 2023-01-15:` inside school year 2022/23: that year keeps the old line; per semester it changes
    with the semester starting 2023-02-01. Without a window the periods come from the events."""
    text = """policy dated
  {period}
  10 hours = 1 credit
rule training: on training count hours
require total:
  from 2023-01-15: at least 4 credits
  at least 2 credits
"""
    events = _events(("a", "t1", "2022-10-01", "30"), ("b", "t1", "2023-03-01", "30"),
                     ("c", "t1", "2023-10-01", "30"))
    yearly = compile_source(text.format(period="window 2022-09-01 .. 2024-08-31\n  evaluate per school year"), "y")
    required = {r.period_start: _requirement(r, "total")[0] for r in _both(yearly, events)}
    assert required == {dt.date(2022, 9, 1): 2, dt.date(2023, 9, 1): 4}
    semesters = compile_source(text.format(period="evaluate per semester"), "s")
    rows = _both(semesters, events, {"t1": Teacher("t1")}, as_of=dt.date(2023, 10, 2))
    required = {r.period_start: _requirement(r, "total")[0] for r in rows}
    assert required == {dt.date(2022, 9, 1): 2, dt.date(2023, 2, 1): 4, dt.date(2023, 9, 1): 4}


def test_a_waived_requirement_is_met_and_still_carries_its_surplus() -> None:
    text = POLICY + "\nwaive total when title = senior\n"
    policy = compile_source(text, "w.policy")
    roster = {"t1": Teacher("t1", title="senior")}
    rows = {r.period_start.year: r for r in _both(policy, EVENTS[:3], roster) if r.teacher_id == "t1"}
    assert _requirement(rows[2022], "total") == (5, 6, True)
    assert _carried(rows[2022])["carry_forward:total"] == (3, 0)


def test_explain_shows_the_carry_with_its_clause() -> None:
    policy = compile_source(POLICY, "cf.policy")
    table = load_events(EVENTS, timezone=policy.timezone)
    periods = explain(policy, table.events(), {}, "t1", as_of=dt.date(2024, 8, 31), policy_text=POLICY)
    second = periods[1]
    [_hrs, total] = second.carried
    assert (total.requirement, total.amount, total.unit) == ("total", 3, "credits")
    assert total.source == "第五条 超出部分结转，至多3学分"
    assert "3 credits carried in from the previous period" in total.describe()
    assert "carry forward at most 3 credits" in total.describe()
    assert total.describe("zh") == "要求项 total：自上一期间结转 3学分，计入实际（结转至多3学分）"
    assert second.to_json()["carried"][0] == {
        "requirement": "hrs", "source": None, "text": "carry forward at most 100 hours", "amount": "80",
        "unit": "hours"}
    # the dated line is the one quoted for 2023/24
    assert periods[2].requirements[1].text == "from 2023-09-01: at least 9 credits"
    assert "carried" not in periods[0].to_json()


def test_the_bulk_scale_covers_the_carry_amount() -> None:
    """A carry cap finer than every other constant still is exact at the plan's scale."""
    text = """policy fine
  window 2022-09-01 .. 2024-08-31
  evaluate per school year
rule r: on credit_award count credits
require total:
  at least 1 credit
  carry forward at most 0.00000005 credits
"""
    policy = compile_source(text, "fine.policy")
    assert bulk.compile_plan(policy).digits == 8
    events = [{"event_id": "x", "teacher_id": "t", "at": "2022-10-01", "kind": "credit_award", "credits": "2"}]
    rows = _both(policy, events)
    assert _requirement(rows[1], "total") == (1, Decimal("0.00000005"), False)


# ------------------------------------------------------------------ generated: both engines agree
_DAYS = st.dates(min_value=dt.date(2021, 8, 25), max_value=dt.date(2024, 9, 5))


@st.composite
def _carry_policies(draw: Any) -> str:
    unit = draw(st.sampled_from(("credits", "hours")))
    scale = 1 if unit == "credits" else 10
    amounts = st.sampled_from((Decimal(3), Decimal("4.5"), Decimal(2), Decimal("2.5"))).map(lambda a: a * scale)
    lines = []
    if draw(st.booleans()):
        lines.append(f"  from {draw(_DAYS).isoformat()}: at least {draw(amounts)} {unit}")
    if draw(st.booleans()):
        lines.append(f"  at least 1 {unit} when title = senior")
    lines.append(f"  at least {draw(amounts)} {unit}")
    carry = draw(st.sampled_from((Decimal(1), Decimal("0.5"), Decimal(3)))) * scale
    lines.append(f"  carry forward at most {carry} {unit}")
    evaluate_ = draw(st.sampled_from(("per school year", "per semester")))
    waive = "\nwaive total when title = junior\n" if draw(st.booleans()) else ""
    cap = "\ncap yearly: at most 4 credits per school year\n" if draw(st.booleans()) else ""
    if cap and draw(st.booleans()):
        cap += f"cap yearly from {draw(_DAYS).isoformat()}: at most {draw(st.sampled_from(('1', '6.5')))} credits\n"
    if draw(st.booleans()):
        cap += (f"\ncap per_period: at most {draw(st.sampled_from(('5', '8')))} credits\n"
                f"cap per_period from {draw(_DAYS).isoformat()}: at most {draw(st.sampled_from(('6', '10')))} credits\n")
    reduce = "\nreduce credit requirements by 1/5 per year before hired_on\n" if draw(st.booleans()) else ""
    return (f"policy gen\n  window 2021-09-01 .. 2024-08-31\n  evaluate {evaluate_}\n  10 hours = 1 credit\n\n"
            "rule training: on training count hours\n\nrule awards: on credit_award count credits\n\n"
            "require total:\n" + "\n".join(lines) + "\n" + waive + cap + reduce)


@st.composite
def _rows(draw: Any) -> list[dict[str, Any]]:
    out = []
    for i in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(("training", "credit_award")))
        amount = draw(st.sampled_from(("0", "1", "2.5", "10", "35", "80")))
        out.append({"event_id": f"e{i}", "teacher_id": draw(st.sampled_from(("t1", "t2", "t3"))),
                    "at": draw(_DAYS).isoformat(), "kind": kind,
                    ("hours" if kind == "training" else "credits"): amount})
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(text=_carry_policies(), rows=_rows(),
       titles=st.lists(st.sampled_from((None, "senior", "junior")), min_size=2, max_size=2),
       hired=st.lists(st.sampled_from((None, dt.date(2020, 5, 1), dt.date(2022, 3, 1), dt.date(2023, 9, 2))),
                      min_size=2, max_size=2))
def test_generated_carry_and_dated_policies_agree_on_both_engines(
    text: str, rows: list[dict[str, Any]], titles: list[str | None], hired: list[dt.date | None],
) -> None:
    """Carry-forward with dated lines, `when`, waivers, caps and the new-teacher reduction: one ledger."""
    policy = compile_source(text, "gen.policy")
    roster = {f"t{i + 1}": Teacher(f"t{i + 1}", title=t, hired_on=h)
              for i, (t, h) in enumerate(zip(titles, hired, strict=True))}
    frame = pl.DataFrame({c: [r.get(c) for r in rows] for c in EVENT_COLUMNS},
                         schema={c: pl.String for c in EVENT_COLUMNS})
    ledger = _both(policy, frame, roster)
    # the carry never changes what was earned: credits are the rules' credited amounts
    for row in ledger:
        assert row.credits == sum((t.credits for t in row.trace if ":" not in t.rule), Decimal(0))


@pytest.mark.parametrize("line", ["carry forward at most 3 credits", "结转至多3学分", "结转不超过3学分"])
def test_each_spelling_of_carry_forward_parses(line: str) -> None:
    text = POLICY.replace("carry forward at most 3 credits", line)
    assert parse(text) == parse(POLICY)


def test_a_dated_qualification_line_applies_from_its_date_on_both_engines() -> None:
    """`自2023-02-01起：项目 "ed-tech" 合格`: semesters from 2023-02-01 require the assessment; the one before
    falls to the next line, which applies only to senior teachers (so the requirement is absent there)."""
    text = """policy q
  evaluate per semester
rule r: on training count hours
require ed_tech:
  自2023-02-01起：项目 "ed-tech" 合格
  qualified in program "ed-tech" when title = senior
"""
    policy = compile_source(text, "q.policy")
    events = [*_events(("a", "t1", "2022-10-01", "3"), ("b", "t1", "2023-03-01", "3")),
              {"event_id": "g", "teacher_id": "t1", "at": "2023-03-02", "kind": "assessment",
               "program": "ed-tech", "grade": "qualified"}]
    rows = {r.period_start: r for r in _both(policy, events, {"t1": Teacher("t1")}, as_of=dt.date(2023, 3, 3))}
    assert rows[dt.date(2022, 9, 1)].requirements == ()
    assert _requirement(rows[dt.date(2023, 2, 1)], "ed_tech") == (1, 1, True)


CAPS = """policy dc
  window 2021-09-01 .. 2024-08-31
  evaluate per school year
  10 hours = 1 credit

rule training: on training count hours

cap municipal: at most 2 credits of level municipal
cap municipal from 2022-09-01: at most 3 credits
  source "自2022学年起市级至多3学分"
cap municipal from 2023-01-01: at most 4 credits

cap sem: at most 1 credit per semester of level school
上限 sem 自2023-01-15起：至多1.5学分
"""


def test_dated_cap_amounts_apply_to_the_cap_periods_starting_on_or_after_their_date() -> None:
    """municipal (per ledger period): 2 in 2021/22, 3 from 2022/23; `from 2023-01-01` first applies to
    2023/24 (4). sem (per semester): 1, then 1.5 from the semester starting 2023-02-01."""
    policy = compile_source(CAPS, "dc.policy")
    events = [{"event_id": e, "teacher_id": "t1", "at": at, "kind": "training", "hours": "100", "level": level}
              for e, at, level in (("a", "2021-10-01", "municipal"), ("b", "2022-10-01", "municipal"),
                                   ("c", "2023-10-01", "municipal"), ("d", "2022-12-01", "school"),
                                   ("e", "2023-03-01", "school"))]
    rows = {r.period_start.year: r for r in _both(policy, events)}
    assert [rows[y].by_level.get("municipal") for y in (2021, 2022, 2023)] == [2, 3, 4]
    assert rows[2022].by_level["school"] == Decimal("2.5")  # 1 (autumn 2022) + 1.5 (spring 2023)
    # one name, one cap for explain: it lists the dated amounts with their clause
    table = load_events(events, timezone=policy.timezone)
    [first, *_] = explain(policy, table.events(), {}, "t1", as_of=dt.date(2024, 8, 31), policy_text=CAPS)
    municipal = next(c for c in first.caps if c.cap == "municipal")
    assert municipal.cut == ("a",)
    assert municipal.amounts_text() == (
        "2 credits; from 2022-09-01 at most 3 credits; from 2023-01-01 at most 4 credits")
    assert municipal.amounts_text("zh") == "2学分；自2022-09-01起至多3学分；自2023-01-01起至多4学分"
    assert municipal.dated[0][2] == "自2022学年起市级至多3学分"


def test_dated_caps_lower_to_registers_with_date_bounds() -> None:
    lowered = core.lower(compile_source(CAPS, "dc.policy"))
    municipal = [c for c in lowered.caps if c.name == "municipal"]
    assert [c.amount for c in municipal] == [2, 3, 4]
    sem = [c for c in lowered.caps if c.name == "sem"]
    assert [c.amount for c in sem] == [1, Decimal("1.5")]
    text = print_policy(parse(CAPS), lang="zh")
    assert "上限 municipal 自2022-09-01起：至多3学分" in text
    assert parse(text) == parse(CAPS)
    assert "cap sem from 2023-01-15: at most 1.5 credits" in print_policy(parse(text))


def test_layers_inherit_add_and_drop_dated_amounts(tmp_path: Path) -> None:
    """A child layer can give an inherited cap a dated amount, replace a requirement with dated and
    carry-forward lines, and a dropped cap takes its inherited dated amounts with it."""
    from credit_rules.compile import load_policy

    (tmp_path / "city.policy").write_text(
        "policy city\n  window 2021-09-01 .. 2024-08-31\n  evaluate per school year\n  10 hours = 1 credit\n"
        "rule training: on training count hours\ncap municipal: at most 2 credits of level municipal\n"
        "cap municipal from 2023-09-01: at most 4 credits\nrequire total:\n  at least 5 credits\n"
        "  carry forward at most 3 credits\n", encoding="utf-8")
    (tmp_path / "county.policy").write_text(
        "policy county extends city\ncap municipal from 2022-09-01: at most 3 credits\n"
        "replace requirement total:\n  from 2023-09-01: at least 6 credits\n  at least 5 credits\n"
        "  carry forward at most 2 credits\n", encoding="utf-8")
    (tmp_path / "county2.policy").write_text("policy county2 extends city\ndrop cap municipal\n", encoding="utf-8")
    county = core.lower(load_policy(tmp_path / "county.policy"))
    assert [c.amount for c in county.caps] == [2, 3, 4]
    [total] = county.requirements
    assert total.carry is not None and total.carry.amount == 2
    assert [line.since for line in total.lines] == [dt.date(2023, 9, 1), None]
    assert core.lower(load_policy(tmp_path / "county2.policy")).caps == ()
