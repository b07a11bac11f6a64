"""Issue 9 (D): periods relative to the teacher (``within 1 year of hired_on``, ``in the
first school year after hired_on``) and evidence states (``count only status approved``)."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from credit_rules.api import evaluate
from credit_rules.compile import check_source, compile_source
from credit_rules.core import lower
from credit_rules.eval.bulk.conditions import relative_window_exprs
from credit_rules.eval.explain import d_lines, explain
from credit_rules.io import load_events
from credit_rules.recompute import input_warnings, table_columns
from credit_rules.records import Teacher
from credit_rules.syntax import ast
from credit_rules.syntax.parser import parse
from credit_rules.syntax.printer import print_policy
from credit_rules.testing.strategies import policies
from credit_rules.testing.strategies.events import days
from credit_rules.values import PeriodKind, relative_window

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "relative_periods_and_status.policy"

POLICY = """
policy d
  window 2023-01-01 .. 2025-12-31
  evaluate per school year
  10 hours = 1 credit
  count only status in (approved, verified)

rule early:
  on training
  where within 1 year of hired_on
  count hours

rule later:
  on training
  where not within 1 year of hired_on
  3 credits per 30 hours

rule watched:
  on observation
  where in the first 2 semesters after hired_on or within 30 days of retired_on
  0.5 credits

cap first_year: at most 2 credits of in the first school year after hired_on

require induction:
  at least 20 hours of within 6 months of hired_on

require observed:
  at least 2 observations where in the first semester after hired_on

penalty reprimand:
  on reprimand
  no credits
