"""The policy-change impact report (`credit-rules diff`, issue 12): the model on a hand-made
change whose answer is known, the command end to end on a synthetic province, bad input.

The hand-made change: the online cap drops from 4 to 2 credits, the `ethics` requirement is
dropped and a `school` requirement added. Teachers a (online 4 + school 3 = 7 → 5) and c
(online 3 + district 4 = 7 → 6, and no school credit) lose met; f (6 knowledge credits at
school, no ethics) gains it; b still meets, d and e still do not.
"""

from __future__ import annotations

import importlib.util
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from credit_rules.cli import main
from credit_rules.report import impact_report
from credit_rules.synth import write_province

HEADER = """policy small
  timezone "Asia/Shanghai"
  window 2024-01-01 .. 2024-12-31
  evaluate over window
  10 hours = 1 credit

rule training_hours:
  on training
  count hours

cap online:
  at most {cap} credits of format online

require total:
  at least 6 credits
"""
OLD = HEADER.format(cap=4) + "\nrequire ethics:\n  at least 1 credit of category ethics\n"
NEW = HEADER.format(cap=2) + "\nrequire school:\n  at least 1 credit of level school\n"

# (event, teacher, hours, category, level, format)
EVENTS = [
    ("a1", "a", 30, "ethics", "school", "offline"), ("a2", "a", 40, "knowledge", "district", "online"),
    ("b1", "b", 70, "ethics", "school", "offline"),
    ("c1", "c", 30, "knowledge", "district", "online"), ("c2", "c", 40, "ethics", "district", "offline"),
    ("d1", "d", 20, "knowledge", "school", "offline"),
    ("f1", "f", 60, "knowledge", "school", "offline"),
]
ROSTER = "teacher_id,city,county\na,C1,K1\nb,C1,K1\nc,C2,K2\nd,C2,K2\ne,C2,K3\nf,C1,K1\n"


def write_small_change(folder: Path) -> Path:
    """old.policy, new.policy, events.jsonl and roster.csv of the hand-made change in ``folder``."""
    (folder / "old.policy").write_text(OLD, encoding="utf-8")
    (folder / "new.policy").write_text(NEW, encoding="utf-8")
    (folder / "roster.csv").write_text(ROSTER, encoding="utf-8")
    with (folder / "events.jsonl").open("w", encoding="utf-8") as handle:
        for i, (event, teacher, hours, category, level, fmt) in enumerate(EVENTS):
            handle.write(json.dumps({"event_id": event, "teacher_id": teacher, "at": f"2024-03-{i + 1:02d}",
                                     "kind": "training", "hours": hours, "category": category,
                                     "level": level, "format": fmt}) + "\n")
    return folder


@pytest.fixture
def small_change(tmp_path: Path) -> Path:
    return write_small_change(tmp_path)


def test_the_model_of_a_known_change(small_change: Path) -> None:
    """Counts, pass rates (added / removed requirements), the rule and cap responsible, the
    affected teachers in their stated order, the groups and the histogram are the known answer."""
    d = small_change
    report = impact_report(d / "old.policy", d / "new.policy", d / "events.jsonl", d / "roster.csv",
                           as_of=None, explain_limit=2)
    c = report.counts
    assert (c.matched, c.gain, c.lose, c.unchanged_met, c.unchanged_not_met) == (6, 1, 2, 1, 2)
    assert (c.credits_changed, c.met_before, c.met_after, c.only_old, c.only_new) == (2, 3, 2, 0, 0)
    rates = {r.name: r for r in report.requirements}
    assert [r.name for r in report.requirements] == ["total", "ethics", "school"]
    total, ethics, school = rates["total"], rates["ethics"], rates["school"]
    assert (total.status, total.passed_before, total.passed_after, total.applies_after) == ("both", 4, 3, 6)
    assert (total.newly_failed, total.newly_passed) == (1, 0)
    assert (ethics.status, ethics.passed_before, ethics.applies_after, ethics.rate_after) == ("removed", 3, 0, None)
    assert (school.status, school.applies_before, school.passed_after, school.applies_after) == ("added", 0, 4, 6)
    [rule] = report.rules
    assert (rule.rule, rule.teachers, rule.rows, rule.credits_down, rule.credits_up) == (
        "training_hours", 2, 2, Decimal(-3), Decimal(0))
    # the trace names rules; the explanations of a and c show the online cap now cutting
    [cap] = report.caps
    assert (cap.cap, cap.rows, cap.cut_before, cap.cut_after) == ("online", 2, 0, 2)
    assert [(a.teacher_id, a.change, a.credits_before, a.credits_after) for a in report.affected] == [
        ("a", "lose", Decimal(7), Decimal(5)), ("c", "lose", Decimal(7), Decimal(6)),
        ("f", "gain", Decimal(6), Decimal(6))]
    a, c_row, f = report.affected
    assert a.rules == (("training_hours", Decimal(7), Decimal(5)),) and a.failed == ("total",)
    # c fails only the added `school`, f met `total` before too: neither lists a common requirement
    assert c_row.failed == () and f.passed == f.failed == ()
    assert list(report.explained) == ["a", "c"] and report.not_explained == 1
    assert report.explained["a"][0].credits == Decimal(5)  # explained under NEW
    cities = {(g.column, g.value): (g.matched, g.gain, g.lose) for g in report.groups}
    assert cities[("city", "C1")] == (3, 1, 1) and cities[("county", "K2")] == (2, 0, 1)
    assert cities[("county", "K3")] == (1, 0, 0) and not any(g.column == "school" for g in report.groups)
    assert sum(report.histogram.before) == sum(report.histogram.after) == 6


