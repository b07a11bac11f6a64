"""Parsing text values as Polars expressions: decimals, integers, choices, dates and ``at``.

Each parser gives a typed value and a rejection reason per row (no per-row Python), and
:func:`parse_at` reads one ``at`` value through the very same expression, so the test
builders and the loader cannot disagree. Every column a parser reads is :func:`clean`
(trimmed, empty as missing).

Decimals are exact: ``hours``, ``credits`` and ``score`` become Int64 micro-units
(value x 10^6). A value with more than 6 significant decimal places (trailing zeros do not
count), an exponent (``1e3``) or a sign of minus is rejected with a reason.

Range per event (:data:`LIMITS`; beyond it the row is rejected: ``hours:
999999999999.999999 is above the maximum 100000 per event``):

=========  =================  ==============================================
column     accepted           why
=========  =================  ==============================================
hours      0 .. 100,000       one record of study hours; 10^11 micro-units
credits    0 .. 100,000
score      0 .. 100
count      1 .. 100,000
words      0 .. 10,000,000    compared per event, never summed by the core
=========  =================  ==============================================

The bound keeps every single value exact in Int64 at the bulk engine's largest scale
(10^10 per unit: 100,000 x 10^10 = 10^15), so :data:`SAFE_EVENTS_PER_SUM` = 9,223
maximal values still sum without overflow; a teacher's sums beyond that are for the
engines to check (Int64 holds |sum| < 9.2 x 10^8 units at scale 10^10, 9.2 x 10^12 in
micro-units).

Characters: numbers and dates are ASCII. A value of a typed column (``at``, ``hours``,
``credits``, ``score``, ``count``, ``words``, the roster dates) holding any other character
is rejected naming it, with its code point: full-width ``１２`` is ``hours: "１２" has the
non-ASCII character "１" (U+FF11); write numbers and dates with the ASCII digits 0-9``
(never read as 12, nor as missing). Only surrounding white space is trimmed.

Dates: a date must exist (``at: the date "2023-02-30" does not exist``) and its year, as
written (a typed date or naive datetime: its own date; a time-zone-aware datetime: its UTC
date, as its text would be written), must lie in :data:`MIN_YEAR`..:data:`MAX_YEAR`
(1900..2199), for ``at`` and the roster dates alike; outside: ``at: "0001-01-01" is outside
the supported years 1900..2199``. A typed date beyond the calendar (a Parquet ``date32`` of
year -200000) reads as that reason too, never a crash. An ``at`` column of numbers (e.g.
Parquet int64) is rejected row by row: ``at: an integer is not a date; store ISO text or a
timestamp``.

``at`` is ``YYYY-MM-DD`` or ``YYYY-MM-DD[T ]HH:MM[:SS[.f{1,9}]]`` with an optional offset
``Z``, ``+HH``, ``+HHMM`` or ``+HH:MM``; nothing else (``20230430``, ``2023/04/30``,
``2023-W17-7`` are rejected). Fractions beyond microseconds are truncated. A value without
an offset is local time in the policy's timezone, and daylight saving time is read thus:

- a local time in a skipped hour (clocks jump forward) is rejected: ``at: "..." does not
  exist in <zone>``; Europe/Berlin ``2023-03-26T02:30`` is one;
- a local time in a repeated hour (clocks fall back) is its earlier instant, the first
  occurrence: Europe/Berlin ``2023-10-29T02:30`` is ``2023-10-29T00:30Z``.

The fast expressions (:func:`fast_at`, :func:`fast_micro`) read only the plainly valid
common shapes, and give null for anything else, which then takes the general parsers; the
tests check on generated values that both readings agree.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Collection, Sequence
from typing import Any

import attrs
import polars as pl

from credit_rules.errors import UsageError
from credit_rules.io.columns import INTERNAL_PREFIX
from credit_rules.io.sources import OUT_OF_RANGE, as_text
from credit_rules.schema import MICRO

#: Digits before the decimal point that are parsed at all (more: above every maximum).
MAX_INT_DIGITS = 12
#: The accepted range of each number column, per event, in whole units (module docstring).
LIMITS: dict[str, tuple[int, int]] = {
    "hours": (0, 100_000),
    "credits": (0, 100_000),
    "score": (0, 100),
    "count": (1, 100_000),
    "words": (0, 10_000_000),
    # issue 9 (A): study time in other units, as long as 100,000 hours at most
    "minutes": (0, 6_000_000),
    "days": (0, 100_000),
}
#: The largest fixed-point scale of the bulk engine (10^10 per unit).
BULK_MAX_SCALE = 10**10
#: How many maximal values (100,000 at 10^10) sum without overflowing Int64.
SAFE_EVENTS_PER_SUM = (2**63 - 1) // (100_000 * BULK_MAX_SCALE)
#: The years a date may have (``at`` as written, ``hired_on``, ``retired_on``).
MIN_YEAR, MAX_YEAR = 1900, 2199
_NON_ASCII = r"[^\x00-\x7F]"
_INT128_MAX = 2**127 - 1
_DAY_US = 86_400_000_000


def clean(column: str | pl.Expr) -> pl.Expr:
    """The trimmed text of a column (a name, or a text expression); empty text is
    missing (null)."""
    text = (pl.col(column) if isinstance(column, str) else column).str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text).otherwise(None)


def needs_cleaning(column: str | pl.Expr) -> pl.Expr:
    """Whether :func:`clean` changes the text: space around it, or empty (null where the
    value is missing)."""
    text = pl.col(column) if isinstance(column, str) else column
    return (text.str.strip_chars().str.len_bytes() != text.str.len_bytes()) | (text.str.len_bytes() == 0)


class Plan:
    """Expressions in dependent stages, each stage one ``with_columns``.

    Intermediate results are materialised as ``__cr_*`` columns so that nothing
    expensive (a regex, a string-to-integer parse) is computed twice. Every column the
    parsers read is already :func:`clean` (trimmed, empty as null).
    """

    def __init__(self, ascii_columns: Collection[str] = ()) -> None:
        self.stages: list[list[pl.Expr]] = []
        #: Columns known to hold only ASCII text (see :func:`ascii_columns`): their
        #: non-ASCII check is skipped, which keeps the query small.
        self.ascii_columns = frozenset(ascii_columns)

    def add(self, stage: int, *exprs: pl.Expr) -> None:
        """Add expressions to ``stage`` (they may read the columns of earlier stages)."""
        while len(self.stages) <= stage:
            self.stages.append([])
        self.stages[stage].extend(exprs)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """``frame`` with every stage's columns added, stage by stage."""
        for exprs in self.stages:
            if exprs:
                frame = frame.with_columns(exprs)
        return frame


