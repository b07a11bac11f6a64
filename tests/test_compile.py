"""AST → checked IR: resolution, exact rates, and what the static checks catch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from credit_rules import ir
from credit_rules.compile import check_source, compile_source
from credit_rules.values import Period, PeriodKind

BASE = "policy p\n  cycle 2021-01-01 .. 2025-12-31\n  10 hours = 1 credit\nrule h: on training count hours\n"


def codes(text: str) -> list[str]:
    return [d.code for d in check_source(text)[1]]


def test_rate_is_exact() -> None:
    policy = compile_source(BASE)
    assert policy.rate == Decimal("0.1")
    assert policy.window == Period(dt.date(2021, 1, 1), dt.date(2025, 12, 31))
    assert policy.evaluate is PeriodKind.WINDOW


def test_a_rate_that_is_not_a_finite_decimal_is_refused() -> None:
    assert codes("policy p window 2021-01-01 .. 2021-12-31 3 hours = 1 credit rule h: on training count hours") == ["E121"]


def test_percentage_cap_is_taken_of_the_requirement() -> None:
    policy = compile_source(BASE + "require practice: at least 10 credits of category practice\n"
                                   "cap lecture: at most 10% of practice of format lecture\n")
    assert policy.caps[0].amount == Decimal(1)


def test_plural_kinds_are_resolved() -> None:
    policy = compile_source("policy p evaluate per semester require o: at least 10 observations")
    measure = policy.requirements[0].lines[0].measure
    assert measure == ir.MeasureCount("observation")


def test_fields_are_resolved_to_their_scope() -> None:
    policy = compile_source(BASE + "require t: at least 1 credit when title = senior\n"
                                   "excellent when leave_days = 0\n")
    cond = policy.requirements[0].lines[0].when
    assert cond == ir.Compare("title", ir.Scope.TEACHER, "=", "senior")
    assert policy.excellent is not None
    assert policy.excellent.when == ir.Compare("leave_days", ir.Scope.FACT, "=", Decimal(0))


def test_unknown_event_columns_are_attributes_but_typos_are_errors() -> None:
    assert codes(BASE + "rule x: exception to h on training where region = north 1 credit") == []
    assert codes(BASE + "rule x: exception to h on training where categroy = ethics 1 credit") == ["E101"]


def test_comparing_a_date_field_with_a_number_is_an_error() -> None:
    assert codes(BASE + "require t: at least 1 credit when hired_on >= 2020") == ["E105"]


def test_a_window_policy_needs_a_window() -> None:
    assert codes("policy p rule h: on training count hours") == ["E112"]


def test_every_error_is_reported_in_one_run() -> None:
    found = codes(BASE + "rule a: 18 credits if qualified\ncap c: at most 7 credits of level citywide\n"
                         "require r: at least 2 credits when titel = senior\n")
    assert found == ["E130", "E102", "E101"]


def test_unknown_timezone() -> None:
    assert codes('policy p timezone "Mars/Olympus" window 2021-01-01 .. 2021-12-31 rule h: on training count hours') == ["E110"]
