"""Worked examples of policies/five_year_cycle.policy (SPEC §6.2, seed 001 范文1)."""

from __future__ import annotations

from decimal import Decimal as D

from conftest import POLICIES, Run, only, requirement
from credit_rules.compile import compile_source
from credit_rules.testing.builders import make_event as E
from credit_rules.testing.builders import make_teacher as T

P = "five_year_cycle"


def test_seventy_two_hours_are_exactly_seven_point_two_credits(run: Run) -> None:
    """10 hours = 1 credit converts exactly: 72 hours earn 7.2, not 7.199999."""
    rows = run(P, [E("e1", "t1", "2022-03-01", "training", hours="72", category="knowledge", level="school")])
    row = only(rows, "t1")
    assert row.credits == D("7.2")
    assert row.to_json()["credits"] == "7.2"
    assert row.hours == D("72")
    assert row.by_category == {"knowledge": D("7.2")}
    assert row.by_level == {"school": D("7.2")}


def test_spec_register_example_municipal_full_then_practice(run: Run) -> None:
    """SPEC §4: municipal full at 7; 20 h municipal practice earn 0 and leave the
    school year's practice allowance untouched; 20 h school practice then earn 2."""
    events = [
        E("m1", "t1", "2022-09-10", "training", hours="70", category="knowledge", level="municipal"),
        E("m2", "t1", "2022-10-10", "training", hours="20", category="practice", level="municipal"),
        E("s1", "t1", "2022-11-10", "training", hours="20", category="practice", level="school"),
    ]
    row = only(run(P, events), "t1")
    trace = {t.rule: t for t in row.trace}
    assert trace["training_hours"].credits == D("9")
    assert row.by_level == {"municipal": D("7"), "school": D("2")}
    assert row.by_category == {"knowledge": D("7"), "practice": D("2")}
    assert row.credits == D("9")
    assert row.hours == D("110")  # hours are counted before caps


def test_cap_order_in_file_does_not_matter(run: Run) -> None:
    """Writing the caps in the opposite order gives the same ledger."""
    text = (POLICIES / "five_year_cycle.policy").read_text(encoding="utf-8")
    marker = "# ----------------------------------------------------------------"
    before, after = text.split(marker + " caps (the credit register)", 1)
    caps, rest = after.split(marker + " requirements", 1)
    blocks = caps.strip().split("\n\n")
    assert len(blocks) == 4
    reordered = before + "\n\n".join(reversed(blocks)) + "\n\n" + marker + " requirements" + rest
    policy = compile_source(reordered, "reordered.policy")
    events = [
        E("m1", "t1", "2022-09-10", "training", hours="70", category="practice", level="municipal"),
        E("m2", "t1", "2022-10-10", "training", hours="20", category="practice", level="municipal", format="lecture"),
        E("s1", "t1", "2022-11-10", "training", hours="20", category="practice", level="school"),
    ]
    assert run(policy, events) == run(P, events)


def test_practice_counts_two_credits_per_school_year_including_partial_years(run: Run) -> None:
    """每学年2分: Jan–Aug 2021 and Sep–Dec 2025 each have the full 2-credit allowance."""
    events = [
        E("a", "t1", "2021-01-01", "training", hours="30", category="practice", level="school"),
        E("b", "t1", "2021-08-31", "training", hours="30", category="practice", level="school"),
        E("c", "t1", "2021-09-01", "training", hours="15", category="practice", level="school"),
        E("d", "t1", "2025-12-31", "training", hours="30", category="practice", level="school"),
    ]
    row = only(run(P, events), "t1")
    assert row.by_category == {"practice": D("5.5")}  # 2 (2020/21) + 1.5 (2021/22) + 2 (2025/26)
    practice = requirement(row, "practice")
    assert (practice.required, practice.actual, practice.met) == (D("10"), D("5.5"), False)


def test_lecture_practice_counts_at_most_one_credit_over_the_cycle(run: Run) -> None:
    """讲座类比例一般不超过10%: lecture-format practice counts at most 10% of 10 = 1."""
    events = [
        E(f"l{i}", "t1", f"202{i}-10-01", "training", hours="10", category="practice", format="lecture",
          level="school")
        for i in range(1, 5)
    ]
    row = only(run(P, events), "t1")
    assert row.credits == D("1")
    assert [t.credits for t in row.trace] == [D("1")]


def test_class_teacher_hours_earn_only_in_complete_blocks_at_municipal_level(run: Run) -> None:
    """3 credits per 30 hours: 65 hours earn 6, credited into municipal, pooled over the cycle."""
    events = [
        E("c1", "t1", "2021-03-01", "training", hours="20", category="class_teacher", level="school"),
        E("c2", "t1", "2022-03-01", "training", hours="25", category="class_teacher", level="school"),
        E("c3", "t1", "2023-03-01", "training", hours="20", category="class_teacher", level="school"),
    ]
    row = only(run(P, events, [T("t1", roles=["teacher", "class_teacher"])]), "t1")
    assert row.credits == D("6")
    assert row.by_level == {"municipal": D("6")}
    trace = {t.rule: t for t in row.trace}
    assert trace["class_teacher_training"].events == ("c1", "c2", "c3")
    ct = requirement(row, "class_teacher")
    assert (ct.required, ct.actual, ct.met) == (D("30"), D("65"), True)