_DECIMAL_RE = r"^(?P<sign>[+-]?)(?P<int>[0-9]*)(?:\.(?P<frac>[0-9]*))?$"


@attrs.frozen
class Parsed:
    """A parsed column: its value and a rejection reason (null when fine or missing).

    Both are expressions valid after :meth:`Plan.apply`.
    """

    value: pl.Expr
    reason: pl.Expr


def _quoted(text: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit('"'), text, pl.lit('"')])


def _tmp(column: str, what: str) -> str:
    return f"{INTERNAL_PREFIX}{what}_{column}"


_HEX = {i: "0123456789ABCDEF"[i] for i in range(16)}


def _hex(point: pl.Expr) -> pl.Expr:
    """``XXXX`` (at least 4 hex digits, upper case) of an integer."""
    digits = pl.concat_str([
        ((point // 16**k) % 16).replace_strict(_HEX, return_dtype=pl.String)
        for k in range(5, -1, -1)
    ])
    return pl.when(point > 0xFFFF).then(digits.str.strip_chars_start("0")).otherwise(
        digits.str.slice(2)
    )


def non_ascii_check(plan: Plan, column: str) -> tuple[pl.Expr, pl.Expr]:
    """The check that a typed column's text is ASCII, naming the first other character and
    its code point (the reason must be computed at stage 3 or later)."""
    if column in plan.ascii_columns:
        return pl.lit(False), pl.lit(None, pl.String)
    text = pl.col(column)
    char, hexed, point = (_tmp(column, w) for w in ("char", "hex", "point"))
    plan.add(0, text.str.extract(f"({_NON_ASCII})", 1).alias(char))
    plan.add(1, pl.col(char).str.encode("hex").alias(hexed))

    def byte(i: int) -> pl.Expr:
        return pl.col(hexed).str.slice(2 * i, 2).str.to_integer(base=16, strict=False).cast(
            pl.Int64
        )

    n = pl.col(hexed).str.len_bytes()
    cont = [byte(i) - 0x80 for i in range(1, 4)]
    plan.add(2, (
        pl.when(n == 2).then(byte(0))  # one hex pair: ASCII (never, but exact)
        .when(n == 4).then((byte(0) - 0xC0) * 64 + cont[0])
        .when(n == 6).then((byte(0) - 0xE0) * 4096 + cont[0] * 64 + cont[1])
        .otherwise((byte(0) - 0xF0) * 262144 + cont[0] * 4096 + cont[1] * 64 + cont[2])
    ).alias(point))
    return (
        pl.col(char).is_not_null(),
        pl.format(
            '{}: {} has the non-ASCII character "{}" (U+{});'
            " write numbers and dates with the ASCII digits 0-9",
            pl.lit(column), _quoted(text), pl.col(char), _hex(pl.col(point)),
        ),
    )


def ascii_columns(frame: pl.DataFrame, columns: Collection[str]) -> set[str]:
    """Which of the text ``columns`` of ``frame`` hold only ASCII (for :class:`Plan`)."""
    names = [c for c in columns if c in frame.columns and frame.schema[c] == pl.String]
    if not names:
        return set()
    found = frame.select(
        [pl.col(c).str.contains(_NON_ASCII).any().alias(c) for c in names]
    ).row(0, named=True)
    return {c for c in names if not found[c]}


def parse_decimal(
    plan: Plan,
    column: str,
    *,
    minimum: int = 0,
    maximum: int,
    integer: bool = False,
) -> Parsed:
    """Exact decimal text to Int64 micro-units (or to an integer when ``integer``).

    ``minimum``/``maximum`` are in whole units (not micro-units), see :data:`LIMITS`.
    Trailing zeros of the fraction do not count as decimal places.
    """
    text = pl.col(column)
    g, ints, frac, ok, micro = (_tmp(column, w) for w in ("g", "int", "frac", "ok", "micro"))
    plan.add(0, text.str.extract_groups(_DECIMAL_RE).alias(g))
    raw_int = pl.col(g).struct.field("int")
    raw_frac = pl.col(g).struct.field("frac").fill_null("")
    plan.add(
        1,
        raw_int.str.strip_chars_start("0").alias(ints),
        raw_frac.str.strip_chars_end("0").alias(frac),
        (raw_int.is_not_null() & (raw_int.str.len_bytes() + raw_frac.str.len_bytes() > 0))
        .alias(ok),
    )
    huge = pl.col(ints).str.len_bytes() > MAX_INT_DIGITS
    whole = (
        pl.when(pl.col(ints).str.len_bytes() == 0).then(pl.lit(0, pl.Int64))
        .when(huge).then(None)
        .otherwise(pl.col(ints).str.to_integer(strict=False).cast(pl.Int64, strict=False))
    )
    frac_micro = pl.col(frac).str.slice(0, 6).str.pad_end(6, "0").str.to_integer(strict=False)
    magnitude = whole * MICRO + frac_micro.cast(pl.Int64)
    negative = pl.col(g).struct.field("sign") == "-"
    plan.add(
        2,
        pl.when(negative).then(-magnitude).otherwise(magnitude).alias(micro),
    )
    shown = _quoted(text)
    what = "an integer" if integer else "a decimal number"
    nonzero = (pl.col(ints).str.len_bytes() + pl.col(frac).str.len_bytes()) > 0
    checks: list[tuple[pl.Expr, pl.Expr]] = [
        non_ascii_check(plan, column),
        (~pl.col(ok), pl.format("{}: not {}: {}", pl.lit(column), pl.lit(what), shown)),
    ]
    if integer:
        checks.append((
            pl.col(frac).str.len_bytes() > 0,
            pl.format("{}: not an integer: {}", pl.lit(column), shown),
        ))
    else:
        checks.append((
            pl.col(frac).str.len_bytes() > 6,
            pl.format("{}: more than 6 decimal places: {}", pl.lit(column), shown),
        ))
    checks.append((
        (negative & nonzero) | (~huge & (pl.col(micro) < minimum * MICRO)),
        pl.format("{}: must be >= {}, got {}", pl.lit(column), pl.lit(minimum), shown),
    ))
    checks.append((
        huge | (pl.col(micro) > maximum * MICRO),
        pl.format(
            "{}: {} is above the maximum {} per event", pl.lit(column), text, pl.lit(maximum)
        ),
    ))
    reason = _tmp(column, "reason")
    plan.add(3, first_reason(text.is_not_null(), checks).alias(reason))
    value = pl.col(micro) // MICRO if integer else pl.col(micro)
    return Parsed(
        pl.when(pl.col(reason).is_null()).then(value).otherwise(None), pl.col(reason)
    )


def first_reason(present: pl.Expr, checks: list[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
    """The first failing check's message for a present value, else null."""
    chain: Any = None
    for condition, message in checks:
        cond = present & condition.fill_null(False)
        chain = pl.when(cond).then(message) if chain is None else chain.when(cond).then(message)
    assert chain is not None
    result: pl.Expr = chain.otherwise(pl.lit(None, pl.String)).cast(pl.String)
    return result


def parse_choice(column: str, allowed: Sequence[str]) -> Parsed:
    """Text that must be one of ``allowed`` (no plan stage needed: it is cheap)."""
    text = pl.col(column)
    reason = first_reason(
        text.is_not_null(),
        [(~text.is_in(list(allowed)), pl.format(
            "{}: {} is not one of {}", pl.lit(column), _quoted(text), pl.lit(", ".join(allowed))
        ))],
    )
    return Parsed(text, reason)


def _year_ok(date: pl.Expr) -> pl.Expr:
    return date.dt.year().is_between(MIN_YEAR, MAX_YEAR)


def _in_years(naive: pl.Expr) -> pl.Expr:
    """:func:`_year_ok` of a naive Datetime("us"), as a comparison of its microseconds
    (no calendar arithmetic per row)."""
    first = dt.datetime(MIN_YEAR, 1, 1)
    last = dt.datetime(MAX_YEAR, 12, 31, 23, 59, 59, 999_999)
    return naive.is_between(pl.lit(first, pl.Datetime("us")), pl.lit(last, pl.Datetime("us")))


def _range_message(column: str, text: pl.Expr) -> pl.Expr:
    return pl.format(
        "{}: {} is outside the supported years {}..{}",
        pl.lit(column), _quoted(text), pl.lit(MIN_YEAR), pl.lit(MAX_YEAR),
    )


def _out_of_range(text: pl.Expr) -> pl.Expr:
    """A typed date beyond years 1..9999, as :func:`~credit_rules.io.sources.as_text`
    writes it."""
    return text.str.starts_with(OUT_OF_RANGE)


def parse_date(plan: Plan, column: str) -> Parsed:
    """An ISO calendar date ``YYYY-MM-DD`` to a Date, in years ``MIN_YEAR..MAX_YEAR``."""
    text = pl.col(column)
    day, shape = _tmp(column, "date"), _tmp(column, "shape")
    plan.add(
        0,
        text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").alias(shape),
        pl.when(text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
        .then(text.str.to_date("%Y-%m-%d", strict=False))
        .alias(day),
    )
    reason = first_reason(
        text.is_not_null(),
        [
            (_out_of_range(text), _range_message(column, text)),
            non_ascii_check(plan, column),
            (~pl.col(shape), pl.format(
                "{}: not an ISO date (YYYY-MM-DD): {}", pl.lit(column), _quoted(text)
            )),
            (pl.col(day).is_null(), pl.format(
                "{}: the date {} does not exist", pl.lit(column), _quoted(text)
            )),
            (~_year_ok(pl.col(day)), _range_message(column, text)),
        ],
    )
    return Parsed(pl.when(reason.is_null()).then(pl.col(day)), reason)


_AT_RE = (
    r"^(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[Tt ](?P<h>[0-9]{2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,9}))?)?"
    r"(?P<z>[Zz]|(?P<osign>[+-])(?P<oh>[0-9]{2})(?::?(?P<om>[0-9]{2}))?)?)?$"
)


def local_instant(naive: pl.Expr, timezone: str) -> pl.Expr:
    """UTC epoch microseconds of a naive local Datetime: null in a skipped hour, the earlier
    instant in a repeated one (the DST rule of the module docstring, for both paths)."""
    return naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").dt.timestamp("us")


def parse_instant(
    plan: Plan, column: str, timezone: str, *, numeric: str | None = None
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """``at`` text to (UTC epoch microseconds, local calendar date, reason): the one
    definition of ``at`` (module docstring).

    ``numeric`` (e.g. ``"an integer"``) says the column was stored as numbers: every
    present value is then rejected as not a date.
    """
    text = pl.col(column)
    g, date, naive, offset, has_offset, parts_ok, at_us, reason = (
        _tmp(column, w)
        for w in ("g", "date", "naive", "offset", "hasoff", "ok", "us", "reason")
    )
    plan.add(0, text.str.extract_groups(_AT_RE).alias(g))

    def part(name: str) -> pl.Expr:
        return pl.col(g).struct.field(name).str.to_integer(strict=False).fill_null(0)

    hour, minute, second = part("h"), part("m"), part("s")
    fraction = (
        pl.col(g).struct.field("f").fill_null("").str.slice(0, 6).str.pad_end(6, "0")
        .str.to_integer(strict=False)
    )
    offset_hours, offset_minutes = part("oh"), part("om")
    sign = pl.when(pl.col(g).struct.field("osign") == "-").then(-1).otherwise(1)
    time_ok = (
        (hour <= 23) & (minute <= 59) & (second <= 59)
        & (offset_hours <= 23) & (offset_minutes <= 59)
    )
    plan.add(1, pl.col(g).struct.field("date").str.to_date("%Y-%m-%d", strict=False).alias(date))
    plan.add(
        2,
        pl.when(_year_ok(pl.col(date))).then(
            pl.col(date).cast(pl.Int64) * _DAY_US
            + hour * 3_600_000_000
            + minute * 60_000_000
            + second * MICRO
            + fraction
        ).alias(naive),
        ((offset_hours * 3_600_000_000 + offset_minutes * 60_000_000) * sign).alias(offset),
        pl.col(g).struct.field("z").is_not_null().alias(has_offset),
        (pl.col(date).is_not_null() & _year_ok(pl.col(date)) & time_ok)
        .fill_null(False).alias(parts_ok),
    )
    local_us = local_instant(pl.from_epoch(pl.col(naive), time_unit="us"), timezone)
    plan.add(
        3,
        pl.when(~pl.col(parts_ok) | pl.lit(numeric is not None)).then(None)
        .when(pl.col(has_offset)).then(pl.col(naive) - pl.col(offset))
        .otherwise(local_us)
        .alias(at_us),
    )
    shape_ok = pl.col(g).struct.field("date").is_not_null()
    checks: list[tuple[pl.Expr, pl.Expr]] = []
    if numeric is not None:
        checks.append((
            pl.lit(True),
            pl.lit(f"{column}: {numeric} is not a date; store ISO text or a timestamp"),
        ))
    checks += [
        (_out_of_range(text), _range_message(column, text)),
        non_ascii_check(plan, column),
        (
            ~shape_ok | (pl.col(date).is_not_null() & ~time_ok),
            pl.format(
                "{}: not an ISO 8601 date or datetime: {}", pl.lit(column), _quoted(text)
            ),
        ),
        (
            pl.col(date).is_null(),
            pl.format("{}: the date {} does not exist", pl.lit(column),
                      _quoted(pl.col(g).struct.field("date"))),
        ),
        (~_year_ok(pl.col(date)), _range_message(column, text)),
        (
            pl.col(at_us).is_null(),
            pl.format("{}: {} does not exist in {}", pl.lit(column), _quoted(text),
                      pl.lit(timezone)),
        ),
    ]
    plan.add(4, first_reason(text.is_not_null(), checks).alias(reason))
    day = (
        pl.from_epoch(pl.col(at_us), time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
        .dt.date()
    )
    return pl.col(at_us), day, pl.col(reason)


def missing_reason(columns: Sequence[str]) -> list[pl.Expr]:
    """``missing <column>`` for each required column that is null."""
    return [
        pl.when(pl.col(c).is_null()).then(pl.lit(f"missing {c}")).otherwise(None)
        for c in columns
    ]


def combine_reasons(reasons: Sequence[pl.Expr]) -> pl.Expr:
    """Every reason a row has, joined with ``; `` (null when it has none)."""
    joined = pl.concat_str(list(reasons), separator="; ", ignore_nulls=True)
    return pl.when(joined.str.len_bytes() > 0).then(joined).otherwise(None)



def check_timezone(timezone: str) -> None:
    """Raise :class:`~credit_rules.errors.UsageError` unless ``timezone`` is an IANA name."""
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown timezone {timezone!r}; use an IANA name like Asia/Shanghai")\
            from None


def parse_at(value: str | dt.date | dt.datetime, timezone: str) -> tuple[int, dt.date]:
    """One ``at`` value to (UTC epoch microseconds, local date), read as the loader reads it.

    A date or datetime object is first turned into text the way a typed column of the
    loader is (:func:`~credit_rules.io.sources.as_text`). Raises :class:`ValueError` with
    the loader's reason for a value the loader would reject.

    >>> parse_at("2023-10-29T02:30", "Europe/Berlin")  # a repeated hour: the earlier instant
    (1698539400000000, datetime.date(2023, 10, 29))
    >>> parse_at("2023-03-26T02:30", "Europe/Berlin")  # a skipped hour
    Traceback (most recent call last):
    ...
    ValueError: at: "2023-03-26T02:30" does not exist in Europe/Berlin
    """
    if isinstance(value, str):
        text: str | None = value
    else:
        series = pl.Series("at", [value])
        text = as_text(series, "<at>").item()
    return _parse_at_text(text, timezone)


@functools.lru_cache(maxsize=4096)
def _parse_at_text(text: str | None, timezone: str) -> tuple[int, dt.date]:
    # The loader's general pass on a one-row frame: clean, the ``at`` plan, the same reasons.
    check_timezone(timezone)
    plan = Plan(ascii_columns=("at",) if text is None or text.isascii() else ())
    at_us, day, reason = parse_instant(plan, "at", timezone)
    cleaned = pl.LazyFrame({"at": [text]}, schema={"at": pl.String}).select(clean("at"))
    row = plan.apply(cleaned).select(
        at_us.alias("at_us"),
        day.alias("day"),
        combine_reasons([*missing_reason(("at",)), reason]).alias("reason"),
    ).collect().row(0, named=True)
    if row["reason"] is not None:
        raise ValueError(row["reason"])
    return row["at_us"], row["day"]


# ------------------------------------------------------------- the fast expressions

_FAST_AT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
_FAST_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_FAST_DECIMAL = r"^[0-9]{1,12}(?:\.[0-9]{1,6})?$"
_FAST_INTEGER = r"^[0-9]{1,12}$"


def fast_at(frame: pl.DataFrame, column: str, timezone: str) -> pl.DataFrame:
    """``at_us`` (UTC epoch microseconds) and ``day`` (local date) of ``column`` where its
    value has a common shape, null elsewhere (those rows take :func:`parse_instant`)."""
    dtype = frame.schema[column]
    naive = _fast_naive(column, dtype)
    if naive is None:  # a time-zone-aware column is an instant already
        instant, day = _fast_aware(column, dtype, timezone)
        return frame.select(instant.alias("at_us"), day.alias("day"))
    # The naive time is materialised once: both the instant and the day read it.
    local = frame.select(pl.when(_in_years(naive)).then(naive).alias("naive"))
    at_us = local_instants(local.get_column("naive"), timezone)
    return local.select(
        at_us.alias("at_us"),
        pl.when(at_us.is_not_null()).then(pl.col("naive").dt.date()).alias("day"),
    )


#: One hour in microseconds: the unit of the offset table of :func:`local_instants`.
_HOUR_US = 3_600_000_000
#: Most hours an offset table spans (about 240 years), and most per row; a wider spread of
#: times (or a few rows far apart) looks up its distinct hours instead of a dense range.
_DENSE_HOURS = 1 << 21
_DENSE_HOURS_PER_ROW = 4


def local_instants(naive: pl.Series, timezone: str) -> pl.Series:
    """:func:`local_instant` of a whole column, computed once per local hour instead of
    once per row (the time-zone rules are the costly part; a province's events fall in a
    few tens of thousands of distinct hours).

    For each hour the times occur in, :func:`local_instant` itself reads the hour's first
    and last microsecond; where they lie exactly one hour apart the zone keeps one offset
    over the whole hour (a clock change inside it would skip or repeat times, or switch
    offsets, and move one end), so every time in it is its naive time minus that offset.
    The few rows in an hour with a clock change take :func:`local_instant` row by row.
    (The one reading this cannot see is two clock changes inside one hour that cancel out:
    the time-zone database has none.)
    """
    micros = naive.to_physical()
    hours = micros // _HOUR_US
    low, high = hours.min(), hours.max()
    if low is None or high is None:
        return pl.Series(naive.name, [None] * naive.len(), dtype=pl.Int64)
    assert isinstance(low, int) and isinstance(high, int)
    if high - low < min(_DENSE_HOURS, _DENSE_HOURS_PER_ROW * naive.len()):
        table = pl.int_range(low, high + 1, dtype=pl.Int64, eager=True)
        position = hours - low
    else:
        table = hours.drop_nulls().unique().sort()
        position = table.search_sorted(hours).cast(pl.Int64)
    start = table * _HOUR_US
    offsets = pl.DataFrame({"start": start}).select(
        pl.from_epoch("start", time_unit="us").alias("first"),
        pl.from_epoch(pl.col("start") + (_HOUR_US - 1), time_unit="us").alias("last"),
        pl.col("start"),
    ).select(
        local_instant(pl.col("first"), timezone).alias("first_us"),
        local_instant(pl.col("last"), timezone).alias("last_us"),
        pl.col("start"),
    ).select(
        pl.when(pl.col("last_us") - pl.col("first_us") == _HOUR_US - 1)
        .then(pl.col("start") - pl.col("first_us")).alias("offset")
    ).get_column("offset")
    instants = (micros - offsets.gather(position)).alias(naive.name)
    changing = instants.is_null() & micros.is_not_null()
    if changing.any():
        rows = changing.arg_true()
        exact = naive.gather(rows).to_frame("t").select(local_instant(pl.col("t"), timezone))
        instants = instants.scatter(rows, exact.to_series())
    return instants


def _fast_naive(column: str, dtype: pl.DataType) -> pl.Expr | None:
    """The local (naive) time of ``at`` in its common shapes, null elsewhere; None for a
    time-zone-aware column (see :func:`_fast_aware`).

    Text: only ``YYYY-MM-DDTHH:MM:SS`` and ``YYYY-MM-DD``, checked by a regex first, so
    nothing the general parser would read differently is accepted. A Date is local
    midnight and a naive Datetime a local time, as their text would be.
    """
    col = pl.col(column)
    if dtype == pl.String:
        return (
            pl.when(col.str.contains(_FAST_AT))
            .then(col.str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False))
            .when(col.str.contains(_FAST_DATE))
            .then(col.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")))
        )
    if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return None
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return col.cast(pl.Datetime("us"))  # beyond the supported years: see fast_at
    # The general path reads it as text (a column of nulls, as long as the frame).
    return pl.repeat(None, pl.len(), dtype=pl.Datetime("us"))


def _fast_aware(column: str, dtype: pl.DataType, timezone: str) -> tuple[pl.Expr, pl.Expr]:
    """(UTC epoch microseconds, local day) of a time-zone-aware Datetime column."""
    assert isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    utc = pl.col(column).cast(pl.Datetime("us", dtype.time_zone)).dt.convert_time_zone("UTC")
    instant = pl.when(_year_ok(utc)).then(utc.dt.timestamp("us"))
    day = pl.when(instant.is_not_null()).then(utc.dt.convert_time_zone(timezone).dt.date())
    return instant, day


def _fast_decimal(col: pl.Expr, scale: int, unit: int, *, minimum: int, maximum: int) -> pl.Expr:
    """A Decimal column read from its exact integer representation (no text round trip):
    ``unit`` per whole value (:data:`MICRO` for decimals, 1 for integers). A value with more
    places than ``unit`` keeps, or outside the range, is null (the general path says why).
    The range is checked on the column's own digits, before any scaling could overflow."""
    physical = col.to_physical()  # Int128: the digits, ``scale`` of them after the point
    low = pl.lit(minimum * 10**scale, pl.Int128)
    high = pl.lit(min(maximum * 10**scale, _INT128_MAX), pl.Int128)
    places = len(str(unit)) - 1
    if scale <= places:
        value, exact = physical * 10 ** (places - scale), pl.lit(True)
    else:
        step = 10 ** (scale - places)
        value, exact = physical // step, physical % step == 0
    return pl.when(physical.is_between(low, high) & exact).then(value.cast(pl.Int64, strict=False))


def fast_micro(
    column: str, dtype: pl.DataType, *, maximum: int, integer: bool = False,
    minimum: int = 0,
) -> pl.Expr:
    """A decimal (micro-units) or an integer column's value where it is plainly valid, else
    null: plain digits for text, exactly representable values for numbers."""
    col = pl.col(column)
    scale = 1 if integer else MICRO
    value: pl.Expr
    if isinstance(dtype, pl.Decimal) and not (integer and dtype.scale):
        return _fast_decimal(col, dtype.scale, scale, minimum=minimum, maximum=maximum)
    if isinstance(dtype, pl.Decimal):
        col, dtype = col.cast(pl.String), pl.String()  # "3.0" as a count: the text rules decide
    if dtype == pl.String:
        if integer:
            value = pl.when(col.str.contains(_FAST_INTEGER)).then(
                col.str.to_integer(strict=False).cast(pl.Int64, strict=False))
        else:
            value = pl.when(col.str.contains(_FAST_DECIMAL)).then(
                col.str.to_decimal(scale=6).to_physical().cast(pl.Int64, strict=False))
    elif dtype.is_integer():
        limit = 10 ** MAX_INT_DIGITS
        value = pl.when((col >= 0) & (col < limit)).then(col.cast(pl.Int64) * scale)
    elif dtype.is_float() and not integer:
        # Exact when the shortest repr has <= 6 decimals: the micro-units, divided back,
        # give the very same float. Small and huge values print with an exponent (which
        # the text rules reject), so they take the general path.
        micro = (col.cast(pl.Float64) * MICRO).round(0)
        in_range = ((col >= 1e-5) & (col < 1e9)) | (col == 0)
        value = pl.when(in_range & (micro / MICRO == col.cast(pl.Float64))).then(
            micro.cast(pl.Int64, strict=False))
    else:
        return pl.lit(None, pl.Int64)  # the general path reads it (as text)
    return pl.when(value.is_between(minimum * scale, maximum * scale)).then(value)

