"""The synthetic roster (SPEC §3): schools, counties and cities, titles, roles, dates."""

from __future__ import annotations

import datetime as dt
import math

import attrs
import numpy as np
import polars as pl

from credit_rules.schema import ROLES, ROSTER_FRAME, STAGES, TITLES
from credit_rules.synth.draws import CYCLE, BoolArray, IntArray, day_number, decode, id_strings, seeded, weighted

#: Workshops of ziyang_2017 (SPEC §6.6).
WORKSHOPS = ("chinese", "math", "general", "pe", "arts")
ROSTER_SCHEMA = ROSTER_FRAME


@attrs.frozen
class ProvinceShape:
    """Administrative shape of a province of 1M teachers; :meth:`scaled` shrinks it for n.

    >>> ProvinceShape().scaled(5000)
    ProvinceShape(cities=4, counties=10, schools=50, teachers_per_school=100)
    """

    cities: int = 16
    counties: int = 140
    schools: int = 10_000
    teachers_per_school: int = 100

    def scaled(self, n_teachers: int) -> ProvinceShape:
        """About ``teachers_per_school`` teachers per school; fewer counties and cities, by sqrt."""
        schools = max(1, min(self.schools, round(n_teachers / self.teachers_per_school)))
        ratio = math.sqrt(schools / self.schools)
        counties = max(1, min(self.counties, schools, round(self.counties * ratio)))
        cities = max(1, min(self.cities, counties,
                            round(self.cities * math.sqrt(counties / self.counties))))
        return ProvinceShape(cities, counties, schools, self.teachers_per_school)


def _spread(rng: np.random.Generator, n_items: int, n_groups: int) -> IntArray:
    """Sorted group of each item; every group non-empty when n_items >= n_groups."""
    first = np.arange(min(n_items, n_groups), dtype=np.int64)
    rest = rng.integers(0, n_groups, size=n_items - first.size, dtype=np.int64)
    return np.sort(np.concatenate([first, rest]))


