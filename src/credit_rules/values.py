"""Exact decimals and calendar periods (school year, semester, window).

Everything numeric in credit-rules is a :class:`decimal.Decimal`; no binary float
ever reaches a result (SPEC §4). Reading an event's ``at`` is not here: it has one
definition, the loader's (:func:`credit_rules.io.parse.parse_at` for a single value).
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import zoneinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum

import attrs

DEFAULT_TIMEZONE = "Asia/Shanghai"
ZERO = Decimal(0)


def to_decimal(value: object) -> Decimal:
    """Parse an exact decimal from text or an int; floats are refused (they are not exact).

    >>> to_decimal("7.20")
    Decimal('7.20')
    """
    if isinstance(value, bool):
        raise ValueError(f"not a number: {value!r}")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # A float from a JSON or Parquet reader: its shortest repr is what the author wrote.
        value = repr(value)
    text = str(value).strip()
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def canonical(value: Decimal) -> str:
    """The canonical decimal string of the ledger: ``"7.2"``, ``"36"``, ``"0"``.

    >>> canonical(Decimal("36.00")), canonical(Decimal("7.20")), canonical(Decimal("-0"))
    ('36', '7.2', '0')
    """
    if value == 0:
        return "0"
    text = format(value.normalize(), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def normalized(value: Decimal) -> Decimal:
    """``value`` with the digits of its canonical text: ``Decimal("37.9")`` for 37.9000000,
    ``Decimal("100")`` (never ``1E+2``). Equal in value; what a ledger hands to callers."""
    return _normalized(value)


@functools.lru_cache(maxsize=8192)  # by value (equal decimals hash alike): a ledger repeats its amounts
def _normalized(value: Decimal) -> Decimal:
    return Decimal(canonical(value))


def is_finite_decimal_fraction(numerator: Decimal, denominator: Decimal) -> bool:
    """True when ``numerator / denominator`` has a finite decimal expansion (exact in Decimal)."""
    if denominator == 0:
        return False
    from fractions import Fraction

    fraction = Fraction(numerator) / Fraction(denominator)
    q = fraction.denominator
    for prime in (2, 5):
        while q % prime == 0:
            q //= prime
    return q == 1


def exact_div(numerator: Decimal, denominator: Decimal) -> Decimal:
    """Exact division; the caller has checked that the quotient is a finite decimal."""
    from fractions import Fraction

    fraction = Fraction(numerator) / Fraction(denominator)
    q = fraction.denominator
    twos = fives = 0
    while q % 2 == 0:
        q //= 2
        twos += 1
    while q % 5 == 0:
        q //= 5
        fives += 1
    if q != 1:
        raise ValueError(f"{numerator}/{denominator} is not a finite decimal")
    digits = max(twos, fives)
    scaled = fraction * 10**digits
    assert scaled.denominator == 1
    return Decimal(scaled.numerator).scaleb(-digits)


class PeriodKind(StrEnum):
    """How a policy divides time into ledger rows."""

    WINDOW = "window"
    SCHOOL_YEAR = "school year"
    SEMESTER = "semester"
    #: issue 9 (B): the calendar year (Jan 1 .. Dec 31) and the calendar day
    YEAR = "year"
    DAY = "day"


@attrs.frozen(order=True, cache_hash=True)  # a key of registers and groups: hashed often
class Period:
    """An inclusive range of calendar dates in the policy's timezone."""

    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def clip(self, other: Period) -> Period | None:
        start, end = max(self.start, other.start), min(self.end, other.end)
        return Period(start, end) if start <= end else None

    def __str__(self) -> str:
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def school_year_of(day: dt.date) -> Period:
    """The school year (Sep 1 .. Aug 31) holding ``day``."""
    first_year = day.year if day.month >= 9 else day.year - 1
    return Period(dt.date(first_year, 9, 1), dt.date(first_year + 1, 8, 31))


def semester_of(day: dt.date) -> Period:
    """The semester (Sep 1 .. Jan 31 or Feb 1 .. Aug 31) holding ``day``."""
    if day.month >= 9:
        return Period(dt.date(day.year, 9, 1), dt.date(day.year + 1, 1, 31))
    if day.month == 1:
        return Period(dt.date(day.year - 1, 9, 1), dt.date(day.year, 1, 31))
    return Period(dt.date(day.year, 2, 1), dt.date(day.year, 8, 31))


def year_of(day: dt.date) -> Period:
    """The calendar year (Jan 1 .. Dec 31) holding ``day``."""
    return Period(dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))


