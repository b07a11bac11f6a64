"""The synthetic province generator: reproducible, well-typed, in vocabulary, and useful.

Useful means every shipped policy of SPEC §6 has events in its window, with teachers on both
sides of its requirements, and events sit on period bounds and tie on ``at``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from credit_rules.schema import (
    CATEGORIES,
    EVENT_COLUMNS,
    GRADES,
    KNOWN_KINDS,
    LEVELS,
    ROLES,
    ROSTER_COLUMNS,
    STAGES,
    TITLES,
)
from credit_rules.synth import (
    FORMATS,
    IDLE_SHARE,
    PROGRAMS,
    WORKSHOPS,
    ProvinceShape,
    generate_events,
    generate_roster,
    write_province,
)

N = 5000
EPT = 40


@pytest.fixture(scope="module")
def roster() -> pl.DataFrame:
    return generate_roster(N, seed=7)


@pytest.fixture(scope="module")
def chunks(roster: pl.DataFrame) -> list[pl.DataFrame]:
    return list(generate_events(roster, seed=7, events_per_teacher=EPT, chunk_teachers=1200))


@pytest.fixture(scope="module")
def events(chunks: list[pl.DataFrame]) -> pl.DataFrame:
    return pl.concat(chunks).with_columns(
        pl.col("at").str.to_datetime("%Y-%m-%dT%H:%M:%S").dt.date().alias("day")
    )


def _day(y: int, m: int, d: int) -> pl.Expr:
    return pl.lit(dt.date(y, m, d))


def _in(lo: tuple[int, int, int], hi: tuple[int, int, int]) -> pl.Expr:
    return pl.col("day").is_between(_day(*lo), _day(*hi))


# -- reproducibility -------------------------------------------------------------------


def test_roster_same_seed_same_frame_other_seed_other_frame() -> None:
    """The roster is a pure function of (n, seed)."""
    assert generate_roster(800, seed=1).equals(generate_roster(800, seed=1))
    assert not generate_roster(800, seed=1).equals(generate_roster(800, seed=2))


def test_events_reproducible_and_independent_of_chunking() -> None:
    """Same seed gives equal events however the stream is cut; another seed differs."""
    r = generate_roster(2500, seed=3)
    a = pl.concat(generate_events(r, seed=3, events_per_teacher=10, chunk_teachers=137))
    b = pl.concat(generate_events(r, seed=3, events_per_teacher=10, chunk_teachers=100_000))
    c = pl.concat(generate_events(r, seed=4, events_per_teacher=10, chunk_teachers=137))
    assert a.equals(b)
    assert not a.equals(c)


@pytest.mark.parametrize("fmt", ["parquet", "jsonl", "csv"])
def test_write_province_byte_identical(tmp_path: Path, fmt: str) -> None:
    """Two runs with one seed write the same bytes; the counts add up."""
    runs = [
        write_province(tmp_path / name, 250, seed=5, events_per_teacher=8, fmt=fmt,  # type: ignore[arg-type]
                       chunk_teachers=100)
        for name in ("a", "b")
    ]
    a, b = runs
    assert a.n_teachers == 250
    assert len(a.events) == (3 if fmt == "parquet" else 1)
    for p, q in zip([a.roster, *a.events], [b.roster, *b.events], strict=True):
        assert p.read_bytes() == q.read_bytes()
    if fmt == "parquet":
        frames = [pl.read_parquet(p) for p in a.events]
        assert sum(f.height for f in frames) == a.n_events
        assert pl.read_parquet(a.roster).height == 250
    elif fmt == "csv":
        ev = pl.read_csv(a.events[0], infer_schema=False)
        assert ev.height == a.n_events and ev.columns == list(EVENT_COLUMNS)
        roles = pl.read_csv(a.roster, infer_schema=False)["roles"]
        assert roles.str.starts_with("teacher").all()  # ';'-separated, SPEC §3
    else:
        assert len(a.events[0].read_text().splitlines()) == a.n_events


# -- shape and types ---------------------------------------------------------------------


def test_roster_columns_and_types(roster: pl.DataFrame) -> None:
    """Roster columns of SPEC §3 with dates as dates and roles as a list of strings."""
    assert tuple(roster.columns) == ROSTER_COLUMNS
    assert roster.schema["roles"] == pl.List(pl.String)
    assert roster.schema["hired_on"] == pl.Date and roster.schema["retired_on"] == pl.Date
    for name in ("teacher_id", "title", "stage", "school", "county", "city", "workshop"):
        assert roster.schema[name] == pl.String
    ids = roster["teacher_id"]
    assert ids.is_unique().all() and ids.is_sorted()  # zero-padded: text order = number order
    assert ids[0] == "T0000001" and ids[-1] == f"T{N:07d}"


def test_event_columns_and_types(events: pl.DataFrame) -> None:
    """Event columns of SPEC §2: decimals and `at` as strings, count/words Int64."""
    ev = events.drop("day")
    assert ev.columns == list(EVENT_COLUMNS)
    for name in EVENT_COLUMNS:
        expected = pl.Int64 if name in ("count", "words") else pl.String
        assert ev.schema[name] == expected, name
    for name in ("event_id", "teacher_id", "at", "kind"):
        assert ev[name].null_count() == 0


def test_vocabulary_comes_from_records(roster: pl.DataFrame, events: pl.DataFrame) -> None:
    """Every vocabulary value is one of the constants in credit_rules.records."""
    def values(frame: pl.DataFrame, col: str) -> set[str]:
        return set(frame[col].drop_nulls().unique().to_list())

    assert values(events, "kind") == set(KNOWN_KINDS)
    assert values(events, "category") == set(CATEGORIES)
    assert values(events, "level") == set(LEVELS)
    assert values(events, "grade") == set(GRADES)
    assert values(events, "format") <= set(FORMATS)
    assert values(events, "program") <= set(PROGRAMS)
    assert values(roster, "title") == set(TITLES)
    assert values(roster, "stage") <= set(STAGES)
    assert values(roster, "workshop") == set(WORKSHOPS)
    assert set(roster["roles"].explode().unique().to_list()) <= set(ROLES)
    assert roster["roles"].list.contains("teacher").all()


def test_event_ids_unique_across_chunks(chunks: list[pl.DataFrame]) -> None:
    """Ids run as one zero-padded counter over every chunk."""
    assert len(chunks) == 5  # 5000 teachers / 1200 per chunk
    ids = pl.concat([c["event_id"] for c in chunks])
    assert ids.is_unique().all()
    assert ids.is_sorted()
    assert ids.str.contains(r"^E\d{10}$").all()
    assert ids[0] == "E0000000001" and ids[-1] == f"E{ids.len():010d}"


def test_decimals_are_exact_strings(events: pl.DataFrame) -> None:
    """hours/credits/score are plain decimal text, non-negative, score within 0..100."""
    for col in ("hours", "credits", "score"):
        texts = events[col].drop_nulls()
        assert texts.len() > 0, col
        assert texts.str.contains(r"^\d+(\.\d+)?$").all(), col
        numbers = [Decimal(t) for t in texts.unique().to_list()]
        assert min(numbers) >= 0, col
    assert {Decimal("0.5"), Decimal("1.5")} <= {Decimal(t) for t in events["hours"].drop_nulls()}
    scores = [Decimal(t) for t in events["score"].drop_nulls().unique().to_list()]
    assert min(scores) >= 40 and max(scores) <= 100
    assert events["count"].drop_nulls().is_between(1, 3).all()
    assert events["words"].drop_nulls().is_between(300, 3000).all()


def test_at_is_local_iso_inside_range(events: pl.DataFrame) -> None:
    """`at` is an ISO datetime without offset, inside the default 2017-09-01..2025-12-31."""
    assert events["at"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$").all()
    assert events["at"].min() >= "2017-09-01T00:00:00"
    assert events["at"].max() <= "2025-12-31T23:59:59"


def test_custom_range_is_respected() -> None:
    """Events never fall outside a caller's start..end."""
    r = generate_roster(300, seed=1)
    ev = pl.concat(generate_events(r, seed=1, events_per_teacher=30,
                                   start=dt.date(2022, 1, 1), end=dt.date(2022, 12, 31)))
    assert ev.height > 0
    assert ev["at"].str.starts_with("2022-").all()


