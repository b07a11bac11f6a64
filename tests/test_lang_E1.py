"""Issue 9 (E1): choices and named outcomes.

`at least N … in any one of FIELD (a, b)` (the best group counts), `either requirement a
or requirement b` (met when one is; the alternatives count for `met` only through it) and
`outcome NAME: …` (the ledger's `outcomes`), on both engines, through fmt, explain and the
policy test blocks.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_rules.api import evaluate
from credit_rules.compile import check_source, compile_source
from credit_rules.errors import PolicyError
from credit_rules.eval import bulk
from credit_rules.eval.explain import explain
from credit_rules.io import load_events
from credit_rules.io.frames import rows_from_frame, rows_to_frame
from credit_rules.io.ledger import read_ledger, write_ledger
from credit_rules.records import Teacher
from credit_rules.schema import EVENT_COLUMNS
from credit_rules.syntax.parser import parse
from credit_rules.syntax.printer import print_policy
from credit_rules.testing.blocks import load
from credit_rules.testing.runner import run_test
from credit_rules.testing.strategies import event_rows, rosters

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "choices_and_outcomes.policy"
ENGINES = ("interpreter", "bulk")

HEAD = """policy p
  window 2024-09-01 .. 2025-08-31
  evaluate over window
  10 hours = 1 credit

rule training_hours: on training count hours
"""


def _table(rows: list[dict[str, Any]], timezone: str = "Asia/Shanghai") -> Any:
    columns = sorted({*EVENT_COLUMNS, *(k for r in rows for k in r)})
    frame = pl.DataFrame({c: [None if r.get(c) is None else str(r[c]) for r in rows] for c in columns},
                         schema={c: pl.String for c in columns})
    return load_events(frame, timezone=timezone)


def _rows(text: str, events: list[dict[str, Any]], teachers: dict[str, Teacher] | None = None) -> list[dict[str, Any]]:
    """The ledger on both engines, which must agree; returned as JSON rows."""
    policy = compile_source(text, "t.policy")
    assert bulk.compile_plan(policy).fallbacks == ()
    table = _table(events)
    found = [evaluate(policy, table, teachers or {}, as_of=dt.date(2025, 8, 31), engine=e).to_json() for e in ENGINES]
    assert found[0] == found[1]
    return found[0]


def _event(eid: str, kind: str, at: str, **more: Any) -> dict[str, Any]:
    return {"event_id": eid, "teacher_id": more.pop("teacher_id", "t1"), "kind": kind, "at": at, **more}


def _req(row: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((r for r in row["requirements"] if r["name"] == name), None)


# ---------------------------------------------------------------------- the example
@pytest.mark.parametrize("engine", ENGINES)
def test_example_test_blocks_pass_on_both_engines(engine: str) -> None:
    """Every test block of examples/choices_and_outcomes.policy holds on each engine."""
    put = load(EXAMPLE)
    assert len(put.tests) == 4
    for test in put.tests:
        outcome = run_test(put, test, engine)
        assert outcome.passed, outcome.report()


def test_example_formats_back_to_itself_in_english_and_chinese() -> None:
    """`fmt` keeps the example as written, and its Chinese text parses to the same tree."""
    text = EXAMPLE.read_text(encoding="utf-8")
    tree = parse(text)
    assert print_policy(tree) == text
    chinese = print_policy(tree, lang="zh")
    for phrase in ("至少20学时任一 topic（teaching、classroom、edtech）",
                   "要求项 observations 或 要求项 reflections 之一", "结果 probation_passed：", "预期 t1", "非结果 probation_passed"):
        assert phrase in chinese
    assert parse(chinese) == tree


# ---------------------------------------------------------------------- in any one of
BEST = HEAD + """
require depth: at least 20 hours in any one of topic (teaching, classroom)
require best_level: at least 3 credits of category ethics in any one of level (school, municipal)
require best_count: at least 2 observations where count >= 1 in any one of format (online, lecture)
"""


def test_the_best_group_counts_not_the_sum() -> None:
    """20 hours spread over two topics meet nothing; the best group is the actual."""
    rows = _rows(BEST, [
        _event("a", "training", "2024-10-01", hours=12, topic="teaching", category="ethics", level="school"),
        _event("b", "training", "2024-10-02", hours=15, topic="classroom", category="ethics", level="municipal"),
        _event("c", "training", "2024-10-03", hours=30, topic="edtech", category="ethics", level="municipal"),
        _event("o1", "observation", "2024-11-01", count=1, format="online"),
        _event("o2", "observation", "2024-11-02", count=1, format="lecture"),
    ])
    depth, best_level, best_count = (_req(rows[0], n) for n in ("depth", "best_level", "best_count"))
    assert depth == {"name": "depth", "required": "20", "actual": "15", "met": False}  # edtech is no group
    assert best_level is not None and best_level["actual"] == "4.5" and best_level["met"]
    assert best_count is not None and best_count["actual"] == "1" and not best_count["met"]


def test_explain_names_the_best_group_and_the_first_of_a_tie() -> None:
    """explain says which group counted, and each group's amount; a tie goes to the first listed."""
    policy = compile_source(BEST, "t.policy")
    table = _table([_event("a", "training", "2024-10-01", hours=12, topic="teaching"),
                    _event("b", "training", "2024-10-02", hours=12, topic="classroom")])
    [e] = explain(policy, table.events(), {}, "t1", policy_text=BEST)
    depth = next(r for r in e.requirements if r.name == "depth")
    assert depth.detail == "best group: topic = teaching (12 hours); classroom 12 hours"
    assert depth.text == "at least 20 hours in any one of topic (teaching, classroom)"
    assert e.to_json()["requirements"][1]["detail"].startswith("best group: level = ")


