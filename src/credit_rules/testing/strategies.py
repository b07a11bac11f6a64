"""Hypothesis strategies for rosters, raw event rows and small random policies.

Also surface ASTs (:func:`conditions`, :func:`statements`, :func:`policy_asts`) for the
formatter's properties: ``parse(print_policy(tree)) == tree`` in English and Chinese.

Used by the differential tests (interpreter vs bulk) and free for anyone testing an
evaluator: every generated policy text compiles without errors.

>>> from hypothesis import given
>>> @given(rosters(), event_rows(), policies())          # doctest: +SKIP
... def test(roster, rows, policy_text): ...
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import polars as pl
from hypothesis import strategies as st

from credit_rules import ir
from credit_rules.io import EventTable, load_events, load_roster
from credit_rules.records import Teacher
from credit_rules.schema import CATEGORIES, GRADES, LEVELS, REQUIRED_EVENT_COLUMNS, ROLES
from credit_rules.syntax import ast as syntax
from credit_rules.syntax.parser import grammar_text
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
HOURS = ("0", "0.5", "0.1", "1", "2.5", "3", "10", "20", "29.9", "30", "72", "0.000001", "7.25")


def days() -> st.SearchStrategy[dt.date]:
    return st.one_of(
        st.sampled_from(BOUNDARY_DAYS),
        st.dates(min_value=dt.date(2016, 6, 1), max_value=dt.date(2026, 6, 30)),
    )


def _at() -> st.SearchStrategy[str]:
    times = st.sampled_from(("", "T00:00:00", "T08:30:00", "T23:59:59", "T12:00:00+00:00",
                             "T23:30:00Z", "T08:30:00.5"))
    return st.builds(lambda d, t: d.isoformat() + t, days(), times)


def teachers(teacher_id: str) -> st.SearchStrategy[Teacher]:
    opt_day = st.one_of(st.none(), days(), st.sampled_from(
        [dt.date(2019, 9, 1), dt.date(2022, 3, 1), dt.date(2022, 3, 2), dt.date(2023, 6, 1)]))
    return st.builds(
        Teacher,
        teacher_id=st.just(teacher_id),
        title=st.sampled_from((None, "senior", "intermediate", "junior", "none")),
        roles=st.frozensets(st.sampled_from(ROLES), max_size=3),
        stage=st.sampled_from((None, "primary", "middle")),
        hired_on=opt_day,
        retired_on=opt_day,
        school=st.sampled_from((None, "s1", "s2")),
        workshop=st.sampled_from((None, "chinese", "math", "general", "pe", "arts")),
    )


@st.composite
def rosters(draw: Any, ids: tuple[str, ...] = TEACHER_IDS) -> dict[str, Teacher]:
    """A roster: some of ``ids`` (a teacher may also appear only in the events)."""
    chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
    return {t: draw(teachers(t)) for t in chosen}


def _maybe_text(values: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    return st.one_of(st.none(), st.sampled_from(values))


@st.composite
def event_rows(draw: Any, ids: tuple[str, ...] = TEACHER_IDS, max_size: int = 25) -> list[dict[str, Any]]:
    """Raw event rows (text values, as a file would hold them), with exact duplicates,
    shared timestamps, zero and fractional hours, boundary days and missing columns."""
    n = draw(st.integers(0, max_size))
    numbers = draw(st.lists(st.integers(1, 40), min_size=n, max_size=n, unique=True))
    shared = draw(st.lists(_at(), min_size=1, max_size=3))
    rows: list[dict[str, Any]] = []
    for number in numbers:
        kind = draw(st.sampled_from(KINDS))
        row: dict[str, Any] = {
            "event_id": f"e{number}",
            "teacher_id": draw(st.sampled_from(ids)),
            "at": draw(st.one_of(st.sampled_from(shared), _at())),
            "kind": kind,
            "hours": draw(st.one_of(st.none(), st.sampled_from(HOURS))),
            "credits": draw(st.one_of(st.none(), st.sampled_from(("0", "0.5", "1", "2", "3.3")))),
            "category": draw(_maybe_text((*CATEGORIES, "other"))),
            "level": draw(_maybe_text(LEVELS)),
            "format": draw(_maybe_text(("online", "offline", "lecture"))),
            "program": draw(_maybe_text(PROGRAMS)),
            "grade": draw(_maybe_text(GRADES)),
            "score": draw(st.one_of(st.none(), st.sampled_from(("59.5", "60", "89.999", "90", "100")))),
            "count": draw(st.one_of(st.none(), st.sampled_from(("1", "2", "3")))),
            "words": draw(st.one_of(st.none(), st.sampled_from(("999", "1000", "2000")))),
            "room": draw(st.one_of(st.none(), st.sampled_from(("5", "5.0", "a", "12")))),
        }
        rows.append(row)
    if rows and draw(st.booleans()):
        rows.append(dict(draw(st.sampled_from(rows))))  # an exact duplicate
    return rows


# ------------------------------------------------------------------------ policies
_EVENT_CONDS = (
    "category != class_teacher", "category class_teacher", "category in (ethics, literacy)",
    "level municipal", "level not in (school, district)", "format lecture", "hours >= 10",
    "hours < 0.5", "words >= 1000", "on or before 2023-04-30", "on or after 2022-09-01",
    "count > 1", "room = 5", "room != a", "not category practice",
    "category practice and format lecture", "level school or level district",
)
_TEACHER_CONDS = (
    "role class_teacher", "title = senior", "retired_on <= 2025-12-31", "hired_on <= 2022-03-01",
    "not role principal", "role dean or role principal", 'qualified in program "ed-tech"',
    "any reflection", "no reprimand", "workshop in (math, pe)", "stage != primary",
)
_OUTCOME_CONDS = (
    "credits >= 3", "hours > 10", "leave_days = 0", "grade = excellent", "met = true",
    "no reprimand",
)


def policies() -> st.SearchStrategy[str]:
    """A small random policy text using the grammar's constructs; it compiles cleanly."""
    return _policy_texts().filter(_compiles)


