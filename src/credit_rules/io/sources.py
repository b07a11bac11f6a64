"""Reading sources into text columns: formats by extension, folders, JSON Lines, Arrow.

Every source (a file, ``-`` for JSON Lines on stdin, a ``polars.DataFrame`` or a
``pyarrow.Table``) is read with every column as text: typed Parquet/Arrow columns are cast
to text canonically (floats as their shortest repr, dates as ISO 8601, lists joined with
``;``) and JSON numbers keep the text the author wrote. JSON Lines and CSV are read by
Polars' native readers (:mod:`credit_rules.io.text_formats`, which proves each JSON line's
reading exact or gives it to the Python JSON parser). Nothing is validated here, except
what makes a file unreadable as a table:

- a column name starting with ``__cr_`` (internal), or appearing twice (``hours,hours``
  in a CSV header), is refused with :class:`~credit_rules.errors.InputError` in every
  format;
- text files (CSV, JSON Lines) are UTF-8; a UTF-16 or UTF-32 file with a byte-order mark
  is decoded and read, one without a mark is refused naming the likely encoding; CSV line
  endings may be ``\n``, ``\r\n`` or ``\r`` alone (old Mac exports);
- a typed date or datetime beyond the years 2..9998 (a Parquet ``date32`` of year
  -200000, which Polars cannot even print) becomes the text ``out of range: <n> days from
  1970-01-01``, which validation rejects as outside the supported years;
- in a folder, hidden and metadata files (names starting with ``.`` or ``_``:
  ``._x.parquet``, ``_metadata.json``, ``_SUCCESS``) are skipped.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeAlias

import attrs
import polars as pl

from credit_rules.errors import InputError, UsageError
from credit_rules.io.columns import BAD, INTERNAL_PREFIX, KEY, RESERVED_COLUMNS, ROW, SOURCE
from credit_rules.io.text_formats import check_names, read_csv, read_json_lines

SourceLike: TypeAlias = "str | os.PathLike[str] | pl.DataFrame | Any"
Sources: TypeAlias = "SourceLike | Sequence[SourceLike]"

#: File formats by extension (lower case).
FORMATS = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
    ".arrow": "ipc", ".feather": "ipc", ".ipc": "ipc",
}
_EXTENSION_HINT = ".jsonl/.ndjson/.json, .csv, .parquet/.pq or .arrow/.feather/.ipc"


def format_of(path: str | os.PathLike[str]) -> str | None:
    """The format (``jsonl``, ``csv``, ``parquet``, ``ipc``) a file's extension names, or None."""
    return FORMATS.get(Path(path).suffix.lower())


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
        return expand_folder(sources)
    if isinstance(sources, list | tuple) and sources and all(isinstance(r, Mapping) for r in sources):
        return [frame_from_records(sources)]
    if isinstance(sources, Iterable):
        out = [item for source in sources for item in expand_folder(source)]
        if not out:
            raise UsageError("no input files given")
        return out
    raise UsageError(f"cannot read events from {type(sources).__name__}")


def is_data_file(path: Path) -> bool:
    """A file a folder input stands for: a known extension, and not hidden or metadata
    (a name starting with ``.`` or ``_``: ``._x.parquet``, ``.x.csv``, ``_metadata.json``)."""
    return (
        not path.name.startswith((".", "_")) and format_of(path) is not None and path.is_file()
    )


def expand_folder(source: Any) -> list[Any]:
    """A folder stands for the data files in it (e.g. the part files of a partitioned dataset);
    hidden and metadata files are skipped (:func:`is_data_file`)."""
    if isinstance(source, str | os.PathLike) and str(source) != "-" and Path(source).is_dir():
        files = sorted(p for p in Path(source).iterdir() if is_data_file(p))
        if not files:
            raise InputError(f"{source}: the folder holds no {_EXTENSION_HINT} files")
        return files
    return [source]


def _is_arrow_table(obj: Any) -> bool:
    module = type(obj).__module__ or ""
    return module.startswith("pyarrow") and type(obj).__name__ in ("Table", "RecordBatch")


def record_cell(value: Any) -> str | None:
    """A Python value of a record as the text the loader reads: exact (a Decimal as its
    digits, a float as its shortest repr, as a JSON number is read), dates in ISO 8601,
    a list of roles joined with ``;``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.date):  # a datetime too
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, str) for v in value):
        return ";".join(sorted(value) if isinstance(value, set | frozenset) else value)
    raise UsageError(f"cannot read a {type(value).__name__} value in a record: {value!r}")


def frame_from_records(records: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Records (a list of dicts, as a training system holds them) as a frame of text
    columns, read then like any other source."""
    columns = list(dict.fromkeys(key for record in records for key in record))
    return pl.DataFrame({c: [record_cell(r.get(c)) for r in records] for c in columns},
                        schema=dict.fromkeys(columns, pl.String))


#: How :func:`as_text` writes a date or datetime beyond the years 2..9998.
OUT_OF_RANGE = "out of range: "
_EPOCH_DAY = dt.date(1970, 1, 1)
_FIRST_DAY = (dt.date(2, 1, 1) - _EPOCH_DAY).days
_LAST_DAY = (dt.date(9998, 12, 31) - _EPOCH_DAY).days
_PER_DAY = {"ms": 86_400_000, "us": 86_400_000_000}