def test_the_command_writes_the_html_and_its_json_twin(small_change: Path) -> None:
    """`diff` writes both files; the JSON carries every figure, each affected teacher, and the
    explanations (Chinese with --lang zh); the HTML has each explained teacher's anchor."""
    d = small_change
    result = CliRunner().invoke(main, ["diff", str(d / "old.policy"), str(d / "new.policy"), "--events",
                                       str(d / "events.jsonl"), "--roster", str(d / "roster.csv"),
                                       "--out", str(d / "report.html"), "--lang", "zh", "--explain", "1"])
    assert result.exit_code == 0, result.output
    data = json.loads((d / "report.json").read_text(encoding="utf-8"))
    assert data["counts"]["lose"] == 2 and data["counts"]["gain"] == 1
    assert [(a["teacher_id"], a["credits_before"], a["credits_after"], a["requirements_failed"])
            for a in data["affected"]] == [("a", "7", "5", ["total"]), ("c", "7", "6", []), ("f", "6", "6", [])]
    assert data["rules"] == [{"rule": "training_hours", "status": "both", "teachers": 2, "rows": 2,
                              "credits_up": "0", "credits_down": "-3", "net": "-3"}]
    assert list(data["explained"]) == ["a"] and data["not_explained"] == 2
    assert data["explained"]["a"][0]["lang"] == "zh"
    page = (d / "report.html").read_text(encoding="utf-8")
    assert 'id="teacher-a"' in page and 'id="teacher-c"' not in page
    assert "不再达标" in page and "被上限 online 削减" in page  # the explanation, in Chinese
    assert page.count("window.PlotlyConfig") == 1 and page.count("* plotly.js v") == 1  # inlined once
    assert "<script src=" not in page  # nothing fetched when the file is opened


def test_diff_on_a_synthetic_province(tmp_path: Path) -> None:
    """End to end on a generated province: lowering the total requirement makes teachers
    gain met and none lose it; the breakdowns by city, county and school are there."""
    files = write_province(tmp_path / "p", 40, seed=5, events_per_teacher=30)
    shipped = Path(__file__).resolve().parents[1] / "policies" / "five_year_cycle.policy"
    text = shipped.read_text(encoding="utf-8")
    assert "  at least 36 credits\n" in text
    (tmp_path / "new.policy").write_text(text.replace("  at least 36 credits\n", "  at least 10 credits\n"),
                                         encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(shipped), str(tmp_path / "new.policy"), "--events",
                                       str(files.events[0]), "--roster", str(files.roster), "--as-of",
                                       "2025-12-31", "--out", str(tmp_path / "r.html"),
                                       "--json", str(tmp_path / "twin.json")])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "twin.json").read_text(encoding="utf-8"))
    assert data["counts"]["matched"] == 40 and data["counts"]["lose"] == 0
    total = next(r for r in data["requirements"] if r["name"] == "total")
    assert total["passed_after"] - total["passed_before"] == total["newly_passed"] > 0
    assert {g["column"] for g in data["groups"]} == {"city", "county", "school"}
    assert data["rules"] == []  # a requirement changed, no rule credited differently


@pytest.mark.parametrize(("args", "code", "says"), [
    (["--events", "missing.jsonl"], 2, "missing.jsonl"),
    (["--events", "events.jsonl", "--json", "report.html"], 2, "the HTML report's own path"),
    (["--events", "events.jsonl", "--engine", "spark"], 2, 'pip install "credit-rules[spark]"'),
    (["--events", "events.jsonl", "--json", "nowhere/r.json"], 2, "the folder nowhere does not exist"),
])
def test_bad_input_is_a_clear_error(small_change: Path, args: list[str], code: int, says: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing events file, a JSON twin over the HTML, or Spark where it is absent: exit 2
    with a message saying what to do, no traceback, no report written."""
    monkeypatch.chdir(small_change)
    if "spark" in args:  # as where the Spark extra is not installed (PySpark not importable)
        real = importlib.util.find_spec
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real(name, *a))
    result = CliRunner().invoke(main, ["diff", "old.policy", "new.policy", *args, "--out", "report.html"])
    assert result.exit_code == code, result.output
    assert says in result.output and "Traceback" not in result.output
    assert not (small_change / "report.html").exists()


def test_a_broken_policy_exits_1(small_change: Path) -> None:
    """A policy with an error is reported with its line, exit 1."""
    d = small_change
    (d / "new.policy").write_text(NEW.replace("at least 6 credits", "at least six credits"), encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(d / "old.policy"), str(d / "new.policy"), "--events",
                                       str(d / "events.jsonl"), "--out", str(d / "r.html")])
    assert result.exit_code == 1 and "new.policy:" in result.output
