"""Only the events a policy reads become records (issue 10: one teacher fast).

``api.interpreter_events`` builds, of a small input, the records of the events on the
policy's days and of its kinds, plus one event of another kind per teacher and period
(which gives the teacher that period). The ledger must be the one of every event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from credit_rules import core, evaluate
from credit_rules.api import as_event_table, input_contract, interpreter_events
from credit_rules.compile import compile_source
from credit_rules.eval.period_events import relevant_kinds
from credit_rules.io import load_events

PER_SEMESTER = """policy kinds_per_semester
  evaluate per semester
  10 hours = 1 credit

rule training: on training count hours

require total:
  at least 2 credits when any material_submitted
  at least 1 credit

require seen:
  at least 2 observations
"""

KIND_CONDITION = """policy kinds_in_a_condition
  evaluate per school year
  10 hours = 1 credit

rule training: on training where kind = training count hours
"""

IN_A_WINDOW = """policy kinds_in_a_window
  window 2023-02-01 .. 2024-01-31
  evaluate over window
  10 hours = 1 credit

rule training: on training count hours

require total:
  at least 3 credits when no reprimand
  at least 5 credits

require passed:
  qualified in program "p1"
"""

KINDS = ("training", "material_submitted", "observation", "reprimand", "credit_award", "assessment")


def _rows() -> list[dict[str, Any]]:
    """Two teachers over three years: t1 with every kind, t2 with kinds no policy here
    reads in some semesters (its rows must still be there)."""
    rows = []
    for i in range(60):
        day = dt.date(2022, 3, 1) + dt.timedelta(days=19 * i)
        kind = KINDS[i % len(KINDS)]
        rows.append({"event_id": f"e{i}", "teacher_id": "t1", "at": f"{day}T09:{i % 60:02d}:00", "kind": kind,
                     "hours": "6" if kind == "training" else None,
                     "credits": "1" if kind == "credit_award" else None,
                     "program": "p1" if kind == "assessment" else None,
                     "grade": ("unqualified", "qualified")[i // 6 % 2] if kind == "assessment" else None})
    rows += [{"event_id": f"x{i}", "teacher_id": "t2", "at": f"{dt.date(2022, 5, 1) + dt.timedelta(days=97 * i)}",
              "kind": "credit_award", "credits": "2"} for i in range(8)]
    return rows


def test_a_ledger_from_the_events_read_is_the_ledger_of_every_event() -> None:
    rows = _rows()
    roster = [{"teacher_id": "t1", "roles": "teacher"}]
    for text in (PER_SEMESTER, KIND_CONDITION, IN_A_WINDOW):
        policy = compile_source(text)
        table = load_events(rows, timezone=policy.timezone, inputs=input_contract(policy))
        assert table.small is None  # the Polars loader: every event a record
        expected = evaluate(policy, table, roster, as_of=dt.date(2024, 6, 30)).to_json()
        assert evaluate(policy, rows, roster, as_of=dt.date(2024, 6, 30)).to_json() == expected, policy.name
        assert {r["teacher_id"] for r in expected} == {"t1", "t2"}


def test_the_kinds_read_and_the_records_built() -> None:
    rows = _rows()
    per_semester = compile_source(PER_SEMESTER)
    assert relevant_kinds(core.lower(per_semester)) == {"training", "material_submitted", "observation"}
    assert relevant_kinds(core.lower(compile_source(KIND_CONDITION))) is None  # a condition reads `kind`
    assert relevant_kinds(core.lower(compile_source(IN_A_WINDOW))) == {"training", "reprimand", "assessment"}
    table = as_event_table(rows, per_semester.timezone)
    built = interpreter_events(table, {}, per_semester)
    assert 0 < len(built) < len(table)
    assert {e.kind for e in built} >= {"training", "material_submitted", "observation", "credit_award"}


def test_each_period_gets_a_part_holding_its_events_in_order() -> None:
    """by_period: slices when the days are in order (exactly each period's events), one pass
    otherwise (at least them); either way in the events' order."""
    from credit_rules.eval.period_events import by_period
    from credit_rules.records import Event
    from credit_rules.values import Period, semester_of

    days = [dt.date(2022, 1, 1) + dt.timedelta(days=23 * i) for i in range(40)]
    events = [Event(f"e{i}", "t1", dt.datetime.combine(day, dt.time(9), dt.UTC), day, i, "training")
              for i, day in enumerate(days)]
    periods = sorted({semester_of(day) for day in days[3:30:4]}, key=lambda p: p.start)
    periods.append(Period(dt.date(2030, 1, 1), dt.date(2030, 6, 30)))  # no event in it
    for evs in (events, events[::-1]):  # days in order (slices), and not (the one pass)
        parts = by_period(periods, evs)
        for period, part in zip(periods, parts, strict=True):
            assert [e for e in part if period.contains(e.day)] == [e for e in evs if period.contains(e.day)]
            assert evs is not events or all(period.contains(e.day) for e in part)  # a slice: nothing else
