"""Issue 9 (C): typed custom columns (arithmetic in conditions, loader validation) and open
vocabularies, on both engines, through the loader, the checker, fmt and explain."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from credit_rules import api, ir
from credit_rules.compile import compile_source
from credit_rules.core import lower
from credit_rules.errors import PolicyError
from credit_rules.eval import bulk
from credit_rules.eval.explain import explain
from credit_rules.io import load_events, load_roster
from credit_rules.syntax.parser import parse
from credit_rules.syntax.printer import print_policy
from credit_rules.testing.strategies import text_frame

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "columns_and_vocabularies.policy"

POLICY = """policy typed
  window 2024-01-01 .. 2024-12-31
  10 hours = 1 credit

columns: attended_hours decimal, planned_hours decimal, exam_score number, tags list of text,
  district text of teacher, joined_on date of teacher

vocabulary levels: county, school

rule attended:
  on training
  where attended_hours >= 4/5 * planned_hours and exam_score >= 60
  count hours

rule thirds:
  on observation
  where attended_hours / 3 > planned_hours
  1 credit

rule mentoring:
  on reflection
  where tags has mentor
  2 credits
  when district = "east" and joined_on <= hired_on
"""


def policy(text: str = POLICY) -> ir.Policy:
    return compile_source(text, "typed.policy")


def both(p: ir.Policy, events: list[dict[str, str]], roster: Any = None) -> dict[str, Decimal]:
    """Credits per teacher; both engines must agree (and the bulk engine must not fall back)."""
    assert bulk.compile_plan(p).fallbacks == ()
    results = [api.evaluate(p, events, roster, engine=engine) for engine in ("interpreter", "bulk")]
    assert [r.to_json() for r in results[0].rows] == [r.to_json() for r in results[1].rows]
    return {r.teacher_id: r.credits for r in results[0].rows}


def event(eid: str, teacher: str = "t1", kind: str = "training", **columns: str) -> dict[str, str]:
    return {"event_id": eid, "teacher_id": teacher, "at": "2024-03-01", "kind": kind, **columns}


# ------------------------------------------------------------------ meaning, both engines
def test_arithmetic_is_exact_at_the_boundary() -> None:
    """4/5 of 10 is 8: 8 counts, 7.999999 does not; a missing operand makes the atom false."""
    got = both(policy(), [
        event("a", "t1", hours="10", attended_hours="8", planned_hours="10", exam_score="60"),
        event("b", "t2", hours="10", attended_hours="7.999999", planned_hours="10", exam_score="60"),
        event("c", "t3", hours="10", attended_hours="8", exam_score="60"),
        event("d", "t4", hours="10", attended_hours="8", planned_hours="10", exam_score="59"),
    ])
    assert got == {"t1": Decimal(1), "t2": Decimal(0), "t3": Decimal(0), "t4": Decimal(0)}


def test_division_by_a_constant_is_exact_not_rounded() -> None:
    """1/3 > 0.333333 but not > 0.333334: the comparison is scaled, never rounded."""
    got = both(policy(), [
        event("a", "t1", kind="observation", attended_hours="1", planned_hours="0.333333"),
        event("b", "t2", kind="observation", attended_hours="1", planned_hours="0.333334"),
    ])
    assert got == {"t1": Decimal(1), "t2": Decimal(0)}


def test_lists_roster_text_and_roster_dates() -> None:
    roster = [
        {"teacher_id": "t1", "district": "east", "joined_on": "2019-01-01", "hired_on": "2019-01-01"},
        {"teacher_id": "t2", "district": "east", "joined_on": "2019-01-02", "hired_on": "2019-01-01"},
        {"teacher_id": "t3", "district": "west", "joined_on": "2019-01-01", "hired_on": "2020-01-01"},
    ]
    events = [event(e, t, kind="reflection", tags=tags) for e, t, tags in (
        ("a", "t1", "math; mentor"), ("b", "t1", "mentors"), ("c", "t2", "mentor"), ("d", "t3", "mentor"))]
    assert both(policy(), events, roster) == {"t1": Decimal(2), "t2": Decimal(0), "t3": Decimal(0)}


def test_the_checked_form_is_an_integer_comparison_with_zero() -> None:
    where = policy().rules[0].where
    assert isinstance(where, ir.And)
    linear, score = where.items
    # attended - 4/5 planned >= 0, over micro-units, times 5 * 10^6
    assert linear == ir.Linear((("attended_hours", 5), ("planned_hours", -4)), ir.Scope.EVENT, 0, ">=")
    assert score == ir.Linear((("exam_score", 1),), ir.Scope.EVENT, -60_000_000, ">=")
    inputs = lower(policy()).inputs
    assert inputs.allowed("level") == ("county", "school") and inputs.allowed("title") is None
    assert [(c.name, c.type, c.scope) for c in inputs.of(ir.Scope.TEACHER)] == [
        ("district", "text", ir.Scope.TEACHER), ("joined_on", "date", ir.Scope.TEACHER)]


# ------------------------------------------------------------------ the loader
def test_declared_columns_that_do_not_parse_are_rejected_with_a_reason() -> None:
    inputs = lower(policy()).inputs
    rows = [
        event("ok", hours="1", attended_hours="8.5", planned_hours="10", exam_score="60", level="county"),
        event("bad_decimal", attended_hours="abc"),
        event("bad_number", exam_score="60.5"),
        event("too_fine", planned_hours="1.0000001"),
        event("bad_level", level="municipal"),
    ]
    table = load_events(text_frame(rows, ("event_id",)), timezone="Asia/Shanghai", inputs=inputs)
    assert table.frame["event_id"].to_list() == ["ok"]
    reasons = dict(zip(table.rejects["event_id"], table.rejects["reason"], strict=True))
    assert reasons == {
        "bad_decimal": 'attended_hours: not a decimal number: "abc"',
        "bad_number": 'exam_score: not an integer: "60.5"',
        "too_fine": 'planned_hours: more than 6 decimal places: "1.0000001"',
        "bad_level": 'level: "municipal" is not one of county, school',
    }
    assert table.report.rows_read == 5 and table.report.rejected == 4
    # Without the policy's contract the SPEC's lists apply and extra columns are text.
    plain = load_events(text_frame(rows, ("event_id",)), timezone="Asia/Shanghai")
    assert sorted(plain.frame["event_id"].to_list()) == ["bad_decimal", "bad_level", "bad_number", "too_fine"]


def test_vocabularies_replace_the_spec_lists_in_the_loader() -> None:
    p = policy("""policy v
  window 2024-01-01 .. 2024-12-31
