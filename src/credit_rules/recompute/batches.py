"""The larger-than-memory path: Parquet events validated in batches of teachers.

Parquet files (or folders of them) are scanned lazily and processed in batches of teachers
(``batch_rows`` events at most, from the row counts per teacher):

1. ``scan``: one streaming pass over ``teacher_id`` and a hash of the trimmed
   ``event_id`` finds the events per teacher (to cut batches) and, sorting the hashes an
   eighth of their range at a time, the rows whose hash repeats, by row number;
2. ``repeats``: those rows (a repeat may belong to another teacher: SPEC §2 makes every
   differing copy a conflict, wherever it lies) and the rows whose ``teacher_id`` is
   missing or needs trimming are read and validated together, then wait on disk, sorted
   by teacher, for their batches;
3. ``split``: one streaming pass over every file writes each row (with its row number)
   to the spill files of its batch (Polars' partitioned sink, Arrow IPC with LZ4, in a
   temporary folder ``.recompute.*.spill.tmp`` beside the ledgers), so no batch reads the
   inputs again. Skipped when the files are laid out by teacher (an export by region or
   school): when the ``teacher_id`` statistics of the row groups show that the batches,
   reading the files again, would read at most twice the rows, each batch reads its own
   row groups instead (writing and reading a spill costs more than reading the Parquet
   twice);
4. ``batch i/n``: the rows of a range of teacher ids are read from the spill (or the
   files), validated,
   joined with the used rows of step 2 in that range, and every policy runs over them;
   each ledger is appended to its temporary Parquet file.

Memory is bounded by a batch and the hashes of step 1 (8 bytes per event). A policy with
ranks (teachers compared across the province) keeps each batch's per-teacher results and
ranks once at the end, so its memory grows with teachers x periods (not with events).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from credit_rules import core
from credit_rules.api import with_named_teachers
from credit_rules.errors import InputError
from credit_rules.io import EventTable, LoadReport, columns, parse, repeats, sources
from credit_rules.io import events as ev
from credit_rules.io.events import teachers_with_events
from credit_rules.recompute.folder import path_items
from credit_rules.schema import REQUIRED_EVENT_COLUMNS

#: ``progress(stage, done, total)``: rows for ``scan`` and ``validate``, batches for
#: ``policy NAME``.
Progress = Callable[[str, int, int], None]
#: Default most events validated and evaluated in one pass: 12M, so that a province of
#: 10M events (100,000 teachers) is read in one pass, the fastest (3.5 GiB at peak for
#: five_year_cycle on 10.1M events).
BATCH_ROWS = 12_000_000
#: Default batch of a larger input: 3M events, so that memory stays bounded whatever the
#: province (five_year_cycle on 101M events: 2.43 GiB at peak end to end in batches of
#: 3M; 2.56 GiB in batches of 4M for 5 % less CPU, without the command line's own memory);
#: once an input is batched at all, smaller batches cost little more per event.
LARGE_INPUT_BATCH_ROWS = 3_000_000
#: Rows streamed by one sink while splitting the events into batches (whole row groups).
_SPLIT_ROWS = 2_000_000
#: Batches read the inputs again instead of a spill when that reads at most this many
#: times the rows (by the row groups' statistics, :func:`_rescan_pays`).
_RESCAN_FACTOR = 2
#: Row groups of the validated special rows on disk (read back by teacher range).
_SPECIAL_GROUP = 16_384
#: The spill's partition column: the batch of a row, or :data:`_SPECIAL`.
_BATCH = "__cr_batch"
#: The batch of the rows validated together before the others (module docstring, step 2).
_SPECIAL = -1


def batch_sizes(batch_rows: int | None) -> tuple[int, int]:
    """(most events read in one pass, events per batch beyond that): ``--batch-rows`` for
    both when given, else :data:`BATCH_ROWS` and :data:`LARGE_INPUT_BATCH_ROWS`."""
    if batch_rows is not None:
        return batch_rows, batch_rows
    return BATCH_ROWS, LARGE_INPUT_BATCH_ROWS


def _parquet_files(events: Any) -> list[Path] | None:
    """The Parquet files ``events`` names (a path, a folder, a list), or None."""
    items = path_items(events)
    if items is None:
        return None
    files: list[Path] = []
    for item in items:
        if str(item) == "-":
            return None
        for path in sources.expand_folder(item):
            if not isinstance(path, str | os.PathLike) or \
                    sources.format_of(path) != "parquet":
                return None
            files.append(Path(path))
    return files


def batched_source(events: Any, batch_rows: int) -> list[Path] | None:
    files = _parquet_files(events)
    if files is None:
        return None
    rows = 0
    for path in files:
        if not path.is_file():
            raise InputError(f"{path}: no such events file; check the path")
        try:
            rows += pq.ParquetFile(path).metadata.num_rows
        except (OSError, pa.ArrowException):
            return None  # not readable as Parquet: the eager loader says why
    return files if rows > batch_rows else None


class Batcher:
    """Validated events of Parquet files, in batches of teacher-id ranges (module docstring)."""

    def __init__(self, files: list[Path], timezone: str, batch_rows: int, report: Progress,
                 spill: Path, inputs: core.Inputs | None = None):
        self.files = files
        self.inputs = inputs  # issue 9 (C): the policies' input contract
        self.timezone = timezone
        self.report = report
        self.spill = spill
        self.batch_rows = batch_rows
        self.names = [os.fspath(p) for p in files]
        self.many = len(files) > 1
        try:
            self.schemas = [pl.read_parquet_schema(p) for p in files]
        except Exception as exc:  # a file that is not Parquet
            raise InputError(f"cannot read the events as Parquet ({exc})") from None
        self.columns = list(dict.fromkeys(c for s in self.schemas for c in s))
        report("scan", 0, 1)
        rows, self.special_rows = self._scan()
        self.rows_read = int(rows.get_column("len").sum()) if rows.height else 0
        report("scan", self.rows_read, self.rows_read)
        self.bounds = _bounds(rows, batch_rows)
        self.count = len(self.bounds) + 1
        #: Each batch reads its rows from the inputs again (no spill) when the row groups
        #: it needs are few (module docstring, step 3).
        self.rescan = _rescan_pays(files, [None, *self.bounds, None], self.rows_read)
        self.rejects: list[pl.DataFrame] = []
        self.used = self.duplicates = self.rejected = 0
        self.done_rows = 0

    @staticmethod
    def _id_hash() -> pl.Expr:
        """A hash of the trimmed ``event_id`` text, whatever its Parquet type (an integer
        or dictionary id reads as text, as the loader reads it)."""
        return parse.clean(pl.col("event_id").cast(pl.String)).hash(17)

    @staticmethod
    def _odd_teacher() -> pl.Expr:
        """Rows whose teacher is not simply the raw ``teacher_id`` (missing, or to trim)."""
        tid = pl.col("teacher_id").cast(pl.String)
        return tid.is_null() | parse.needs_cleaning(tid)

    def _scan(self) -> tuple[pl.DataFrame, list[pl.Series]]:
        for name, schema in zip(self.names, self.schemas, strict=True):
            missing = [c for c in REQUIRED_EVENT_COLUMNS if c not in schema]
            if missing:
                raise InputError(f"{name}: required column(s) {', '.join(missing)} missing "
                                 f"(found: {', '.join(schema)})")
        scans = [pl.scan_parquet(p).select(
            pl.col("teacher_id").cast(pl.String), self._id_hash().alias("h"),
            self._odd_teacher().alias("odd")) for p in self.files]
        per_teacher = pl.concat([s.select("teacher_id") for s in scans]).group_by("teacher_id") \
            .agg(pl.len()).sort("teacher_id", nulls_last=True)
        # The hashes are sorted, not grouped: a hash table of every row's id took 6.6 GiB
        # on 101M events. Without common-subplan elimination each query reads its own
        # columns (shared, the scan would be cached whole).
        rows, *hashes = pl.collect_all([per_teacher, *(s.select("h", "odd") for s in scans)],
                                       engine="streaming",
                                       optimizations=pl.QueryOptFlags(comm_subplan_elim=False))
        twice = pl.Series("h", repeats.repeated_hashes([h.get_column("h").to_numpy() for h in hashes]),
                          dtype=pl.UInt64).implode()
        # Each file's special rows by number: later passes select them without hashing.
        special = [
            h.select((pl.col("h").is_in(twice) | pl.col("odd")).arg_true().cast(pl.Int64) + 1)
            .to_series() for h in hashes
        ]
        return rows, special

    def _special(self, index: int) -> pl.Expr:
        """The rows of file ``index`` validated together before the batches (module
        docstring, step 2), by their row number (:data:`~credit_rules.io.columns.ROW`)."""
        return pl.col(columns.ROW).cast(pl.Int64).is_in(self.special_rows[index].implode())

    def _range(self, batch: int) -> tuple[str | None, str | None]:
        """The teacher ids of ``batch``: from ``low`` (inclusive) to ``high`` (exclusive)."""
        edges: list[str | None] = [None, *self.bounds, None]
        return edges[batch], edges[batch + 1]

    def _split(self) -> None:
        """One streaming pass over every file: each row, numbered within its file, goes to
        the spill files of its batch, or of batch ``-1`` (repeated ``event_id`` hashes, odd
        teachers). Polars' partitioned sink writes them (``PartitionBy``, in row order
        within each partition); a file is cut into slices of whole row groups, each its
        own sink, so the progress bar moves and no slice is held whole in memory."""
        if self.rescan:
            return
        bounds = pl.Series("bounds", self.bounds, dtype=pl.String)
        batch = (pl.lit(bounds).search_sorted(pl.col("teacher_id").cast(pl.String), side="right")
                 .cast(pl.Int64) if len(bounds) else pl.lit(0, pl.Int64))
        done = 0
        self.report("split", 0, self.rows_read)
        for index, path in enumerate(self.files):
            for start, length in _row_group_chunks(path, min(self.batch_rows, _SPLIT_ROWS)):
                scan = pl.scan_parquet(path, row_index_name=columns.ROW, row_index_offset=1)
                (scan.slice(start, length)
                 .with_columns(pl.col(columns.ROW).cast(pl.Int64),
                               pl.when(self._special(index)).then(_SPECIAL).otherwise(batch)
                               .alias(_BATCH))
                 .sink_ipc(pl.PartitionBy(self.spill / f"{index:06d}-{start:012d}", key=_BATCH,
                                          include_key=False),
                           compression="lz4", mkdir=True))
                done += length
                self.report("split", done, self.rows_read)

    def _raw(self, batch: int) -> sources.RawInput:
        named = []
        read = []
        for index, name in enumerate(self.names):
            if self.rescan:
                frame = self._reread(index, batch)
            else:
                # Zero-padded slice starts, then the sink's numbered files: sorted is row order.
                parts = sorted(self.spill.glob(f"{index:06d}-*/{_BATCH}={batch}/*.ipc"))
                if parts:
                    frame = pl.concat([pl.read_ipc(p) for p in parts])
                else:
                    frame = pl.DataFrame(schema={**self.schemas[index], columns.ROW: pl.Int64})
                read += parts
            frame = sources.textify(frame, name, keep=(*ev.TYPED_EVENT_COLUMNS, columns.ROW))
            frame = frame.with_columns(pl.lit(None, pl.String).alias(columns.BAD))
            named.append((name, frame, False))
        for part in read:  # each batch is read once
            part.unlink()
        raw = sources.combine_raw(named, required=REQUIRED_EVENT_COLUMNS)
        # Same columns in every batch (a batch may lack a column some file has).
        return sources.RawInput(raw.frame, tuple(dict.fromkeys([*raw.columns, *self.columns])),
                                tuple(self.names))

    def _reread(self, index: int, batch: int) -> pl.DataFrame:
        """The rows of ``batch`` in file ``index``, read from it again, in row order: the
        reader skips the row groups whose ``teacher_id`` statistics lie outside the range."""
        wanted = self._special(index)
        if batch != _SPECIAL:
            low, high = self._range(batch)
            wanted = _in_range(pl.col("teacher_id").cast(pl.String), low, high) & ~wanted
        scan = pl.scan_parquet(self.files[index], row_index_name=columns.ROW, row_index_offset=1)
        return scan.filter(wanted).with_columns(pl.col(columns.ROW).cast(pl.Int64)).collect()

    def _validate(self, batch: int) -> EventTable:
        raw = self._raw(batch)
        table = ev.validate_events(raw, self.timezone, inputs=self.inputs, time_ordered=False)
        self.used += table.report.rows_used
        self.duplicates += table.report.duplicates
        self.rejected += table.report.rejected
        if table.rejects.height:
            self.rejects.append(table.rejects)
        self.done_rows += table.report.rows_read
        self.report("validate", self.done_rows, self.rows_read)
        return table

    def batches(self, roster: pl.DataFrame | None, unresolved: Sequence[str] = (),
                ) -> Iterator[tuple[pl.LazyFrame, pl.DataFrame | None]]:
        """Each batch's used rows (lazily: the engine's own filter applies the table's
        mask, so the rows are not copied) and its roster rows. The caller must drop a
        batch before asking for the next, so that two batches are never held at once."""
        self._split()
        self.report("validate", 0, self.rows_read)
        special_table = self._validate(_SPECIAL)
        # every teacher named on any row (SPEC §5), placed in its batch by id below
        named_all = pl.Series([*special_table.seen_teacher_ids, *unresolved], dtype=pl.String)
        # The special rows wait on disk, by teacher, for their batches: held in memory they
        # grow with the province (2M rows of 101M events) beside every batch.
        special_path = self.spill / "special.parquet"
        special_table.frame.sort("teacher_id").write_parquet(special_path, row_group_size=_SPECIAL_GROUP)
        del special_table
        special = pl.scan_parquet(special_path)
        for number in range(self.count):
            low, high = self._range(number)
            table = self._validate(number)
            extra = special.filter(_in_range(pl.col("teacher_id"), low, high)).collect()
            rows = table.lazy_frame()
            if extra.height:  # in any order: the bulk engine puts the rows it reads in time order
                rows = pl.concat([rows, extra.lazy().select(rows.collect_schema().names())],
                                 how="vertical_relaxed")
            roster_part = roster.filter(_in_range(pl.col("teacher_id"), low, high)) \
                if roster is not None else None
            named = [*table.named_teacher_ids, *named_all.to_frame("teacher_id").filter(
                _in_range(pl.col("teacher_id"), low, high))["teacher_id"].to_list()]
            in_extra = teachers_with_events(extra, named)
            roster_part = with_named_teachers(
                roster_part, [t for t in named if t not in in_extra], table)
            yield rows.drop("source", "row"), roster_part
            del table, rows, extra  # before the next batch is read

    def accounting(self) -> tuple[LoadReport, pl.DataFrame]:
        report = LoadReport(self.rows_read, self.used, self.duplicates, self.rejected, "events")
        rejects = (pl.concat(self.rejects, how="diagonal_relaxed").sort("source", "row")
                   if self.rejects else pl.DataFrame(schema={"source": pl.String, "row": pl.Int64,
                                                             "event_id": pl.String,
                                                             "reason": pl.String}))
        return report, rejects


def _row_group_chunks(path: Path, rows: int) -> Iterator[tuple[int, int]]:
    """``(start, length)`` of whole row groups of ``path``, about ``rows`` rows each."""
    metadata = pq.ParquetFile(path).metadata
    start = length = 0
    for group in range(metadata.num_row_groups):
        length += metadata.row_group(group).num_rows
        if length >= rows:
            yield start, length
            start, length = start + length, 0
    if length or start == 0:
        yield start, length


def _rescan_pays(files: list[Path], edges: list[str | None], rows: int) -> bool:
    """Whether the batches should read their rows from the files again rather than from a
    spill: yes when the row groups they would read (each batch those whose ``teacher_id``
    statistics overlap its range) add up to at most :data:`_RESCAN_FACTOR` times the
    rows. Files exported by region or by teacher qualify; shuffled ones, or ones without
    statistics, are spilled. Only the speed depends on this: both read the same rows."""
    read = 0
    for path in files:
        metadata = pq.ParquetFile(path).metadata
        names = [metadata.schema.column(j).path for j in range(metadata.num_columns)]
        if "teacher_id" not in names:
            return False
        column = names.index("teacher_id")
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(column).statistics
            if stats is None or not stats.has_min_max or not isinstance(stats.min, str):
                return False
            overlapping = sum(
                1 for low, high in itertools.pairwise(edges)
                if (low is None or stats.max >= low) and (high is None or stats.min < high)
            )
            read += metadata.row_group(group).num_rows * overlapping
    return read <= _RESCAN_FACTOR * rows


def _in_range(column: pl.Expr, low: str | None, high: str | None) -> pl.Expr:
    cond = pl.lit(True)
    if low is not None:
        cond = cond & (column >= low)
    if high is not None:
        cond = cond & (column < high)
    return cond


def _bounds(rows: pl.DataFrame, batch_rows: int) -> list[str]:
    """Teacher ids cutting the sorted ids into ranges of at most ~``batch_rows`` events."""
    rows = rows.drop_nulls("teacher_id")
    if rows.height == 0:
        return []
    total = int(rows.get_column("len").sum())
    if total <= batch_rows:
        return []
    bounds: list[str] = []
    running = 0
    for teacher, n in rows.iter_rows():
        if running and running + n > batch_rows:
            bounds.append(teacher)
            running = 0
        running += n
    return bounds