"""


def _ledger(policy: Any, rows: list[dict[str, Any]], roster: dict[str, Teacher], engine: str,
            as_of: dt.date = dt.date(2025, 12, 31)) -> list[dict[str, Any]]:
    columns = ["event_id", "teacher_id", "at", "kind", "hours", "status"]
    frame = pl.DataFrame({c: [r.get(c) for r in rows] for c in columns}, schema={c: pl.String for c in columns})
    table = load_events(frame, timezone=policy.timezone)
    return [r.to_json() for r in evaluate(policy, table, roster, as_of=as_of, engine=engine).rows]  # type: ignore[arg-type]


def _row(ledger: list[dict[str, Any]], teacher: str, start: str) -> dict[str, Any]:
    return next(r for r in ledger if r["teacher_id"] == teacher and r["period_start"] == start)


# ---------------------------------------------------------------------------- syntax
def test_english_and_chinese_spellings_build_the_same_tree() -> None:
    """Each relative period and both count-only forms parse the same in English and Chinese order."""
    pairs = [
        ("within 1 year of hired_on", "hired_on 后1年内"),
        ("within 6 months of hired_on", "hired_on 后6个月内"),
        ("within 30 days of retired_on", "retired_on 后30天内"),
        ("in the first school year after hired_on", "hired_on 后首学年内"),
        ("in the first 3 semesters after hired_on", "hired_on 后前3学期内"),
    ]
    for en, zh in pairs:
        a = parse(f"policy p rule r: on training where {en} count hours").items[0]
        b = parse(f"policy p rule r: on training 其中 {zh} count hours").items[0]
        assert isinstance(a, ast.Rule) and isinstance(b, ast.Rule)
        assert isinstance(a.where, ast.Relative) and a.where == b.where
    one = parse("policy p count only status approved").header.count_only
    assert one == parse("policy p 仅计状态 approved").header.count_only
    many = parse("policy p count only status in (approved, verified)").header.count_only
    assert many == parse("policy p 仅计状态属于（approved、verified）").header.count_only
    assert many is not None and [v.text for v in many.values] == ["approved", "verified"]  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_example_formats_back_to_the_same_tree(lang: str) -> None:
    """fmt (English and Chinese) of the example reparses to the same tree and is idempotent."""
    tree = parse(EXAMPLE.read_text(encoding="utf-8"))
    text = print_policy(tree, lang=lang)  # type: ignore[arg-type]
    assert parse(text) == tree
    assert print_policy(parse(text), lang=lang) == text  # type: ignore[arg-type]
    if lang == "zh":
        assert "hired_on 后1年内" in text and "hired_on 后前2学期内" in text and "仅计状态属于（approved、verified）" in text
    else:
        assert EXAMPLE.read_text(encoding="utf-8") == text


def test_check_reports_misuse_with_codes_and_spans() -> None:
    """`when within …`, a non-date attribute, an unknown one, a fractional count and a dated status are errors."""
    text = ("policy p window 2023-01-01 .. 2023-12-31 count only status in (approved, 5)\n"
            "rule a: on training where within 1 year of hire_on count hours\n"
            "rule b: on observation where within 2 months of title count hours\n"
            "rule c: on reflection where in the first 0 semesters after hired_on count hours\n"
            "rule d: on lesson_given when within 1 year of hired_on count hours\n")
    _, diagnostics = check_source(text, "p.policy")
    found = {(d.code, d.span.line) for d in diagnostics}
    assert {("E241", 1), ("E101", 2), ("E105", 3), ("E240", 4), ("E107", 5)} <= found
    unknown = next(d for d in diagnostics if d.code == "E101")
    assert unknown.hint is not None and "hired_on" in unknown.hint
    assert unknown.span.col == text.splitlines()[1].index("within") + 1


# ---------------------------------------------------------------------------- bounds
def test_window_bounds_as_documented() -> None:
    """The README's worked bounds: month ends clip, a period under way is not a first period."""
    d = dt.date
    assert str(relative_window(d(2023, 9, 1), None, 12, 0, 0)) == "2023-09-01..2024-08-31"
    assert relative_window(d(2024, 1, 31), None, 1, 0, 0).end == d(2024, 2, 28)  # type: ignore[union-attr]
    assert relative_window(d(2024, 2, 29), None, 12, 0, 0).end == d(2025, 2, 27)  # type: ignore[union-attr]
    assert str(relative_window(d(2023, 1, 1), None, 0, 30, 0)) == "2023-01-01..2023-01-30"
    for hired in (d(2023, 8, 20), d(2023, 9, 1)):
        assert str(relative_window(hired, PeriodKind.SCHOOL_YEAR, 0, 0, 1)) == "2023-09-01..2024-08-31"
    assert str(relative_window(d(2023, 10, 15), PeriodKind.SCHOOL_YEAR, 0, 0, 1)) == "2024-09-01..2025-08-31"
    assert str(relative_window(d(2023, 10, 15), PeriodKind.SEMESTER, 0, 0, 2)) == "2024-02-01..2025-01-31"
    assert str(relative_window(d(2024, 2, 1), PeriodKind.SEMESTER, 0, 0, 1)) == "2024-02-01..2024-08-31"
    assert relative_window(d(9999, 10, 1), PeriodKind.SCHOOL_YEAR, 0, 0, 1) is None


_SHAPES = st.one_of(
    st.tuples(st.just(None), st.integers(1, 30).map(lambda n: n * 12), st.just(0), st.just(0)),
    st.tuples(st.just(None), st.integers(1, 40), st.just(0), st.just(0)),
    st.tuples(st.just(None), st.just(0), st.integers(1, 800), st.just(0)),
    st.tuples(st.sampled_from([PeriodKind.SCHOOL_YEAR, PeriodKind.SEMESTER]), st.just(0), st.just(0),
              st.integers(1, 9)),
)


@settings(max_examples=60, deadline=None)
@given(dates=st.lists(st.one_of(days(), st.dates(max_value=dt.date(9000, 12, 31)), st.sampled_from(
    [dt.date(2024, 2, 29), dt.date(2023, 1, 31), dt.date(2023, 9, 1), dt.date(2023, 2, 1)])),
    min_size=1, max_size=20), shape=_SHAPES)
