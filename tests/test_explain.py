"""`explain`: rule by rule, the events that counted, what caps cut, shortfalls, each with its clause."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import POLICIES
from credit_rules.cli import main

EVENTS = [
    {"event_id": "m1", "teacher_id": "t1", "at": "2022-09-10", "kind": "training", "hours": "70",
     "category": "knowledge", "level": "municipal"},
    {"event_id": "m2", "teacher_id": "t1", "at": "2022-10-10", "kind": "training", "hours": "20",
     "category": "practice", "level": "municipal"},
    {"event_id": "s1", "teacher_id": "t1", "at": "2022-11-10", "kind": "training", "hours": "20",
     "category": "practice", "level": "school"},
    {"event_id": "o1", "teacher_id": "t1", "at": "2022-11-11", "kind": "observation"},
]


def write_events(tmp_path: Path) -> Path:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in EVENTS), encoding="utf-8")
    return path


def test_explain_json_shows_awards_caps_and_shortfalls(tmp_path: Path) -> None:
    """The municipal cap cut m2 to 0; every requirement's shortfall and clause are given."""
    result = CliRunner().invoke(main, ["explain", str(POLICIES / "five_year_cycle.policy"), "--events",
                                       str(write_events(tmp_path)), "--teacher", "t1", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    (period,) = json.loads(result.stdout)
    rules = {r["rule"]: r for r in period["rules"]}
    awards = {a["event"]: a for a in rules["training_hours"]["awards"]}
    assert (awards["m2"]["awarded"], awards["m2"]["credited"], awards["m2"]["cut_by"]) == ("2", "0", ["municipal_at_most"])
    assert awards["s1"]["credited"] == "2"
    assert "10学时折算" not in rules["training_hours"]["source"] and "360学时" in rules["training_hours"]["source"]
    assert rules["probation"]["why_nothing"] == "no probation_training events in the period"
    caps = {c["cap"]: c["cut"] for c in period["caps"]}
    assert caps["municipal_at_most"] == ["m2"]
    total = next(r for r in period["requirements"] if r["name"] == "total")
    assert (total["required"], total["actual"], total["shortfall"], total["met"]) == ("36", "9", "27", False)
    assert "修满36学分" in total["source"]
    assert period["unused_events"] == [{"event": "o1", "kind": "observation"}]


def test_explain_text_is_readable_in_a_terminal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal rendering names the cap that cut an event and why a rule gave nothing."""
    from credit_rules import cli

    monkeypatch.setattr(cli.out, "width", 240)  # the table folds long cells on a narrow terminal
    result = CliRunner().invoke(main, ["explain", str(POLICIES / "five_year_cycle.policy"), "--events",
                                       str(write_events(tmp_path)), "--teacher", "t1"])
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "cut by municipal_at_most" in text
    assert "cap municipal_at_most (at most 7 credits) cut m2" in text
    assert "nothing:" in text and "probation_training" in text  # the table may fold the reason
    assert "short" in text


def test_explain_why_an_if_qualified_rule_gave_nothing(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    path.write_text(json.dumps({"event_id": "a", "teacher_id": "t", "at": "2018-01-01", "kind": "assessment",
                                "program": "remote-2017", "grade": "unqualified"}), encoding="utf-8")
    result = CliRunner().invoke(main, ["explain", str(POLICIES / "shandong_remote_2017.policy"), "--events",
                                       str(path), "--teacher", "t", "--format", "json"])
    (period,) = json.loads(result.stdout)
    (rule,) = [r for r in period["rules"] if r["rule"] == "remote_credit"]
    assert rule["why_nothing"] == 'the latest assessment of program "remote-2017" (a, 2018-01-01) is unqualified'


def test_explain_an_unknown_teacher_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["explain", str(POLICIES / "five_year_cycle.policy"), "--events",
                                       str(write_events(tmp_path)), "--teacher", "nobody"])
    assert result.exit_code == 2
    assert "nobody" in result.stderr


def test_an_award_line_says_what_cut_it_and_how_it_was_worked_out() -> None:
    # One text for the command line and the impact report (which had lost the last two).
    from credit_rules.eval.explained import AwardExplained

    award = AwardExplained("e1", dt.date(2024, 3, 1), "training", Decimal(8), Decimal(2), Decimal("1.5"),
                           ("online",), credited_hours=Decimal(6), unrounded="1.6", converted="480 minutes = 8 hours")
    text = award.text("en")
    assert "e1" in text and "online" in text and "6" in text
    assert text.endswith("(480 minutes = 8 hours; 1.6)")
    zh = award.text("zh")
    assert zh != text and "学分" in zh and zh.endswith("(480 minutes = 8 hours; 1.6)")