# ---------------------------------------------------------------------- either
CHOICE = HEAD + """
require observations: at least 2 observations
require reflections: at least 1 reflection when role class_teacher
require hours: at least 10 hours
require practice:
  source "第五条 二者满足其一"
  either requirement observations or requirement reflections
waive hours when title = senior
require path: either requirement hours or requirement observations
"""


def test_a_choice_is_met_by_any_of_its_requirements_and_they_count_only_through_it() -> None:
    """`met` ignores an unmet alternative when its choice is met; an alternative that does not
    apply is not met; a waived one is."""
    teachers = {"t1": Teacher("t1", title="senior"), "t2": Teacher("t2", roles=frozenset({"class_teacher"}))}
    rows = {r["teacher_id"]: r for r in _rows(CHOICE, [
        _event("o1", "observation", "2024-10-01", count=2),
        _event("r1", "reflection", "2024-10-01", teacher_id="t2"),
        _event("x", "training", "2024-10-01", teacher_id="t3", hours=3),
    ], teachers)}
    t1, t2, t3 = rows["t1"], rows["t2"], rows["t3"]
    assert _req(t1, "practice") == {"name": "practice", "required": "1", "actual": "1", "met": True}
    assert _req(t1, "reflections") is None  # does not apply: not counted by the choice
    assert _req(t1, "path") == {"name": "path", "required": "1", "actual": "2", "met": True}  # hours waived
    assert t1["met"] is True
    assert _req(t2, "observations") == {"name": "observations", "required": "2", "actual": "0", "met": False}
    assert _req(t2, "practice") == {"name": "practice", "required": "1", "actual": "1", "met": True}
    assert _req(t2, "hours") is not None and not _req(t2, "hours")["met"]  # type: ignore[index]
    assert t2["met"] is False  # `path`: neither hours nor observations
    assert _req(t3, "practice") == {"name": "practice", "required": "1", "actual": "0", "met": False}
    assert t3["met"] is False


def test_explain_says_which_requirements_satisfied_a_choice() -> None:
    policy = compile_source(CHOICE, "t.policy")
    table = _table([_event("o1", "observation", "2024-10-01", count=2)])
    [e] = explain(policy, table.events(), {}, "t1", policy_text=CHOICE)
    practice = next(r for r in e.requirements if r.name == "practice")
    assert practice.detail == "one of: observations met, reflections does not apply"
    assert practice.source == "第五条 二者满足其一"


# ---------------------------------------------------------------------- outcomes
OUTCOMES = HEAD + """
require total: at least 2 credits
require mentoring: at least 1 observation when role class_teacher
excellent when credits >= 3
outcome passed: requirement total met
  source "第六条 合格"
outcome mentored: requirement mentoring met
outcome star: excellent_eligible = true and not requirement mentoring met
"""