@functools.lru_cache(maxsize=16_384)  # a teacher's days recur, in every cap key and ledger period
def period_of(kind: PeriodKind, day: dt.date) -> Period:
    if kind is PeriodKind.SCHOOL_YEAR:
        return school_year_of(day)
    if kind is PeriodKind.SEMESTER:
        return semester_of(day)
    if kind is PeriodKind.YEAR:
        return year_of(day)
    if kind is PeriodKind.DAY:
        return Period(day, day)
    raise ValueError("a window is not a recurring period")


def periods_within(kind: PeriodKind, window: Period) -> list[Period]:
    """Every school year or semester touching ``window``, clipped to it."""
    out: list[Period] = []
    day = window.start
    while day <= window.end:
        whole = period_of(kind, day)
        clipped = whole.clip(window)
        assert clipped is not None
        out.append(clipped)
        day = whole.end + dt.timedelta(days=1)
    return out


def is_timezone(name: str) -> bool:
    """Whether ``pendulum.timezone(name)`` accepts ``name``, without importing pendulum
    (40 ms of every ``credit-rules check``): pendulum takes any spelling of "utc" and
    otherwise builds a :class:`zoneinfo.ZoneInfo` subclass from the name."""
    if name.lower() == "utc":
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except Exception:  # not found, or not a valid key (a path, an empty name...)
        return False
    return True


def parse_date(text: str) -> dt.date:
    """An ISO calendar date, ``2023-04-30``."""
    return dt.date.fromisoformat(text.strip())


def today(timezone: str = DEFAULT_TIMEZONE) -> dt.date:
    """Today's date in ``timezone`` (the standard library's zoneinfo: no pendulum object
    per call, which ``evaluate`` without ``as_of`` makes once per teacher)."""
    zone = dt.UTC if timezone.lower() == "utc" else zoneinfo.ZoneInfo(timezone)  # as is_timezone accepts
    return dt.datetime.now(zone).date()


# ---------------------------------------------------------------- periods relative to a date
def add_months(day: dt.date, months: int) -> dt.date | None:
    """``day`` plus ``months`` calendar months, clipped to the month's last day
    (2024-01-31 + 1 month = 2024-02-29); None beyond year 9999.

    >>> add_months(dt.date(2024, 1, 31), 1), add_months(dt.date(2020, 2, 29), 12)
    (datetime.date(2024, 2, 29), datetime.date(2021, 2, 28))
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if year > dt.MAXYEAR:
        return None
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _period_starts(kind: PeriodKind) -> tuple[int, ...]:
    return (9,) if kind is PeriodKind.SCHOOL_YEAR else (2, 9)


def relative_window(day: dt.date, anchor: PeriodKind | None, months: int, days: int,
                    periods: int) -> Period | None:
    """The dates a teacher-relative filter accepts, for the teacher's date ``day``
    (issue 9, D; bounds inclusive; None when it lies beyond year 9999):

    - ``anchor`` None (``within N years|months|days of ATTR``): from ``day`` to the day
      before ``day`` + ``months`` months (clipped at month ends) + ``days`` days;
    - ``anchor`` a school year or semester (``in the first N … after ATTR``): from the
      start of the first such period that begins on or after ``day`` to the end of the
      ``periods``-th one.

    >>> str(relative_window(dt.date(2023, 9, 1), None, 12, 0, 0))
    '2023-09-01..2024-08-31'
    >>> str(relative_window(dt.date(2023, 9, 2), PeriodKind.SCHOOL_YEAR, 0, 0, 1))
    '2024-09-01..2025-08-31'
    """
    if anchor is None:
        after = add_months(day, months)
        if after is None or (dt.date.max - after).days < days:
            return Period(day, dt.date.max)
        return Period(day, after + dt.timedelta(days=days - 1))
    starts = _period_starts(anchor)
    # period starts as an index: year * len(starts) + position of the start month
    index = next((day.year * len(starts) + i for i, m in enumerate(starts)
                  if (day.month, day.day) <= (m, 1)), (day.year + 1) * len(starts))
    first_year, first_pos = divmod(index, len(starts))
    if first_year > dt.MAXYEAR:
        return None
    end_year, end_pos = divmod(index + periods, len(starts))
    start = dt.date(first_year, starts[first_pos], 1)
    if end_year > dt.MAXYEAR:
        return Period(start, dt.date.max)
    return Period(start, dt.date(end_year, starts[end_pos], 1) - dt.timedelta(days=1))