def test_events_ordered_by_teacher_then_time(events: pl.DataFrame) -> None:
    """Rows come teacher by teacher, each teacher's events in time order."""
    assert events["teacher_id"].is_sorted()
    back = events.filter(pl.col("at") < pl.col("at").shift().over("teacher_id"))
    assert back.height == 0


# -- proportions -----------------------------------------------------------------------


def test_title_and_role_proportions(roster: pl.DataFrame) -> None:
    """Shares of titles and roles are near the targets for n=5000."""
    title = roster["title"].value_counts(normalize=True)
    share = dict(zip(title["title"], title["proportion"], strict=True))
    assert 0.11 <= share["senior"] <= 0.19
    assert 0.34 <= share["intermediate"] <= 0.46
    assert 0.29 <= share["junior"] <= 0.41
    assert 0.06 <= share["none"] <= 0.15
    has = {role: roster["roles"].list.contains(role).mean() for role in ROLES}
    assert has["teacher"] == 1
    assert 0.25 <= has["class_teacher"] <= 0.35
    assert 0.015 <= has["research_member"] <= 0.05
    for rare in ("new_principal", "reserve_cadre", "instructor", "workshop_leader"):
        assert 0 < has[rare] <= 0.03, rare


def test_school_leadership(roster: pl.DataFrame) -> None:
    """One principal and one or two deans per school; ~100 teachers per school."""
    per_school = roster.group_by("school").agg(
        pl.len().alias("n"),
        pl.col("roles").list.contains("principal").sum().alias("principals"),
        pl.col("roles").list.contains("dean").sum().alias("deans"),
    )
    assert per_school.height == ProvinceShape().scaled(N).schools == 50
    assert (per_school["principals"] == 1).all()
    assert per_school["deans"].is_between(1, 2).all()
    assert 60 <= per_school["n"].mean() <= 140
    assert roster["city"].n_unique() == ProvinceShape().scaled(N).cities