def test_bulk_bounds_equal_the_core_definition(dates: list[dt.date], shape: tuple[Any, int, int, int]) -> None:
    """The Polars bounds of a relative window are values.relative_window for every date
    (month ends, leap days, centuries), so the engines agree on it. (Beyond year 9999,
    where Python dates end, the core clips and Polars goes on: no event day reaches either.)"""
    anchor, months, n_days, periods = shape
    frame = pl.DataFrame({"a": [*dates, None]}, schema={"a": pl.Date})
    start, end = relative_window_exprs(pl.col("a"), anchor, months, n_days, periods)
    got = frame.select(start.alias("s"), end.alias("e"))
    for day, s, e in zip([*dates, None], got["s"].to_list(), got["e"].to_list(), strict=True):
        if day is None:
            assert s is None and e is None
            continue
        expected = relative_window(day, anchor, months, n_days, periods)
        assert expected is not None
        assert (s, e) == (expected.start, expected.end)


# ---------------------------------------------------------------------------- both engines
ROSTER = {
    "t1": Teacher("t1", hired_on=dt.date(2023, 9, 1)),
    "t2": Teacher("t2", hired_on=dt.date(2023, 10, 15), retired_on=dt.date(2025, 3, 1)),
    "t3": Teacher("t3"),
}
ROWS = [
    {"event_id": "a", "teacher_id": "t1", "at": "2023-09-10", "kind": "training", "hours": "30", "status": "approved"},
    {"event_id": "b", "teacher_id": "t1", "at": "2024-09-01", "kind": "training", "hours": "30", "status": "approved"},
    {"event_id": "c", "teacher_id": "t1", "at": "2023-10-01", "kind": "training", "hours": "10", "status": "submitted"},
    {"event_id": "d", "teacher_id": "t2", "at": "2024-10-14", "kind": "training", "hours": "10", "status": "verified"},
    {"event_id": "e", "teacher_id": "t2", "at": "2024-10-15", "kind": "training", "hours": "30", "status": "verified"},
    {"event_id": "f", "teacher_id": "t2", "at": "2024-02-01", "kind": "observation", "status": "approved"},
    {"event_id": "g", "teacher_id": "t2", "at": "2025-03-20", "kind": "observation", "status": "approved"},
    {"event_id": "h", "teacher_id": "t3", "at": "2024-01-01", "kind": "training", "hours": "30", "status": "approved"},
    {"event_id": "i", "teacher_id": "t3", "at": "2024-01-02", "kind": "reprimand", "status": "revoked"},
    {"event_id": "j", "teacher_id": "t3", "at": "2024-01-03", "kind": "observation"},
]


@pytest.mark.parametrize("engine", ["interpreter", "bulk"])
def test_relative_periods_and_statuses_on_both_engines(engine: str) -> None:
    """Worked ledger: windows per teacher, the cap inside the first school year, statuses filtered."""
    ledger = _ledger(compile_source(POLICY, "d.policy"), ROWS, ROSTER, engine)
    t1 = _row(ledger, "t1", "2023-09-01")
    assert (t1["credits"], t1["hours"]) == ("2", "30")  # 3 credits cut to 2; c is only submitted
    assert t1["requirements"][0] == {"name": "induction", "required": "20", "actual": "30", "met": True}
    assert _row(ledger, "t1", "2024-09-01")["credits"] == "3"  # a year and a day later: whole blocks
    t2 = _row(ledger, "t2", "2024-09-01")
    # d (2024-10-14) is the last day within a year of 2023-10-15; e is the anniversary: later.
    # Both lie in the first school year (2024-09-01 ..), whose cap of 2 leaves e 1 of its 3,
    # and g (within 30 days of retired_on 2025-03-01) nothing.
    assert {e["rule"]: (e["events"], e["credits"]) for e in t2["trace"]} == {
        "early": (["d"], "1"), "later": (["e"], "1"), "watched": (["g"], "0")}
    assert t2["credits"] == "2"
    assert _row(ledger, "t2", "2023-09-01")["trace"] == [
        {"rule": "watched", "source": None, "credits": "0.5", "hours": "0", "events": ["f"]}]
    t3 = _row(ledger, "t3", "2023-09-01")
    assert t3["credits"] == "3"  # no hired_on: `not within` holds; the revoked reprimand voids nothing
    assert all(r["actual"] == "0" for r in t3["requirements"])  # j has no status: not counted


