"""Worked examples of policies/lanxi_2023.policy (SPEC §6.4, seed 002)."""

from __future__ import annotations

from decimal import Decimal as D

from conftest import Run, only, requirement
from credit_rules.testing.builders import make_event as E

P = "lanxi_2023"


def test_training_plus_qualified_school_based_study_meets_thirty_six_hours(run: Run) -> None:
    events = [
        E("w", "t", "2022-12-02", "training", hours="24"),
        E("s", "t", "2023-06-20", "assessment", program="school-based", grade="qualified"),
        E("r", "t", "2023-04-30T23:00", "reflection", words=1000),
    ]
    row = only(run(P, events), "t")
    assert row.hours == D("36")
    assert row.credits == D("0")  # the plan speaks of study hours only
    assert {r.name: (r.actual, r.met) for r in row.requirements} == {
        "reflection": (D("1"), True), "total": (D("36"), True),
    }
    assert {t.rule: t.hours for t in row.trace} == {"school_based": D("12"), "training_hours": D("24")}


def test_an_unqualified_school_based_assessment_counts_nothing(run: Run) -> None:
    events = [E("s", "t", "2023-06-20", "assessment", program="school-based", grade="unqualified")]
    assert only(run(P, events), "t").hours == D("0")


def test_reflections_must_be_long_enough_and_on_time(run: Run) -> None:
    rows = run(P, [
        E("short", "a", "2023-03-01", "reflection", words=999),
        E("late", "b", "2023-05-01", "reflection", words=2000),
        E("fine", "c", "2023-01-15", "reflection", words=1500),
    ])
    assert requirement(only(rows, "a"), "reflection").met is False
    assert requirement(only(rows, "b"), "reflection").met is False
    assert requirement(only(rows, "c"), "reflection").met is True