def test_province_shape_at_full_scale() -> None:
    """A 1M-teacher province has 16 cities, 140 counties and 10,000 schools."""
    assert ProvinceShape().scaled(1_000_000) == ProvinceShape()


def test_hiring_and_retirement(roster: pl.DataFrame) -> None:
    """Most hired before 2017, ~4% during 2021-2025; ~3% retire during 2021-2025."""
    hired = roster["hired_on"]
    assert (hired < dt.date(2017, 1, 1)).mean() > 0.85
    during = hired.is_between(dt.date(2021, 1, 1), dt.date(2025, 12, 31)).mean()
    assert 0.025 <= during <= 0.06
    assert hired.is_between(dt.date(2022, 1, 1), dt.date(2023, 12, 31)).sum() > 0
    retired = roster["retired_on"]
    share = retired.is_between(dt.date(2021, 1, 1), dt.date(2025, 12, 31)).sum() / N
    assert 0.015 <= share <= 0.05
    assert (retired.drop_nulls() > hired.filter(retired.is_not_null())).all()


def test_events_per_teacher_and_idle_teachers(roster: pl.DataFrame, events: pl.DataFrame) -> None:
    """The mean is near the request; by design ~0.5% of roster teachers have no events."""
    assert 0.85 * EPT <= events.height / N <= 1.15 * EPT
    idle = N - events["teacher_id"].n_unique()
    assert 0 < idle <= 4 * IDLE_SHARE * N
    assert set(events["teacher_id"].unique()) <= set(roster["teacher_id"])


# -- the shipped policies have data on both sides ----------------------------------------