columns: joined_on date of teacher
vocabulary kinds: workshop
vocabulary categories: reading
vocabulary formats: online
vocabulary titles: lead
vocabulary roles: mentor
rule r: on workshop 1 credit when role mentor
""")
    inputs = lower(p).inputs
    rows = [event("a", kind="workshop", category="reading", format="online"),
            event("b", kind="training"), event("c", kind="workshop", category="ethics"),
            event("d", kind="workshop", format="offline")]
    table = load_events(text_frame(rows, ("event_id",)), timezone="Asia/Shanghai", inputs=inputs)
    reasons = dict(zip(table.rejects["event_id"], table.rejects["reason"], strict=True))
    assert table.frame["event_id"].to_list() == ["a"]
    assert reasons["b"] == 'kind: "training" is not one of workshop'
    assert reasons["c"] == 'category: "ethics" is not one of reading'
    assert reasons["d"] == 'format: "offline" is not one of online'
    roster = load_roster(text_frame([
        {"teacher_id": "t1", "title": "lead", "roles": "mentor", "joined_on": "2020-01-01"},
        {"teacher_id": "t2", "title": "senior"},
        {"teacher_id": "t3", "roles": "teacher"},
        {"teacher_id": "t4", "joined_on": "2020-02-30"},
    ]), inputs=inputs)
    reasons = dict(zip(roster.rejects["teacher_id"], roster.rejects["reason"], strict=True))
    assert roster.frame["teacher_id"].to_list() == ["t1"]
    assert reasons["t2"] == 'title: "senior" is not one of lead'
    assert reasons["t3"].startswith("roles: unknown role(s) teacher; allowed roles: mentor")
    assert reasons["t4"] == 'joined_on: the date "2020-02-30" does not exist'
    # the API applies the contract: the rejected rows earn nothing, never a silent 0 from a bad value
    ledger = api.evaluate(p, rows, None)
    assert {r.teacher_id: r.credits for r in ledger.rows} == {"t1": Decimal(0)}
    assert ledger.events is not None and ledger.events.report.rejected == 3


# ------------------------------------------------------------------ the checker
def check_codes(text: str) -> list[tuple[str, str | None]]:
    with pytest.raises(PolicyError) as caught:
        compile_source(text, "bad.policy")
    return [(d.code, d.hint) for d in caught.value.diagnostics]


def test_an_undeclared_column_is_an_error_only_in_a_policy_with_columns() -> None:
    base = "policy p\n  window 2024-01-01 .. 2024-12-31\nrule r: on training where room = 5 2 credits\n"
    compile_source(base, "ok.policy")  # no block: any extra column is text, as before
    assert check_codes(base + "columns: rooms text\n") == [("E101", "did you mean `rooms`?")]


def test_type_misuse_is_reported() -> None:
    head = "policy p\n  window 2024-01-01 .. 2024-12-31\ncolumns: a decimal, d date of teacher, t text\n"
    assert [c for c, _ in check_codes(head + "rule r: on training where a * a > 1 2 credits\n")] == ["E273"]
    assert [c for c, _ in check_codes(head + "rule r: on training where t > 1 2 credits\n")] == ["E105"]
    assert [c for c, _ in check_codes(head + "rule r: on training 2 credits when d >= 5\n")] == ["E105"]
    assert [c for c, _ in check_codes(head + "rule r: on training 2 credits when d + 1 >= hired_on\n")] \
        == ["E275"]
    assert [c for c, _ in check_codes(head + "rule r: on training where t has x 2 credits\n")] == ["E277"]
    assert [c for c, _ in check_codes(head + "vocabulary levels: x\nrule r: on training where level y 2 credits\n")] \
        == ["E278"]


# ------------------------------------------------------------------ fmt and explain
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fmt_round_trips_in_both_languages(lang: str) -> None:
    tree = parse(EXAMPLE.read_text(encoding="utf-8"))
    printed = print_policy(tree, lang=lang)  # type: ignore[arg-type]
    assert parse(printed) == tree
    if lang == "zh":
        assert "字段：" in printed and "词表级别：" in printed and "包含" in printed


def test_explain_names_the_event_and_the_values_a_comparison_turned_away() -> None:
    p = policy()
    table = load_events(text_frame([event("w2", hours="20", attended_hours="15.5", planned_hours="20",
                                          exam_score="90")], ("event_id",)), timezone=p.timezone)
    (explained,) = explain(p, table.events(), {}, "t1", policy_text=POLICY)
    rule = next(r for r in explained.rules if r.rule == "attended")
    assert rule.why_nothing == ("event w2: `attended_hours >= 4/5 * planned_hours` does not hold "
                                "(attended_hours = 15.5, planned_hours = 20)")
    (zh,) = explain(p, table.events(), {}, "t1", policy_text=POLICY, lang="zh")
    assert next(r for r in zh.rules if r.rule == "attended").why_nothing == (
        "记录 w2：attended_hours >= 4/5 * planned_hours 不成立（attended_hours = 15.5、planned_hours = 20）")


def test_recompute_validates_each_policy_against_its_own_contract(tmp_path: Path) -> None:
    """Policies with different contracts get their own validation; the shipped one is unaffected."""
    import polars as pl

    from credit_rules.recompute import recompute

    rows = [
        event("a", hours="10", attended_hours="8", planned_hours="10", exam_score="60", level="county"),
        event("b", hours="10", attended_hours="x", planned_hours="10", exam_score="60"),
    ]
    events_file = tmp_path / "events.csv"
    pl.DataFrame(rows).write_csv(events_file)
    shipped = Path(__file__).resolve().parents[1] / "policies" / "annual_training.policy"
    typed, plain = recompute([policy(), shipped], events_file)
    assert (typed.events.rejected, plain.events.rejected) == (1, 1)  # b's column; a's level county
    assert typed.rejects is not None and typed.rejects["reason"].to_list() == [
        'attended_hours: not a decimal number: "x"']
    assert typed.ledger is not None and typed.ledger["credits"].to_list() == [Decimal(1)]


def test_roster_columns_in_when_rank_and_excellent() -> None:
    """Declared roster columns (number, text, list) in `when`, `among` and `excellent`."""
    p = policy("""policy outcome_typed
  window 2024-01-01 .. 2024-12-31
  10 hours = 1 credit