def _compiles(text: str) -> bool:
    from credit_rules.compile import compile_source

    try:
        compile_source(text, "generated.policy")
    except Exception:
        return False
    return True


@st.composite
def _policy_texts(draw: Any) -> str:
    header = ["policy generated"]
    mode = draw(st.sampled_from(("window", "cycle", "semester", "school year", "semester-window")))
    window = draw(st.sampled_from((
        ("2021-01-01", "2025-12-31"), ("2022-12-02", "2023-06-30"), ("2017-09-01", "2018-08-31"),
        ("2023-03-01", "2024-02-29"))))
    if mode in ("window", "semester-window"):
        header.append(f"  window {window[0]} .. {window[1]}")
    elif mode == "cycle":
        header.append(f"  cycle {window[0]} .. {window[1]}")
    header.append({
        "window": "  evaluate over window", "cycle": "  evaluate over cycle",
        "semester": "  evaluate per semester", "school year": "  evaluate per school year",
        "semester-window": "  evaluate per semester",
    }[mode])
    rate = draw(st.sampled_from(("10 hours = 1 credit", "4 hours = 1 credit", "1 hours = 2 credits", None)))
    if rate:
        header.append(f"  {rate}")
    items: list[str] = []
    n_rules = draw(st.integers(1, 4))
    for i in range(n_rules):
        award = draw(st.sampled_from(("count hours", "count credits", "fixed", "block", "pro rata",
                                      "if qualified", "leave")))
        lines = [f"rule r{i}:"]
        if award == "if qualified":
            lines.append(f'  program "{draw(st.sampled_from(PROGRAMS))}"')
            unit = draw(st.sampled_from(("credits", "hours")))
            lines.append(f"  {draw(st.sampled_from(('18', '0.5', '12')))} {unit} if qualified")
        else:
            kind = {"leave": "task_missed", "count credits": "credit_award"}.get(
                award, draw(st.sampled_from(("training", "observation", "probation_training"))))
            first = "first " if award == "fixed" and draw(st.booleans()) else ""
            lines.append(f"  on {first}{kind}")
            if draw(st.booleans()):
                lines.append(f'  program "{draw(st.sampled_from(PROGRAMS))}"')
            lines.append({
                "count hours": "  count hours", "count credits": "  count credits",
                "fixed": f"  {draw(st.sampled_from(('12', '1.5', '2')))} credits",
                "block": f"  {draw(st.sampled_from(('3', '1')))} credits per "
                         f"{draw(st.sampled_from(('30', '2.5', '10')))} hours",
                "pro rata": "  1 credits per 4 hours pro rata",
                "leave": "  absent task = one day leave",
            }[award])
        if draw(st.booleans()):
            lines.append(f"  where {draw(st.sampled_from(_EVENT_CONDS))}")
        if draw(st.booleans()):
            lines.append(f"  when {draw(st.sampled_from(_TEACHER_CONDS))}")
        lines += [f"  exception to r{j}" for j in range(i)]
        if award != "leave":
            extra = draw(st.sampled_from(("", "as level municipal", "as category practice", "without category")))
            if extra:
                lines.append(f"  {extra}")
        items.append("\n".join(lines))
    for i in range(draw(st.integers(0, 3))):
        amount = draw(st.sampled_from(("1", "2", "7", "0.5")))
        per = draw(st.sampled_from(("", " per school year", " per semester")))
        of = draw(st.sampled_from(("", " of level municipal", " of category practice",
                                   " of category practice and format lecture", " of hours >= 10")))
        items.append(f"cap c{i}: at most {amount} credits{per}{of}")
    n_req = draw(st.integers(0, 3))
    req_names = []
    for i in range(n_req):
        shape = draw(st.sampled_from(("credits", "hours", "count", "qualified", "variants")))
        name = f"q{i}"
        req_names.append(name)
        if shape == "credits":
            amount = draw(st.sampled_from(('3', '36', '0.5')))
            body = f"  at least {amount} credits of {draw(st.sampled_from(_EVENT_CONDS[:8]))}"
        elif shape == "hours":
            body = "  at least 30 hours when role class_teacher"
        elif shape == "count":
            body = "  at least 2 reflections where words >= 1000"
        elif shape == "qualified":
            body = f'  qualified in program "{draw(st.sampled_from(PROGRAMS))}"'
        else:
            body = ("  at least 18 credits when retired_on <= 2025-12-31\n"
                    "  at least 54 credits when title = senior\n  at least 36 credits")
        items.append(f"require {name}:\n{body}")
    if req_names and draw(st.booleans()):
        items.append(f"waive {req_names[0]} when {draw(st.sampled_from(_TEACHER_CONDS))}")
    if mode in ("window", "cycle") and draw(st.booleans()):
        items.append("reduce credit requirements by 1/5 per year before hired_on")
    if draw(st.booleans()):
        items.append("penalty p:\n  on reprimand\n  no credits\n  not excellent")
    grade = draw(st.sampled_from(("", "assessment", "score")))
    if grade == "assessment":
        items.append('grade from assessment in program "ed-tech"')
    elif grade == "score":
        items.append('grade from score in program "ziyang-2017": excellent at 90, qualified at 60, else unqualified')
    ranked = False
    if draw(st.booleans()):
        ranked = True
        top = draw(st.sampled_from(("top 1", "top 2 per workshop in (chinese, math, general)",
                                    "top 2 across workshop in (pe, arts)")))
        among = draw(st.sampled_from(_OUTCOME_CONDS))
        items.append(f'rank best:\n  by score in program "ziyang-2017"\n  among {among}\n  {top}')
    excellent = draw(st.sampled_from(("", *_OUTCOME_CONDS, "ranked" if ranked else "met = true")))
    if excellent:
        items.append(f"excellent when {excellent}")
    return "\n".join(header) + "\n\n" + "\n\n".join(items) + "\n"


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


