"""Exact decimals and the calendar periods of SPEC §4."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credit_rules.io.parse import parse_at
from credit_rules.values import (
    Period,
    PeriodKind,
    canonical,
    exact_div,
    periods_within,
    school_year_of,
    semester_of,
    to_decimal,
)


@pytest.mark.parametrize(("value", "text"), [("36.00", "36"), ("7.20", "7.2"), ("0.000", "0"), ("-0", "0"),
                                              ("100", "100"), ("0.05", "0.05"), ("1E+2", "100")])
def test_canonical_decimal_strings(value: str, text: str) -> None:
    assert canonical(Decimal(value)) == text


def test_floats_are_read_by_their_shortest_repr() -> None:
    assert to_decimal(0.1) == Decimal("0.1")
    with pytest.raises(ValueError, match="not a decimal"):
        to_decimal("ten")


@given(st.integers(0, 10**6), st.sampled_from([1, 2, 4, 5, 8, 10, 16, 20, 25, 40, 80, 100]))
def test_exact_division_is_exact(numerator: int, denominator: int) -> None:
    assert exact_div(Decimal(numerator), Decimal(denominator)) * denominator == numerator


def test_school_years_and_semesters() -> None:
    assert school_year_of(dt.date(2021, 8, 31)) == Period(dt.date(2020, 9, 1), dt.date(2021, 8, 31))
    assert school_year_of(dt.date(2021, 9, 1)) == Period(dt.date(2021, 9, 1), dt.date(2022, 8, 31))
    assert semester_of(dt.date(2024, 1, 31)) == Period(dt.date(2023, 9, 1), dt.date(2024, 1, 31))
    assert semester_of(dt.date(2024, 2, 1)) == Period(dt.date(2024, 2, 1), dt.date(2024, 8, 31))


def test_periods_within_a_cycle_include_partial_years() -> None:
    years = periods_within(PeriodKind.SCHOOL_YEAR, Period(dt.date(2021, 1, 1), dt.date(2025, 12, 31)))
    assert [str(p) for p in years] == [
        "2021-01-01..2021-08-31", "2021-09-01..2022-08-31", "2022-09-01..2023-08-31",
        "2023-09-01..2024-08-31", "2024-09-01..2025-08-31", "2025-09-01..2025-12-31",
    ]


def test_instants_without_offset_are_shanghai_local_time() -> None:
    """A time without offset is local (UTC+8) time; with ``Z`` it is UTC, a day later in Shanghai."""
    local_us, local_day = parse_at("2023-08-31T20:00:00", "Asia/Shanghai")
    utc_us, utc_day = parse_at("2023-08-31T20:00:00Z", "Asia/Shanghai")
    assert local_day == dt.date(2023, 8, 31)
    assert utc_day == dt.date(2023, 9, 1)
    assert utc_us - local_us == 8 * 3_600_000_000
