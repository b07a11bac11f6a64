"""Recompute ledgers for many policies at once with the bulk engine (``credit-rules recompute``).

Events go through the same validation as :func:`credit_rules.io.load_events`; every
policy is compiled once; each ledger is written as ``<out_dir>/<policy name>.parquet``
atomically (a temporary file replaced at the end: a failure leaves the previous file),
with the layout of :func:`credit_rules.io.write_ledger` (typed: decimals, lists of structs).

Larger than memory: Parquet files (or folders of them) are scanned lazily and processed
in batches of teachers (``batch_rows`` events at most, from the row counts per teacher):

1. ``scan``: one streaming pass over ``teacher_id`` and a hash of the trimmed
   ``event_id`` finds the events per teacher (to cut batches) and the hashes that repeat;
2. ``repeats``: the rows whose ``event_id`` hash repeats (a repeat may belong to another
   teacher: SPEC §2 makes every differing copy a conflict, wherever it lies), and the rows
   whose ``teacher_id`` is missing or needs trimming, are read and validated together;
3. ``batch i/n``: the rows of a range of teacher ids (row groups skipped by their
   statistics) are validated, joined with the used rows of step 2 in that range, and
   every policy runs over them; each ledger is appended to its temporary Parquet file.

Memory is bounded by a batch, the hashes of step 1 and the rows of step 2. A policy with
ranks (teachers compared across the province) keeps each batch's per-teacher results and
ranks once at the end, so its memory grows with teachers x periods (not with events).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from credit_rules import ir
from credit_rules.api import as_policy, bulk_ledger
from credit_rules.errors import InputError
from credit_rules.eval import bulk
from credit_rules.io import EventTable, LoadReport, Roster, columns, load_events, load_roster, parse, sources
from credit_rules.io import events as ev
from credit_rules.io.ledger import atomic_output
from credit_rules.schema import REQUIRED_EVENT_COLUMNS
from credit_rules.values import DEFAULT_TIMEZONE, today

#: ``progress(stage, done, total)``: rows for ``scan`` and ``validate``, batches for
#: ``policy NAME``.
Progress = Callable[[str, int, int], None]
#: Default most events validated and evaluated at once (8M: 7.2 GiB at peak for
#: five_year_cycle; 20M peaked at 15 GiB, 10M at 8.1 GiB, measured at 99.5M events).
BATCH_ROWS = 8_000_000


@attrs.frozen
class RecomputeResult:
    """One policy's ledger: where it went (or the frame, without ``out_dir``), the accounting
    of its inputs, and timings in seconds (loading is shared by the policies)."""

    policy: str
    path: Path | None
    rows: int
    events: LoadReport
    roster: LoadReport | None
    fallbacks: tuple[tuple[str, str], ...]
    load_seconds: float
    eval_seconds: float
    write_seconds: float
    batches: int = 1
    ledger: pl.DataFrame | None = attrs.field(default=None, eq=False, repr=False)
    rejects: pl.DataFrame | None = attrs.field(default=None, eq=False, repr=False)


def recompute(
    policies: ir.Policy | str | os.PathLike[str] | Sequence[ir.Policy | str | os.PathLike[str]],
    events: Any,
    roster: Any = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    progress: Progress | None = None,
    as_of: dt.date | None = None,
    batch_rows: int = BATCH_ROWS,
) -> list[RecomputeResult]:
    """Run every policy over ``events`` (and ``roster``) with the bulk engine.

    ``events``: a path, a folder or a list of them (Parquet is scanned lazily, in batches
    of teachers; other formats are read whole), a Polars or Arrow table, or an
    :class:`EventTable`. ``roster``: a path, a frame, an Arrow table or a :class:`Roster`.
    With ``out_dir`` each ledger is written to ``<out_dir>/<policy>.parquet``; without
    it, each result carries its ledger frame.

    >>> results = recompute("policies/five_year_cycle.policy", "events/", "roster.parquet")  # doctest: +SKIP
    >>> results[0].ledger.head()                                                           # doctest: +SKIP
    """
    report = progress or (lambda stage, done, total: None)
    listed = (
        [policies] if isinstance(policies, ir.Policy | str | os.PathLike) else list(policies)
    )
    checked = [as_policy(p) for p in listed]
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    loaded_roster: Roster | None = None
    if roster is not None:
        loaded_roster = roster if isinstance(roster, Roster) else load_roster(roster)
    roster_frame = loaded_roster.frame if loaded_roster is not None else None
    results: list[RecomputeResult] = []
    # Events are validated once per time zone (the zone decides local days).
    for zone in dict.fromkeys(p.timezone for p in checked):
        group = [p for p in checked if p.timezone == zone]
        source = _batched_source(events, batch_rows)
        if source is None:
            table = _load_table(events, zone, report)
            batches: Iterator[tuple[pl.DataFrame, pl.DataFrame | None]] = iter(
                [(table.frame, roster_frame)])
            count = 1
            accounting: Callable[[], tuple[LoadReport, pl.DataFrame]] = functools.partial(
                _table_accounting, table)
        else:
            batcher = _Batcher(source, zone, batch_rows, report)
            count = batcher.count
            batches = batcher.batches(roster_frame)
            accounting = batcher.accounting
        results.extend(_run_group(group, batches, count, out, as_of, report, started,
                                  accounting, loaded_roster))
    order = {p.name: i for i, p in enumerate(checked)}
    return sorted(results, key=lambda r: order[r.policy])


def _table_accounting(table: EventTable) -> tuple[LoadReport, pl.DataFrame]:
    return table.report, table.rejects


def _load_table(events: Any, timezone: str, report: Progress) -> EventTable:
    report("validate", 0, 1)
    if isinstance(events, EventTable):
        if events.timezone != timezone:
            raise InputError(
                f"events were loaded in {events.timezone} but a policy's timezone is {timezone}"
            )
        table = events
    else:
        table = load_events(events, timezone=timezone)
    report("validate", table.report.rows_read, table.report.rows_read)
    return table


class _Writer:
    """A ledger written batch by batch into a temporary Parquet file, made final at the end."""

    def __init__(self, stack: contextlib.ExitStack, path: Path | None) -> None:
        self.path = path
        self.handle: IO[Any] | None = stack.enter_context(atomic_output(path, "wb")) \
            if path is not None else None
        self.writer: pq.ParquetWriter | None = None
        self.frames: list[pl.DataFrame] = []
        self.rows = 0
        if self.handle is not None:
            stack.callback(self.close)

    def add(self, frame: pl.DataFrame) -> None:
        flat = frame
        self.rows += flat.height
        if self.handle is None:
            self.frames.append(flat)
            return
        table = flat.to_arrow()
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.handle, table.schema, compression="zstd")
        self.writer.write_table(table.cast(self.writer.schema))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def ledger(self) -> pl.DataFrame | None:
        if self.handle is not None:
            return None
        return pl.concat(self.frames) if self.frames else None


def _run_group(
    policies: list[ir.Policy],
    batches: Iterator[tuple[pl.DataFrame, pl.DataFrame | None]],
    count: int,
    out: Path | None,
    as_of: dt.date | None,
    report: Progress,
    started: float,
    accounting: Callable[[], tuple[LoadReport, pl.DataFrame]],
    loaded_roster: Roster | None,
) -> list[RecomputeResult]:
    roster_frame = loaded_roster.frame if loaded_roster is not None else None
    plans = [bulk.compile_plan(p) for p in policies]
    eval_seconds = dict.fromkeys((p.name for p in policies), 0.0)
    write_seconds = dict.fromkeys((p.name for p in policies), 0.0)
    ranked: dict[str, list[pl.DataFrame]] = {p.name: [] for p in policies}
    load_seconds = 0.0
    with contextlib.ExitStack() as stack:
        writers = {
            p.name: _Writer(stack, out / f"{p.name}.parquet" if out is not None else None)
            for p in policies
        }
        mark = time.perf_counter()
        done = 0
        for frame, roster_part in batches:
            load_seconds += time.perf_counter() - mark
            for plan in plans:
                name = plan.policy.name
                report(f"policy {name}", done, count)
                t0 = time.perf_counter()
                day = as_of or today(plan.policy.timezone)
                if _ranks_across_batches(plan) and count > 1:
                    ranked[name].append(_evaluate_part(plan, frame, roster_part, day))
                    eval_seconds[name] += time.perf_counter() - t0
                    continue
                ledger = bulk_ledger(plan, frame, roster_part, as_of=day)
                t1 = time.perf_counter()
                writers[name].add(ledger)
                eval_seconds[name] += t1 - t0
                write_seconds[name] += time.perf_counter() - t1
            done += 1
            for plan in plans:
                report(f"policy {plan.policy.name}", done, count)
            mark = time.perf_counter()
        for plan in plans:
            name = plan.policy.name
            if ranked[name]:
                t0 = time.perf_counter()
                ledger = _finish(plan, ranked[name], roster_frame, as_of or today(plan.policy.timezone))
                t1 = time.perf_counter()
                writers[name].add(ledger)
                eval_seconds[name] += t1 - t0
                write_seconds[name] += time.perf_counter() - t1
        events_report, rejects = accounting()
    return [
        RecomputeResult(
            policy=plan.policy.name,
            path=writers[plan.policy.name].path, rows=writers[plan.policy.name].rows,
            events=events_report,
            roster=loaded_roster.report if loaded_roster is not None else None,
            fallbacks=plan.fallbacks, load_seconds=load_seconds,
            eval_seconds=eval_seconds[plan.policy.name],
            write_seconds=write_seconds[plan.policy.name], batches=count,
            ledger=writers[plan.policy.name].ledger(), rejects=rejects,
        )
        for plan in plans
    ]


def _ranks_across_batches(plan: bulk.BulkPlan) -> bool:
    return bool(plan.policy.ranks)


def _evaluate_part(
    plan: bulk.BulkPlan, frame: pl.DataFrame, roster: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame:
    """Per teacher-period results of one batch, before ranks (ranks need every teacher)."""
    if plan.fallbacks:
        # The interpreter ranks all teachers at once: keep the events for one run at the
        # end (this policy is then evaluated unbatched).
        return frame.with_columns(pl.lit(True).alias("__cr_events_only"))
    return bulk.evaluate_batch(plan, frame, roster, as_of=as_of)


def _finish(plan: bulk.BulkPlan, parts: list[pl.DataFrame], roster: pl.DataFrame | None,
            as_of: dt.date) -> pl.DataFrame:
    if "__cr_events_only" in parts[0].columns:
        events = pl.concat(parts, how="diagonal_relaxed").drop("__cr_events_only")
        return bulk_ledger(plan, events.sort(["teacher_id", "at_us", "event_id"]), roster,
                           as_of=as_of)
    return bulk.finish(plan, pl.concat(parts, how="diagonal_relaxed"))


def write_frame(frame: pl.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a typed ledger frame as Parquet atomically (the layout
    :func:`credit_rules.io.write_ledger` writes)."""
    with atomic_output(path, "wb") as handle:
        frame.write_parquet(handle)