def _atoms(cond: ir.Cond | None) -> Iterator[ir.Cond]:
    if cond is None:
        return
    if isinstance(cond, ir.And | ir.Or):
        for item in cond.items:
            yield from _atoms(item)
    elif isinstance(cond, ir.Not):
        yield from _atoms(cond.item)
    else:
        yield cond


def _policy_conds(policy: ir.Policy) -> Iterator[tuple[str, ir.Cond | None]]:
    """Every condition of the policy with its context: ``event`` or ``teacher`` (outcome too)."""
    for rule in policy.rules:
        yield "event", rule.where
        yield "teacher", rule.when
    for cap in policy.caps:
        yield "event", cap.of
    for requirement in policy.requirements:
        for line in requirement.lines:
            yield "teacher", line.when
            measure = line.measure
            if isinstance(measure, ir.MeasureCredits | ir.MeasureHours):
                yield "event", measure.of
            elif isinstance(measure, ir.MeasureCount):
                yield "event", measure.where
    for waiver in policy.waivers:
        yield "teacher", waiver.when
    for penalty in policy.penalties:
        yield "event", penalty.where
    if policy.excellent is not None:
        yield "teacher", policy.excellent.when
    for rank in policy.ranks:
        yield "teacher", rank.among
    for invariant in policy.invariants:
        yield "teacher", invariant.cond


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
    if policy.grade is not None:
        programs[policy.grade.program] = None
    for rank in policy.ranks:
        programs[rank.program] = None
        for top in rank.tops:
            if top.field:
                teacher_text.setdefault(top.field, {}).update(dict.fromkeys(top.values))
    for _context, cond in _policy_conds(policy):
        for atom in _atoms(cond):
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
                case ir.DateBound(_, date):
                    edges.update(dict.fromkeys(date + dt.timedelta(days=d) for d in (-1, 0, 1)))
                case ir.HasRole(role):
                    roles[role] = None
                case ir.Qualified(program):
                    programs[program] = None
                    kinds["assessment"] = None
                case ir.EventsExist(kind, _):
                    kinds[kind] = None
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


