"""Worked examples of policies/shandong_remote_2017.policy (SPEC §6.1, seed 000)."""

from __future__ import annotations

from decimal import Decimal as D

from conftest import Run, only, requirement
from credit_rules.testing.builders import make_event as E
from credit_rules.testing.builders import make_teacher as T

P = "shandong_remote_2017"


def assessment(event_id: str, at: str, grade: str, teacher: str = "t1") -> object:
    return E(event_id, teacher, at, "assessment", program="remote-2017", grade=grade)


def test_qualified_participant_earns_eighteen_credits_on_the_deciding_assessment(run: Run) -> None:
    row = only(run(P, [assessment("a1", "2018-01-10", "qualified")]), "t1")
    assert row.credits == D("18")
    assert row.grade == "qualified"
    assert row.trace[0].events == ("a1",)
    assert row.trace[0].source is not None and "18学分" in row.trace[0].source
    assert requirement(row, "qualified").met is True
    assert row.excellent_eligible is True


def test_instructors_and_group_leaders_alike(run: Run) -> None:
    """参训教师、指导教师和研修组长达到合格标准 — the role does not matter."""
    teachers = [T("i", roles=["instructor"]), T("g", roles=["group_leader"])]
    rows = run(P, [assessment("a", "2018-01-10", "excellent", "i"), assessment("b", "2018-01-10", "qualified", "g")],
               teachers)
    assert [r.credits for r in rows] == [D("18"), D("18")]


def test_the_latest_assessment_decides(run: Run) -> None:
    rows = run(P, [assessment("a1", "2017-10-01", "qualified"), assessment("a2", "2018-03-01", "unqualified")])
    row = only(rows, "t1")
    assert row.credits == D("0")
    assert row.grade == "unqualified"
    assert requirement(row, "qualified").met is False
    assert row.met is False


def test_ties_on_at_are_broken_by_event_id_in_code_point_order(run: Run) -> None:
    """Same timestamp: `e9` sorts after `e10`, so e9 is the latest assessment."""
    rows = run(P, [assessment("e9", "2018-01-10T09:00", "qualified"),
                   assessment("e10", "2018-01-10T09:00", "unqualified")])
    row = only(rows, "t1")
    assert row.credits == D("18")
    assert row.trace[0].events == ("e9",)


def test_missed_daily_tasks_are_leave_days_and_cost_excellence(run: Run) -> None:
    events = [
        assessment("a", "2018-01-10", "excellent"),
        E("m1", "t1", "2017-10-09", "task_missed"),
        E("m2", "t1", "2017-10-10", "task_missed"),
    ]
    row = only(run(P, events), "t1")
    assert row.leave_days == 2
    assert row.credits == D("18")
    assert row.excellent_eligible is False


def test_a_reprimand_voids_credits_and_excellence(run: Run) -> None:
    events = [assessment("a", "2018-01-10", "excellent"), E("r", "t1", "2018-02-01", "reprimand")]
    row = only(run(P, events), "t1")
    assert row.credits == D("0")
    assert row.excellent_eligible is False
    assert row.grade == "excellent"


def test_events_outside_the_window_do_not_count(run: Run) -> None:
    events = [assessment("a", "2018-09-01", "qualified"), E("r", "t1", "2017-08-31", "reprimand")]
    row = only(run(P, events), "t1")
    assert row.credits == D("0")
    assert row.grade is None
    assert (str(row.period_start), str(row.period_end)) == ("2017-09-01", "2018-08-31")


def test_a_roster_teacher_without_events_gets_a_row(run: Run) -> None:
    row = only(run(P, [], [T("quiet")]), "quiet")
    assert row.credits == D("0")
    assert row.to_json()["requirements"] == [{"name": "qualified", "required": "1", "actual": "0", "met": False}]
    assert row.met is False
