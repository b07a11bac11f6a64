"""The output folder of a run: its lock, the stale temporaries a killed run left there, and
which files of an events folder are inputs rather than hidden files, metadata or our outputs.

A run into ``out_dir`` holds ``<out_dir>/.recompute.lock`` (``flock``: a second run into
the same folder is refused), removes the temporaries a killed run left for the files it
writes (``.<file>.XXXXXXXX.tmp``, ``.recompute.XXXXXXXX.spill.tmp/``), and never reads
its own outputs, hidden files (``.x``, ``._x.parquet``) or metadata files (``_SUCCESS``,
``_metadata``) of an events folder as events.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from credit_rules.errors import InputError, UsageError
from credit_rules.io import sources
from credit_rules.io.ledger import temporary_prefix
from credit_rules.recompute.provenance import MANIFEST_NAME, PROVENANCE_KEY

#: Held (``flock``) by the run writing into ``out_dir``.
LOCK_NAME = ".recompute.lock"


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold ``out/.recompute.lock`` (``flock``) for the run; refuse when another run does."""
    path = out / LOCK_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"{out}: another credit-rules recompute is writing into this folder (it holds "
                f"{path}); wait for it to finish or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)  # releases the lock


#: The batches' spill folder inside the output folder: ``.recompute.XXXX.spill.tmp``.
SPILL_PREFIX, SPILL_SUFFIX = ".recompute.", ".spill.tmp"

def remove_stale_temporaries(out: Path, names: Collection[str]) -> list[Path]:
    """Remove what a killed run left in ``out``: the temporaries of the files ``names``
    (``.NAME.XXXXXXXX.tmp``) and spill folders. Call with the folder's lock held."""
    patterns = [re.compile(re.escape(temporary_prefix(name)) + r"[A-Za-z0-9_]+\.tmp")
                for name in names]
    spill = re.compile(re.escape(SPILL_PREFIX) + r"[A-Za-z0-9_]+" + re.escape(SPILL_SUFFIX))
    removed: list[Path] = []
    for entry in out.iterdir():
        if entry.is_dir() and not entry.is_symlink() and spill.fullmatch(entry.name):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
        elif entry.is_file() and any(p.fullmatch(entry.name) for p in patterns):
            with contextlib.suppress(FileNotFoundError):
                entry.unlink()
            removed.append(entry)
    return removed


def is_data_file(path: Path) -> bool:
    """A file of an events folder to read: a known extension, neither hidden (``.x``,
    ``._x.parquet``) nor metadata (``_SUCCESS``, ``_metadata``, ``_common_metadata``)."""
    return (sources.format_of(path) is not None and not path.name.startswith((".", "_"))
            and path.is_file())


def _is_ledger(path: Path) -> bool:
    if sources.format_of(path) != "parquet":
        return False
    try:
        metadata = pq.ParquetFile(path).metadata.metadata or {}
    except (OSError, pa.ArrowException):
        return False
    return PROVENANCE_KEY.encode() in metadata


def path_items(events: Any) -> list[Any] | None:
    """``events`` as a list of paths (a path, or a list or tuple of them), or None when it
    is something else (a frame, a table)."""
    if isinstance(events, str | os.PathLike):
        return [events]
    if isinstance(events, list | tuple) and events and all(isinstance(e, str | os.PathLike) for e in events):
        return list(events)
    return None


def event_inputs(events: Any, out: Path | None, outputs: Collection[str]) -> Any:
    """``events`` with each folder replaced by its data files: no hidden or metadata file,
    and, in the output folder, none of the run's outputs (its ledgers, ``manifest.json``,
    any ledger a credit-rules run wrote)."""
    items = path_items(events)
    if items is None:
        return events
    expanded: list[Any] = []
    for item in items:
        if str(item) == "-" or not Path(item).is_dir():
            expanded.append(item)
            continue
        folder = Path(item)
        mine = out is not None and folder.resolve() == out.resolve()
        files = [
            path for path in sorted(folder.iterdir())
            if is_data_file(path) and not (mine and (
                path.name in outputs or path.name == MANIFEST_NAME or _is_ledger(path)))
        ]
        if not files:
            raise InputError(
                f"{item}: the folder holds no events files (.jsonl, .csv, .parquet, .arrow; "
                "hidden files, metadata files and this run's outputs are skipped)")
        expanded.extend(files)
    return expanded