def _representable(series: pl.Series) -> pl.Series | None:
    """For a Date or Datetime column holding a value beyond the years 2..9998 (which
    Polars cannot print, and Python cannot hold): which values are within; else None."""
    dtype = series.dtype
    if dtype == pl.Date:
        low, high = _FIRST_DAY, _LAST_DAY
    elif isinstance(dtype, pl.Datetime) and dtype.time_unit != "ns":  # ns: 1677..2262
        per_day = _PER_DAY[dtype.time_unit or "us"]
        low, high = _FIRST_DAY * per_day, (_LAST_DAY + 1) * per_day - 1
    else:
        return None
    physical = series.to_physical().cast(pl.Int64)
    within = physical.is_between(low, high) | physical.is_null()
    return None if within.all() else within


def tame_temporal(series: pl.Series, *, date_only: bool = False) -> pl.Series:
    """``series`` itself, or, when it is a date or datetime column with a value beyond the
    years 2..9998, its text with such values as ``out of range: <n> <unit> from 1970-01-01``
    (the others as :func:`as_text` writes them; their date only, when ``date_only``)."""
    within = _representable(series)
    if within is None:
        return series
    dtype = series.dtype
    unit = "days" if dtype == pl.Date else f"{dtype.time_unit}"  # type: ignore[attr-defined]
    physical = series.to_physical()
    nulls = pl.repeat(None, len(series), dtype=physical.dtype, eager=True)
    masked = physical.zip_with(within, nulls).cast(dtype)
    if date_only and isinstance(dtype, pl.Datetime):
        masked = masked.dt.date()
    text = as_text(masked, series.name)
    marker = pl.select(pl.format(f"{OUT_OF_RANGE}{{}} {unit} from 1970-01-01",
                                 pl.lit(physical))).to_series()
    return text.zip_with(within, marker).alias(series.name)


def as_text(series: pl.Series, name: str) -> pl.Series:
    """A column of any type as text, canonically (see the module docstring)."""
    dtype = series.dtype
    if dtype == pl.String:
        return series
    if _representable(series) is not None:
        return tame_temporal(series)
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


def reads_directly(dtype: pl.DataType) -> bool:
    """Types the validation reads directly (without text) in the columns it parses."""
    return (
        dtype.is_integer() or dtype.is_float() or isinstance(dtype, pl.Decimal | pl.Datetime)
        or dtype == pl.Date
    )


def textify(frame: pl.DataFrame, name: str, keep: Collection[str] = ()) -> pl.DataFrame:
    """Every column as text, except the ``keep`` columns of a type read directly (a date
    column beyond the years 2..9998 becomes text: :func:`tame_temporal`)."""
    frame = frame.with_columns(
        [tame_temporal(frame[c]) for c in keep if c in frame.columns
         and _representable(frame[c]) is not None]
    )
    return frame.with_columns(
        [
            as_text(frame[c], name).alias(c)
            for c in frame.columns
            if frame[c].dtype != pl.String and not (c in keep and reads_directly(frame[c].dtype))
        ]
    )


def as_dates(frame: pl.DataFrame, columns: Collection[str]) -> pl.DataFrame:
    """The datetime ``columns`` as their calendar date (a time-zone-aware one: the date in
    its own zone), for the roster's ``hired_on``/``retired_on`` stored as timestamps."""
    out = []
    for column in columns:
        if column in frame.columns and isinstance(frame.schema[column], pl.Datetime):
            series = tame_temporal(frame[column], date_only=True)
            if series.dtype != pl.String:
                series = series.dt.date()
            out.append(series.alias(column))
    return frame.with_columns(out) if out else frame


def _read_one(
    source: Any, what: str, allow_stdin: bool, keep: Collection[str] = (),
    dates: Collection[str] = (),
) -> tuple[str, pl.DataFrame]:
    """One source as (name, frame of text columns + ``__cr_row`` + ``__cr_bad``); the
    ``keep`` columns stay typed when their type is read directly (see :func:`reads_directly`),
    the ``dates`` columns are read as dates when they hold datetimes (:func:`as_dates`)."""
    name, frame, numbered = _read_table(source, what, allow_stdin)
    if numbered:  # JSON Lines: text, numbered and checked already
        return name, frame
    return name, _number(textify(as_dates(frame, dates), name, (*keep, ROW)), name)


