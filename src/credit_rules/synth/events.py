"""The synthetic event stream (SPEC §2): policy scenarios, then each teacher's background.

Events are drawn per block of :data:`BLOCK` consecutive roster rows, each block from its
own stream seeded by ``(seed, block number)``, so the concatenated stream does not depend
on ``chunk_teachers``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

import attrs
import numpy as np
import polars as pl

from credit_rules.schema import CATEGORIES, EVENT_COLUMNS, GRADES, KNOWN_KINDS, LEVELS, ROLES
from credit_rules.synth.draws import (
    ANNUAL,
    CYCLE,
    DAY,
    EPOCH,
    LANXI,
    LANXI_REFLECTION_DUE,
    REMOTE,
    ZIYANG,
    BoolArray,
    Codes,
    FloatArray,
    IntArray,
    day_number,
    decode,
    id_strings,
    seeded,
    weighted,
)

#: Roster rows per independently seeded event block.
BLOCK = 1000
#: Share of roster teachers who have no events at all (by design).
IDLE_SHARE = 0.005
#: Training formats.
FORMATS = ("online", "offline", "lecture")
#: Programs: the assessment programs the shipped policies name, then training programs.
PROGRAMS = (
    "remote-2017", "ed-tech", "school-based", "online", "offline", "ziyang-2017",
    "national-training", "province-training", "municipal-training", "district-training",
    "leader-training", "class-teacher", "probation",
)
#: Study hours and stated credits, as exact decimal text.
HOURS = ("0.5", "1", "1.5", "2", "3", "4", "6", "8", "10", "12", "24", "30")
CREDITS = ("0.5", "1", "1.5", "2", "3")

_EVENT_ID_WIDTH = 10  # "E0000000001": text order = number order up to 10^10 events
EVENT_SCHEMA: dict[str, Any] = {
    name: (pl.Int64 if name in ("count", "words") else pl.String) for name in EVENT_COLUMNS
}

_K = {kind: i for i, kind in enumerate(KNOWN_KINDS)}
_P = {program: i for i, program in enumerate(PROGRAMS)}
_G = {grade: i for i, grade in enumerate(GRADES)}
_C = {category: i for i, category in enumerate(CATEGORIES)}
_L = {level: i for i, level in enumerate(LEVELS)}

# Background kinds, and their weights for: everyone, leaders, research members.
_BG_KINDS = (
    "training", "observation", "reflection", "lesson_given", "credit_award",
    "material_submitted", "task_missed", "assessment",
)
_BG_WEIGHTS = np.array(
    [
        [0.46, 0.24, 0.07, 0.06, 0.04, 0.10, 0.02, 0.01],
        [0.38, 0.38, 0.06, 0.05, 0.04, 0.07, 0.01, 0.01],
        [0.36, 0.38, 0.08, 0.09, 0.03, 0.04, 0.01, 0.01],
    ]
)
_BG_CUM = np.cumsum(_BG_WEIGHTS / _BG_WEIGHTS.sum(axis=1, keepdims=True), axis=1)
# Hours: an everyday mix (mean ~6 h) and a committed one (mean ~18.6 h).
_HOURS_LOW = (0.03, 0.10, 0.04, 0.14, 0.14, 0.14, 0.12, 0.10, 0.07, 0.05, 0.04, 0.03)
_HOURS_HIGH = (0, 0, 0, 0, 0, 0, 0, 0.15, 0.15, 0.20, 0.25, 0.25)
# Categories (ethics, literacy, knowledge, practice, class_teacher): others, class teachers.
_CAT_OTHER = (0.16, 0.14, 0.36, 0.33, 0.01)
_CAT_CLASS = (0.14, 0.12, 0.30, 0.28, 0.16)
_LEVEL_W = (0.05, 0.08, 0.15, 0.30, 0.42)
_LEVEL_PROGRAM = np.array(
    [_P["national-training"], _P["province-training"], _P["municipal-training"],
     _P["district-training"], _P["school-based"]]
)


def _boundaries(first: int, last: int) -> tuple[IntArray, IntArray]:
    """Instants exactly on period bounds, as (day, second of day), inside first..last."""
    days: list[tuple[dt.date, int]] = []
    for year in range(EPOCH.year + (first // 365) - 1, EPOCH.year + (last // 365) + 2):
        days += [
            (dt.date(year, 9, 1), 0), (dt.date(year, 8, 31), DAY - 1),
            (dt.date(year, 1, 31), DAY - 1), (dt.date(year, 2, 1), 0),
            (dt.date(year, 1, 1), 0), (dt.date(year, 12, 31), DAY - 1),
        ]
    for lo, hi in (REMOTE, ZIYANG, LANXI, ANNUAL, CYCLE):
        days += [(EPOCH + dt.timedelta(lo), 0), (EPOCH + dt.timedelta(lo - 1), DAY - 1),
                 (EPOCH + dt.timedelta(hi), DAY - 1), (EPOCH + dt.timedelta(hi + 1), 0)]
    days += [(dt.date(2023, 4, 30), DAY - 1), (dt.date(2023, 5, 1), 0)]
    pairs = sorted({(day_number(d), s) for d, s in days if first <= day_number(d) <= last})
    return (np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.int64))


def _semesters(first: int, last: int) -> tuple[IntArray, IntArray]:
    starts: list[int] = []
    ends: list[int] = []
    for year in range(EPOCH.year + first // 366 - 1, EPOCH.year + last // 365 + 2):
        for a, b in ((dt.date(year, 2, 1), dt.date(year, 8, 31)),
                     (dt.date(year, 9, 1), dt.date(year + 1, 1, 31))):
            lo, hi = max(day_number(a), first), min(day_number(b), last)
            if lo <= hi:
                starts.append(lo)
                ends.append(hi)
    return np.array(starts, dtype=np.int64), np.array(ends, dtype=np.int64)


@attrs.define
class _Parts:
    """Event columns under construction, as integer codes (-1 = null)."""

    cols: dict[str, list[IntArray]] = attrs.field(factory=dict)

    NAMES = ("teacher", "t", "kind", "hours", "credits", "category", "level", "format",
             "program", "grade", "score2", "count", "words")

    def add(self, teacher: IntArray, t: IntArray, **codes: IntArray | int) -> None:
        n = teacher.size
        if n == 0:
            return
        given: dict[str, IntArray | int] = {"teacher": teacher, "t": t, **codes}
        for name in self.NAMES:
            value = given.get(name, -1)
            arr = np.broadcast_to(np.asarray(value, dtype=np.int64), (n,))
            self.cols.setdefault(name, []).append(arr)

    def arrays(self) -> dict[str, IntArray]:
        if not self.cols:
            return {name: np.empty(0, dtype=np.int64) for name in self.NAMES}
        return {name: np.concatenate(parts) for name, parts in self.cols.items()}


@attrs.frozen
class _Teachers:
    """The roster columns event generation needs, as numpy arrays."""

    n: int
    hired: IntArray  # first active day
    retired: IntArray  # last active day (or a far future)
    roles: dict[str, BoolArray]
    ziyang: BoolArray
    workshop_leader: BoolArray

    @classmethod
    def of(cls, roster: pl.DataFrame) -> _Teachers:
        n = roster.height
        far_past, far_future = day_number(dt.date(1900, 1, 1)), day_number(dt.date(2999, 12, 31))
        cols = roster.columns
        hired = (
            roster["hired_on"].cast(pl.Date).cast(pl.Int64).fill_null(far_past).to_numpy()
            if "hired_on" in cols else np.full(n, far_past, dtype=np.int64)
        )
        retired = (
            roster["retired_on"].cast(pl.Date).cast(pl.Int64).fill_null(far_future).to_numpy()
            if "retired_on" in cols else np.full(n, far_future, dtype=np.int64)
        )
        if "roles" in cols:
            flags = roster.select(
                [pl.col("roles").list.contains(role).fill_null(False).alias(role)
                 for role in ROLES]
            )
            roles = {role: flags[role].to_numpy().astype(np.bool_) for role in ROLES}
        else:
            roles = {role: np.zeros(n, dtype=np.bool_) for role in ROLES}
        county = roster["county"] if "county" in cols else pl.Series([None] * n, dtype=pl.String)
        ziyang = (county == "K001").fill_null(False).to_numpy().astype(np.bool_)
        return cls(n, hired.astype(np.int64), retired.astype(np.int64), roles, ziyang,
                   roles["workshop_leader"])


def _tod(rng: np.random.Generator, n: int) -> IntArray:
    """A time of day in seconds: working hours, to the second."""
    return rng.integers(8 * 3600, 22 * 3600, size=n, dtype=np.int64)


def _in_days(rng: np.random.Generator, lo: IntArray, hi: IntArray) -> IntArray:
    """A uniform day in lo..hi (per element; hi >= lo)."""
    return lo + (rng.random(lo.size) * (hi - lo + 1)).astype(np.int64)


def _scenario(
    rng: np.random.Generator, who: BoolArray, window: tuple[int, int], cnt_p: Sequence[float]
) -> tuple[IntArray, IntArray]:
    """For teachers in ``who``: 1..len(cnt_p) events each, uniform in ``window``; (teacher, day)."""
    count = np.where(who, 1 + weighted(rng, who.size, cnt_p), 0)
    teacher = np.repeat(np.arange(who.size, dtype=np.int64), count)
    lo = np.full(teacher.size, window[0], dtype=np.int64)
    hi = np.full(teacher.size, window[1], dtype=np.int64)
    return teacher, _in_days(rng, lo, hi)


@attrs.define
class _Block:
    """One block of teachers while its events are drawn: its stream, who is active when, and
    the events drawn so far. Scenarios draw in a fixed order from the one stream."""

    rng: np.random.Generator
    tt: _Teachers
    active: BoolArray  # has events at all (not idle, and active inside first..last)
    lo_day: IntArray  # first day of each teacher's events
    hi_day: IntArray  # last day of each teacher's events
    parts: _Parts = attrs.field(factory=_Parts)

    def grades(self, k: int, p: Sequence[float]) -> IntArray:
        return weighted(self.rng, k, p)  # excellent, qualified, unqualified

    def emit(self, teacher: IntArray, day: IntArray, sec: IntArray | int, kind: str,
             **codes: IntArray | int) -> None:
        """Add the events of active teachers on days they are employed."""
        tt = self.tt
        keep = self.active[teacher] & (day >= tt.hired[teacher]) & (day <= tt.retired[teacher])
        sec_arr = np.broadcast_to(np.asarray(sec, dtype=np.int64), day.shape)
        self.parts.add(teacher[keep], day[keep] * DAY + sec_arr[keep], kind=_K[kind],
                       **{k: (v[keep] if isinstance(v, np.ndarray) else v) for k, v in codes.items()})


def _remote_2017(block: _Block, u: FloatArray) -> None:
    """Shandong remote 2017: ~70% take part, 10% assessed twice (the latest counts); 30% of
    assessments on the last day at 23:59:59, a few just after the window."""
    rng, n, emit, grades = block.rng, block.tt.n, block.emit, block.grades
    part = u < 0.70
    teacher, day = _scenario(rng, part, REMOTE, (0.9, 0.1))
    k = teacher.size
    sec = _tod(rng, k)
    last_day = rng.random(k)
    day = np.where(last_day < 0.30, REMOTE[1], day)
    sec = np.where(last_day < 0.30, DAY - 1, sec)
    day = np.where(last_day > 0.98, REMOTE[1] + 1, day)
    sec = np.where(last_day > 0.98, 0, sec)
    emit(teacher, day, sec, "assessment", program=_P["remote-2017"],
         grade=grades(k, (0.12, 0.78, 0.10)))
    missed = np.where(part, weighted(rng, n, (0.6, 0.2, 0.1, 0.06, 0.0, 0.04)), 0)
    teacher = np.repeat(np.arange(n, dtype=np.int64), missed)
    day = _in_days(rng, np.full(teacher.size, REMOTE[0]), np.full(teacher.size, REMOTE[1]))
    emit(teacher, day, _tod(rng, teacher.size), "task_missed", program=_P["remote-2017"])


def _reprimands(block: _Block) -> None:
    """Reprimands: ~0.5% of teachers, half of them inside the remote-2017 window."""
    rng, n, emit = block.rng, block.tt.n, block.emit
    lo_day, hi_day = block.lo_day, block.hi_day
    rep = rng.random(n) < 0.005
    teacher = np.flatnonzero(rep).astype(np.int64)
    inside = rng.random(teacher.size) < 0.5
    day = np.where(
        inside,
        _in_days(rng, np.full(teacher.size, REMOTE[0]), np.full(teacher.size, REMOTE[1])),
        _in_days(rng, lo_day[teacher], np.maximum(hi_day[teacher], lo_day[teacher])),
    )
    emit(teacher, day, _tod(rng, teacher.size), "reprimand")


def _ziyang_2017(block: _Block) -> None:
    """Ziyang 2017 (county K001): online and offline assessments, and 1-2 scores 40..100 per
    teacher; half of the scores at one common exam instant (ties across teachers)."""
    rng, tt, n, emit = block.rng, block.tt, block.tt.n, block.emit
    zy = tt.ziyang & (rng.random(n) < 0.95)
    for prog, p_ok in (("online", 0.93), ("offline", 0.88)):
        teacher, day = _scenario(rng, zy, ZIYANG, (1.0,))
        g = np.where(rng.random(teacher.size) < p_ok, _G["qualified"], _G["unqualified"])
        emit(teacher, day, _tod(rng, teacher.size), "assessment", program=_P[prog], grade=g)
    teacher, day = _scenario(rng, zy | (tt.workshop_leader & tt.ziyang), ZIYANG, (0.85, 0.15))
    k = teacher.size
    exam = rng.random(k) < 0.5
    day = np.where(exam, day_number(dt.date(2017, 12, 20)), day)
    sec = np.where(exam, 9 * 3600, _tod(rng, k))
    score2 = 2 * np.clip(np.rint(rng.normal(76, 12, k)), 40, 100).astype(np.int64)
    score2 = np.where((rng.random(k) < 0.1) & (score2 < 200), score2 + 1, score2)  # x.5
    emit(teacher, day, sec, "assessment", program=_P["ziyang-2017"], score2=score2)


def _lanxi_2023(block: _Block) -> None:
    """Lanxi 2023: school-based assessment (some on and just past the bounds) and one
    reflection of 300..3000 words, some on 2023-04-30 23:59:59, some on 2023-05-01."""
    rng, n, emit, grades = block.rng, block.tt.n, block.emit, block.grades
    teacher, day = _scenario(rng, rng.random(n) < 0.65, LANXI, (0.92, 0.08))
    k = teacher.size
    edge = weighted(rng, k, (0.88, 0.03, 0.03, 0.03, 0.03))
    day = np.choose(edge, [day, np.full(k, LANXI[0] - 1), np.full(k, LANXI[0]),
                           np.full(k, LANXI[1]), np.full(k, LANXI[1] + 1)])
    sec = np.choose(edge, [_tod(rng, k), np.full(k, DAY - 1), np.zeros(k, np.int64),
                           np.full(k, DAY - 1), np.zeros(k, np.int64)])
    emit(teacher, day, sec, "assessment", program=_P["school-based"],
         grade=grades(k, (0.15, 0.75, 0.10)))
    teacher, day = _scenario(rng, rng.random(n) < 0.6, LANXI, (1.0,))
    k = teacher.size
    edge = weighted(rng, k, (0.9, 0.05, 0.05))
    day = np.choose(edge, [day, np.full(k, LANXI_REFLECTION_DUE),
                           np.full(k, LANXI_REFLECTION_DUE + 1)])
    sec = np.choose(edge, [_tod(rng, k), np.full(k, DAY - 1), np.zeros(k, np.int64)])
    words = rng.integers(300, 3001, size=k, dtype=np.int64)
    words = np.where(rng.random(k) < 0.05, 1000, words)
    emit(teacher, day, sec, "reflection", words=words)


def _annual_2023(block: _Block) -> None:
    """Annual 2023: ed-tech assessment for ~80%, a few re-assessed, a few just before the year."""
    rng, n, emit, grades = block.rng, block.tt.n, block.emit, block.grades
    teacher, day = _scenario(rng, rng.random(n) < 0.8, ANNUAL, (0.9, 0.1))
    k = teacher.size
    early = rng.random(k) < 0.05
    day = np.where(early, ANNUAL[0] - 1, day)
    sec = np.where(early, DAY - 1, _tod(rng, k))
    emit(teacher, day, sec, "assessment", program=_P["ed-tech"],
         grade=grades(k, (0.10, 0.78, 0.12)))


def _probation(block: _Block) -> None:
    """Probation training for teachers hired from 2017 on: 1, sometimes 2, in the first year."""
    rng, tt, n, emit = block.rng, block.tt, block.tt.n, block.emit
    newbie = tt.hired >= REMOTE[0]
    count = np.where(newbie, 1 + (rng.random(n) < 0.2), 0)
    teacher = np.repeat(np.arange(n, dtype=np.int64), count)
    day = tt.hired[teacher] + rng.integers(0, 330, size=teacher.size, dtype=np.int64)
    emit(teacher, day, _tod(rng, teacher.size), "probation_training", program=_P["probation"])


def _background(block: _Block, events_per_teacher: int, boundaries: tuple[IntArray, IntArray],
                semesters: tuple[IntArray, IntArray]) -> None:
    """Background: the teacher's remaining events, kinds by role profile, spread over their
    active days; observations and reflections half concentrated in 3 focus semesters."""
    rng, tt, n, grades = block.rng, block.tt, block.tt.n, block.grades
    parts, active, lo_day, hi_day = block.parts, block.active, block.lo_day, block.hi_day
    n_scn = np.bincount(np.concatenate(parts.cols.get("teacher", [np.empty(0, np.int64)])),
                        minlength=n)
    activity = rng.lognormal(-0.045, 0.3, n)
    want = rng.poisson(events_per_teacher * activity)
    n_bg = np.where(active, np.maximum(want - n_scn, 0), 0)
    roles = tt.roles
    profile = np.where(
        roles["principal"] | roles["dean"] | roles["middle_leader"], 1,
        np.where(roles["research_member"], 2, 0),
    )
    teacher = np.repeat(np.arange(n, dtype=np.int64), n_bg)
    m = teacher.size
    kind = (rng.random(m)[:, None] > _BG_CUM[profile[teacher]]).sum(axis=1)
    kind = np.minimum(kind, len(_BG_KINDS) - 1)
    day = _in_days(rng, lo_day[teacher], hi_day[teacher])
    sec = _tod(rng, m)
    # Focus semesters for observations and reflections.
    sem_lo, sem_hi = semesters
    focus = rng.integers(0, max(sem_lo.size, 1), size=(n, 3))
    obs_like = (kind == 1) | (kind == 2)
    concentrate = obs_like & (rng.random(m) < np.where(profile[teacher] == 0, 0.5, 0.7))
    if sem_lo.size:
        pick = focus[teacher, rng.integers(0, 3, size=m)]
        fday = _in_days(rng, sem_lo[pick], sem_hi[pick])
        ok = concentrate & (fday >= lo_day[teacher]) & (fday <= hi_day[teacher])
        day = np.where(ok, fday, day)
    # ~2% exactly on a period bound.
    b_day, b_sec = boundaries
    if b_day.size:
        on_bound = rng.random(m) < 0.02
        b = rng.integers(0, b_day.size, size=m)
        ok = on_bound & (b_day[b] >= lo_day[teacher]) & (b_day[b] <= hi_day[teacher])
        day = np.where(ok, b_day[b], day)
        sec = np.where(ok, b_sec[b], sec)

    diligence = rng.beta(2, 2, n)
    bg_cols: dict[str, IntArray] = {
        name: np.full(m, -1, dtype=np.int64)
        for name in ("hours", "credits", "category", "level", "format", "program", "grade",
                     "count", "words")
    }
    tr = kind == 0
    t_tr = teacher[tr]
    k = t_tr.size
    high = rng.random(k) < diligence[t_tr]
    hours = np.where(high, weighted(rng, k, _HOURS_HIGH), weighted(rng, k, _HOURS_LOW))
    is_ct = roles["class_teacher"][t_tr]
    category = np.where(is_ct, weighted(rng, k, _CAT_CLASS), weighted(rng, k, _CAT_OTHER))
    level = weighted(rng, k, _LEVEL_W)
    fmt = weighted(rng, k, (0.45, 0.40, 0.15))
    program = _LEVEL_PROGRAM[level]
    program = np.where(category == _C["class_teacher"], _P["class-teacher"], program)
    cadre = (roles["new_principal"] | roles["reserve_cadre"])[t_tr]
    program = np.where(cadre & (rng.random(k) < 0.4), _P["leader-training"], program)
    for name, values in (("hours", hours), ("category", category), ("level", level),
                         ("format", fmt), ("program", program)):
        bg_cols[name][tr] = values
    ca = kind == 4
    k = int(ca.sum())
    bg_cols["credits"][ca] = weighted(rng, k, (0.2, 0.4, 0.1, 0.25, 0.05))
    bg_cols["category"][ca] = weighted(rng, k, (0.2, 0.2, 0.3, 0.3, 0.0))
    bg_cols["level"][ca] = weighted(rng, k, _LEVEL_W)
    ob = kind == 1
    bg_cols["count"][ob] = rng.integers(1, 4, size=int(ob.sum()), dtype=np.int64)
    rf = kind == 2
    bg_cols["words"][rf] = rng.integers(300, 3001, size=int(rf.sum()), dtype=np.int64)
    asm = kind == 7
    k = int(asm.sum())
    bg_cols["program"][asm] = weighted(rng, k, (0.1, 0.2, 0.2, 0.25, 0.25, 0.0))
    bg_cols["grade"][asm] = grades(k, (0.1, 0.8, 0.1))
    kinds = np.array([_K[name] for name in _BG_KINDS], dtype=np.int64)
    parts.add(teacher, day * DAY + sec, kind=kinds[kind], **bg_cols)


#: The policy scenarios of SPEC §6, drawn in this order before each teacher's background.
_SCENARIOS = (_reprimands, _ziyang_2017, _lanxi_2023, _annual_2023, _probation)


def _block_events(
    rng: np.random.Generator, tt: _Teachers, events_per_teacher: int, first: int, last: int,
    boundaries: tuple[IntArray, IntArray], semesters: tuple[IntArray, IntArray],
) -> dict[str, Codes]:
    """Events of one block of teachers, sorted by (teacher, instant); codes, not strings."""
    n = tt.n
    idle = rng.random(n) < IDLE_SHARE
    lo_day = np.maximum(tt.hired, first)
    hi_day = np.minimum(tt.retired, last)
    block = _Block(rng, tt, ~idle & (lo_day <= hi_day), lo_day, hi_day)
    u = rng.random(n)  # drawn before any scenario: the order of draws fixes the data of a seed
    _remote_2017(block, u)
    for scenario in _SCENARIOS:
        scenario(block)
    _background(block, events_per_teacher, boundaries, semesters)
    cols = block.parts.arrays()

    # Keep what lies inside first..last, order by (teacher, instant), then make ~1% of
    # events tie with the teacher's previous event.
    t = cols["t"]
    keep = (t >= first * DAY) & (t < (last + 1) * DAY)
    cols = {name: arr[keep] for name, arr in cols.items()}
    order = np.lexsort((rng.random(cols["t"].size), cols["t"], cols["teacher"]))
    cols = {name: arr[order] for name, arr in cols.items()}
    t, teacher = cols["t"], cols["teacher"]
    if t.size > 1:
        tie = np.zeros(t.size, dtype=np.bool_)
        tie[1:] = (rng.random(t.size - 1) < 0.01) & (teacher[1:] == teacher[:-1])
        t[1:] = np.where(tie[1:], t[:-1], t[1:])
    # Compact dtypes: concatenating and gathering a chunk's codes moves far fewer bytes.
    return {name: arr.astype(_COMPACT.get(name, np.int8)) for name, arr in cols.items()}


_COMPACT: dict[str, type[np.signedinteger[Any]]] = {
    "teacher": np.int32, "t": np.int64, "score2": np.int16, "words": np.int16,
}


def _frame(cols: dict[str, Codes], teacher_ids: pl.Series, first_id: int) -> pl.DataFrame:
    """Turn code arrays into the event table of SPEC §2 (strings, exact decimal text)."""
    m = cols["t"].size
    score2 = pl.Series(cols["score2"]).cast(pl.Int32)
    score = pl.select(
        pl.when(score2 < 0).then(None)
        .when(score2 % 2 == 1).then((score2 // 2).cast(pl.String) + ".5")
        .otherwise((score2 // 2).cast(pl.String))
    ).to_series()

    def nullable_int(arr: Codes) -> pl.Series:
        s = pl.Series(arr).cast(pl.Int64)
        return pl.select(pl.when(s >= 0).then(s)).to_series()

    data = {
        "event_id": id_strings(np.arange(first_id, first_id + m, dtype=np.int64),
                                _EVENT_ID_WIDTH, "E"),
        "teacher_id": teacher_ids.gather(pl.Series(cols["teacher"], dtype=pl.UInt32)),
        "at": pl.from_epoch(pl.Series(cols["t"]), time_unit="s").dt.strftime(
            "%Y-%m-%dT%H:%M:%S"),
        "kind": decode(KNOWN_KINDS, cols["kind"]),
        "hours": decode(HOURS, cols["hours"]),
        "credits": decode(CREDITS, cols["credits"]),
        "category": decode(CATEGORIES, cols["category"]),
        "level": decode(LEVELS, cols["level"]),
        "format": decode(FORMATS, cols["format"]),
        "program": decode(PROGRAMS, cols["program"]),
        "grade": decode(GRADES, cols["grade"]),
        "score": score,
        "count": nullable_int(cols["count"]),
        "words": nullable_int(cols["words"]),
    }
    return pl.DataFrame(data, schema=EVENT_SCHEMA)


def generate_events(
    roster: pl.DataFrame,
    *,
    seed: int = 0,
    events_per_teacher: int = 100,
    start: dt.date = dt.date(2017, 9, 1),
    end: dt.date = dt.date(2025, 12, 31),
    chunk_teachers: int = 100_000,
) -> Iterator[pl.DataFrame]:
    """Events of SPEC §2 for ``roster``, one frame per ``chunk_teachers`` roster rows.

    Rows are ordered by teacher (roster order), then ``at``; ``event_id`` is ``E`` and a
    10-digit counter running across chunks. ``events_per_teacher`` is a mean: each teacher
    gets a Poisson number around a personal activity level, but never fewer than the
    policy-scenario events drawn for them (so tiny means give a few more). All ``at`` fall on
    ``start``..``end`` inclusive. The concatenation of the chunks does not depend on
    ``chunk_teachers``.
    """
    if chunk_teachers < 1:
        raise ValueError("chunk_teachers must be >= 1")
    if events_per_teacher < 0:
        raise ValueError("events_per_teacher must be >= 0")
    first, last = day_number(start), day_number(end)
    boundaries = _boundaries(first, last)
    semesters = _semesters(first, last)
    teacher_ids = roster["teacher_id"].cast(pl.String)
    n = roster.height
    next_id = 1
    pending: list[dict[str, Codes]] = []

    def flush() -> pl.DataFrame:
        nonlocal next_id
        if pending:
            cols = {name: np.concatenate([p[name] for p in pending]) for name in pending[0]}
        else:
            cols = {name: np.empty(0, dtype=np.int64) for name in _Parts.NAMES}
        pending.clear()
        frame = _frame(cols, teacher_ids, next_id)
        next_id += frame.height
        return frame

    for block_lo in range(0, n, BLOCK):
        block_hi = min(n, block_lo + BLOCK)
        if events_per_teacher == 0:
            cols = {name: np.empty(0, dtype=np.int64) for name in _Parts.NAMES}
        else:
            tt = _Teachers.of(roster.slice(block_lo, block_hi - block_lo))
            cols = _block_events(seeded(seed, 1, block_lo // BLOCK), tt, events_per_teacher,
                                 first, last, boundaries, semesters)
            cols["teacher"] = cols["teacher"] + block_lo
        # Cut this block's rows at every chunk boundary inside it; emit finished chunks.
        for c in range(block_lo // chunk_teachers, (block_hi - 1) // chunk_teachers + 1):
            chunk_hi = min(n, (c + 1) * chunk_teachers)
            lo, hi = np.searchsorted(cols["teacher"], [c * chunk_teachers, chunk_hi])
            pending.append({name: arr[lo:hi] for name, arr in cols.items()})
            if chunk_hi <= block_hi:
                yield flush()
