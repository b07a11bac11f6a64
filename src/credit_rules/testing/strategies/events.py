"""Rosters, raw event rows and, for one policy, the inputs its invariants are checked on.

Rows are text exactly as an events file or a roster file holds them, so every input goes
through :func:`credit_rules.io.load_events` / :func:`credit_rules.io.load_roster` like
real input.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import polars as pl
from hypothesis import strategies as st

from credit_rules import core, ir
from credit_rules.io import EventTable, Roster, load_events, load_roster
from credit_rules.io.small import is_small, small_events
from credit_rules.io.small_roster import small_roster
from credit_rules.records import Teacher
from credit_rules.schema import CATEGORIES, GRADES, LEVELS, REQUIRED_EVENT_COLUMNS, ROLES
from credit_rules.values import DEFAULT_TIMEZONE

TEACHER_IDS = ("t1", "t2", "t3", "t10", "t9")
PROGRAMS = ("remote-2017", "ed-tech", "school-based", "online", "offline", "ziyang-2017", "p")
KINDS = ("training", "assessment", "task_missed", "observation", "lesson_given", "reflection",
         "reprimand", "probation_training", "credit_award", "material_submitted", "webinar")
#: Days on the edges of the shipped policies' windows, semesters and school years.
BOUNDARY_DAYS = tuple(dt.date.fromisoformat(d) for d in (
    "2017-08-31", "2017-09-01", "2017-10-19", "2017-10-20", "2017-12-31", "2018-01-31",
    "2018-02-01", "2018-08-31", "2020-12-31", "2021-01-01", "2021-08-31", "2021-09-01",
    "2022-03-01", "2022-12-01", "2022-12-02", "2023-01-31", "2023-02-01", "2023-02-28",
    "2023-03-01", "2023-04-30", "2023-05-01", "2023-06-30", "2023-08-31", "2023-09-01",
    "2024-02-29", "2024-03-01", "2025-08-31", "2025-09-01", "2025-12-31", "2026-01-01",
))
#: Study time in other units (issue 9 A): whole, fractional, not exact at 10^-6 hour.
MINUTES = ("0", "40", "45", "90", "30.5", "0.000001", "600")
DAYS = ("0.5", "1", "0.7", "2", "0.000001")
HOURS = ("0", "0.5", "0.1", "1", "2.5", "3", "10", "20", "29.9", "30", "72", "0.000001", "7.25")


def days() -> st.SearchStrategy[dt.date]:
    return _DAYS


# Strategies are built once, here, and drawn from many times: building one inside a draw
# costs Hypothesis a validation each time (most of a differential example's time).
_DAYS: st.SearchStrategy[dt.date] = st.one_of(
    st.sampled_from(BOUNDARY_DAYS),
    st.dates(min_value=dt.date(2016, 6, 1), max_value=dt.date(2026, 6, 30)),
)
_AT: st.SearchStrategy[str] = st.builds(
    lambda d, t: d.isoformat() + t, _DAYS,
    st.sampled_from(("", "T00:00:00", "T08:30:00", "T23:59:59", "T12:00:00+00:00", "T23:30:00Z", "T08:30:00.5")))


def _at() -> st.SearchStrategy[str]:
    return _AT


_OPT_DAY = st.one_of(st.none(), _DAYS, st.sampled_from(
    [dt.date(2019, 9, 1), dt.date(2022, 3, 1), dt.date(2022, 3, 2), dt.date(2023, 6, 1)]))
_TEACHER_FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "title": st.sampled_from((None, "senior", "intermediate", "junior", "none")),
    "roles": st.frozensets(st.sampled_from(ROLES), max_size=3),
    "stage": st.sampled_from((None, "primary", "middle")),
    "hired_on": _OPT_DAY,
    "retired_on": _OPT_DAY,
    "school": st.sampled_from((None, "s1", "s2")),
    "workshop": st.sampled_from((None, "chinese", "math", "general", "pe", "arts")),
    # issue 9 (C): roster columns a generated policy may declare (text and date)
    "attributes": st.fixed_dictionaries({}, optional={
        "district": st.sampled_from(("east", "west", "north", "7.5")),
        "joined_on": st.sampled_from(("2019-09-01", "2022-03-01", "2022-3-1", "x")),
    }),
}
_TEACHERS: dict[str, st.SearchStrategy[Teacher]] = {}


def teachers(teacher_id: str) -> st.SearchStrategy[Teacher]:
    if teacher_id not in _TEACHERS:
        _TEACHERS[teacher_id] = st.builds(Teacher, teacher_id=st.just(teacher_id), **_TEACHER_FIELDS)
    return _TEACHERS[teacher_id]


@st.composite
def rosters(draw: Any, ids: tuple[str, ...] = TEACHER_IDS) -> dict[str, Teacher]:
    """A roster: some of ``ids`` (a teacher may also appear only in the events)."""
    chosen = draw(_some_of(ids))
    return {t: draw(teachers(t)) for t in chosen}


@functools.cache
def _some_of(ids: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(ids), unique=True, max_size=len(ids))


def _maybe_text(values: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


_KINDS = st.sampled_from(KINDS)
#: The columns of a raw event row after ``teacher_id``, ``at`` and ``kind``, in draw order.
_ROW_COLUMNS: tuple[tuple[str, st.SearchStrategy[str | None]], ...] = (
    ("hours", _maybe_text(HOURS)),
    ("credits", _maybe_text(("0", "0.5", "1", "2", "3.3"))),
    ("category", _maybe_text((*CATEGORIES, "other"))),
    ("level", _maybe_text(LEVELS)),
    ("format", _maybe_text(("online", "offline", "lecture"))),
    ("program", _maybe_text(PROGRAMS)),
    ("grade", _maybe_text(GRADES)),
    ("score", _maybe_text(("59.5", "60", "89.999", "90", "100"))),
    ("count", _maybe_text(("1", "2", "3"))),
    ("words", _maybe_text(("999", "1000", "2000"))),
    ("room", _maybe_text(("5", "5.0", "a", "12"))),
    # evidence states (issue 9, D): `count only status …` reads it
    ("status", _maybe_text(("approved", "verified", "submitted", "revoked"))),
)
_UNIT = st.sampled_from((None, None, None, "minutes", "days"))  # issue 9 (A)
_UNIT_AMOUNTS = {"minutes": st.sampled_from(MINUTES), "days": st.sampled_from(DAYS)}
_SHARED_ATS = st.lists(_AT, min_size=1, max_size=3)
_ID_STRATEGIES: dict[tuple[str, ...], st.SearchStrategy[str]] = {}


@functools.cache
def _sizes(max_size: int) -> st.SearchStrategy[int]:
    return st.integers(0, max_size)


@functools.cache
def _event_numbers(n: int) -> st.SearchStrategy[list[int]]:
    return st.lists(st.integers(1, 40), min_size=n, max_size=n, unique=True)


@st.composite
def event_rows(draw: Any, ids: tuple[str, ...] = TEACHER_IDS, max_size: int = 25) -> list[dict[str, Any]]:
    """Raw event rows (text values, as a file would hold them), with exact duplicates,
    shared timestamps, zero and fractional hours, boundary days and missing columns."""
    teacher_ids = _ID_STRATEGIES.setdefault(ids, st.sampled_from(ids))
    n = draw(_sizes(max_size))
    numbers = draw(_event_numbers(n))
    shared = draw(_SHARED_ATS)
    at = st.one_of(st.sampled_from(shared), _AT)  # once per example: it depends on `shared`
    rows: list[dict[str, Any]] = []
    for number in numbers:
        kind = draw(_KINDS)
        row: dict[str, Any] = {"event_id": f"e{number}", "teacher_id": draw(teacher_ids), "at": draw(at),
                               "kind": kind}
        for column, strategy in _ROW_COLUMNS:
            row[column] = draw(strategy)
        unit = draw(_UNIT)
        if unit is not None:
            row["hours"] = None
            row[unit] = draw(_UNIT_AMOUNTS[unit])
        rows.append(row)
    if rows and draw(st.booleans()):
        rows.append(dict(draw(st.sampled_from(rows))))  # an exact duplicate
    stated = [r for r in rows if r["status"] is not None]
    if stated and draw(st.integers(0, 3)) == 0:  # the same event exported again, revoked (issue 9, D)
        rows.append({**draw(st.sampled_from(stated)), "status": "revoked"})
    return rows


# ------------------------------------------------------------------------ inputs for one policy
# Policy-aware strategies (used by `invariant` checking): they draw the kinds, programs,
# roles, dates and numbers a policy mentions, with the values either side of every
# threshold, and give rows of text exactly as an events file or a roster file holds them,
# so the inputs go through `load_events` / `load_roster` like real input.


@attrs.frozen
class Vocabulary:
    """What to draw for one policy: the names and boundary values its conditions mention."""

    kinds: tuple[str, ...]
    programs: tuple[str, ...]
    days: tuple[dt.date, ...]
    first_day: dt.date
    last_day: dt.date
    as_of: dt.date
    roles: tuple[str, ...]
    teacher_days: tuple[dt.date, ...]
    event_text: Mapping[str, tuple[str, ...]]    # event column -> values to draw
    teacher_text: Mapping[str, tuple[str, ...]]  # roster column -> values to draw


def _around(value: ir.Scalar) -> list[str]:
    """A literal and its neighbours, as text: thresholds are where policies go wrong."""
    if isinstance(value, bool):
        return [str(value).lower()]
    if isinstance(value, Decimal):
        step = Decimal(1) if value == value.to_integral_value() else Decimal("0.1")
        return [str(v) for v in (value - step, value, value + step) if v >= 0]
    if isinstance(value, dt.date):
        return [(value + dt.timedelta(days=d)).isoformat() for d in (-1, 0, 1)]
    return [str(value)]


def vocabulary(policy: ir.Policy) -> Vocabulary:
    """The :class:`Vocabulary` of ``policy`` (deterministic: same policy, same vocabulary)."""
    kinds: dict[str, None] = {}
    programs: dict[str, None] = {}
    roles: dict[str, None] = {}
    event_text: dict[str, dict[str, None]] = {}
    teacher_text: dict[str, dict[str, None]] = {}
    edges: dict[dt.date, None] = {}
    teacher_edges: dict[dt.date, None] = {}
    for rule in policy.rules:
        if rule.kind:
            kinds[rule.kind] = None
        if rule.program:
            programs[rule.program] = None
    for penalty in policy.penalties:
        kinds[penalty.kind] = None
    for requirement in policy.requirements:
        for line in requirement.lines:
            if isinstance(line.measure, ir.MeasureCount):
                kinds[line.measure.kind] = None
            elif isinstance(line.measure, ir.MeasureQualified):
                programs[line.measure.program] = None
            elif isinstance(line.measure, ir.MeasureBest):  # events in each group, and in none
                if isinstance(line.measure.base, ir.MeasureCount):
                    kinds[line.measure.base.kind] = None
                for v in line.measure.values:
                    if not isinstance(v, dt.date):
                        event_text.setdefault(line.measure.field, {}).update(dict.fromkeys(_around(v)))
    if policy.grade is not None:
        programs[policy.grade.program] = None
    for rank in policy.ranks:
        programs[rank.program] = None
        for top in rank.tops:
            if top.field:
                teacher_text.setdefault(top.field, {}).update(dict.fromkeys(top.values))
    # Every condition atom anywhere in the policy: rule, cap, requirement, waiver, penalty,
    # excellence, rank and invariant conditions alike (each atom knows its own scope).
    for atom in ir.walk(policy):
        match atom:
            case ir.Compare() | ir.Member():
                field, scope = atom.field, atom.scope
                values = [atom.value] if isinstance(atom, ir.Compare) else sorted(atom.values, key=str)
                if scope is ir.Scope.FACT:
                    continue
                target = event_text if scope is ir.Scope.EVENT else teacher_text
                for v in values:
                    if isinstance(v, dt.date):
                        for text in _around(v):
                            (edges if scope is ir.Scope.EVENT else teacher_edges)[
                                dt.date.fromisoformat(text)] = None
                    else:
                        target.setdefault(field, {}).update(dict.fromkeys(_around(v)))
            case ir.Linear(terms, scope, constant, _, dates) if scope is not ir.Scope.FACT:
                # issue 9 (C): the threshold of a one-column comparison and its neighbours;
                # for several columns, values around a common ratio
                target = event_text if scope is ir.Scope.EVENT else teacher_text
                for name, k in terms:
                    if dates:
                        day = dt.date(1970, 1, 1) + dt.timedelta(days=-constant // k if len(terms) == 1 else 18_000)
                        texts = _around(day) if dt.date(1900, 1, 2) <= day <= dt.date(2199, 12, 30) else []
                    elif len(terms) == 1:
                        texts = _around(Decimal(-constant) / (k * 10**6))
                    else:
                        texts = ["0", "1", "8", "10", "12.5"]
                    target.setdefault(name, {}).update(dict.fromkeys(t for t in texts if not t.startswith("-")))
            case ir.Has(field, scope, value) if scope is not ir.Scope.FACT:
                target = event_text if scope is ir.Scope.EVENT else teacher_text
                target.setdefault(field, {}).update(dict.fromkeys((value, f"{value};other", "other")))
            case ir.DateBound(_, date):
                edges.update(dict.fromkeys(date + dt.timedelta(days=d) for d in (-1, 0, 1)))
            case ir.HasRole(role):
                roles[role] = None
            case ir.Qualified(program):
                programs[program] = None
                kinds["assessment"] = None
            case ir.EventsExist(kind, _):
                kinds[kind] = None
    if policy.count_only is not None:  # evidence states (issue 9, D): counted and not
        statuses = (*sorted(policy.count_only.values), "submitted", "revoked")
        event_text.setdefault("status", {}).update(dict.fromkeys(statuses))
    if programs:
        kinds["assessment"] = None
    if not kinds:
        kinds["training"] = None
    for field in ("day", "at"):
        event_text.pop(field, None)
    if policy.window is not None:
        first = policy.window.start - dt.timedelta(days=20)
        last = policy.window.end + dt.timedelta(days=20)
        as_of = policy.window.end
        edges.update(dict.fromkeys(_around_day(policy.window.start) + _around_day(policy.window.end)))
    else:
        as_of = dt.date(2024, 3, 1)
        first, last = dt.date(2023, 7, 1), dt.date(2024, 9, 30)
    for year in range(first.year, last.year + 1):
        for day in (dt.date(year, 1, 31), dt.date(year, 2, 1), dt.date(year, 8, 31), dt.date(year, 9, 1)):
            if first <= day <= last:
                edges[day] = None
        teacher_edges[dt.date(year, 1, 1)] = None
        teacher_edges[dt.date(year, 6, 1)] = None
    edges = {d: None for d in edges if first <= d <= last}
    return Vocabulary(
        kinds=tuple(kinds), programs=tuple(programs), days=tuple(sorted(edges)), first_day=first,
        last_day=last, as_of=as_of, roles=tuple(roles), teacher_days=tuple(sorted(teacher_edges)),
        event_text={k: tuple(v) for k, v in event_text.items()},
        teacher_text={k: tuple(v) for k, v in teacher_text.items()},
    )


def _around_day(day: dt.date) -> list[dt.date]:
    return [day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)]


def _maybe(values: Sequence[str]) -> st.SearchStrategy[str | None]:
    """None first, so shrinking drops a column before it changes its value."""
    return st.sampled_from((None, *values))


def _mostly(values: Sequence[str]) -> st.SearchStrategy[str | None]:
    """A value first (the column matters for this kind), None last."""
    return st.sampled_from((*values, None))


#: The columns that matter for each kind (SPEC §2); others get ``hours`` and ``program``.
_KIND_COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {  # (column, usually present)
    "assessment": (("program", True), ("grade", True), ("score", False)),
    "training": (("hours", True), ("category", False), ("level", False), ("format", False), ("program", False)),
    "probation_training": (("hours", False), ("category", False), ("level", False)),
    "credit_award": (("credits", True), ("category", False), ("level", False)),
    "reflection": (("words", True),),
    "observation": (("count", False),),
    "lesson_given": (("count", False),),
}


def policy_event_rows(
    policy: ir.Policy, ids: tuple[str, ...] = ("t1", "t2"), max_size: int = 10
) -> st.SearchStrategy[list[dict[str, str]]]:
    """Raw event rows for ``policy``: its kinds, programs and boundary values, as text.

    Each kind gets the columns that matter for it (an assessment a program and a grade,
    a training hours, a category and a level…) plus any column the policy filters on.
    The policy is read once, here, not for every example.
    """
    vocab = vocabulary(policy)
    any_day = st.dates(min_value=vocab.first_day, max_value=vocab.last_day)
    day = st.one_of(any_day, st.sampled_from(vocab.days)) if vocab.days else any_day
    text = dict(vocab.event_text)
    values: dict[str, tuple[str, ...]] = {
        "hours": tuple(dict.fromkeys(("10", "30", "0.5", "72", *text.pop("hours", ())))),
        "credits": ("1", "2.5"),
        "score": tuple(dict.fromkeys(("90", "60", "59.5", "100", *text.pop("score", ())))),
        "words": tuple(dict.fromkeys(("1000", "999", *text.pop("words", ())))),
        "category": tuple(dict.fromkeys((*text.pop("category", ()), *CATEGORIES))),
        "level": tuple(dict.fromkeys((*text.pop("level", ()), *LEVELS))),
        "format": tuple(dict.fromkeys((*text.pop("format", ()), "online", "offline", "lecture"))),
        "count": tuple(v for v in dict.fromkeys(("2", "30", *text.pop("count", ()))) if v != "0"),
        "program": tuple(dict.fromkeys((*vocab.programs, *text.pop("program", ()), "other"))),
        "grade": tuple(g for g in dict.fromkeys(("qualified", "excellent", "unqualified", *text.pop("grade", ())))
                       if g in GRADES),
    }
    for column in ("event_id", "teacher_id", "kind"):
        text.pop(column, None)
    kinds, teacher_ids = st.sampled_from(vocab.kinds), st.sampled_from(ids)
    times = st.sampled_from(("", "T09:00", "T23:30"))
    kind_columns = {
        kind: tuple((column, (_mostly if usual else _maybe)(values[column]))
                    for column, usual in _KIND_COLUMNS.get(kind, (("hours", False), ("program", False))))
        for kind in vocab.kinds
    }
    extra_columns = tuple((column, _maybe(extra)) for column, extra in sorted(text.items()))

    @st.composite
    def rows(draw: Any) -> list[dict[str, str]]:
        n = draw(st.integers(0, max_size))
        out: list[dict[str, str]] = []
        for number in range(1, n + 1):
            kind = draw(kinds)
            row: dict[str, str | None] = {
                "event_id": f"e{number}",
                "teacher_id": draw(teacher_ids),
                "at": draw(day).isoformat() + draw(times),
                "kind": kind,
            }
            for column, strategy in (*kind_columns[kind], *extra_columns):
                row[column] = draw(strategy)
            out.append({k: v for k, v in row.items() if v is not None})
        return out

    return rows()


def roster_rows(
    policy: ir.Policy | None = None, ids: tuple[str, ...] = ("t1", "t2")
) -> st.SearchStrategy[list[dict[str, str]]]:
    """Raw roster rows (``roles`` ``;``-separated) for some of ``ids``; roles and dates the
    policy mentions come first."""
    vocab = vocabulary(policy) if policy is not None else None
    roles = tuple(dict.fromkeys((*(vocab.roles if vocab else ()), *ROLES)))
    text = dict(vocab.teacher_text) if vocab else {}
    titles = tuple(dict.fromkeys((*text.pop("title", ()), "senior", "intermediate", "junior", "none")))
    workshops = tuple(dict.fromkeys((*text.pop("workshop", ()), "chinese", "math", "pe", "arts")))
    for column in ("teacher_id", "roles", "hired_on", "retired_on"):
        text.pop(column, None)
    if vocab is not None:
        span = st.dates(min_value=vocab.first_day - dt.timedelta(days=5 * 365), max_value=vocab.last_day)
        day = st.one_of(st.sampled_from(vocab.teacher_days), span) if vocab.teacher_days else span
    else:
        day = days()
    chosen_ids = st.lists(st.sampled_from(ids), unique=True, max_size=len(ids))
    picked_roles = st.lists(st.sampled_from(roles), unique=True, max_size=3)
    maybe_day, title, workshop = st.none() | day, _maybe(titles), _maybe(workshops)
    extra_columns = tuple((column, _maybe(values)) for column, values in sorted(text.items()))

    @st.composite
    def rows(draw: Any) -> list[dict[str, str]]:
        out: list[dict[str, str]] = []
        for teacher_id in sorted(draw(chosen_ids)):
            picked = draw(picked_roles)
            hired = draw(maybe_day)
            retired = draw(maybe_day)
            row: dict[str, str | None] = {
                "teacher_id": teacher_id,
                "title": draw(title),
                "roles": ";".join(sorted(picked)) or None,
                "hired_on": hired.isoformat() if hired else None,
                "retired_on": retired.isoformat() if retired else None,
                "workshop": draw(workshop),
                **{column: draw(strategy) for column, strategy in extra_columns},
            }
            out.append({k: v for k, v in row.items() if v is not None})
        return out

    return rows()


@attrs.frozen
class Case:
    """One generated input for a policy: roster rows and event rows as text, and the as-of date."""

    roster: tuple[dict[str, str], ...]
    events: tuple[dict[str, str], ...]
    as_of: dt.date

    def event_table(self, timezone: str = DEFAULT_TIMEZONE) -> EventTable:
        """The events through :func:`credit_rules.io.load_events`, validated like real input.

        A case is a few rows: they are read by the row-by-row loader the API uses for small
        inputs (:mod:`credit_rules.io.small`, the same table; a Polars query costs ~40 ms,
        most of an invariant check), and by ``load_events`` where that one declines."""
        return load_rows(text_frame(self.events, REQUIRED_EVENT_COLUMNS), timezone)

    def teachers(self) -> dict[str, Teacher]:
        """The roster through :func:`credit_rules.io.load_roster` (small: as :meth:`event_table`)."""
        if not self.roster:
            return {}
        return load_roster_rows(text_frame(self.roster, ("teacher_id",))).teachers()


def load_rows(frame: pl.DataFrame, timezone: str, inputs: core.Inputs | None = None) -> EventTable:
    """:func:`credit_rules.io.load_events` of a few rows of text, read row by row by the
    loader the API uses for small inputs (:mod:`credit_rules.io.small`: the same table,
    where a Polars query costs ~40 ms, most of an invariant or test-block check), or by
    ``load_events`` itself where that one declines."""
    small = small_events(frame, timezone, inputs) if is_small(frame) else None
    return small if small is not None else load_events(frame, timezone=timezone, inputs=inputs)


def load_roster_rows(frame: pl.DataFrame, inputs: core.Inputs | None = None) -> Roster:
    """:func:`credit_rules.io.load_roster` of a few rows of text, as :func:`load_rows` reads events."""
    small = small_roster(frame, inputs) if is_small(frame) else None
    return small if small is not None else load_roster(frame, inputs=inputs)


def cases(policy: ir.Policy, ids: tuple[str, ...] = ("t1", "t2"), max_events: int = 10) -> st.SearchStrategy[Case]:
    """Inputs for ``policy``: a roster, events and the as-of date (the window's end)."""
    as_of = vocabulary(policy).as_of
    return st.builds(
        lambda roster, events: Case(tuple(roster), tuple(events), as_of),
        roster_rows(policy, ids), policy_event_rows(policy, ids, max_events),
    )


def text_frame(rows: Sequence[Mapping[str, str]], required: Sequence[str] = ()) -> pl.DataFrame:
    """Rows of text as an all-String Polars frame (missing cells are null), as a file reads."""
    columns = list(dict.fromkeys([*required, *(k for row in rows for k in row)]))
    return pl.DataFrame(
        {c: [row.get(c) for row in rows] for c in columns}, schema=dict.fromkeys(columns, pl.String)
    )
