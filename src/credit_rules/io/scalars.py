"""One value at a time: the readings of :mod:`credit_rules.io.parse`, in plain Python.

The Polars expressions of :mod:`~credit_rules.io.parse` are the loader's definition for
large inputs and must stay vectorised; a small input (one teacher's events, a roster of a
few rows: :mod:`credit_rules.io.small`) is read here, value by value, without building a
query. Each function gives the same value and the same rejection text as its expression
(named in its docstring); ``tests/test_io_small.py`` pins the two together with a
Hypothesis differential test over hostile rows.

Every reader takes text already :func:`clean`: trimmed, empty as missing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import operator
import re
import zoneinfo
from collections.abc import Callable, Sequence
from typing import cast

from credit_rules.io.sources import OUT_OF_RANGE
from credit_rules.schema import MICRO

#: The characters Polars' ``str.strip_chars()`` trims (Unicode White_Space): Python's
#: ``str.isspace`` set without the information separators U+001C..U+001F.
WHITESPACE = "".join(
    c for c in map(chr, range(0x3001)) if c.isspace() and not "\x1c" <= c <= "\x1f"
)
MIN_YEAR, MAX_YEAR = 1900, 2199  # as parse.MIN_YEAR / MAX_YEAR (kept equal by a test)
MAX_INT_DIGITS = 12
_DAY_US = 86_400_000_000
_UTC = dt.UTC

_DECIMAL = re.compile(r"(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_AT = re.compile(
    r"(?P<date>(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2}))"
    r"(?:[Tt ](?P<h>[0-9]{2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?"
    r"(?P<z>[Zz]|(?P<osign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)?)?"
)
_EPOCH_NAIVE = dt.datetime(1970, 1, 1)
_US = dt.timedelta(microseconds=1)
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def clean(value: str | None) -> str | None:
    """:func:`credit_rules.io.parse.clean`: trimmed text, empty as missing."""
    if value is None:
        return None
    text = value.strip(WHITESPACE)
    return text or None


def non_ascii_reason(column: str, text: str) -> str | None:
    """``non_ascii_check`` of :mod:`~credit_rules.io.parse`: the first non-ASCII character."""
    if text.isascii():
        return None
    char = next(c for c in text if ord(c) > 0x7F)
    return (f'{column}: "{text}" has the non-ASCII character "{char}" (U+{ord(char):04X});'
            " write numbers and dates with the ASCII digits 0-9")


@functools.lru_cache(maxsize=65_536)  # a platform's teachers repeat their amounts ("8", "30")
def read_number(column: str, text: str, *, minimum: int, maximum: int,
                integer: bool = False) -> tuple[int | None, str | None]:
    """:func:`~credit_rules.io.parse.parse_decimal`: (micro-units, or the integer when
    ``integer``; the rejection reason). Exactly one of the two is None."""
    reason = non_ascii_reason(column, text)
    if reason is not None:
        return None, reason
    what = "an integer" if integer else "a decimal number"
    match = _DECIMAL.fullmatch(text)
    if match is None or not (match["int"] or match["frac"]):
        return None, f'{column}: not {what}: "{text}"'
    ints = match["int"].lstrip("0")
    frac = (match["frac"] or "").rstrip("0")
    if integer and frac:
        return None, f'{column}: not an integer: "{text}"'
    if not integer and len(frac) > 6:
        return None, f'{column}: more than 6 decimal places: "{text}"'
    huge = len(ints) > MAX_INT_DIGITS
    micro = None if huge else int(ints or "0") * MICRO + int(frac[:6].ljust(6, "0"))
    negative = match["sign"] == "-"
    if negative and micro != 0:  # a huge negative is nonzero too
        return None, f'{column}: must be >= {minimum}, got "{text}"'
    if micro is not None and micro < minimum * MICRO:
        return None, f'{column}: must be >= {minimum}, got "{text}"'
    if micro is None or micro > maximum * MICRO:
        return None, f"{column}: {text} is above the maximum {maximum} per event"
    return (micro // MICRO if integer else micro), None


def read_choice(column: str, text: str, allowed: Sequence[str]) -> str | None:
    """:func:`~credit_rules.io.parse.parse_choice`: the reason when ``text`` is not allowed."""
    if text in allowed:
        return None
    return f'{column}: "{text}" is not one of {", ".join(allowed)}'


def _calendar_day(year: int, month: int, day: int) -> bool:
    """Whether the proleptic Gregorian date exists (year 0 included, as in Polars)."""
    if not 1 <= month <= 12 or day < 1:
        return False
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    return day <= (29 if month == 2 and leap else _MONTH_DAYS[month - 1])


def _range_reason(column: str, text: str) -> str:
    return f'{column}: "{text}" is outside the supported years {MIN_YEAR}..{MAX_YEAR}'


def read_date(column: str, text: str) -> tuple[dt.date | None, str | None]:
    """:func:`~credit_rules.io.parse.parse_date`: (the date; the rejection reason)."""
    if text.startswith(OUT_OF_RANGE):
        return None, _range_reason(column, text)
    reason = non_ascii_reason(column, text)
    if reason is not None:
        return None, reason
    match = _DATE.fullmatch(text)
    if match is None:
        return None, f'{column}: not an ISO date (YYYY-MM-DD): "{text}"'
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if not _calendar_day(year, month, day):
        return None, f'{column}: the date "{text}" does not exist'
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None, _range_reason(column, text)
    return dt.date(year, month, day), None


def local_instant_us(naive: dt.datetime, zone: zoneinfo.ZoneInfo) -> int | None:
    """:func:`~credit_rules.io.parse.local_instant`: UTC epoch microseconds of a local
    time; None in a skipped hour, the earlier instant in a repeated one."""
    aware = naive.replace(tzinfo=zone)  # fold=0: the earlier of a repeated hour
    utc = aware.astimezone(_UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != naive:
        return None  # clocks jumped over this local time
    return _epoch_us(utc.replace(tzinfo=None))


def _epoch_us(naive_utc: dt.datetime) -> int:
    return (naive_utc - _EPOCH_NAIVE) // _US


def local_day(instant_us: int, zone: zoneinfo.ZoneInfo) -> dt.date:
    """The calendar date in ``zone`` of UTC epoch microseconds."""
    utc = dt.datetime(1970, 1, 1, tzinfo=_UTC) + dt.timedelta(microseconds=instant_us)
    return utc.astimezone(zone).date()


_FAST_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9])?")
#: :data:`_FAST_AT` of every line of a text (a column joined by newlines: one regex call).
_FAST_AT_LINES = re.compile(f"(?:{_FAST_AT.pattern}\n)*{_FAST_AT.pattern}")


@functools.lru_cache(maxsize=16_384)
def _plain_offset_us(timezone: str, day: dt.date) -> int | None:
    """The UTC offset (microseconds) of every local time of ``day`` in ``timezone``; None
    on a day whose clocks change (its times take :func:`local_instant_us`). The offset is
    probed every three hours, either side of a repeated hour (``fold``), and at the last
    microsecond (a change and its reversal within three hours of one day would go unseen).
    Cached: a teacher's days recur."""
    zone = zoneinfo.ZoneInfo(timezone)
    start = dt.datetime(day.year, day.month, day.day)
    probes = (*(start + dt.timedelta(hours=h) for h in range(0, 24, 3)), start + dt.timedelta(days=1) - _US)
    offsets = {zone.utcoffset(t.replace(fold=f)) for t in probes for f in (0, 1)}
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    return None if offset is None else offset // _US


