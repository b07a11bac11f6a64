"""Worked examples of policies/lesson_observation.policy (SPEC §6.5, seed 003)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from conftest import Run, requirement
from credit_rules.testing.builders import make_event as E
from credit_rules.testing.builders import make_teacher as T

P = "lesson_observation"


def observations(teacher: str, n: int, day: str = "2023-10-10", count: int = 1) -> list[object]:
    return [E(f"{teacher}-o{i}", teacher, day, "observation", count=count) for i in range(n)]


def test_the_highest_role_wins(run: Run) -> None:
    teachers = [
        T("p", roles=["teacher", "principal", "middle_leader"]),
        T("m", roles=["middle_leader"]),
        T("r", roles=["dean", "research_member"]),
        T("x", roles=["teacher"]),
    ]
    rows = run(P, [], teachers, as_of=dt.date(2023, 10, 1))
    required = {r.teacher_id: requirement(r, "observations").required for r in rows}
    assert required == {"m": D("12"), "p": D("20"), "r": D("30"), "x": D("10")}


def test_one_row_per_semester_with_counts_summed(run: Run) -> None:
    events = [
        *observations("x", 5, "2023-09-01", count=2),   # 10 lessons in autumn 2023
        E("x-r1", "x", "2023-11-01", "reflection"),
        E("x-r2", "x", "2024-01-31", "reflection"),
        *observations("x", 3, "2024-02-01"),            # spring 2024
    ]
    rows = run(P, events, [T("x")], as_of=dt.date(2024, 3, 1))
    assert [(str(r.period_start), str(r.period_end)) for r in rows] == [
        ("2023-09-01", "2024-01-31"), ("2024-02-01", "2024-08-31"),
    ]
    autumn, spring = rows
    assert requirement(autumn, "observations").actual == D("10")
    assert autumn.met is True
    assert requirement(spring, "observations").actual == D("3")
    assert spring.met is False


def test_research_members_must_also_give_a_lesson(run: Run) -> None:
    events = [*observations("r", 30), E("r-r1", "r", "2023-10-11", "reflection"),
              E("r-r2", "r", "2023-10-12", "reflection")]
    rows = run(P, events, [T("r", roles=["research_member"])], as_of=dt.date(2023, 10, 1))
    (row,) = rows
    assert requirement(row, "lessons_given").met is False
    assert row.met is False
    rows = run(P, [*events, E("r-l", "r", "2023-12-01", "lesson_given")], [T("r", roles=["research_member"])],
               as_of=dt.date(2023, 10, 1))
    assert rows[0].met is True


def test_a_roster_teacher_without_events_gets_the_as_of_semester(run: Run) -> None:
    rows = run(P, [], [T("quiet")], as_of=dt.date(2025, 3, 15))
    assert [(str(r.period_start), str(r.period_end)) for r in rows] == [("2025-02-01", "2025-08-31")]
    assert rows[0].met is False
