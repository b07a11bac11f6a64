"""Loading and validating activity events (SPEC §2), vectorised in Polars.

One loader feeds every engine: the interpreter takes :meth:`EventTable.events` or
:meth:`EventTable.by_teacher`, the bulk engine takes :attr:`EventTable.frame`; both see
exactly the same valid, de-duplicated events.

Pipeline:

1. every source is read with every column as text (typed Parquet/Arrow columns are cast
   to text canonically: floats as their shortest repr, dates as ISO 8601, lists joined
   with ``;``); JSON numbers keep the text the author wrote;
2. values are trimmed, and an empty value is a missing one;
3. each column is parsed and checked with Polars expressions (no per-row Python), giving
   typed values and a rejection reason per row;
4. among the valid rows, repeats of an ``event_id`` are duplicates when identical in every
   column (after parsing: ``1.50`` and ``1.5`` hours are the same) and conflicts otherwise;
5. the valid rows are sorted by ``teacher_id``, ``at``, ``event_id``.

Decimals are exact: ``hours``, ``credits`` and ``score`` are stored as Int64 micro-units
(value x 10^6). A value with more than 6 significant decimal places (trailing zeros do not
count), an exponent (``1e3``) or a sign of minus is rejected with a reason.

Times: ``at`` is ``YYYY-MM-DD`` or ``YYYY-MM-DD[T ]HH:MM[:SS[.f{1,9}]]`` with an optional
offset ``Z``, ``+HH``, ``+HHMM`` or ``+HH:MM``. Without an offset it is local time in the
timezone (a repeated local hour takes its earlier instant; a skipped one is shifted
forward). Fractions beyond microseconds are truncated.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sys
import time
import zoneinfo
from collections.abc import Callable, Collection, Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import numpy as np
import polars as pl

from credit_rules.errors import InputError, UsageError
from credit_rules.records import Event
from credit_rules.schema import (
    DECIMAL_EVENT_COLUMNS,
    EVENT_COLUMNS,
    EVENT_FRAME,
    GRADES,
    LEVELS,
    MICRO,
    REQUIRED_EVENT_COLUMNS,
)
from credit_rules.values import DEFAULT_TIMEZONE

SourceLike: TypeAlias = "str | os.PathLike[str] | pl.DataFrame | Any"
Sources: TypeAlias = "SourceLike | Sequence[SourceLike]"

_MAX_INT_DIGITS = 12  # 999_999_999_999.999999 still fits Int64 micro-units

_FORMATS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".arrow": "ipc", ".feather": "ipc", ".ipc": "ipc",
}
_EXTENSION_HINT = ".jsonl/.ndjson/.json, .csv, .parquet/.pq or .arrow/.feather/.ipc"

# Internal column names; the prefix keeps them apart from a user's columns.
_SRC = "__cr_source"
_ROW = "__cr_row"
_BAD = "__cr_bad"
_KEY = "__cr_key"
_REASON = "__cr_reason"
_INTERNAL_PREFIX = "__cr_"
#: Column names the output frames use for themselves.
RESERVED_COLUMNS = ("source", "row", "reason", "day", "at_us", "hours_u", "credits_u", "score_u")


@attrs.frozen
class LoadReport:
    """The accounting of one load: ``rows_read == rows_used + duplicates + rejected``."""

    rows_read: int
    rows_used: int
    duplicates: int
    rejected: int
    label: str = "events"

    def __attrs_post_init__(self) -> None:
        if self.rows_read != self.rows_used + self.duplicates + self.rejected:
            raise AssertionError(f"accounting does not balance: {self!r}")

    def summary(self) -> str:
        """``events: 10 read = 7 used + 1 duplicates + 2 rejected``."""
        return (
            f"{self.label}: {self.rows_read} read = {self.rows_used} used"
            f" + {self.duplicates} duplicates + {self.rejected} rejected"
        )


# --------------------------------------------------------------------------- reading


@attrs.frozen
class RawInput:
    """Every source's rows with every column as raw text, concatenated in source order.

    ``frame`` has the user's columns (String) plus internal ``__cr_source``,
    ``__cr_row`` (1-based row within its source), ``__cr_bad`` (a reason when the row
    could not even be parsed, e.g. a broken JSON line) and ``__cr_key`` (global order).
    """

    frame: pl.DataFrame
    columns: tuple[str, ...]
    source_names: tuple[str, ...]


def _source_list(sources: Any) -> list[Any]:
    if isinstance(sources, str | os.PathLike | pl.DataFrame) or _is_arrow_table(sources):
        return _expand_folder(sources)
    if isinstance(sources, Iterable):
        out = [item for source in sources for item in _expand_folder(source)]
        if not out:
            raise UsageError("no input files given")
        return out
    raise UsageError(f"cannot read events from {type(sources).__name__}")


def _expand_folder(source: Any) -> list[Any]:
    """A folder stands for the data files in it (e.g. the part files of a partitioned dataset)."""
    if isinstance(source, str | os.PathLike) and str(source) != "-" and Path(source).is_dir():
        files = sorted(p for p in Path(source).iterdir() if p.suffix.lower() in _FORMATS and p.is_file())
        if not files:
            raise InputError(f"{source}: the folder holds no {_EXTENSION_HINT} files")
        return files
    return [source]


def _is_arrow_table(obj: Any) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith("pyarrow") and type(obj).__name__ in ("Table", "RecordBatch")


def _json_cell(value: Any) -> str | None:
    """A parsed JSON value (numbers kept as their text) as one text cell."""
    if value is None or isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list) and all(v is None or isinstance(v, str) for v in value):
        return ";".join(v for v in value if v is not None)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _parse_json_records(
    lines: Iterable[tuple[int, str]], name: str
) -> pl.DataFrame:
    records: list[dict[str, str | None]] = []
    rows: list[int] = []
    bad: list[str | None] = []
    keys: dict[str, None] = {}
    for number, line in lines:
        if not line.strip():
            continue
        reason = None
        record: dict[str, str | None] = {}
        try:
            obj = json.loads(line, parse_float=str, parse_int=str, parse_constant=str)
        except json.JSONDecodeError as exc:
            obj = None
            reason = f"not valid JSON: {exc.msg} at column {exc.colno}"
        if reason is None and not isinstance(obj, dict):
            reason = "not a JSON object"
        if reason is None:
            assert isinstance(obj, dict)
            record = obj
            for key, value in obj.items():
                if value is not None and type(value) is not str:
                    record[key] = _json_cell(value)
                if key not in keys:
                    keys[key] = None
        records.append(record)
        rows.append(number)
        bad.append(reason)
    numbering = [pl.Series(_ROW, rows, dtype=pl.Int64), pl.Series(_BAD, bad, dtype=pl.String)]
    if not keys:
        return pl.DataFrame(numbering)
    return pl.from_dicts(records, schema={k: pl.String for k in keys}).with_columns(numbering)


def _read_json_text(text: str, name: str) -> pl.DataFrame:
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("["):
        # A .json file holding one array of objects, not JSON Lines.
        try:
            items = json.loads(stripped, parse_float=str, parse_int=str, parse_constant=str)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{name}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno});"
                " fix the file or write one JSON object per line (JSON Lines)"
            ) from None
        lines = [(i, json.dumps(item)) for i, item in enumerate(items, 1)]
        return _parse_json_records(lines, name)
    return _parse_json_records(enumerate(text.lstrip("\ufeff").splitlines(), 1), name)


def _as_text(series: pl.Series, name: str) -> pl.Series:
    """A column of any type as text, canonically (see the module docstring)."""
    dtype = series.dtype
    if dtype == pl.String:
        return series
    try:
        if dtype == pl.Date:
            return series.dt.strftime("%Y-%m-%d")
        if isinstance(dtype, pl.Datetime):
            series = series.cast(pl.Datetime("us", dtype.time_zone))
            if dtype.time_zone is not None:
                return series.dt.convert_time_zone("UTC").dt.strftime(
                    "%Y-%m-%dT%H:%M:%S%.6fZ"
                )
            return series.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f")
        if isinstance(dtype, pl.List | pl.Array):
            if isinstance(dtype, pl.Array):
                series = series.cast(pl.List(dtype.inner))
            return series.list.eval(pl.element().cast(pl.String)).list.join(";")
        if isinstance(dtype, pl.Struct):
            return series.struct.json_encode()
        if dtype == pl.Binary:
            return series.cast(pl.String)
        return series.cast(pl.String)
    except pl.exceptions.PolarsError as exc:
        raise InputError(
            f"{name}: column {series.name!r} of type {dtype} cannot be read as text ({exc});"
            " store it as a string column"
        ) from None


def _fast_typed(dtype: pl.DataType) -> bool:
    """Types the validation reads directly (without text) in the columns it parses."""
    return (
        dtype.is_integer() or dtype.is_float() or isinstance(dtype, pl.Decimal | pl.Datetime)
        or dtype == pl.Date
    )


def _textify(frame: pl.DataFrame, name: str, keep: Collection[str] = ()) -> pl.DataFrame:
    """Every column as text, except the ``keep`` columns of a type read directly."""
    return frame.with_columns(
        [
            _as_text(frame[c], name).alias(c)
            for c in frame.columns
            if frame[c].dtype != pl.String and not (c in keep and _fast_typed(frame[c].dtype))
        ]
    )


def _read_one(
    source: Any, what: str, allow_stdin: bool, keep: Collection[str] = ()
) -> tuple[str, pl.DataFrame]:
    """One source as (name, frame of text columns + ``__cr_row`` + ``__cr_bad``); the
    ``keep`` columns stay typed when their type is read directly (see :func:`_fast_typed`)."""
    if isinstance(source, pl.DataFrame):
        name = "<dataframe>"
        frame = _textify(source, name, keep)
        return name, _number(frame)
    if _is_arrow_table(source):
        name = "<arrow>"
        try:
            converted = pl.from_arrow(source)
        except Exception as exc:
            raise InputError(f"{name}: cannot convert the Arrow table ({exc})") from None
        assert isinstance(converted, pl.DataFrame)
        return name, _number(_textify(converted, name, keep))
    if not isinstance(source, str | os.PathLike):
        raise UsageError(f"cannot read {what} from a {type(source).__name__}")
    name = os.fspath(source)
    if name == "-":
        if not allow_stdin:
            raise UsageError(f"{what} cannot be read from stdin; give a file")
        return "<stdin>", _read_json_text(sys.stdin.read(), "<stdin>")
    fmt = _FORMATS.get(Path(name).suffix.lower())
    if fmt is None:
        raise InputError(
            f"{name}: cannot tell the format of the {what} file from its extension"
            f" {Path(name).suffix or '(none)'!r}; rename it to one of {_EXTENSION_HINT}"
        )
    path = Path(name)
    if not path.is_file():
        raise InputError(f"{name}: no such {what} file; check the path")
    try:
        if fmt == "jsonl":
            with open(path, encoding="utf-8") as handle:
                return name, _read_json_text(handle.read(), name)
        if fmt == "csv":
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8", raise_if_empty=False)
        elif fmt == "parquet":
            frame = pl.read_parquet(path)
        else:
            frame = pl.read_ipc(path)
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, pl.exceptions.PolarsError) as exc:
        kind = {"jsonl": "JSON Lines", "csv": "CSV", "parquet": "Parquet", "ipc": "Arrow IPC"}
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"{name}: cannot read this {what} file as {kind[fmt]} ({message});"
            f" check that it is a valid {kind[fmt]} file in UTF-8"
        ) from None
    return name, _number(_textify(frame, name, keep))


def _number(frame: pl.DataFrame) -> pl.DataFrame:
    # Series added directly (hstack): an eager ``with_columns`` would run a query that
    # copies every text column of a large frame.
    return frame.hstack([
        pl.Series(_ROW, np.arange(1, frame.height + 1, dtype=np.int64)),
        pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias(_BAD),
    ])


def _clean_names(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    renames = {}
    seen: set[str] = set()
    for column in frame.columns:
        if column in (_ROW, _BAD):
            continue
        clean = column.strip().lstrip("\ufeff").strip()
        if column.startswith(_INTERNAL_PREFIX):
            raise InputError(f"{name}: column name {column!r} is reserved; rename the column")
        if clean in seen:
            raise InputError(f"{name}: column {clean!r} appears twice; keep one")
        seen.add(clean)
        if clean != column:
            renames[column] = clean
    return frame.rename(renames) if renames else frame


def read_raw(
    sources: Any,
    *,
    what: str,
    required: Sequence[str],
    allow_stdin: bool = True,
    typed: Collection[str] = (),
) -> RawInput:
    """Read every source with every column as text (no validation).

    The ``typed`` columns keep a numeric, date or datetime type when every source has the
    same one (the validation reads those exactly without going through text)."""
    named = []
    for source in _source_list(sources):
        name, frame = _read_one(source, what, allow_stdin, typed)
        named.append((name, frame, _is_json_source(source)))
    return combine_raw(named, required=required)


def combine_raw(
    named: Sequence[tuple[str, pl.DataFrame, bool]], *, required: Sequence[str]
) -> RawInput:
    """Sources read as ``(name, frame, is_json)`` (frames with ``__cr_row`` and
    ``__cr_bad``) checked for reserved and required columns and concatenated."""
    frames: list[pl.DataFrame] = []
    names: list[str] = []
    columns: dict[str, None] = {}
    for name, frame, is_json in named:
        frame = _clean_names(frame, name)
        user_columns = [c for c in frame.columns if c not in (_ROW, _BAD)]
        for column in user_columns:
            if column in RESERVED_COLUMNS:
                raise InputError(
                    f"{name}: column {column!r} is reserved by credit-rules"
                    f" ({', '.join(RESERVED_COLUMNS)}); rename it"
                )
        # A JSON Lines file has no header: only complain when no row has the column.
        if frame.height > 0 or not is_json:
            missing = [c for c in required if c not in user_columns]
            if missing:
                raise InputError(
                    f"{name}: required column{'s' if len(missing) > 1 else ''}"
                    f" {', '.join(missing)} missing (found: {', '.join(user_columns) or 'none'});"
                    f" add {'them' if len(missing) > 1 else 'it'} or rename the matching"
                    " column"
                )
        for column in user_columns:
            columns[column] = None
        frames.append(frame.hstack([pl.repeat(name, frame.height, eager=True).alias(_SRC)]))
        names.append(name)
    ordered = [*required, *(c for c in columns if c not in required)]
    frames = _common_types(frames, names)
    dtypes = {c: f.schema[c] for f in frames for c in f.columns}

    def aligned(f: pl.DataFrame) -> pl.DataFrame:
        missing = [c for c in ordered if c not in f.columns]
        if missing:
            f = f.hstack([pl.repeat(None, f.height, dtype=dtypes[c], eager=True).alias(c)
                          for c in missing])
        return f.select([*ordered, _SRC, _ROW, _BAD])

    combined = (
        pl.concat([aligned(f) for f in frames], how="vertical") if frames else pl.DataFrame()
    )
    combined = combined.hstack([pl.Series(_KEY, np.arange(combined.height, dtype=np.int64))])
    return RawInput(combined, tuple(ordered), tuple(names))


def _common_types(frames: list[pl.DataFrame], names: list[str]) -> list[pl.DataFrame]:
    """Columns kept typed in one source but not alike in all of them become text everywhere."""
    seen: dict[str, set[pl.DataType]] = {}
    for frame in frames:
        for column, dtype in frame.schema.items():
            seen.setdefault(column, set()).add(dtype)
    mixed = {c for c, types in seen.items() if len(types) > 1}
    if not mixed:
        return frames
    return [
        f.with_columns([_as_text(f[c], n).alias(c) for c in f.columns if c in mixed])
        for f, n in zip(frames, names, strict=True)
    ]


def _is_json_source(source: Any) -> bool:
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        return name == "-" or _FORMATS.get(Path(name).suffix.lower()) == "jsonl"
    return False


# ----------------------------------------------------------------- vectorised parsing


def clean(column: str) -> pl.Expr:
    """The trimmed text of a column; empty text is missing (null)."""
    text = pl.col(column).str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text).otherwise(None)


class Plan:
    """Expressions in dependent stages, each stage one ``with_columns``.

    Intermediate results are materialised as ``__cr_*`` columns so that nothing
    expensive (a regex, a string-to-integer parse) is computed twice. Every column the
    parsers read is already :func:`clean` (trimmed, empty as null).
    """

    def __init__(self) -> None:
        self.stages: list[list[pl.Expr]] = []

    def add(self, stage: int, *exprs: pl.Expr) -> None:
        while len(self.stages) <= stage:
            self.stages.append([])
        self.stages[stage].extend(exprs)

    def apply(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        for exprs in self.stages:
            if exprs:
                frame = frame.with_columns(exprs)
        return frame


_DECIMAL_RE = r"^(?P<sign>[+-]?)(?P<int>\d*)(?:\.(?P<frac>\d*))?$"


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
    return f"{_INTERNAL_PREFIX}{what}_{column}"


def parse_decimal(
    plan: Plan,
    column: str,
    *,
    minimum: int = 0,
    maximum: int | None = None,
    integer: bool = False,
) -> Parsed:
    """Exact decimal text to Int64 micro-units (or to an integer when ``integer``).

    ``minimum``/``maximum`` are in whole units (not micro-units). Trailing zeros of the
    fraction do not count as decimal places.
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
    whole = pl.when(pl.col(ints).str.len_bytes() == 0).then(pl.lit(0, pl.Int64)).otherwise(
        pl.col(ints).str.slice(0, 18).str.to_integer(strict=False).cast(pl.Int64, strict=False)
    )
    frac_micro = pl.col(frac).str.slice(0, 6).str.pad_end(6, "0").str.to_integer(strict=False)
    magnitude = whole * MICRO + frac_micro.cast(pl.Int64)
    plan.add(
        2,
        pl.when(pl.col(g).struct.field("sign") == "-").then(-magnitude).otherwise(magnitude)
        .alias(micro),
    )
    shown = _quoted(text)
    what = "an integer" if integer else "a decimal number"
    checks: list[tuple[pl.Expr, pl.Expr]] = [
        (~pl.col(ok), pl.format("{}: not {}: {}", pl.lit(column), pl.lit(what), shown)),
        (
            pl.col(ints).str.len_bytes() > _MAX_INT_DIGITS,
            pl.format("{}: too large: {}", pl.lit(column), shown),
        ),
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
    if maximum is None:
        checks.append((
            pl.col(micro) < minimum * MICRO,
            pl.format("{}: must be >= {}, got {}", pl.lit(column), pl.lit(minimum), shown),
        ))
    else:
        checks.append((
            (pl.col(micro) < minimum * MICRO) | (pl.col(micro) > maximum * MICRO),
            pl.format(
                "{}: must be between {} and {}, got {}",
                pl.lit(column), pl.lit(minimum), pl.lit(maximum), shown,
            ),
        ))
    reason = _tmp(column, "reason")
    plan.add(3, _first_reason(text.is_not_null(), checks).alias(reason))
    value = pl.col(micro) // MICRO if integer else pl.col(micro)
    return Parsed(
        pl.when(pl.col(reason).is_null()).then(value).otherwise(None), pl.col(reason)
    )


def _first_reason(present: pl.Expr, checks: list[tuple[pl.Expr, pl.Expr]]) -> pl.Expr:
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
    reason = _first_reason(
        text.is_not_null(),
        [(~text.is_in(list(allowed)), pl.format(
            "{}: {} is not one of {}", pl.lit(column), _quoted(text), pl.lit(", ".join(allowed))
        ))],
    )
    return Parsed(text, reason)


def parse_date(plan: Plan, column: str) -> Parsed:
    """An ISO calendar date ``YYYY-MM-DD`` to a Date."""
    text = pl.col(column)
    day = _tmp(column, "date")
    plan.add(
        0,
        pl.when(text.str.contains(r"^\d{4}-\d{2}-\d{2}$"))
        .then(text.str.to_date("%Y-%m-%d", strict=False))
        .alias(day),
    )
    reason = _first_reason(
        text.is_not_null(),
        [(pl.col(day).is_null(), pl.format(
            "{}: not an ISO date (YYYY-MM-DD): {}", pl.lit(column), _quoted(text)
        ))],
    )
    return Parsed(pl.col(day), reason)


_AT_RE = (
    r"^(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d{1,9}))?)?"
    r"(?P<z>[Zz]|(?P<osign>[+-])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?)?$"
)


def parse_instant(plan: Plan, column: str, timezone: str) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """``at`` text to (UTC epoch microseconds, local calendar date, reason)."""
    text = pl.col(column)
    g, naive, offset, has_offset, parts_ok, at_us, reason = (
        _tmp(column, w) for w in ("g", "naive", "offset", "hasoff", "ok", "us", "reason")
    )
    plan.add(0, text.str.extract_groups(_AT_RE).alias(g))

    def part(name: str) -> pl.Expr:
        return pl.col(g).struct.field(name).str.to_integer(strict=False).fill_null(0)

    date = pl.col(g).struct.field("date").str.to_date("%Y-%m-%d", strict=False)
    hour, minute, second = part("h"), part("m"), part("s")
    fraction = (
        pl.col(g).struct.field("f").fill_null("").str.slice(0, 6).str.pad_end(6, "0")
        .str.to_integer(strict=False)
    )
    offset_hours, offset_minutes = part("oh"), part("om")
    sign = pl.when(pl.col(g).struct.field("osign") == "-").then(-1).otherwise(1)
    plan.add(
        1,
        (
            date.cast(pl.Int64) * 86_400_000_000
            + hour * 3_600_000_000
            + minute * 60_000_000
            + second * MICRO
            + fraction
        ).alias(naive),
        ((offset_hours * 3_600_000_000 + offset_minutes * 60_000_000) * sign).alias(offset),
        pl.col(g).struct.field("z").is_not_null().alias(has_offset),
        (
            date.is_not_null()
            & (hour <= 23) & (minute <= 59) & (second <= 59)
            & (offset_hours <= 23) & (offset_minutes <= 59)
        ).fill_null(False).alias(parts_ok),
    )
    local_us = (
        pl.from_epoch(pl.col(naive), time_unit="us")
        .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
        .dt.timestamp("us")
    )
    plan.add(
        2,
        pl.when(~pl.col(parts_ok)).then(None)
        .when(pl.col(has_offset)).then(pl.col(naive) - pl.col(offset))
        .otherwise(local_us)
        .alias(at_us),
    )
    plan.add(3, _first_reason(
        text.is_not_null(),
        [
            (
                ~pl.col(parts_ok),
                pl.format(
                    "{}: not an ISO 8601 date or datetime: {}", pl.lit(column), _quoted(text)
                ),
            ),
            (
                pl.col(at_us).is_null(),
                pl.format("{}: {} does not exist in {}", pl.lit(column), _quoted(text),
                          pl.lit(timezone)),
            ),
        ],
    ).alias(reason))
    day = (
        pl.from_epoch(pl.col(at_us), time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(timezone)
        .dt.date()
    )
    return pl.col(at_us), day, pl.col(reason)


def missing_reason(columns: Sequence[str]) -> list[pl.Expr]:
    return [
        pl.when(pl.col(c).is_null()).then(pl.lit(f"missing {c}")).otherwise(None)
        for c in columns
    ]


def combine_reasons(reasons: Sequence[pl.Expr]) -> pl.Expr:
    joined = pl.concat_str(list(reasons), separator="; ", ignore_nulls=True)
    return pl.when(joined.str.len_bytes() > 0).then(joined).otherwise(None)


def location(source: pl.Expr, row: pl.Expr, many_sources: bool) -> pl.Expr:
    if many_sources:
        return pl.concat_str([source, pl.lit(":"), row.cast(pl.String)])
    return row.cast(pl.String)


def split_repeats(
    valid: pl.DataFrame,
    *,
    key: str,
    content: Sequence[str],
    many_sources: bool,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split valid rows into (used, duplicates, conflicts-with-reason) by ``key``.

    Only rows whose key repeats are examined, so the common case stays cheap.
    """
    # A hash of the key finds the candidates cheaply; the key itself decides among them.
    hashes = valid.get_column(key).hash()
    if hashes.n_unique() == valid.height:
        repeated = valid.clear()
    else:
        repeated = valid.filter(hashes.is_duplicated()).filter(pl.col(key).is_duplicated())
    if repeated.height == 0:
        empty = valid.clear().with_columns(pl.lit(None, pl.String).alias(_REASON))
        return valid, valid.clear(), empty
    variants = (
        repeated.select([key, *(c for c in content if c != key)]).unique()
        .group_by(key).agg(pl.len().alias("__cr_n"))
        .filter(pl.col("__cr_n") > 1)
        .select(key)
    )
    conflicting = repeated.join(variants, on=key, how="semi").sort(_KEY)
    settled = repeated.join(variants, on=key, how="anti").sort(_KEY)
    duplicates = settled.filter(~pl.col(key).is_first_distinct())
    locs = conflicting.group_by(key, maintain_order=True).agg(
        location(pl.col(_SRC), pl.col(_ROW), many_sources).alias("__cr_locs")
    ).select(
        key,
        pl.format(
            f"conflicting copies of {key} {{}} (rows {{}})",
            pl.col(key), pl.col("__cr_locs").list.join(", "),
        ).alias(_REASON),
    )
    conflicts = conflicting.drop(_REASON, strict=False).join(locs, on=key, how="left")
    dropped = pl.concat([conflicting.select(_KEY), duplicates.select(_KEY)])
    # Row order is not kept here: the caller sorts the used rows by a total order.
    used = valid.join(dropped, on=_KEY, how="anti")
    return used, duplicates, conflicts


def reject_frame(
    raw: pl.DataFrame, rejected: pl.DataFrame, key: str, columns: Sequence[str]
) -> pl.DataFrame:
    """Rejected rows as ``source, row, <key>, reason`` plus the raw text columns."""
    rows = rejected.select(_KEY, _REASON).join(raw, on=_KEY, how="left").sort(_KEY)
    rows = _textify(rows, "<rejects>", keep=(_KEY, _ROW))
    return rows.select(
        pl.col(_SRC).alias("source"),
        pl.col(_ROW).alias("row"),
        pl.col(key).alias(key) if key in rows.columns else pl.lit(None, pl.String).alias(key),
        pl.col(_REASON).alias("reason"),
        *[pl.col(c) for c in columns if c != key],
    )


# ------------------------------------------------------------------------ the table


_DECIMAL_COLUMNS = DECIMAL_EVENT_COLUMNS
_TEXT_COLUMNS = ("category", "format", "program")
FRAME_SCHEMA_HEAD = EVENT_FRAME


def _decimal_or_none(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-6)


@attrs.frozen
class EventTable:
    """Valid, de-duplicated events sorted by (``teacher_id``, ``at_us``, ``event_id``)."""

    frame: pl.DataFrame
    rejects: pl.DataFrame
    report: LoadReport
    attribute_columns: tuple[str, ...]
    timezone: str = DEFAULT_TIMEZONE

    def __len__(self) -> int:
        return self.frame.height

    def _records(self, frame: pl.DataFrame) -> list[Event]:
        zone = zoneinfo.ZoneInfo(self.timezone)
        epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        attrs_cols = self.attribute_columns
        out: list[Event] = []
        for r in frame.iter_rows(named=True):
            at = (epoch + dt.timedelta(microseconds=r["at_us"])).astimezone(zone)
            out.append(
                Event(
                    event_id=r["event_id"],
                    teacher_id=r["teacher_id"],
                    at=at,
                    day=r["day"],
                    instant_us=r["at_us"],
                    kind=r["kind"],
                    hours=_decimal_or_none(r["hours_u"]),
                    credits=_decimal_or_none(r["credits_u"]),
                    category=r["category"],
                    level=r["level"],
                    format=r["format"],
                    program=r["program"],
                    grade=r["grade"],
                    score=_decimal_or_none(r["score_u"]),
                    count=r["count"],
                    words=r["words"],
                    attributes={c: r[c] for c in attrs_cols if r[c] is not None},
                    row=r["row"],
                )
            )
        return out

    def events(self) -> list[Event]:
        """Every event as a :class:`credit_rules.records.Event`, in frame order."""
        return self._records(self.frame)

    def by_teacher(self) -> dict[str, list[Event]]:
        """Events per teacher, each list in time order (``at``, ties by ``event_id``)."""
        out: dict[str, list[Event]] = {}
        for event in self.events():
            out.setdefault(event.teacher_id, []).append(event)
        return out

    def teacher_ids(self) -> list[str]:
        return self.frame.get_column("teacher_id").unique().sort().to_list()


def _check_timezone(timezone: str) -> None:
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown timezone {timezone!r}; use an IANA name like Asia/Shanghai")\
            from None


#: The columns the validation parses (the others are text, only trimmed).
TYPED_EVENT_COLUMNS = ("at", "hours", "credits", "score", "count", "words")
_DAY_US = 86_400_000_000
_FAST_AT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
_FAST_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_FAST_DECIMAL = r"^[0-9]{1,12}(?:\.[0-9]{1,6})?$"
_FAST_INTEGER = r"^[0-9]{1,12}$"
_SLOW = "__cr_slow"
Timings = dict[str, float]


def _text_frame(frame: pl.DataFrame) -> pl.DataFrame:
    return _textify(frame, "<events>")


def _check_by_text(frame: pl.DataFrame, extras: Sequence[str], timezone: str) -> pl.DataFrame:
    """The definition of validation: every column parsed from its text, with reasons.

    ``frame`` holds text columns (plus the internal ones); returns one row per input row
    with the typed event columns and ``__cr_reason`` (null when the row is valid).
    """
    plan = Plan()
    parsed = {
        name: parse_decimal(plan, name, maximum=100 if name == "score" else None)
        for name in _DECIMAL_COLUMNS
    }
    count = parse_decimal(plan, "count", minimum=1, integer=True)
    words = parse_decimal(plan, "words", minimum=0, integer=True)
    grade = parse_choice("grade", GRADES)
    level = parse_choice("level", LEVELS)
    at_us, day, at_reason = parse_instant(plan, "at", timezone)

    reasons = [
        pl.col(_BAD),
        *missing_reason(REQUIRED_EVENT_COLUMNS),
        at_reason,
        *(p.reason for p in parsed.values()),
        grade.reason, level.reason, count.reason, words.reason,
    ]
    cleaned = frame.lazy().select(
        pl.col(_KEY), pl.col(_SRC), pl.col(_ROW), pl.col(_BAD),
        *[clean(c).alias(c) for c in [*EVENT_COLUMNS, *extras]],
    )
    return plan.apply(cleaned).select(
        pl.col(_KEY), pl.col(_SRC), pl.col(_ROW),
        pl.col("event_id"),
        pl.col("teacher_id"),
        at_us.alias("at_us"),
        day.alias("day"),
        pl.col("kind"),
        parsed["hours"].value.alias("hours_u"),
        parsed["credits"].value.alias("credits_u"),
        pl.col("category"),
        level.value.alias("level"),
        pl.col("format"),
        pl.col("program"),
        grade.value.alias("grade"),
        parsed["score"].value.alias("score_u"),
        count.value.fill_null(1).alias("count"),
        words.value.alias("words"),
        *[pl.col(c) for c in extras],
        combine_reasons(reasons).alias(_REASON),
    ).collect()


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
        return pl.when(col.dt.year().is_between(1, 9999)).then(col.cast(pl.Datetime("us")))
    return pl.lit(None, pl.Datetime("us"))  # the general path reads it as text


def _fast_aware(column: str, dtype: pl.DataType, timezone: str) -> tuple[pl.Expr, pl.Expr]:
    """(UTC epoch microseconds, local day) of a time-zone-aware Datetime column."""
    assert isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    utc = pl.col(column).cast(pl.Datetime("us", dtype.time_zone)).dt.convert_time_zone("UTC")
    instant = pl.when(utc.dt.year().is_between(1, 9999)).then(utc.dt.timestamp("us"))
    day = pl.when(instant.is_not_null()).then(utc.dt.convert_time_zone(timezone).dt.date())
    return instant, day


def _fast_micro(
    column: str, dtype: pl.DataType, *, maximum: int | None = None, integer: bool = False,
    minimum: int = 0,
) -> pl.Expr:
    """A decimal (micro-units) or an integer column's value where it is plainly valid, else
    null: plain digits for text, exactly representable values for numbers."""
    col = pl.col(column)
    scale = 1 if integer else MICRO
    value: pl.Expr
    if isinstance(dtype, pl.Decimal):
        col, dtype = col.cast(pl.String), pl.String()  # exact text, read like a text column
    if dtype == pl.String:
        if integer:
            value = pl.when(col.str.contains(_FAST_INTEGER)).then(
                col.str.to_integer(strict=False).cast(pl.Int64, strict=False))
        else:
            value = pl.when(col.str.contains(_FAST_DECIMAL)).then(
                col.str.to_decimal(scale=6).to_physical().cast(pl.Int64, strict=False))
    elif dtype.is_integer():
        limit = 10 ** _MAX_INT_DIGITS
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
    low, high = minimum * scale, (None if maximum is None else maximum * scale)
    ok = value >= low if high is None else value.is_between(low, high)
    return pl.when(ok).then(value)


def _clean_series(series: pl.Series) -> pl.Series:
    """:func:`clean` for one column, returning the column itself when nothing needs it."""
    if series.dtype != pl.String:
        series = _as_text(series, "<events>")
    frame = series.to_frame()
    text = pl.col(series.name)
    stripped = text.str.strip_chars()
    dirty = frame.select(
        ((stripped.str.len_bytes() != text.str.len_bytes()) | (text.str.len_bytes() == 0)).any()
    ).item()
    return frame.select(clean(series.name)).to_series() if dirty else series


def _fast_frame(frame: pl.DataFrame, extras: Sequence[str], timezone: str) -> pl.DataFrame:
    """The fast pass: the checked layout of :func:`_check_by_text` for the plainly valid rows,
    and ``__cr_slow`` marking every other row (those go through :func:`_check_by_text`).

    A row is plainly valid when every required value is present, ``at``, the decimals and
    integers have their common shapes, and grade and level are allowed values. The fast
    reading of such a row equals the general one (the tests check it on generated values);
    a row it cannot vouch for is left to the general path. Each column is computed on its
    own (a query over all the text columns at once would copy them).
    """
    schema = frame.schema
    columns: dict[str, pl.Series] = {c: frame.get_column(c) for c in (_KEY, _SRC, _ROW)}
    for column in ("event_id", "teacher_id", "kind", "category", "level", "format", "program",
                   "grade", *extras):
        columns[column] = _clean_series(frame.get_column(column))
    naive = _fast_naive("at", schema["at"])
    if naive is None:  # a time-zone-aware column is an instant already
        instant, day = _fast_aware("at", schema["at"], timezone)
        times = frame.select(instant.alias("at_us"), day.alias("day"))
    else:
        local = frame.select(naive.alias("naive"))
        instant = (
            pl.col("naive").dt.replace_time_zone(timezone, ambiguous="earliest",
                                                 non_existent="null").dt.timestamp("us")
        )
        times = local.select(instant.alias("at_us")).hstack(
            local.select(pl.col("naive").dt.date().alias("day"))
        ).with_columns(pl.when(pl.col("at_us").is_not_null()).then(pl.col("day")).alias("day"))
    columns["at_us"], columns["day"] = times.get_column("at_us"), times.get_column("day")
    numbers = {
        "hours_u": ("hours", {}), "credits_u": ("credits", {}),
        "score_u": ("score", {"maximum": 100}),
        "count": ("count", {"integer": True, "minimum": 1}),
        "words": ("words", {"integer": True}),
    }
    flags: list[pl.Series] = []
    for name, (source, options) in numbers.items():
        pair = frame.select(
            _fast_micro(source, schema[source], **options).alias(name),  # type: ignore[arg-type]
            pl.col(source).is_not_null().alias("present"),
        )
        value = pair.get_column(name)
        flags.append((value.is_null() & pair.get_column("present")).alias(f"bad_{name}"))
        columns[name] = value.fill_null(1) if name == "count" else value
    out = pl.DataFrame(list(columns.values()))
    slow = out.select(
        pl.any_horizontal(
            frame.get_column(_BAD).is_not_null(),
            *[pl.col(c).is_null() for c in ("event_id", "teacher_id", "kind", "at_us")],
            *[pl.lit(f) for f in flags],
            ~(pl.col("grade").is_null() | pl.col("grade").is_in(list(GRADES))),
            ~(pl.col("level").is_null() | pl.col("level").is_in(list(LEVELS))),
        ).alias(_SLOW)
    ).get_column(_SLOW)
    ordered = [_KEY, _SRC, _ROW, *FRAME_SCHEMA_HEAD, *extras]
    return out.select(ordered).hstack(
        [pl.repeat(None, out.height, dtype=pl.String, eager=True).alias(_REASON), slow]
    )


def _is_sorted(frame: pl.DataFrame, by: Sequence[str]) -> bool:
    """Whether ``frame`` is already in lexicographic order of ``by`` (no nulls in ``by``)."""
    if frame.height < 2:
        return True
    # Row i <= row i+1: compare column by column, the first difference decides.
    out_of_order: pl.Expr = pl.lit(False)
    tied: pl.Expr = pl.lit(True)
    for column in by:
        here, after = pl.col(column), pl.col(column).shift(-1)
        out_of_order = out_of_order | (tied & (here > after))
        tied = tied & (here == after)
    return not frame.select(out_of_order.fill_null(False).any()).item()


def validate_events(
    raw: RawInput, timezone: str, *, timings: Timings | None = None, fast: bool = True
) -> EventTable:
    """Vectorised validation of raw rows into an :class:`EventTable`.

    A fast pass reads the plainly valid rows (see :func:`_fast_frame`); the rest go
    through :func:`_check_by_text`, which gives every reason. Repeats of an ``event_id``
    are looked for among valid rows only, and only where a hash of ``event_id`` repeats.
    ``timings`` (if given) receives the seconds each stage took; ``fast=False`` sends every
    row through the general path (for tests: both must give the same table).
    """
    clock = _Clock(timings)
    frame = raw.frame
    for column in EVENT_COLUMNS:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    extras = tuple(sorted(c for c in raw.columns if c not in EVENT_COLUMNS))
    many = len(raw.source_names) > 1
    # Columns that are not read directly (e.g. a typed extra column) are text from here.
    frame = frame.with_columns([
        _as_text(frame[c], "<events>").alias(c) for c in frame.columns
        if frame[c].dtype != pl.String and not c.startswith(_INTERNAL_PREFIX)
        and not (c in TYPED_EVENT_COLUMNS and _fast_typed(frame[c].dtype))
    ])

    fast_frame = _fast_frame(frame, extras, timezone)
    if not fast:
        fast_frame = fast_frame.with_columns(pl.lit(True).alias(_SLOW))
    clock("fast pass")
    slow_keys = fast_frame.filter(pl.col(_SLOW)).get_column(_KEY)
    fast_rows = fast_frame
    fast_rows = (
        fast_rows.filter(~pl.col(_SLOW)).drop(_SLOW) if slow_keys.len() else fast_rows.drop(_SLOW)
    )
    if slow_keys.len():
        slow_rows = _text_frame(frame.filter(pl.col(_KEY).is_in(slow_keys.implode())))
        checked_slow = _check_by_text(slow_rows, extras, timezone)
        checked = pl.concat(
            [fast_rows, checked_slow.cast(fast_rows.schema)]
        )
        valid = checked.filter(pl.col(_REASON).is_null())
        invalid = checked.filter(pl.col(_REASON).is_not_null())
    else:
        valid, invalid = fast_rows, fast_rows.clear()
    clock("general pass")

    content = [*FRAME_SCHEMA_HEAD, *extras]
    used, duplicates, conflicts = split_repeats(
        valid, key="event_id", content=content, many_sources=many
    )
    clock("repeats")
    rejected = pl.concat(
        [invalid.select(_KEY, _REASON), conflicts.select(_KEY, _REASON)]
    )
    rejects = reject_frame(
        raw.frame if rejected.height else raw.frame.clear(), rejected, "event_id", raw.columns
    )
    clock("rejects")
    order = ["teacher_id", "at_us", "event_id"]
    if not _is_sorted(used, order):
        used = used.sort(order)
    clock("sort")
    out = (
        used.select(*content, pl.col(_SRC).alias("source"), pl.col(_ROW).alias("row"))
        .cast(FRAME_SCHEMA_HEAD)  # type: ignore[arg-type]
    )
    report = LoadReport(
        rows_read=frame.height,
        rows_used=out.height,
        duplicates=duplicates.height,
        rejected=rejects.height,
        label="events",
    )
    return EventTable(out, rejects, report, extras, timezone)


class _Clock:
    """Records the seconds since the previous stage into ``timings`` (if any)."""

    def __init__(self, timings: Timings | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


def load_events(sources: Any, *, timezone: str = DEFAULT_TIMEZONE) -> EventTable:
    """Load, validate and de-duplicate events (SPEC §2).

    ``sources`` is a path, a list of paths, ``"-"`` (JSON Lines on stdin), a
    ``polars.DataFrame`` or a ``pyarrow.Table``. A file that cannot be read at all raises
    :class:`~credit_rules.errors.InputError`; bad rows are returned in ``rejects``.
    """
    _check_timezone(timezone)
    raw = read_raw(
        sources, what="events", required=REQUIRED_EVENT_COLUMNS, typed=TYPED_EVENT_COLUMNS
    )
    return validate_events(raw, timezone)


def write_rejects(table: Any, path: str | os.PathLike[str]) -> None:
    """Write rejected rows (of an :class:`EventTable`, a roster, or a frame) atomically.

    CSV for ``.csv``, JSON Lines for ``.jsonl``/``.ndjson``/``.json``.
    """
    from credit_rules.io.ledger import atomic_output

    rejects: pl.DataFrame = table if isinstance(table, pl.DataFrame) else table.rejects
    suffix = Path(path).suffix.lower()
    writers: dict[str, Callable[[pl.DataFrame, Any], None]] = {
        ".csv": lambda f, h: f.write_csv(h),
        ".jsonl": lambda f, h: f.write_ndjson(h),
        ".ndjson": lambda f, h: f.write_ndjson(h),
        ".json": lambda f, h: f.write_ndjson(h),
    }
    writer = writers.get(suffix)
    if writer is None:
        raise UsageError(
            f"cannot tell the rejects format of {os.fspath(path)!r}; use .csv or .jsonl"
        )
    buffer = io.BytesIO()
    writer(rejects, buffer)
    with atomic_output(path, "wb") as handle:
        handle.write(buffer.getvalue())