def read_plain_at(text: str, timezone: str) -> tuple[int, dt.date, dt.datetime] | None:
    """``at`` in its common shapes (``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS``, local time) on a
    day without a clock change: (UTC epoch microseconds, local date, local naive time);
    None for anything else, which :func:`read_at` reads by the general rules."""
    if not (_FAST_AT.fullmatch(text) and MIN_YEAR <= int(text[:4]) <= MAX_YEAR):
        return None
    try:
        naive = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    day = naive.date()
    offset = _plain_offset_us(timezone, day)
    if offset is None:
        return None
    return (naive - _EPOCH_NAIVE) // _US - offset, day, naive


def read_plain_ats(texts: Sequence[str | None], timezone: str
                   ) -> tuple[list[int], list[dt.date], list[dt.datetime]] | None:
    """:func:`read_plain_at` of a whole column at once (the loops run in C): the instants,
    local dates and local naive times; None unless every value is present and plain."""
    if not texts or None in texts:
        return None
    present = cast(Sequence[str], texts)
    joined = "\n".join(present)
    # Each line matches and there are as many lines as texts: each text matches.
    if joined.count("\n") != len(present) - 1 or _FAST_AT_LINES.fullmatch(joined) is None:
        return None
    # Four leading digits each: the text order of the first and last value is their date order.
    first, last = min(present), max(present)
    if first[:4] < f"{MIN_YEAR:04d}" or last[:4] > f"{MAX_YEAR:04d}":
        return None
    try:
        naives = list(map(dt.datetime.fromisoformat, present))
    except ValueError:
        return None
    days = list(map(dt.datetime.date, naives))
    # Whole seconds (the shapes of _FAST_AT): the local times' epoch seconds as numpy reads
    # the same texts, in one C loop (a Python expression per value cost three times as much).
    import numpy as np  # here, not at the top: `check` never reads data

    seconds = np.array(present, dtype="datetime64[s]").astype(np.int64)
    offset = _range_offset_us(timezone, first[:7], last[:7])
    if offset is not None:  # one offset in every month from the first value's to the last's
        return (seconds * MICRO - offset).tolist(), days, naives
    local_us: list[int] = (seconds * MICRO).tolist()
    by_month = {month: _month_offset_us(timezone, month) for month in set(map(_MONTH, present))}
    offsets = set(by_month.values())
    if None not in offsets:  # no clock change in any month: one offset per month
        months = list(map(_MONTH, present))
        return list(map(operator.sub, local_us, map(by_month.__getitem__, months))), days, naives
    by_day: dict[dt.date, int] = {}
    for day in set(days):
        day_offset = _plain_offset_us(timezone, day)
        if day_offset is None:
            return None
        by_day[day] = day_offset
    return list(map(operator.sub, local_us, map(by_day.__getitem__, days))), days, naives