def _latest(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort("at", "event_id").group_by("teacher_id").last()


def test_remote_2017_window(events: pl.DataFrame) -> None:
    """Qualified and unqualified remote-2017 learners, missed tasks and reprimands."""
    w = events.filter(_in((2017, 9, 1), (2018, 8, 31)))
    latest = _latest(w.filter(pl.col("program") == "remote-2017", kind="assessment"))
    assert set(latest["grade"]) == set(GRADES)
    assert w.filter(kind="task_missed").height > 0
    assert w.filter(kind="reprimand").height > 0
    assert (w["at"] == "2018-08-31T23:59:59").any()


def test_ziyang_window(events: pl.DataFrame) -> None:
    """Scores on both sides of 60 and 90, online/offline assessments, score ties."""
    w = events.filter(_in((2017, 10, 20), (2017, 12, 31)), kind="assessment")
    scores = w.filter(program="ziyang-2017")["score"].cast(pl.Float64)
    assert (scores >= 90).any() and (scores < 60).any() and scores.is_between(60, 90).any()
    assert scores.is_duplicated().any()
    assert {"online", "offline"} <= set(w["program"])


def test_lanxi_window(events: pl.DataFrame) -> None:
    """School-based grades, reflections before/after the due date, long and short."""
    w = events.filter(_in((2022, 12, 2), (2023, 6, 30)))
    assert set(w.filter(program="school-based", kind="assessment")["grade"]) == set(GRADES)
    refl = w.filter(kind="reflection")
    due = pl.col("day") <= _day(2023, 4, 30)
    assert refl.filter(due & (pl.col("words") >= 1000)).height > 0
    assert refl.filter(due & (pl.col("words") < 1000)).height > 0
    assert refl.filter(~due).height > 0
    assert (events["at"] == "2023-04-30T23:59:59").any()
    hours = w.filter(kind="training").group_by("teacher_id").agg(
        pl.col("hours").cast(pl.Decimal(10, 1)).sum())
    assert (hours["hours"] >= 36).any() and (hours["hours"] < 36).any()


def test_annual_window(events: pl.DataFrame) -> None:
    """ed-tech grades and training totals on both sides of 72 hours."""
    w = events.filter(_in((2023, 3, 1), (2024, 2, 29)))
    assert set(w.filter(program="ed-tech", kind="assessment")["grade"]) == set(GRADES)
    hours = w.filter(kind="training").group_by("teacher_id").agg(
        pl.col("hours").cast(pl.Decimal(10, 1)).sum())
    assert (hours["hours"] >= 72).any() and (hours["hours"] < 72).any()
    assert w.filter(program="leader-training").height > 0


def test_five_year_cycle(events: pl.DataFrame) -> None:
    """Every category, level and format in 2021..2025; totals on both sides of 360 h."""
    w = events.filter(_in((2021, 1, 1), (2025, 12, 31)))
    tr = w.filter(kind="training")
    assert set(tr["category"]) == set(CATEGORIES)
    assert set(tr["level"]) == set(LEVELS)
    assert set(tr["format"]) == set(FORMATS)
    hours = tr.group_by("teacher_id").agg(pl.col("hours").cast(pl.Decimal(10, 1)).sum())
    assert (hours["hours"] >= 540).any() and (hours["hours"] < 360).any()
    assert w.filter(kind="probation_training").height > 0
    assert w.filter(kind="credit_award").height > 0
    assert (events["at"] == "2021-01-01T00:00:00").any()
    assert (events["at"] == "2025-12-31T23:59:59").any()


def test_lesson_observation_semesters(events: pl.DataFrame) -> None:
    """Some teacher-semesters reach 10 and 20 observations, most do not."""
    obs = events.filter(kind="observation").with_columns(
        sem=pl.col("day").dt.offset_by("-1mo").dt.year() * 10
        + (pl.col("day").dt.offset_by("-1mo").dt.month() >= 8).cast(pl.Int32)
    ).group_by("teacher_id", "sem").agg(pl.col("count").sum())
    assert (obs["count"] >= 20).any()
    assert (obs["count"] >= 10).any() and (obs["count"] < 10).any()
    assert events.filter(kind="lesson_given").height > 0


def test_boundaries_and_ties(events: pl.DataFrame) -> None:
    """Events on semester bounds, and same-teacher events sharing a timestamp."""
    for stamp in ("-09-01T00:00:00", "-01-31T23:59:59", "-02-01T00:00:00", "-08-31T23:59:59"):
        assert events["at"].str.ends_with(stamp).any(), stamp
    assert events.select(pl.struct("teacher_id", "at").is_duplicated().any()).item()


def test_probation_follows_hiring(roster: pl.DataFrame, events: pl.DataFrame) -> None:
    """Probation training belongs to teachers hired from 2017 on, after their hiring."""
    p = events.filter(kind="probation_training").join(roster, on="teacher_id")
    assert p.height > 0
    assert (p["day"] >= p["hired_on"]).all()
    assert (p["hired_on"] >= dt.date(2017, 9, 1)).all()


def test_no_decimal_float_text() -> None:
    """No decimal text carries binary-float noise like 0.30000000000000004."""
    r = generate_roster(200, seed=9)
    ev = pl.concat(generate_events(r, seed=9, events_per_teacher=50))
    for col in ("hours", "credits", "score"):
        assert not ev[col].drop_nulls().str.contains(re.escape("0000")).any()
