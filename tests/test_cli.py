"""The command line of SPEC §5, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import POLICIES
from credit_rules.cli import main
from credit_rules.io import read_ledger

EVENTS = [
    {"event_id": "a1", "teacher_id": "t1", "at": "2018-01-10", "kind": "assessment",
     "program": "remote-2017", "grade": "qualified"},
    {"event_id": "m1", "teacher_id": "t1", "at": "2017-10-09T20:00:00", "kind": "task_missed"},
    {"event_id": "a1", "teacher_id": "t1", "at": "2018-01-10", "kind": "assessment",
     "program": "remote-2017", "grade": "qualified"},
    {"event_id": "bad", "teacher_id": "t2", "at": "2018-13-01", "kind": "assessment"},
    {"event_id": "neg", "teacher_id": "t2", "at": "2018-01-01", "kind": "training", "hours": "-2"},
]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in EVENTS) + "\n", encoding="utf-8")
    roster = tmp_path / "roster.csv"
    roster.write_text("teacher_id,title,roles\nt1,senior,teacher;instructor\nt3,junior,teacher\n", encoding="utf-8")
    return {"events": events, "roster": roster, "dir": tmp_path}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_check_passes_every_shipped_policy() -> None:
    code, _, err = invoke("check", *map(str, sorted(POLICIES.glob("*.policy"))))
    assert code == 0, err
    assert err.count(": ok") == 6


def test_check_reports_every_error_with_line_and_caret(tmp_path: Path) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text("policy bad\n  window 2021-01-01 .. 2025-12-31\nrule a: 18 credits if qualified\n"
                   "cap c: at most 7 credits of level citywide\n", encoding="utf-8")
    code, _, err = invoke("check", str(bad))
    assert code == 1
    assert f"{bad}:3:9: error[E130]" in err
    assert f"{bad}:4:35: error[E102]" in err
    assert "^^^^^^^^" in err
    assert "Traceback" not in err


def test_a_diagnostic_on_line_100_names_line_100(tmp_path: Path) -> None:
    # rich reads ":100:" as an emoji code; the console must print the place as it is
    bad = tmp_path / "bad.policy"
    bad.write_text("policy bad\n" + "\n" * 98 + "cap c: at most 7 credits of level citywide\n", encoding="utf-8")
    code, _, err = invoke("check", str(bad))
    assert code == 1
    assert f"{bad}:100:35: error[E102]" in err
    assert "💯" not in err


def test_check_strict_turns_warnings_into_failures(tmp_path: Path) -> None:
    warn = tmp_path / "warn.policy"
    warn.write_text("policy w evaluate per semester require o: at least 10 observations "
                    "at least 20 observations when role principal", encoding="utf-8")
    assert invoke("check", str(warn))[0] == 0
    assert invoke("check", "--strict", str(warn))[0] == 1


def test_eval_prints_the_ledger_and_the_accounting(files: dict[str, Path]) -> None:
    rejects = files["dir"] / "rejects.csv"
    code, out, err = invoke("eval", str(POLICIES / "shandong_remote_2017.policy"), "--events", str(files["events"]),
                            "--roster", str(files["roster"]), "--rejects", str(rejects))
    assert code == 0, err
    assert "events: 5 read = 2 used + 1 duplicates + 2 rejected" in err
    rows = json.loads(out)
    # t2 has only rejected rows: it still gets its row (SPEC §5), with nothing credited.
    assert [r["teacher_id"] for r in rows] == ["t1", "t2", "t3"]
    assert rows[1]["credits"] == "0" and rows[1]["trace"] == []
    t1 = rows[0]
    assert {k: t1[k] for k in ("credits", "leave_days", "grade", "excellent_eligible", "met")} == {
        "credits": "18", "leave_days": 1, "grade": "qualified", "excellent_eligible": False, "met": True}
    assert set(t1) >= {"teacher_id", "period_start", "period_end", "credits", "hours", "leave_days", "grade",
                       "excellent_eligible", "by_category", "by_level", "requirements", "met", "trace"}
    text = rejects.read_text(encoding="utf-8")
    assert "bad" in text and "neg" in text


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet", "json"])
def test_eval_writes_every_format(files: dict[str, Path], fmt: str) -> None:
    out = files["dir"] / f"ledger.{fmt}"
    code, _, err = invoke("eval", str(POLICIES / "shandong_remote_2017.policy"), "--events", str(files["events"]),
                          "--format", fmt, "--out", str(out))
    assert code == 0, err
    rows = read_ledger(out, fmt)
    assert [(r["teacher_id"], r["credits"]) for r in rows] == [("t1", "18"), ("t2", "0")]


def test_eval_with_a_missing_events_file_is_a_clear_error(tmp_path: Path) -> None:
    code, _, err = invoke("eval", str(POLICIES / "lanxi_2023.policy"), "--events", str(tmp_path / "nope.jsonl"))
    assert code == 2
    assert "nope.jsonl" in err
    assert "Traceback" not in err


def test_eval_with_a_broken_policy_shows_the_diagnostic(tmp_path: Path, files: dict[str, Path]) -> None:
    bad = tmp_path / "bad.policy"
    bad.write_text("policy bad window 2021-01-01 .. 2021-12-31 rule r: on training count houres", encoding="utf-8")
    code, _, err = invoke("eval", str(bad), "--events", str(files["events"]))
    assert code == 1
    assert f"{bad}:1:" in err and "error[E003]" in err


def test_demo_recomputes_a_small_province(tmp_path: Path) -> None:
    code, out, err = invoke("demo", "--teachers", "150", "--out", str(tmp_path / "demo"))
    assert code == 0, err
    for name in ("five_year_cycle", "shandong_remote_2017", "ziyang_2017"):
        assert name in out.replace("\n", "")
    assert (tmp_path / "demo" / "roster.parquet").exists()
