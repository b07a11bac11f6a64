"""Writing and reading ledgers (SPEC §5) in JSON, JSON Lines, CSV and Parquet.

Every file is written atomically: the bytes go to a temporary file in the target's
directory (``.NAME.XXXX.tmp``) which then replaces the target with :func:`os.replace`,
so a crash leaves either the old file or the new one, never half of one. The written
file keeps the replaced file's mode (a new one follows the umask), and a symbolic link
is written through to its target.

JSON, JSON Lines and CSV are text, rendered once from the ledger values
(:meth:`LedgerRow.to_json`, decimals by :func:`credit_rules.values.canonical`). In CSV the
nested keys (``by_category``, ``by_level``, ``requirements``, ``trace``, and any other key
whose value is an object or a list) hold compact JSON text (``{"ethics":"6"}``), booleans
are ``true``/``false`` and ``null`` is the empty field.

Parquet is typed (:data:`~credit_rules.schema.LEDGER_FRAME`), the same layout
``credit-rules recompute`` writes: dates as dates, amounts as ``decimal(38,12)``,
``by_category``/``by_level`` as lists of ``{key, value}`` (a map's layout),
``requirements`` and ``trace`` as lists of structs — queryable by DuckDB or Spark with
no JSON parsing. :func:`read_ledger` turns every format back into the dicts
:meth:`LedgerRow.to_json` gives.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from credit_rules.errors import InputError, UsageError
from credit_rules.schema import LEDGER_COLUMNS, NESTED_LEDGER_COLUMNS

LEDGER_FORMATS = ("json", "jsonl", "csv", "parquet")
#: Keys of :meth:`credit_rules.records.LedgerRow.to_json`, in order.
LEDGER_KEYS = LEDGER_COLUMNS
NESTED_KEYS = NESTED_LEDGER_COLUMNS
_BOOL_KEYS = ("excellent_eligible", "met")
_INT_KEYS = ("leave_days",)
_EXTENSIONS = {
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
}


def format_from_path(path: str | os.PathLike[str]) -> str:
    """The ledger format a file name asks for: ``json``, ``jsonl``, ``csv`` or ``parquet``."""
    suffix = Path(path).suffix.lower()
    try:
        return _EXTENSIONS[suffix]
    except KeyError:
        raise UsageError(
            f"cannot tell the output format of {os.fspath(path)!r} from its extension "
            f"{suffix or '(none)'!r}; use .json, .jsonl, .csv or .parquet, or pass --format"
        ) from None


def _new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0666 less the process umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def temporary_prefix(target: str | os.PathLike[str]) -> str:
    """The prefix of :func:`atomic_output`'s temporary files for ``target``
    (``.NAME.`` + random + ``.tmp``, in the target's folder)."""
    return f".{Path(target).name}."


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success it atomically replaces ``path``.

    On an exception (``KeyboardInterrupt`` included) the temporary file is removed and
    ``path`` is left untouched. A symbolic link is written through: its target is
    replaced and the link stays a link. The file keeps the mode of the file it replaces;
    a new file gets the mode ``open()`` would give it (0666 less the umask), not the
    0600 of a temporary file.
    """
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    directory = target.parent if str(target.parent) else Path(".")
    try:
        file_mode = os.stat(target).st_mode & 0o7777
    except FileNotFoundError:
        file_mode = _new_file_mode()
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(target), suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, file_mode)
        if "b" in mode:
            handle: IO[Any] = os.fdopen(fd, mode)
        else:
            handle = os.fdopen(fd, mode, encoding="utf-8", newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    columns = list(LEDGER_KEYS)
    seen = set(columns)
    for row in rows:
        for key in row:
            if key not in seen:
                seen.add(key)
                columns.append(key)
    return columns


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _flat_cell(value: Any) -> Any:
    """A ledger value as a flat cell: nested values become compact JSON text."""
    if isinstance(value, dict | list | tuple):
        return _compact(value)
    return value


def _csv_cell(value: Any) -> str:
    value = _flat_cell(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _render_text(rows: Sequence[dict[str, Any]], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(list(rows), ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return "".join(_compact(row) + "\n" for row in rows)
    if fmt == "csv":
        buffer = io.StringIO()
        columns = _columns(rows)
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_csv_cell(row.get(c)) for c in columns])
        return buffer.getvalue()
    raise UsageError(f"unknown ledger format {fmt!r}; use one of {', '.join(LEDGER_FORMATS)}")


def _parquet_table(rows: Sequence[dict[str, Any]]) -> Any:
    """The typed ledger; keys beyond SPEC §5 follow as text columns (nested ones as JSON)."""
    import pyarrow as pa

    from credit_rules.io.frames import rows_to_frame

    table = rows_to_frame(rows).to_arrow()
    for column in _columns(rows)[len(LEDGER_KEYS):]:
        values = [_flat_cell(row.get(column)) for row in rows]
        array = pa.array(values)
        if pa.types.is_null(array.type):
            array = array.cast(pa.string())
        table = table.append_column(column, array)
    return table


def write_ledger(
    rows: Sequence[dict[str, Any]],
    path_or_stream: str | os.PathLike[str] | IO[Any],
    fmt: str | None = None,
) -> None:
    """Write ledger rows (``LedgerRow.to_json()`` dicts) as ``json``, ``jsonl``, ``csv`` or ``parquet``.

    ``path_or_stream`` is a path (written atomically) or an open stream (``-`` means
    stdout). ``fmt`` defaults to the format the path's extension names.
    """
    if isinstance(path_or_stream, str) and path_or_stream == "-":
        path_or_stream = sys.stdout
    is_path = isinstance(path_or_stream, str | os.PathLike)
    if fmt is None:
        if not is_path:
            raise UsageError("writing a ledger to a stream needs an explicit format")
        fmt = format_from_path(path_or_stream)  # type: ignore[arg-type]
    fmt = fmt.lower()
    if fmt not in LEDGER_FORMATS:
        raise UsageError(f"unknown ledger format {fmt!r}; use one of {', '.join(LEDGER_FORMATS)}")
    if fmt == "parquet":
        import pyarrow.parquet as pq

        table = _parquet_table(rows)
        if is_path:
            with atomic_output(path_or_stream, "wb") as handle:  # type: ignore[arg-type]
                pq.write_table(table, handle)
        else:
            stream: Any = getattr(path_or_stream, "buffer", path_or_stream)
            pq.write_table(table, stream)
        return
    text = _render_text(rows, fmt)
    if is_path:
        with atomic_output(path_or_stream, "w") as handle:  # type: ignore[arg-type]
            handle.write(text)
    else:
        out: Any = path_or_stream
        if isinstance(out, io.TextIOBase) or hasattr(out, "encoding"):
            out.write(text)
        else:
            out.write(text.encode("utf-8"))
        if hasattr(out, "flush"):
            out.flush()


def _unflatten(record: dict[str, Any], *, from_csv: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if from_csv and value == "":
            value = None
        if value is None:
            out[key] = None
        elif key in NESTED_KEYS:
            out[key] = json.loads(value)
        elif key in _BOOL_KEYS and isinstance(value, str):
            out[key] = value == "true"
        elif key in _INT_KEYS and isinstance(value, str):
            out[key] = int(value)
        else:
            out[key] = value
    return out


def read_ledger(path: str | os.PathLike[str], fmt: str | None = None) -> list[dict[str, Any]]:
    """Read a ledger written by :func:`write_ledger` back into a list of dicts."""
    fmt = (fmt or format_from_path(path)).lower()
    try:
        if fmt == "parquet":
            return _read_parquet(path)
        with open(path, encoding="utf-8", newline="") as handle:
            if fmt == "json":
                data = json.load(handle)
                if not isinstance(data, list):
                    raise InputError(f"{os.fspath(path)}: a JSON ledger must be one array")
                return data
            if fmt == "jsonl":
                return [json.loads(line) for line in handle if line.strip()]
            if fmt == "csv":
                return [_unflatten(dict(r), from_csv=True) for r in csv.DictReader(handle)]
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read ledger {os.fspath(path)!r}: {exc}") from exc
    raise UsageError(f"unknown ledger format {fmt!r}; use one of {', '.join(LEDGER_FORMATS)}")


def _read_parquet(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    import polars as pl

    from credit_rules.io.frames import rows_from_frame

    frame = pl.read_parquet(os.fspath(path))
    extra = [c for c in frame.columns if c not in LEDGER_KEYS]
    rows = [row.to_json() for row in rows_from_frame(frame)]
    if extra:
        for row, more in zip(rows, frame.select(extra).iter_rows(named=True), strict=True):
            row.update(_unflatten(more, from_csv=False))
    return rows