def test_outcomes_are_a_ledger_map_on_both_engines() -> None:
    """Each outcome is its own entry; `requirement X met` is false when X does not apply; an
    outcome reads the row's excellence."""
    rows = _rows(OUTCOMES, [_event("a", "training", "2024-10-01", hours=35)])
    assert rows[0]["outcomes"] == {"mentored": False, "passed": True, "star": True}
    assert list(rows[0]) [-1] == "outcomes"


def test_outcomes_survive_every_ledger_format(tmp_path: Path) -> None:
    """JSON, JSON Lines, CSV and Parquet keep `outcomes`; the typed frame holds it as a map."""
    rows = _rows(OUTCOMES, [_event("a", "training", "2024-10-01", hours=25)])
    for fmt in ("json", "jsonl", "csv", "parquet"):
        path = tmp_path / f"l.{fmt}"
        write_ledger(rows, path, fmt)
        assert read_ledger(path) == rows
    frame = rows_to_frame(rows)
    assert frame["outcomes"].to_list() == [[{"key": "mentored", "value": False}, {"key": "passed", "value": True},
                                            {"key": "star", "value": False}]]
    assert rows_from_frame(frame)[0].outcomes == {"mentored": False, "passed": True, "star": False}


def test_explain_shows_each_outcome_with_why() -> None:
    policy = compile_source(OUTCOMES, "t.policy")
    table = _table([_event("a", "training", "2024-10-01", hours=35)])
    [e] = explain(policy, table.events(), {}, "t1", policy_text=OUTCOMES)
    star = next(o for o in e.outcomes if o.name == "star")
    assert star.holds and star.parts == (("excellent_eligible = true", True), ("not requirement mentoring met", True))
    passed = next(o for o in e.outcomes if o.name == "passed")
    assert passed.source == "第六条 合格" and passed.parts == (("requirement total met", True),)
    assert json.loads(json.dumps(e.to_json()))["outcomes"][0]["outcome"] == "mentored"


def test_expect_outcome_fails_with_the_values_and_names_unknown_outcomes() -> None:
    """A wrong `expect … outcome` fails with expected and actual; an unknown name is a setup error."""
    text = OUTCOMES + """
test "wrong": event a teacher_id = t1 kind = training at = 2024-10-01 hours = 5
  expect t1 outcome passed, not outcome mentored
test "typo": event a teacher_id = t1 kind = training at = 2024-10-01 hours = 5
  expect t1 outcome pased
"""
    path = EXAMPLE.parent / "__e1_tmp.policy"
    put = load(path, text)
    wrong, typo = put.tests
    for engine in ENGINES:
        result = run_test(put, wrong, engine)
        assert [str(m) for m in result.mismatches] == [f"line {wrong.span.line + 1}: outcome passed: expected true, "
                                                       "got false"]
        assert "outcome passed: no (requirement total met: no)" in result.explanation
        assert "outcome star: no (excellent_eligible = true: no, not requirement mentoring met: yes)" \
            in result.explanation
    assert "unknown outcome `pased`; did you mean `passed`?" in (run_test(put, typo).error or "")


# ---------------------------------------------------------------------- check
@pytest.mark.parametrize(("line", "code"), [
    ("require a: at least 1 credit  require c: either requirement a or requirement zz", "E108"),
    ("require a: at least 1 credit  require c: either requirement a or requirement c", "E262"),
    ("require a: at least 1 credit  require b: at least 2 credits  "
     "require c: either requirement a or requirement b  require d: either requirement c or requirement a", "E263"),
    ("require a: at least 1 credit  require c: either requirement a or requirement a", "E261"),
    ("require a: at least 1 credit in any one of level (school, school)", "E261"),
    ("require a: at least 1 credit  excellent when requirement b met", "E108"),
    ("require a: at least 1 credit  waive a when requirement a met", "E260"),
    ("require a: at least 1 credit  require c: either requirement a or requirement a when role dean  "
     "at least 2 credits", "E140"),
    ("require a: at least 1 credit in any one of level (school)", "W264"),
    ("require a: at least 1 credit per year  require b: at least 1 credit  "
     "require c: either requirement a or requirement b", "E265"),
])
def test_misuse_is_a_diagnostic_with_a_code(line: str, code: str) -> None:
    _, diagnostics = check_source(HEAD + line + "\n", "t.policy")
    assert code in {d.code for d in diagnostics}, [d.render(HEAD + line) for d in diagnostics]
    found = next(d for d in diagnostics if d.code == code)
    assert found.span.line >= 7 and found.hint


