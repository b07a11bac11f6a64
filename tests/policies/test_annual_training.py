"""Worked examples of policies/annual_training.policy (SPEC §6.3)."""

from __future__ import annotations

from decimal import Decimal as D

from conftest import Run, only, requirement
from credit_rules.testing.builders import make_event as E
from credit_rules.testing.builders import make_teacher as T

P = "annual_training"


def test_seventy_two_hours_meet_the_year_and_convert_to_seven_point_two_credits(run: Run) -> None:
    events = [
        E("t1", "a", "2023-03-01", "training", hours="36"),
        E("t2", "a", "2024-02-29", "training", hours="36"),
        E("ed", "a", "2023-06-01", "assessment", program="ed-tech", grade="qualified"),
    ]
    row = only(run(P, events, [T("a", hired_on="2015-09-01")]), "a")
    assert row.hours == D("72")
    assert row.credits == D("7.2")
    total = requirement(row, "total")
    assert (total.required, total.actual, total.met) == (D("72"), D("72"), True)
    assert requirement(row, "ed_tech").met is True
    assert row.met is True


def test_seventy_one_and_a_half_hours_fall_short(run: Run) -> None:
    events = [E("t1", "a", "2023-05-01", "training", hours="71.5")]
    row = only(run(P, events, [T("a", hired_on="2015-09-01")]), "a")
    assert requirement(row, "total").met is False
    assert row.to_json()["hours"] == "71.5"


def test_teachers_hired_within_the_last_year_have_no_yearly_requirement(run: Run) -> None:
    """培训对象: 具有一年以上教龄 — hired after 2022-03-01 are not yet in scope."""
    rows = run(P, [], [T("new", hired_on="2022-03-02"), T("edge", hired_on="2022-03-01")])
    assert only(rows, "new").requirements == ()
    assert only(rows, "new").met is True
    assert requirement(only(rows, "edge"), "total") is not None


def test_new_principals_and_reserve_cadres_need_sixty_hours(run: Run) -> None:
    events = [E("x", "p", "2023-09-01", "training", hours="59"), E("y", "r", "2023-09-01", "training", hours="60")]
    rows = run(P, events, [T("p", roles=["new_principal"], hired_on="2022-08-01"),
                           T("r", roles=["reserve_cadre"], hired_on="2022-08-01")])
    assert requirement(only(rows, "p"), "leader_hours").met is False
    assert requirement(only(rows, "r"), "leader_hours").met is True