def test_class_teacher_blocks_stay_inside_the_municipal_cap(run: Run) -> None:
    """The block awards are credited into municipal and inside its cap of 7."""
    events = [
        E("m", "t1", "2021-03-01", "training", hours="60", category="knowledge", level="municipal"),
        E("c", "t1", "2021-04-01", "training", hours="30", category="class_teacher"),
    ]
    row = only(run(P, events), "t1")
    assert row.by_level == {"municipal": D("7")}
    assert row.credits == D("7")


def test_class_teacher_requirement_applies_only_to_class_teachers(run: Run) -> None:
    rows = run(P, [], [T("ct", roles=["class_teacher"]), T("plain", roles=["teacher"])])
    assert requirement(only(rows, "ct"), "class_teacher") is not None
    assert requirement(only(rows, "plain"), "class_teacher") is None


def test_first_probation_training_credits_twelve_at_school_level_without_category(run: Run) -> None:
    events = [
        E("p1", "t1", "2022-09-01", "probation_training", category="ethics", level="district"),
        E("p2", "t1", "2022-10-01", "probation_training"),
    ]
    row = only(run(P, events), "t1")
    assert row.credits == D("12")
    assert row.by_level == {"school": D("12")}
    assert row.by_category == {}
    assert row.trace[0].events == ("p1",)


def test_requirements_for_a_senior_teacher(run: Run) -> None:
    row = only(run(P, [], [T("t1", title="senior")]), "t1")
    assert requirement(row, "total").required == D("54")
    assert row.met is False


def test_teacher_hired_in_2023_has_requirements_reduced_by_two_fifths(run: Run) -> None:
    """学分要求可按入职年限递减: hired 2023 → 2 cycle years before → 3/5 of each credit requirement."""
    row = only(run(P, [], [T("t1", hired_on="2023-05-01", roles=["class_teacher"])]), "t1")
    assert requirement(row, "total").required == D("21.6")
    assert requirement(row, "knowledge").required == D("8.4")
    assert requirement(row, "class_teacher").required == D("30")  # hours: not reduced
    assert row.to_json()["requirements"][-1]["name"] == "total"


def test_hired_before_or_after_the_cycle_has_no_reduction(run: Run) -> None:
    rows = run(P, [], [T("old", hired_on="2015-09-01"), T("first_year", hired_on="2021-09-01"),
                       T("late", hired_on="2026-02-01")])
    for teacher in ("old", "first_year", "late"):
        assert requirement(only(rows, teacher), "total").required == D("36")


def test_retired_teacher_needs_only_total_eighteen_and_school(run: Run) -> None:
    """Retired by 2025-12-31: municipal and district electives may be skipped."""
    events = [E("s", "t1", "2022-03-01", "training", hours="180", category="knowledge", level="school")]
    row = only(run(P, events, [T("t1", title="senior", retired_on="2024-07-01")]), "t1")
    assert requirement(row, "total").required == D("18")
    assert requirement(row, "school").met is True
    waived = {r.name for r in row.requirements if r.waived}
    assert waived == {"ethics_literacy", "ethics", "knowledge", "practice", "municipal", "district"}
    assert all(r.met for r in row.requirements)
    assert row.met is True


def test_a_complete_teacher_meets_every_requirement(run: Run) -> None:
    """A teacher who follows the 三(三) split exactly meets all requirements."""
    events = [
        E("e1", "t1", "2021-03-01", "training", hours="60", category="ethics", level="school"),
        E("e2", "t1", "2021-04-01", "training", hours="20", category="literacy", level="school"),
        E("e3", "t1", "2021-05-01", "training", hours="40", category="literacy", level="municipal"),
        E("k1", "t1", "2022-03-01", "training", hours="140", category="knowledge", level="district"),
        *[E(f"p{y}", "t1", f"{y}-10-01", "training", hours="20", category="practice", level="school")
          for y in range(2021, 2026)],
        E("k2", "t1", "2023-03-01", "training", hours="30", category="knowledge", level="school"),
    ]
    row = only(run(P, events), "t1")
    assert row.credits == D("39")
    assert {r.name: r.met for r in row.requirements} == {
        "district": True, "ethics": True, "ethics_literacy": True, "knowledge": True,
        "municipal": True, "practice": True, "school": True, "total": True,
    }
    assert row.met is True


def test_events_outside_the_cycle_earn_nothing_but_the_teacher_has_a_row(run: Run) -> None:
    rows = run(P, [E("old", "t1", "2020-12-31T23:59:59", "training", hours="100", category="knowledge")])
    row = only(rows, "t1")
    assert (row.period_start.isoformat(), row.period_end.isoformat()) == ("2021-01-01", "2025-12-31")
    assert row.credits == D("0")
    assert row.trace == ()


def test_event_time_is_read_in_shanghai(run: Run) -> None:
    """2020-12-31T16:30Z is 2021-01-01 00:30 in Asia/Shanghai: inside the cycle."""
    rows = run(P, [E("z", "t1", "2020-12-31T16:30:00Z", "training", hours="10", category="knowledge")])
    assert only(rows, "t1").credits == D("1")


def test_credit_award_events_count_their_stated_credits(run: Run) -> None:
    rows = run(P, [E("a", "t1", "2024-01-01", "credit_award", credits="2.5", category="ethics", level="district")])
    row = only(rows, "t1")
    assert row.credits == D("2.5")
    assert row.by_level == {"district": D("2.5")}
