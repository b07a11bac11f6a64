"""Properties every engine must keep (SPEC §4 last bullet, issue #2); each runs once per engine."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import attrs
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import POLICIES, examples
from credit_rules.api import evaluate
from credit_rules.compile import compile_ast, load_policy
from credit_rules.io import load_events
from credit_rules.ir import Policy
from credit_rules.records import Event, LedgerRow, Teacher
from credit_rules.schema import CATEGORIES, LEVELS
from credit_rules.syntax.parser import parse_file
from credit_rules.testing.builders import make_event, make_teacher

FIVE_YEAR = load_policy(POLICIES / "five_year_cycle.policy")
ALL = {p.stem: load_policy(p) for p in sorted(POLICIES.glob("*.policy"))}
TREES = {name: parse_file(POLICIES / f"{name}.policy") for name in ALL}  # parsed once, shuffled per example
AS_OF = dt.date(2023, 10, 1)
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Generated inputs per property and engine: QUICK in the default run, SOAK behind `pytest -m slow`.
QUICK, SOAK = 10, 300

days = st.dates(dt.date(2017, 8, 25), dt.date(2026, 1, 5))
hours = st.sampled_from(["0", "0.5", "1", "2", "2.5", "10", "12", "30", "0.1"])
kinds = st.sampled_from(["training", "training", "training", "assessment", "task_missed", "observation",
                         "reflection", "reprimand", "probation_training", "credit_award", "lesson_given"])
programs = st.sampled_from(["remote-2017", "ed-tech", "school-based", "online", "offline", "ziyang-2017"])


# Built once and drawn from many times (a strategy built inside a draw is validated anew).
_SIZES = st.integers(0, 25)
_CATEGORY = st.none() | st.sampled_from(CATEGORIES)
_LEVEL = st.none() | st.sampled_from(LEVELS)
_FORMAT = st.none() | st.sampled_from(["online", "offline", "lecture"])
_GRADE = st.sampled_from(["qualified", "excellent", "unqualified"])
_SCORE = st.none() | st.sampled_from(["55", "60", "89.5", "90", "100"])
_CREDITS = st.sampled_from(["0.1", "1", "2"])
_AWARD_LEVEL = st.sampled_from(LEVELS)
_WORDS = st.integers(0, 3000)
_COUNT = st.integers(1, 3)
_HOUR = st.sampled_from([0, 9, 23])
_TEACHERS = {("t1", "t2", "t3"): st.sampled_from(("t1", "t2", "t3"))}


@st.composite
def event_lists(draw: st.DrawFn, teachers: tuple[str, ...] = ("t1", "t2", "t3")) -> list[Event]:
    teacher = _TEACHERS.setdefault(teachers, st.sampled_from(teachers))
    n = draw(_SIZES)
    out: list[Event] = []
    for i in range(n):
        kind = draw(kinds)
        day = draw(days)
        fields: dict[str, object] = {}
        if kind in ("training", "probation_training"):
            fields = {"hours": draw(hours), "category": draw(_CATEGORY), "level": draw(_LEVEL),
                      "format": draw(_FORMAT)}
        elif kind == "assessment":
            fields = {"program": draw(programs), "grade": draw(_GRADE), "score": draw(_SCORE)}
        elif kind == "credit_award":
            fields = {"credits": draw(_CREDITS), "level": draw(_AWARD_LEVEL)}
        elif kind == "reflection":
            fields = {"words": draw(_WORDS)}
        elif kind == "observation":
            fields = {"count": draw(_COUNT)}
        # Same-minute timestamps on purpose: ties are broken by event_id.
        at = dt.datetime.combine(day, dt.time(draw(_HOUR), 0))
        out.append(make_event(f"e{i}", draw(teacher), at, kind, **fields))  # type: ignore[arg-type]
    return out


TEACHERS = {
    "t1": make_teacher("t1", title="senior", roles=["class_teacher", "principal"], hired_on="2010-01-01",
                       workshop="math"),
    "t2": make_teacher("t2", roles=["research_member"], hired_on="2023-04-01", workshop="pe"),
    "t3": make_teacher("t3", retired_on="2024-06-30", workshop="math"),
}


def rows(engine: str, policy: Policy, events: list[Event], teachers: dict[str, Teacher] | None = None,
         ) -> tuple[LedgerRow, ...]:
    """The ledger rows of ``engine`` (teachers default to TEACHERS)."""
    return evaluate(policy, events, TEACHERS if teachers is None else teachers, as_of=AS_OF,
                    engine=engine).rows  # type: ignore[arg-type]


def ledger(engine: str, policy: Policy, events: list[Event]) -> list[dict[str, object]]:
    """The ledger of ``engine`` as JSON rows: what byte-identical ledgers compare."""
    return [r.to_json() for r in rows(engine, policy, events)]


@examples(quick=QUICK, soak=SOAK)
def test_shuffling_events_changes_nothing(engine: str, examples: int) -> None:
    """The order events arrive in never changes a ledger."""

    @settings(SETTINGS, max_examples=examples)
    @given(event_lists(), st.randoms(use_true_random=False), st.sampled_from(sorted(ALL)))
    def check(events: list[Event], rnd: random.Random, name: str) -> None:
        shuffled = list(events)
        rnd.shuffle(shuffled)
        assert ledger(engine, ALL[name], shuffled) == ledger(engine, ALL[name], events)

    check()


@examples(quick=QUICK, soak=SOAK)
def test_shuffling_rules_changes_nothing(engine: str, examples: int) -> None:
    """The order of rules, caps and requirements in the file never changes a ledger."""

    @settings(SETTINGS, max_examples=examples)
    @given(event_lists(), st.randoms(use_true_random=False), st.sampled_from(sorted(ALL)))
    def check(events: list[Event], rnd: random.Random, name: str) -> None:
        tree = TREES[name]
        items = list(tree.items)
        rnd.shuffle(items)
        reordered, diagnostics = compile_ast(attrs.evolve(tree, items=tuple(items)))
        assert reordered is not None, diagnostics
        assert ledger(engine, reordered, events) == ledger(engine, ALL[name], events)

    check()


def _frame(events: list[Event]) -> pl.DataFrame:
    def text(value: object) -> str | None:
        return None if value is None else str(value)

    return pl.DataFrame(
        [{"event_id": e.event_id, "teacher_id": e.teacher_id, "at": e.at.isoformat(), "kind": e.kind,
          "hours": text(e.hours), "credits": text(e.credits), "category": e.category, "level": e.level,
          "format": e.format, "program": e.program, "grade": e.grade, "score": text(e.score),
          "count": str(e.count), "words": text(e.words)} for e in events],
        schema=dict.fromkeys(["event_id", "teacher_id", "at", "kind", "hours", "credits", "category",
                              "level", "format", "program", "grade", "score", "count", "words"], pl.String),
    )


@examples(quick=QUICK, soak=SOAK)
def test_duplicated_events_change_nothing(engine: str, examples: int) -> None:
    """A repeat with identical content is ignored (SPEC §2), wherever it lies."""

    @settings(SETTINGS, max_examples=examples)
    @given(event_lists(), st.data())
    def check(events: list[Event], data: st.DataObject) -> None:
        if not events:
            return
        repeats = data.draw(st.lists(st.sampled_from(events), min_size=1, max_size=5))
        loaded = load_events(_frame(events + repeats))
        assert loaded.report.duplicates == len(repeats)
        assert loaded.report.rejected == 0
        once = load_events(_frame(events))
        assert ledger(engine, FIVE_YEAR, loaded.events()) == ledger(engine, FIVE_YEAR, once.events())

    check()


added_trainings = st.builds(
    lambda day, h, category, level, fmt: make_event(
        "added", "t1", dt.datetime.combine(day, dt.time(12)), "training",
        hours=h, category=category, level=level, format=fmt),
    st.dates(dt.date(2021, 1, 1), dt.date(2025, 12, 31)), hours,
    st.none() | st.sampled_from(CATEGORIES), st.none() | st.sampled_from(LEVELS),
    st.none() | st.sampled_from(["online", "offline", "lecture"]),
)


@examples(quick=QUICK, soak=SOAK)
def test_adding_a_training_event_never_lowers_credits(engine: str, examples: int) -> None:
    """Under five_year_cycle more training can be cut by caps, but never lowers credits."""

    @settings(SETTINGS, max_examples=examples)
    @given(event_lists(), added_trainings)
    def check(events: list[Event], extra: Event) -> None:
        before = {r.teacher_id: r.credits for r in rows(engine, FIVE_YEAR, events)}
        after = {r.teacher_id: r.credits for r in rows(engine, FIVE_YEAR, [*events, extra])}
        assert after["t1"] >= before["t1"]

    check()


@examples(quick=10, soak=150)
def test_many_tenths_of_a_credit_sum_exactly(engine: str, examples: int) -> None:
    """n events of 0.1 credits credit exactly n/10 — no binary float on the way."""

    @settings(SETTINGS, max_examples=examples)
    @given(st.integers(1, 400))
    def check(n: int) -> None:
        events = [make_event(f"a{i:04d}", "t1", dt.date(2022, 1, 1) + dt.timedelta(days=i % 300), "credit_award",
                             credits="0.1", level="school") for i in range(n)]
        (row,) = rows(engine, FIVE_YEAR, events, {})
        assert row.credits == Decimal(n) / 10
        assert row.to_json()["credits"] == (f"{n // 10}" if n % 10 == 0 else f"{n // 10}.{n % 10}")

    check()


@examples(quick=10, soak=150)
def test_many_tenths_of_an_hour_convert_exactly(engine: str, examples: int) -> None:
    """n trainings of 0.1 hours at 10 hours = 1 credit give exactly n/100 credits."""

    @settings(SETTINGS, max_examples=examples)
    @given(st.integers(1, 300))
    def check(n: int) -> None:
        events = [make_event(f"h{i:04d}", "t1", dt.date(2022, 1, 1), "training", hours="0.1",
                             category="knowledge", level="school") for i in range(n)]
        (row,) = rows(engine, FIVE_YEAR, events, {})
        assert row.credits == Decimal(n) / 100
        assert row.hours == Decimal(n) / 10

    check()