def _read_table(source: Any, what: str, allow_stdin: bool) -> tuple[str, pl.DataFrame, bool]:
    """One source as (name, frame as read, whether it is JSON Lines: numbered already)."""
    if isinstance(source, pl.DataFrame):
        return "<dataframe>", source, False
    if _is_arrow_table(source):
        name = "<arrow>"
        try:
            converted = pl.from_arrow(source)
        except Exception as exc:
            raise InputError(f"{name}: cannot convert the Arrow table ({exc})") from None
        assert isinstance(converted, pl.DataFrame)
        return name, converted, False
    if not isinstance(source, str | os.PathLike):
        raise UsageError(f"cannot read {what} from a {type(source).__name__}")
    name = os.fspath(source)
    if name == "-":
        if not allow_stdin:
            raise UsageError(f"{what} cannot be read from stdin; give a file")
        stdin = getattr(sys.stdin, "buffer", None)
        data = stdin.read() if stdin is not None else sys.stdin.read().encode("utf-8")
        return "<stdin>", read_json_lines(data, "<stdin>", what), True
    fmt = format_of(name)
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
            return name, read_json_lines(path.read_bytes(), name, what), True
        if fmt == "csv":
            frame = read_csv(path, name, what)
        elif fmt == "parquet":
            frame = _numbered_scan(pl.scan_parquet(path), name)
        else:
            frame = _numbered_scan(pl.scan_ipc(path), name)
    except InputError:
        raise
    except (OSError, UnicodeDecodeError, ValueError, pl.exceptions.PolarsError) as exc:
        kind = {"jsonl": "JSON Lines", "csv": "CSV", "parquet": "Parquet", "ipc": "Arrow IPC"}
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"{name}: cannot read this {what} file as {kind[fmt]} ({message});"
            f" check that it is a valid {kind[fmt]} file in UTF-8"
        ) from None
    return name, frame, False


def _numbered_scan(scan: pl.LazyFrame, name: str) -> pl.DataFrame:
    """A file read with its row numbers (``__cr_row``) numbered by the scan itself: the
    numbers come in the same chunks as the columns (one per row group), so no later query
    has to rechunk the frame to line them up (a copy of every column)."""
    check_names(scan.collect_schema().names(), name)
    return scan.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64)).collect()


def _number(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    check_names([c for c in frame.columns if c != ROW], name)
    return with_internal_columns(frame, {ROW: 1, BAD: None} if ROW not in frame.columns else {BAD: None})


def with_internal_columns(frame: pl.DataFrame, columns: Mapping[str, int | str | None]) -> pl.DataFrame:
    """``frame`` with row numbers (an int value: the first number) and constants (a text or
    None) added at the end, without copying its columns. Row numbers come from
    ``with_row_index``: a Series hstacked onto a frame read in chunks (Parquet row groups),
    or an ``int_range`` column, makes the next query rechunk every column (a copy of the
    whole frame: 1-2 s for 10M events); a row index does not."""
    names = [*frame.columns, *columns]
    for name, value in columns.items():
        if isinstance(value, int):
            frame = frame.with_row_index(name, offset=value).with_columns(pl.col(name).cast(pl.Int64))
        else:
            frame = frame.with_columns(pl.lit(value, pl.String).alias(name))
    return frame.select(names)


def _clean_names(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    renames = {}
    seen: set[str] = set()
    for column in frame.columns:
        if column in (ROW, BAD):
            continue
        clean = column.strip().lstrip("\ufeff").strip()
        if column.startswith(INTERNAL_PREFIX):
            raise InputError(f"{name}: column name {column!r} is reserved; rename the column")
        if not clean:
            raise InputError(f"{name}: a column has an empty name (a JSON key \"\" or an empty CSV "
                             "header field, e.g. a trailing comma); name the column or remove it")
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
    dates: Collection[str] = (),
) -> RawInput:
    """Read every source with every column as text (no validation).

    The ``typed`` columns keep a numeric, date or datetime type when every source has the
    same one (the validation reads those exactly without going through text); the
    ``dates`` columns holding datetimes are read as their dates (:func:`as_dates`)."""
    named = []
    for source in _source_list(sources):
        name, frame = _read_one(source, what, allow_stdin, typed, dates)
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
        user_columns = [c for c in frame.columns if c not in (ROW, BAD)]
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
        frames.append(with_internal_columns(frame, {SOURCE: name}))
        names.append(name)
    ordered = [*required, *(c for c in columns if c not in required)]
    frames = _common_types(frames, names)
    dtypes = {c: f.schema[c] for f in frames for c in f.columns}

    def aligned(f: pl.DataFrame) -> pl.DataFrame:
        missing = [pl.lit(None, dtypes.get(c, pl.String)).alias(c) for c in ordered if c not in f.columns]
        return f.with_columns(missing).select([*ordered, SOURCE, ROW, BAD])

    # The key of a row: its number, shifted past the previous sources' numbers (an
    # expression of the row numbers keeps their chunks: see _numbered_scan).
    keyed, offset = [], 0
    for f in frames:
        keyed.append(aligned(f).with_columns((pl.col(ROW) + offset).alias(KEY)))
        offset += int(f.get_column(ROW).max() or 0) + 1  # type: ignore[arg-type]
    combined = pl.concat(keyed, how="vertical") if keyed else with_internal_columns(pl.DataFrame(), {KEY: 0})
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
        f.with_columns([as_text(f[c], n).alias(c) for c in f.columns if c in mixed])
        for f, n in zip(frames, names, strict=True)
    ]


def _is_json_source(source: Any) -> bool:
    if isinstance(source, str | os.PathLike):
        name = os.fspath(source)
        return name == "-" or format_of(name) == "jsonl"
    return False