def generate_roster(
    n_teachers: int, *, seed: int = 0, shape: ProvinceShape | None = None
) -> pl.DataFrame:
    """A roster of SPEC §3: one row per teacher, ``teacher_id`` ``T0000001``...

    Teachers are numbered school by school; schools (``S00001``...) county by county
    (``K001``...), counties city by city (``C01``...). Each school of ``k`` teachers has one
    principal, one or two deans, up to three middle leaders and four group leaders.
    """
    if n_teachers < 0:
        raise ValueError("n_teachers must be >= 0")
    shape = (shape or ProvinceShape()).scaled(max(n_teachers, 1))
    rng = seeded(seed, 0)
    n = n_teachers

    county_of_city = _spread(rng, shape.counties, shape.cities)  # city index per county
    county_of_school = _spread(rng, shape.schools, shape.counties)
    school = _spread(rng, n, shape.schools)
    stage_of_school = weighted(rng, shape.schools, (0.12, 0.45, 0.28, 0.15))

    # Rank within school in a random order: rank 0 is the principal, and so on.
    key = school.astype(np.float64) + rng.random(n)
    order = np.argsort(key, kind="stable")
    first = np.searchsorted(school, np.arange(shape.schools))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - first[school[order]]
    two_deans = rng.random(shape.schools) < 0.5

    # hired_on: mostly long before 2017; ~4% during the 2021..2025 cycle.
    era = weighted(rng, n, (0.93, 0.03, 0.04))
    u = rng.random(n)
    lo = np.array([day_number(dt.date(1988, 9, 1)), day_number(dt.date(2017, 1, 1)),
                   day_number(dt.date(2021, 1, 1))])
    hi = np.array([day_number(dt.date(2016, 12, 31)), day_number(dt.date(2020, 12, 31)),
                   day_number(dt.date(2025, 12, 31))])
    hired = lo[era] + (u * (hi[era] - lo[era] + 1)).astype(np.int64)
    # Most hires start on Sep 1 of their year.
    year_start = hired.astype("datetime64[D]").astype("datetime64[Y]").astype("datetime64[M]")
    sep1 = year_start + np.timedelta64(8, "M")
    sep1_days = sep1.astype("datetime64[D]").astype(np.int64)
    snap = (rng.random(n) < 0.7) & (sep1_days <= hi[era])
    hired = np.where(snap, sep1_days, hired)
    # A few hired exactly on the annual policy's one-year line (2022-03-01) and a day after.
    recent = era == 2
    line = rng.random(n)
    hired = np.where(recent & (line < 0.05), day_number(dt.date(2022, 3, 1)), hired)
    hired = np.where(recent & (line >= 0.05) & (line < 0.10), day_number(dt.date(2022, 3, 2)), hired)

    # retired_on: ~3% during 2021..2025 (a few exactly on 2025-12-31), a handful on 2026-01-01.
    r = rng.random(n)
    old = era == 0
    retired = np.full(n, -1, dtype=np.int64)
    retiring = old & (r < 0.032)
    retired = np.where(
        retiring,
        CYCLE[0] + (rng.random(n) * (CYCLE[1] - CYCLE[0] + 1)).astype(np.int64),
        retired,
    )
    retired = np.where(retiring & (rng.random(n) < 0.05), CYCLE[1], retired)
    retired = np.where(old & (r >= 0.032) & (r < 0.034), CYCLE[1] + 1, retired)

    title = weighted(rng, n, (0.155, 0.41, 0.34, 0.095))
    title = np.where(recent, np.where(rng.random(n) < 0.5, 2, 3), title)  # new hires junior/none

    principal = rank == 0
    dean = (rank == 1) | ((rank == 2) & two_deans[school])
    middle = (rank >= 3) & (rank <= 5)
    group = (rank >= 6) & (rank <= 9)
    leader = principal | dean | middle
    lt = rng.random(n) < 0.6
    flags: dict[str, BoolArray] = {
        "teacher": np.ones(n, dtype=np.bool_),
        "class_teacher": ~(principal | dean) & (rng.random(n) < 0.31),
        "principal": principal,
        "dean": dean,
        "middle_leader": middle,
        "group_leader": group,
        "new_principal": (principal & (rng.random(n) < 0.15)) | (rng.random(n) < 0.001),
        "reserve_cadre": ~leader & (rng.random(n) < 0.01),
        "leader_teaching": leader & lt,
        "leader_other": leader & ~lt,
        "instructor": rng.random(n) < 0.01,
        "research_member": rng.random(n) < 0.03,
        "workshop_leader": rng.random(n) < 0.01,
    }
    assert tuple(flags) == ROLES
    workshop = weighted(rng, n, (0.28, 0.25, 0.27, 0.10, 0.10))

    roles_expr = pl.concat_list(
        [pl.when(pl.col(f"_{role}")).then(pl.lit(role)) for role in ROLES]
    ).list.drop_nulls()
    frame = pl.DataFrame({f"_{role}": flag for role, flag in flags.items()})
    roles = frame.select(roles_expr.alias("roles")).to_series()

    county = county_of_school[school]
    out = pl.DataFrame(
        {
            "teacher_id": id_strings(np.arange(1, n + 1, dtype=np.int64),
                                     max(7, len(str(n))), "T"),
            "title": decode(TITLES, title),
            "roles": roles,
            "stage": decode(STAGES, stage_of_school[school]),
            "hired_on": pl.Series(hired, dtype=pl.Int32).cast(pl.Date),
            "retired_on": pl.Series(retired, dtype=pl.Int32).cast(pl.Date)
            .set(pl.Series(retired < 0), None),
            "school": id_strings(school + 1, 5, "S"),
            "county": id_strings(county + 1, 3, "K"),
            "city": id_strings(county_of_city[county] + 1, 2, "C"),
            "workshop": decode(WORKSHOPS, workshop),
        },
        schema=ROSTER_SCHEMA,
    )
    return out