def test_first_semester_for_a_mid_year_hire() -> None:
    """t2 (hired 2023-10-15): the first semester after is spring 2024, so f (2024-02-01) counts."""
    policy = compile_source(POLICY, "d.policy")
    ledger = _ledger(policy, ROWS, ROSTER, "interpreter")
    observed = next(r for r in _row(ledger, "t2", "2023-09-01")["requirements"] if r["name"] == "observed")
    assert observed["actual"] == "1"


ROSTERS = st.fixed_dictionaries({
    "t1": st.builds(Teacher, st.just("t1"), hired_on=st.one_of(st.none(), days()),
                    retired_on=st.one_of(st.none(), days())),
    "t2": st.builds(Teacher, st.just("t2"), hired_on=st.one_of(st.none(), days())),
})


@st.composite
def _rows(draw: Any) -> list[dict[str, Any]]:
    rows = []
    for n in range(draw(st.integers(0, 12))):
        rows.append({
            "event_id": f"e{n}", "teacher_id": draw(st.sampled_from(["t1", "t2", "t3"])),
            "at": draw(days()).isoformat(),
            "kind": draw(st.sampled_from(["training", "observation", "reprimand"])),
            "hours": draw(st.sampled_from(["0", "10", "12.5", "30"])),
            "status": draw(st.sampled_from([None, "approved", "verified", "submitted", "revoked"])),
        })
    if rows and draw(st.booleans()):
        rows.append({**draw(st.sampled_from(rows)), "status": "revoked"})
    return rows