@functools.lru_cache(maxsize=4096)
def _range_offset_us(timezone: str, first: str, last: str) -> int | None:
    """:func:`_month_offset_us` of every month from ``first`` to ``last`` (``YYYY-MM``) when
    it is one offset, else None: a teacher's events mostly lie in a zone without summer
    time, or in one season."""
    year, month = int(first[:4]), int(first[5:7])
    offsets: set[int | None] = set()
    while f"{year:04d}-{month:02d}" <= last and len(offsets) < 2:
        offsets.add(_month_offset_us(timezone, f"{year:04d}-{month:02d}"))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return offsets.pop() if len(offsets) == 1 else None


#: The month (``YYYY-MM``) of an ``at`` text.
_MONTH: Callable[[str], str] = operator.itemgetter(slice(0, 7))


@functools.lru_cache(maxsize=4096)
def _month_offset_us(timezone: str, month: str) -> int | None:
    """:func:`_plain_offset_us` of every day of ``month`` (``YYYY-MM``) when it is the same
    offset, else None (a month with a clock change: its days are looked at one by one)."""
    year, number = int(month[:4]), int(month[5:7])
    days = calendar.monthrange(year, number)[1]
    offsets = {_plain_offset_us(timezone, dt.date(year, number, day)) for day in range(1, days + 1)}
    return offsets.pop() if len(offsets) == 1 else None


def read_at(text: str, timezone: str, zone: zoneinfo.ZoneInfo, *,
            numeric: str | None = None) -> tuple[int | None, dt.date | None, str | None]:
    """:func:`~credit_rules.io.parse.parse_instant`: (UTC epoch microseconds, local date,
    the rejection reason), the rules of ``at`` in :mod:`credit_rules.io.parse`."""
    if numeric is None:
        plain = read_plain_at(text, timezone)
        if plain is not None:
            return plain[0], plain[1], None
    if numeric is not None:
        return None, None, f"at: {numeric} is not a date; store ISO text or a timestamp"
    if text.startswith(OUT_OF_RANGE):
        return None, None, _range_reason("at", text)
    reason = non_ascii_reason("at", text)
    if reason is not None:
        return None, None, reason
    shape = f'at: not an ISO 8601 date or datetime: "{text}"'
    match = _AT.fullmatch(text)
    if match is None:
        return None, None, shape
    year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
    if not _calendar_day(year, month, day):
        return None, None, f'at: the date "{match["date"]}" does not exist'
    hour, minute, second = (int(match[g] or 0) for g in ("h", "m", "s"))
    off_h, off_m = int(match["oh"] or 0), int(match["om"] or 0)
    if hour > 23 or minute > 59 or second > 59 or off_h > 23 or off_m > 59:
        return None, None, shape
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None, None, _range_reason("at", text)
    micro = int((match["f"] or "")[:6].ljust(6, "0"))
    naive = dt.datetime(year, month, day, hour, minute, second, micro)
    if match["z"] is not None:
        offset = (off_h * 3600 + off_m * 60) * MICRO * (-1 if match["osign"] == "-" else 1)
        at_us: int | None = _epoch_us(naive) - offset
    else:
        at_us = local_instant_us(naive, zone)
    if at_us is None:
        return None, None, f'at: "{text}" does not exist in {timezone}'
    return at_us, local_day(at_us, zone), None
