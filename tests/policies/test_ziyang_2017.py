"""Worked examples of policies/ziyang_2017.policy (SPEC §6.6, seed 004)."""

from __future__ import annotations

from decimal import Decimal as D

from conftest import Run, only
from credit_rules.testing.builders import make_event as E
from credit_rules.testing.builders import make_teacher as T

P = "ziyang_2017"


def score(teacher: str, value: str, at: str = "2017-12-20") -> object:
    return E(f"s-{teacher}", teacher, at, "assessment", program="ziyang-2017", score=value)


def test_qualified_online_and_offline_parts_earn_their_hours(run: Run) -> None:
    events = [
        E("on", "t", "2017-12-01", "assessment", program="online", grade="qualified"),
        E("off", "t", "2017-12-02", "assessment", program="offline", grade="excellent"),
    ]
    row = only(run(P, events), "t")
    assert row.hours == D("150")
    assert row.credits == D("0")


def test_grade_comes_from_the_latest_score(run: Run) -> None:
    events = [score("a", "95"), score("b", "60"), score("c", "59.5"),
              E("s-a-old", "a", "2017-11-01", "assessment", program="ziyang-2017", score="10")]
    rows = run(P, events)
    assert {r.teacher_id: r.grade for r in rows} == {"a": "excellent", "b": "qualified", "c": "unqualified"}


def test_two_best_per_workshop_and_two_across_pe_and_arts(run: Run) -> None:
    teachers = [
        T("c1", workshop="chinese"), T("c2", workshop="chinese"), T("c3", workshop="chinese"),
        T("p1", workshop="pe"), T("a1", workshop="arts"), T("a2", workshop="arts"),
        T("m1", workshop="math"),
    ]
    events = [score("c1", "90"), score("c2", "80"), score("c3", "85"),
              score("p1", "70"), score("a1", "99"), score("a2", "60"), score("m1", "50")]
    rows = run(P, events, teachers)
    chosen = sorted(r.teacher_id for r in rows if r.excellent_eligible)
    assert chosen == ["a1", "c1", "c3", "p1"]  # m1 is unqualified, so not ranked


def test_ties_go_to_the_earlier_score_then_teacher_id(run: Run) -> None:
    teachers = [T(t, workshop="math") for t in ("x", "y", "z")]
    events = [score("x", "88", "2017-12-20"), score("y", "88", "2017-12-19"), score("z", "88", "2017-12-19")]
    rows = run(P, events, teachers)
    assert sorted(r.teacher_id for r in rows if r.excellent_eligible) == ["y", "z"]


def test_one_excellent_workshop_leader_ranked_apart_from_learners(run: Run) -> None:
    teachers = [T("l1", workshop="math", roles=["workshop_leader"]),
                T("l2", workshop="chinese", roles=["workshop_leader"]),
                T("m1", workshop="math")]
    events = [score("l1", "91"), score("l2", "97"), score("m1", "61")]
    rows = run(P, events, teachers)
    assert {r.teacher_id: r.excellent_eligible for r in rows} == {"l1": False, "l2": True, "m1": True}