def test_outcome_rejects_a_bad_condition_without_a_traceback() -> None:
    with pytest.raises(PolicyError) as caught:
        compile_source(HEAD + "outcome o: requirement\n", "t.policy")
    assert "E002" in caught.value.render()


# ---------------------------------------------------------------------- both engines on generated input
_POLICY_PARTS = st.fixed_dictionaries({
    "best": st.sampled_from(("3 credits", "10 hours of level school", "1 reflection where words >= 1000",
                             "2 observations")),
    "groups": st.sampled_from(("category (ethics, practice)", "level (school, municipal, district)",
                               "room (5, a)", "format (lecture, online)")),
    "when": st.sampled_from(("", " when role class_teacher")),
    "waive": st.sampled_from(("", "waive b when title = senior")),
    "outcome": st.sampled_from(("requirement c met", "not requirement a met or credits >= 2",
                                "excellent_eligible = true and requirement b met", "met = true")),
})


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=_POLICY_PARTS, rows=event_rows(), roster=rosters())
def test_both_engines_agree_on_choices_and_outcomes(parts: dict[str, str], rows: list[dict[str, Any]],
                                                    roster: dict[str, Teacher]) -> None:
    """Generated events and rosters give byte-identical ledgers on both engines."""
    text = (HEAD.replace("2024-09-01 .. 2025-08-31", "2021-01-01 .. 2025-12-31")
            + f"""
require a: at least {parts["best"]} in any one of {parts["groups"]}{parts["when"]}
require b: at least 4 credits
require c:
  either requirement a or requirement b when title = senior
  either requirement b or requirement a
{parts["waive"]}
excellent when credits >= 1
outcome o: {parts["outcome"]}
""")
    policy = compile_source(text, "t.policy")
    assert bulk.compile_plan(policy).fallbacks == ()
    table = _table(rows)
    got = [evaluate(policy, table, roster, as_of=dt.date(2025, 12, 31), engine=e).to_json() for e in ENGINES]
    assert got[0] == got[1]
    for row in got[0]:
        assert set(row["outcomes"]) == {"o"}
        c = _req(row, "c")
        assert c is not None and c["met"] == (Decimal(c["actual"]) >= 1)


def test_excellence_and_invariants_may_read_requirement_met() -> None:
    """`requirement X met` is a result like `met`: `excellent` reads it on both engines."""
    text = HEAD + "require total: at least 2 credits\nexcellent when requirement total met and credits < 5\n"
    rows = {r["teacher_id"]: r for r in _rows(text, [
        _event("a", "training", "2024-10-01", hours=25), _event("b", "training", "2024-10-01", hours=15, teacher_id="t2"),
        _event("c", "training", "2024-10-01", hours=60, teacher_id="t3")])}
    assert [rows[t]["excellent_eligible"] for t in ("t1", "t2", "t3")] == [True, False, False]


def test_coverage_counts_an_outcome_when_it_held() -> None:
    """`credit-rules test --coverage` lists each outcome; a block where it held covers it."""
    from credit_rules.eval.interpreter import evaluate_detailed
    from credit_rules.testing.blocks import block_input
    from credit_rules.testing.coverage import exercised, items

    put = load(EXAMPLE)
    keys = {i.key for i in items(put.policy)}
    assert {"outcome commended", "outcome probation_passed"} <= keys
    covered: set[str] = set()
    for test in put.tests[:3]:  # the fourth block is the only one where `commended` holds
        data = block_input(put, test)
        covered |= set(exercised(put.policy, evaluate_detailed(put.policy, data.events.events(), data.teachers)))
    assert "outcome probation_passed" in covered and "outcome commended" not in covered


def test_a_list_column_cannot_name_the_groups_of_a_best_of_line() -> None:
    """An event holding several values of a list would sit in several groups at once."""
    from credit_rules.compile import check_source

    text = """policy p
  window 2024-01-01 .. 2024-12-31
  evaluate over window
  10 hours = 1 credit

columns: room list of text

rule r0:
  on training
  count hours

require q2:
  at least 3 credits in any one of room (a, b)
"""
    policy, diagnostics = check_source(text, "p.policy")
    assert policy is None
    assert [(d.code, d.span.line) for d in diagnostics] == [("E277", 13)]