# ----------------------------------------------------------------- larger than memory


def _parquet_files(events: Any) -> list[Path] | None:
    """The Parquet files ``events`` names (a path, a folder, a list), or None."""
    if isinstance(events, str | os.PathLike):
        items: list[Any] = [events]
    elif isinstance(events, list | tuple) and events and all(
            isinstance(e, str | os.PathLike) for e in events):
        items = list(events)
    else:
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


def _batched_source(events: Any, batch_rows: int) -> list[Path] | None:
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


class _Batcher:
    """Validated events of Parquet files, in batches of teacher-id ranges (module docstring)."""

    def __init__(self, files: list[Path], timezone: str, batch_rows: int, report: Progress):
        self.files = files
        self.timezone = timezone
        self.report = report
        self.names = [os.fspath(p) for p in files]
        self.many = len(files) > 1
        try:
            self.schemas = [pl.read_parquet_schema(p) for p in files]
        except Exception as exc:  # a file that is not Parquet
            raise InputError(f"cannot read the events as Parquet ({exc})") from None
        self.columns = list(dict.fromkeys(c for s in self.schemas for c in s))
        report("scan", 0, 1)
        rows, self.repeat_hashes = self._scan()
        self.rows_read = int(rows.get_column("len").sum()) if rows.height else 0
        report("scan", self.rows_read, self.rows_read)
        self.bounds = _bounds(rows, batch_rows)
        self.count = len(self.bounds) + 1
        self.rejects: list[pl.DataFrame] = []
        self.used = self.duplicates = self.rejected = 0
        self.done_rows = 0

    def _scan_one(self, index: int) -> pl.LazyFrame:
        return pl.scan_parquet(self.files[index]).with_row_index(columns.ROW, offset=1) \
            .with_columns(pl.col(columns.ROW).cast(pl.Int64))

    @staticmethod
    def _id_hash() -> pl.Expr:
        return parse.clean("event_id").hash(17)

    @staticmethod
    def _odd_teacher() -> pl.Expr:
        """Rows whose teacher is not simply the raw ``teacher_id`` (missing, or to trim)."""
        tid = pl.col("teacher_id").cast(pl.String)
        return tid.is_null() | (tid.str.strip_chars().str.len_bytes() != tid.str.len_bytes()) \
            | (tid.str.len_bytes() == 0)

    def _scan(self) -> tuple[pl.DataFrame, pl.Series]:
        for name, schema in zip(self.names, self.schemas, strict=True):
            missing = [c for c in REQUIRED_EVENT_COLUMNS if c not in schema]
            if missing:
                raise InputError(f"{name}: required column(s) {', '.join(missing)} missing "
                                 f"(found: {', '.join(schema)})")
        scans = [pl.scan_parquet(p).select(
            pl.col("teacher_id").cast(pl.String), self._id_hash().alias("h")) for p in self.files]
        both = pl.concat(scans)
        per_teacher = both.group_by("teacher_id").agg(pl.len()).sort("teacher_id", nulls_last=True)
        repeats = both.group_by("h").agg(pl.len()).filter(pl.col("len") > 1).select("h")
        rows, hashes = pl.collect_all([per_teacher, repeats], engine="streaming")
        return rows, hashes.get_column("h")

    def _raw(self, predicate: pl.Expr) -> sources.RawInput:
        named = []
        for index, name in enumerate(self.names):
            frame = self._scan_one(index).filter(predicate).collect(engine="streaming")
            frame = sources.textify(frame, name, keep=(*ev.TYPED_EVENT_COLUMNS, columns.ROW))
            frame = frame.hstack(
                [pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias(columns.BAD)])
            named.append((name, frame, False))
        raw = sources.combine_raw(named, required=REQUIRED_EVENT_COLUMNS)
        # Same columns in every batch (a batch may lack a column some file has).
        return sources.RawInput(raw.frame, tuple(dict.fromkeys([*raw.columns, *self.columns])),
                                tuple(self.names))

    def _validate(self, predicate: pl.Expr) -> EventTable:
        raw = self._raw(predicate)
        table = ev.validate_events(raw, self.timezone)
        self.used += table.report.rows_used
        self.duplicates += table.report.duplicates
        self.rejected += table.report.rejected
        if table.rejects.height:
            self.rejects.append(table.rejects)
        self.done_rows += table.report.rows_read
        self.report("validate", self.done_rows, self.rows_read)
        return table

    def batches(self, roster: pl.DataFrame | None) -> Iterator[tuple[pl.DataFrame,
                                                                     pl.DataFrame | None]]:
        self.report("validate", 0, self.rows_read)
        special_rows = self._id_hash().is_in(self.repeat_hashes.implode()) | self._odd_teacher()
        special = self._validate(special_rows).frame
        edges: list[str | None] = [None, *self.bounds, None]
        for low, high in itertools.pairwise(edges):
            in_range = _in_range(pl.col("teacher_id").cast(pl.String), low, high)
            table = self._validate(in_range & ~special_rows)
            extra = special.filter(_in_range(pl.col("teacher_id"), low, high))
            frame = table.frame
            if extra.height:
                frame = pl.concat([frame, extra.select(frame.columns)], how="vertical_relaxed") \
                    .sort(["teacher_id", "at_us", "event_id"])
            roster_part = roster.filter(_in_range(pl.col("teacher_id"), low, high)) \
                if roster is not None else None
            yield frame.drop("source", "row"), roster_part

    def accounting(self) -> tuple[LoadReport, pl.DataFrame]:
        report = LoadReport(self.rows_read, self.used, self.duplicates, self.rejected, "events")
        rejects = (pl.concat(self.rejects, how="diagonal_relaxed").sort("source", "row")
                   if self.rejects else pl.DataFrame(schema={"source": pl.String, "row": pl.Int64,
                                                             "event_id": pl.String,
                                                             "reason": pl.String}))
        return report, rejects


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


__all__ = ["BATCH_ROWS", "DEFAULT_TIMEZONE", "RecomputeResult", "recompute", "write_frame"]