@settings(max_examples=int(os.environ.get("BULK_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rows=_rows(), roster=ROSTERS)
def test_engines_agree_on_relative_periods_and_statuses(rows: list[dict[str, Any]],
                                                         roster: dict[str, Teacher]) -> None:
    """Interpreter and bulk give the same ledger on drawn hire dates, event days and statuses."""
    policy = compile_source(POLICY, "d.policy")
    assert _ledger(policy, rows, roster, "bulk") == _ledger(policy, rows, roster, "interpreter")


def test_generated_policies_draw_the_new_constructs() -> None:
    """The differential tests' policy strategy draws both constructs (and they compile)."""
    for needle in ("within", "in the first", "count only status"):
        text = find(policies(), lambda t, n=needle: n in t,  # type: ignore[misc]
                    settings=settings(max_examples=500, database=None, phases=[Phase.generate]))
        assert needle in text and compile_source(text, "g.policy") is not None


# ---------------------------------------------------------------------------- evidence through the loader
def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.mark.parametrize("engine", ["interpreter", "bulk"])
def test_exporting_an_event_again_as_revoked_removes_its_credit(tmp_path: Path, engine: str) -> None:
    """Approved, then the same event exported as revoked in a second file: the credit goes
    (the earlier copy is a duplicate, not a conflict), in either file order."""
    policy = compile_source(POLICY, "d.policy")
    first = _write(tmp_path / "a.jsonl", ROWS[:1])
    again = _write(tmp_path / "b.jsonl", [{**ROWS[0], "status": "revoked"}])
    before = evaluate(policy, [str(first)], ROSTER, as_of=dt.date(2025, 12, 31), engine=engine)  # type: ignore[arg-type]
    assert _row([r.to_json() for r in before.rows], "t1", "2023-09-01")["credits"] == "2"
    for files in ([first, again], [again, first]):
        table = load_events([str(f) for f in files], timezone=policy.timezone)
        assert (table.report.rows_used, table.report.duplicates, table.report.rejected) == (1, 1, 0)
        after = evaluate(policy, table, ROSTER, as_of=dt.date(2025, 12, 31), engine=engine)  # type: ignore[arg-type]
        row = _row([r.to_json() for r in after.rows], "t1", "2023-09-01")
        assert (row["credits"], row["hours"], row["trace"]) == ("0", "0", [])


def test_other_status_changes_stay_conflicts(tmp_path: Path) -> None:
    """Two decisions (approved, rejected) or a status change with another change: a conflict, neither counts."""
    for other in ({**ROWS[0], "status": "rejected"}, {**ROWS[0], "status": "revoked", "hours": "31"},
                  {**ROWS[0], "status": "withdrawn"}):
        table = load_events([{**ROWS[0]}, other], timezone="Asia/Shanghai")
        assert (table.report.rows_used, table.report.rejected) == (0, 2)
    submitted_then_approved = load_events([{**ROWS[0], "status": "submitted"}, ROWS[0]], timezone="Asia/Shanghai")
    assert [e.attributes["status"] for e in submitted_then_approved.events()] == ["approved"]


# ---------------------------------------------------------------------------- explain and warnings
def test_explain_lists_uncounted_events_and_each_teachers_windows() -> None:
    """explain names each left-out event with its status and the clause, and each window's dates."""
    policy = compile_source(POLICY, "d.policy")
    table = load_events(ROWS, timezone=policy.timezone)
    [early, *_] = explain(policy, table.events(), ROSTER, "t1", as_of=dt.date(2025, 12, 31), policy_text=POLICY)
    assert early.period_start == dt.date(2023, 1, 1)
    first_year = explain(policy, table.events(), ROSTER, "t1", as_of=dt.date(2025, 12, 31),
                         policy_text=POLICY)[1]
    assert first_year.not_counted == (("c", "training", dt.date(2023, 10, 1), "submitted"),)
    assert first_year.count_only == "count only status in (approved, verified)"
    lines = d_lines(first_year)
    assert "period within 1 year of hired_on: hired_on 2023-09-01: 2023-09-01 .. 2024-08-31" in lines
    assert "period in the first school year after hired_on: hired_on 2023-09-01: 2023-09-01 .. 2024-08-31" in lines
    assert ("not counted: c, training on 2023-10-01 has status submitted "
            "(count only status in (approved, verified))") in lines
    assert "c" not in {e for e, _ in first_year.unused_events}
    t3 = explain(policy, table.events(), ROSTER, "t3", as_of=dt.date(2025, 12, 31), policy_text=POLICY)[1]
    assert {e for e, *_ in t3.not_counted} == {"i", "j"}
    assert "not counted: j, observation on 2024-01-03 has no status (count only status in (approved, verified))" \
        in d_lines(t3)
    assert "period within 1 year of hired_on: no hired_on on the roster: the filter holds for no event" in d_lines(t3)
    zh = explain(policy, table.events(), ROSTER, "t1", as_of=dt.date(2025, 12, 31), policy_text=POLICY, lang="zh")[1]
    assert zh.to_json()["not_counted"] == first_year.to_json()["not_counted"] == [
        {"event": "c", "kind": "training", "day": "2023-10-01", "status": "submitted"}]
    assert "期间 within 1 year of hired_on：hired_on 2023-09-01：2023-09-01 至 2024-08-31" in d_lines(zh, "zh")
    assert "不计：c，2023-10-01 的 training 记录状态为 submitted（count only status in (approved, verified)）" \
        in d_lines(zh, "zh")
    assert first_year.to_json()["relative_windows"][0] == {
        "clause": "within 1 year of hired_on", "attribute": "hired_on", "date": "2023-09-01",
        "start": "2023-09-01", "end": "2024-08-31"}


def test_a_status_policy_warns_when_the_events_have_no_status_column() -> None:
    """Filtering on status over events without the column warns that nothing counts."""
    policy = compile_source(POLICY, "d.policy")
    without = load_events([{k: v for k, v in r.items() if k != "status"} for r in ROWS], timezone="Asia/Shanghai")
    warnings = input_warnings(policy, table_columns(without), roster_given=True)
    assert any('no "status" column' in w for w in warnings)
    with_status = load_events(ROWS, timezone="Asia/Shanghai")
    assert not any("status" in w for w in input_warnings(policy, table_columns(with_status), roster_given=True))
    assert any('"hired_on"' in w for w in input_warnings(policy, table_columns(with_status), roster_given=False))


def test_the_core_holds_the_decisions() -> None:
    """The lowering turns each relative period into data and the status filter into a condition."""
    core = lower(compile_source(POLICY, "d.policy"))
    assert core.counted is not None
    early = core.award("early")
    assert early.select.where is not None and type(early.select.where).__name__ == "DateWindow"
    assert (early.select.where.months, early.select.where.anchor) == (12, None)  # type: ignore[union-attr]
    assert Decimal(core.caps[0].amount) == 2


# ---------------------------------------------------------------------------- command line
def test_cli_explains_and_refuses_strictly(tmp_path: Path) -> None:
    """`explain` prints the windows and the uncounted events; `eval --strict-input` refuses
    events without a status column under a count-only policy (exit 2)."""
    from click.testing import CliRunner

    from credit_rules.cli import main

    policy = tmp_path / "d.policy"
    policy.write_text(POLICY, encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("teacher_id,hired_on\nt1,2023-09-01\n", encoding="utf-8")
    events = _write(tmp_path / "e.jsonl", ROWS[:3])
    result = CliRunner().invoke(main, ["explain", str(policy), "--events", str(events), "--roster", str(roster),
                                       "--teacher", "t1", "--as-of", "2025-12-31"])
    assert result.exit_code == 0, result.output
    assert "not counted: c, training on 2023-10-01 has status submitted" in result.output
    assert "period within 1 year of hired_on: hired_on 2023-09-01: 2023-09-01 .. 2024-08-31" in result.output
    bare = _write(tmp_path / "bare.jsonl", [{k: v for k, v in r.items() if k != "status"} for r in ROWS[:3]])
    refused = CliRunner().invoke(main, ["eval", str(policy), "--events", str(bare), "--roster", str(roster),
                                        "--strict-input"])
    assert refused.exit_code == 2
    assert 'no "status" column' in refused.output


def test_a_layer_inherits_count_only_and_relative_periods(tmp_path: Path) -> None:
    """A county layer extending a city policy keeps its `count only status` and its windows."""
    from credit_rules.compile import load_policy

    (tmp_path / "city.policy").write_text(POLICY.replace("policy d", "policy city"), encoding="utf-8")
    (tmp_path / "county.policy").write_text(
        "policy county extends city\n\ndrop rule watched\n", encoding="utf-8")
    county = load_policy(tmp_path / "county.policy")
    assert county.count_only is not None and county.count_only.values == {"approved", "verified"}
    assert [r.name for r in county.rules] == ["early", "later"]
    ledger = _ledger(county, ROWS, ROSTER, "bulk")
    assert _row(ledger, "t1", "2023-09-01")["credits"] == "2"
    assert ledger == _ledger(county, ROWS, ROSTER, "interpreter")


def test_windows_inside_caps_at_every_grain_agree() -> None:
    """Relative periods in `per year`, hours and `per event` caps (issue 9 B): both engines agree."""
    text = ("policy x\n  window 2023-01-01 .. 2025-12-31\n  evaluate per year\n  10 hours = 1 credit\n"
            "  count only status approved\nrule r: on training count hours\n"
            "cap a: at most 2 credits per year of within 1 year of hired_on\n"
            "cap b: at most 25 hours of in the first semester after hired_on\n"
            "cap c: at most 1.5 credits per event of not within 1 year of hired_on\n")
    policy = compile_source(text, "x.policy")
    rows = [{"event_id": f"e{i}", "teacher_id": t, "at": at, "kind": "training", "hours": "30", "status": st}
            for i, (t, at, st) in enumerate([("t1", "2023-09-10", "approved"), ("t1", "2023-12-10", "approved"),
                                             ("t1", "2024-03-01", "approved"), ("t2", "2024-03-01", "approved"),
                                             ("t1", "2024-10-01", "revoked"), ("t1", "2024-10-02", "approved")])]
    roster = {"t1": Teacher("t1", hired_on=dt.date(2023, 9, 1))}
    ledger = _ledger(policy, rows, roster, "bulk", as_of=dt.date(2025, 1, 1))
    assert ledger == _ledger(policy, rows, roster, "interpreter", as_of=dt.date(2025, 1, 1))
    credits = {(r["teacher_id"], r["period_start"]): r["credits"] for r in ledger}
    assert credits[("t1", "2023-01-01")] == "2" and credits[("t1", "2024-01-01")] == "3.5"
    assert credits[("t2", "2024-01-01")] == "1.5"