@st.composite
def policy_event_rows(
    draw: Any, policy: ir.Policy, ids: tuple[str, ...] = ("t1", "t2"), max_size: int = 10
) -> list[dict[str, str]]:
    """Raw event rows for ``policy``: its kinds, programs and boundary values, as text.

    Each kind gets the columns that matter for it (an assessment a program and a grade,
    a training hours, a category and a level…) plus any column the policy filters on.
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
    n = draw(st.integers(0, max_size))
    rows: list[dict[str, str]] = []
    for number in range(1, n + 1):
        kind = draw(st.sampled_from(vocab.kinds))
        row: dict[str, str | None] = {
            "event_id": f"e{number}",
            "teacher_id": draw(st.sampled_from(ids)),
            "at": draw(day).isoformat() + draw(st.sampled_from(("", "T09:00", "T23:30"))),
            "kind": kind,
        }
        for column, usual in _KIND_COLUMNS.get(kind, (("hours", False), ("program", False))):
            row[column] = draw((_mostly if usual else _maybe)(values[column]))
        for column, extra in sorted(text.items()):
            row[column] = draw(_maybe(extra))
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


@st.composite
def roster_rows(
    draw: Any, policy: ir.Policy | None = None, ids: tuple[str, ...] = ("t1", "t2")
) -> list[dict[str, str]]:
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
    chosen = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
    rows: list[dict[str, str]] = []
    for teacher_id in sorted(chosen):
        picked = draw(st.lists(st.sampled_from(roles), unique=True, max_size=3))
        hired = draw(st.none() | day)
        retired = draw(st.none() | day)
        row: dict[str, str | None] = {
            "teacher_id": teacher_id,
            "title": draw(_maybe(titles)),
            "roles": ";".join(sorted(picked)) or None,
            "hired_on": hired.isoformat() if hired else None,
            "retired_on": retired.isoformat() if retired else None,
            "workshop": draw(_maybe(workshops)),
            **{column: draw(_maybe(values)) for column, values in sorted(text.items())},
        }
        rows.append({k: v for k, v in row.items() if v is not None})
    return rows


@attrs.frozen
class Case:
    """One generated input for a policy: roster rows and event rows as text, and the as-of date."""

    roster: tuple[dict[str, str], ...]
    events: tuple[dict[str, str], ...]
    as_of: dt.date

    def event_table(self, timezone: str = DEFAULT_TIMEZONE) -> EventTable:
        """The events through :func:`credit_rules.io.load_events`, validated like real input."""
        return load_events(text_frame(self.events, REQUIRED_EVENT_COLUMNS), timezone=timezone)

    def teachers(self) -> dict[str, Teacher]:
        """The roster through :func:`credit_rules.io.load_roster`."""
        if not self.roster:
            return {}
        return load_roster(text_frame(self.roster, ("teacher_id",))).teachers()


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


# ------------------------------------------------------------------ surface ASTs (the formatter's properties)
#: Every English keyword of the grammar: a generated name never is one.
KEYWORD_WORDS = frozenset(re.findall(r'"([A-Za-z_][A-Za-z_]*)"', grammar_text()))
_SAFE_NAMES = ("training", "ethics", "municipal", "senior", "hired_on", "words", "title", "total", "practice",
               "reflection", "workshop", "chinese", "x", "t1", "remote_credit", "leave_days", "region")


def names() -> st.SearchStrategy[str]:
    """Identifiers that are never a keyword (``category``, ``at`` … are left out)."""
    generated = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n not in KEYWORD_WORDS)
    return st.one_of(st.sampled_from(_SAFE_NAMES), generated)


def texts() -> st.SearchStrategy[str]:
    """Quoted text: Chinese, quotes, backslashes and `#` included; no line breaks."""
    return st.text(st.one_of(st.sampled_from('"\\#:,()（）：，、学分至少每 '),
                             st.characters(blacklist_categories=("Cs", "Cc"))), max_size=12)


def amounts(places: int = 2) -> st.SearchStrategy[Decimal]:
    """Non-negative exact decimals, as written in a policy (``7.2``, ``36``, ``0.05``)."""
    return st.builds(lambda n, k: Decimal(n).scaleb(-k), st.integers(0, 100_000), st.integers(0, places))


def _dates() -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


def values() -> st.SearchStrategy[syntax.Value]:
    return st.one_of(
        st.builds(syntax.Word, names()), st.builds(syntax.Text, texts()), st.builds(syntax.Number, amounts()),
        st.builds(syntax.DateValue, _dates()), st.builds(syntax.Bool, st.booleans()),
    )


def _field() -> st.SearchStrategy[str]:
    return st.one_of(names(), st.sampled_from(("category", "level", "format")))


_OPS: tuple[syntax.CompareOp, ...] = ("=", "!=", "<", "<=", ">", ">=")


def atoms() -> st.SearchStrategy[syntax.Cond]:
    return st.one_of(
        st.builds(syntax.Compare, _field(), st.sampled_from(_OPS), values()),
        st.builds(syntax.Member, _field(), st.lists(values(), min_size=1, max_size=3).map(tuple), st.booleans()),
        st.builds(syntax.HasRole, names()),
        st.builds(syntax.DateBound, st.sampled_from(("<=", ">=")), _dates()),
        st.builds(syntax.Qualified, texts()),
        st.builds(syntax.EventsExist, names(), st.booleans()),
        st.builds(syntax.Ranked, st.one_of(st.none(), names())),
    )


def _junction(kind: type[syntax.And] | type[syntax.Or], inner: st.SearchStrategy[syntax.Cond]) -> Any:
    # the parser flattens `a and (b and c)`: a conjunction never holds a conjunction directly
    items = st.lists(inner.filter(lambda c: not isinstance(c, kind)), min_size=2, max_size=3)
    return items.map(lambda xs: kind(tuple(xs)))


def conditions() -> st.SearchStrategy[syntax.Cond]:
    """Conditions as the parser builds them: ``and``/``or`` with two or more items, flattened."""
    return st.recursive(
        atoms(),
        lambda inner: st.one_of(_junction(syntax.And, inner), _junction(syntax.Or, inner),
                                st.builds(syntax.Not, inner)),
        max_leaves=6,
    )


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


_UNITS = st.sampled_from(("credits", "hours"))
_PERIODS = st.sampled_from(("school year", "semester"))


def awards() -> st.SearchStrategy[syntax.Award]:
    return st.one_of(
        st.builds(syntax.CountHours), st.builds(syntax.CountCredits), st.builds(syntax.Leave),
        st.builds(syntax.Fixed, amounts(), _UNITS), st.builds(syntax.IfQualified, amounts(), _UNITS),
        st.builds(syntax.Block, amounts(), amounts(), st.booleans()),
    )


def _rules() -> st.SearchStrategy[syntax.Rule]:
    return st.builds(
        syntax.Rule, names(), awards(), source=_opt(texts()),
        on=_opt(st.builds(syntax.OnKind, names(), st.booleans())), program=_opt(texts()),
        where=_opt(conditions()), when=_opt(conditions()), as_level=_opt(names()), as_category=_opt(names()),
        without_category=st.booleans(), exception_to=_opt(names()),
    )


def _caps() -> st.SearchStrategy[syntax.Cap]:
    return st.builds(syntax.Cap, names(), amounts(), _opt(names()), _opt(_PERIODS), _opt(conditions()),
                     _opt(texts()))


def _requirement_lines() -> st.SearchStrategy[syntax.RequirementLine]:
    measures = st.one_of(
        st.builds(syntax.MeasureCredits, _opt(conditions())), st.builds(syntax.MeasureHours, _opt(conditions())),
        st.builds(syntax.MeasureCount, names(), _opt(conditions())),
    )
    return st.one_of(
        st.builds(syntax.AtLeast, amounts(), measures, _opt(conditions()), _opt(texts())),
        st.builds(syntax.RequireQualified, texts(), _opt(conditions()), _opt(texts())),
    )


def _tops() -> st.SearchStrategy[syntax.Top]:
    listed = st.lists(values(), min_size=1, max_size=3).map(tuple)
    return st.one_of(
        st.builds(syntax.Top, st.integers(0, 50), st.just("overall")),
        st.builds(syntax.Top, st.integers(0, 50), st.sampled_from(("per", "across")), names(), listed),
    )


def _ids() -> st.SearchStrategy[str]:
    return st.one_of(names(), texts())


def _assigns() -> st.SearchStrategy[tuple[syntax.Assign, ...]]:
    attr = st.one_of(names(), st.sampled_from(("at", "count", "program", "grade")))
    return st.lists(st.builds(syntax.Assign, attr, values()), max_size=3).map(tuple)


def _expectations() -> st.SearchStrategy[syntax.Expectation]:
    target = st.one_of(names(), st.builds(lambda a, b: f"{a}.{b}", names(), names()))
    return st.one_of(
        st.builds(syntax.ExpectField, target, st.sampled_from(_OPS), values()),
        st.builds(syntax.ExpectRequirement, names(), st.sampled_from(("met", "not met", "absent", "waived"))),
        st.builds(syntax.ExpectRequired, names(), values()),
        st.builds(syntax.ExpectActual, names(), values()),
        st.builds(syntax.ExpectPeriod, _dates(), _dates()),
        st.builds(syntax.ExpectRule, names(), names(), st.sampled_from(_OPS), values()),
        st.builds(syntax.ExpectRuleEvents, names(), st.lists(_ids(), min_size=1, max_size=3).map(tuple)),
    )


def _tests() -> st.SearchStrategy[syntax.Test]:
    clause = st.one_of(
        st.builds(syntax.TestAsOf, _dates()),
        st.builds(syntax.TestTeacher, _ids(), _assigns()),
        st.builds(syntax.TestEvent, _ids(), _assigns()),
        st.builds(syntax.Expect, _ids(), st.lists(_expectations(), min_size=1, max_size=4).map(tuple)),
    )
    return st.builds(syntax.Test, texts(), st.lists(clause, max_size=4).map(tuple))


def statements() -> st.SearchStrategy[syntax.Item]:
    """One statement of each kind the language has: rule, cap, require, …, test, invariant."""
    return st.one_of(
        _rules(), _caps(),
        st.builds(syntax.Requirement, names(), st.lists(_requirement_lines(), min_size=1, max_size=3).map(tuple),
                  _opt(texts())),
        st.builds(syntax.Waiver, st.lists(names(), min_size=1, max_size=3).map(tuple), conditions(), _opt(texts())),
        st.builds(syntax.Reduction, amounts(), amounts(), names(), _opt(texts())),
        st.builds(syntax.GradeFromAssessment, texts(), _opt(texts())),
        st.builds(syntax.GradeFromScore, texts(),
                  st.lists(st.builds(syntax.Threshold, names(), amounts()), min_size=1, max_size=3).map(tuple),
                  names(), _opt(texts())),
        st.builds(syntax.Excellent, conditions(), _opt(texts())),
        st.builds(syntax.Penalty, names(), _opt(texts()), _opt(st.builds(syntax.OnKind, names(), st.booleans())),
                  _opt(conditions()), st.booleans(), st.booleans()),
        st.builds(syntax.Rank, names(), _opt(texts()), _opt(conditions()), st.lists(_tops(), max_size=3).map(tuple),
                  _opt(texts())),
        _tests(),
        st.builds(syntax.Invariant, names(), conditions(), _opt(texts())),
    )


def _headers() -> st.SearchStrategy[syntax.Header]:
    windows = st.builds(lambda a, b, k: syntax.Window(min(a, b), max(a, b), k), _dates(), _dates(),
                        st.sampled_from(("window", "cycle")))
    return st.builds(
        syntax.Header, names(), _opt(texts()), _opt(texts()), _opt(texts()), _opt(windows),
        _opt(st.sampled_from(("school year", "semester", "window"))),
        _opt(st.builds(syntax.Conversion, amounts(), amounts(), _opt(texts()))),
    )


def _readable(items: list[syntax.Item]) -> tuple[syntax.Item, ...]:
    # After a test's `teacher`/`event` line, `grade` is read as a column name (LALR(1) cannot
    # look two words ahead), so a grade statement never directly follows one.
    kept: list[syntax.Item] = []
    for item in items:
        previous = kept[-1] if kept else None
        if (isinstance(item, syntax.GradeFromAssessment | syntax.GradeFromScore)
                and isinstance(previous, syntax.Test) and previous.clauses
                and isinstance(previous.clauses[-1], syntax.TestTeacher | syntax.TestEvent)):
            continue
        kept.append(item)
    return tuple(kept)


def policy_asts(max_statements: int = 6) -> st.SearchStrategy[syntax.Policy]:
    """Whole surface ASTs that the printer can write and the parser read back unchanged."""
    return st.builds(lambda h, items: syntax.Policy(h, _readable(items)), _headers(),
                     st.lists(statements(), max_size=max_statements))