columns: seniority number of teacher, district text of teacher, badges list of text of teacher
rule hours:
  on training
  count hours
  when seniority * 2 >= 10 or badges has star
rank best:
  by score in program "p"
  among district = "east" and seniority >= 3
  top 1
excellent when ranked best and seniority >= 4
""")
    rows = [event(f"e{t}", t, hours=h) for t, h in (("t1", "30"), ("t2", "30"), ("t3", "10"))]
    rows += [event(f"s{t}", t, kind="assessment", program="p", score=s, at="2024-05-01")
             for t, s in (("t1", "90"), ("t2", "95"), ("t3", "99"))]
    roster = [{"teacher_id": "t1", "seniority": "5", "district": "east"},
              {"teacher_id": "t2", "seniority": "2", "district": "east", "badges": "star;x"},
              {"teacher_id": "t3", "seniority": "7", "district": "west"}]
    assert both(p, rows, roster) == {"t1": Decimal(3), "t2": Decimal(3), "t3": Decimal(1)}
    ledger = api.evaluate(p, rows, roster, engine="bulk")
    assert {r.teacher_id: r.excellent_eligible for r in ledger.rows} == {"t1": True, "t2": False, "t3": False}


def test_a_child_layers_vocabulary_replaces_its_parents(tmp_path: Path) -> None:
    """With `extends` (issue 9 F), a child's `vocabulary levels` replaces the parent's; columns add up."""
    from credit_rules.compile import load_policy

    (tmp_path / "city.policy").write_text(
        "policy city\n  window 2024-01-01 .. 2024-12-31\ncolumns: a decimal\n"
        "vocabulary levels: city, school\nrule r: on training where a >= 1 2 credits\n", encoding="utf-8")
    (tmp_path / "county.policy").write_text(
        "policy county extends city\ncolumns: b decimal\nvocabulary levels: county, school\n"
        "rule s: on observation where b > a and level county 1 credit\n", encoding="utf-8")
    merged = load_policy(tmp_path / "county.policy")
    assert [(v.field, v.values) for v in merged.vocabularies] == [("level", ("county", "school"))]
    assert [c.name for c in merged.columns] == ["a", "b"]
