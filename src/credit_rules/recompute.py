"""Recompute ledgers for many policies at once with the bulk engine (``credit-rules recompute``).

Events go through the same validation as :func:`credit_rules.io.load_events`; every
policy is compiled once; each ledger is written as ``<out_dir>/<policy name>.parquet``
atomically (a temporary file replaced at the end: a failure leaves the previous file),
with the layout of :func:`credit_rules.io.write_ledger` (typed: decimals, lists of structs)
in row groups of :data:`ROW_GROUP_ROWS` rows whatever the batching, so the same inputs
give the same bytes. Each ledger carries its provenance in its Parquet key-value metadata
(:data:`PROVENANCE_KEY`) and ``<out_dir>/manifest.json`` is written last.

A run into ``out_dir`` holds ``<out_dir>/.recompute.lock`` (``flock``: a second run into
the same folder is refused), removes the temporaries a killed run left for the files it
writes (``.<file>.XXXXXXXX.tmp``, ``.recompute.XXXXXXXX.spill.tmp/``), and never reads
its own outputs, hidden files (``.x``, ``._x.parquet``) or metadata files (``_SUCCESS``,
``_metadata``) of an events folder as events.

Larger than memory: Parquet files (or folders of them) are scanned lazily and processed
in batches of teachers (``batch_rows`` events at most, from the row counts per teacher):

1. ``scan``: one streaming pass over ``teacher_id`` and a hash of the trimmed
   ``event_id`` finds the events per teacher (to cut batches) and the hashes that repeat;
2. ``repeats``: the rows whose ``event_id`` hash repeats (a repeat may belong to another
   teacher: SPEC §2 makes every differing copy a conflict, wherever it lies), and the rows
   whose ``teacher_id`` is missing or needs trimming, are read and validated together;
3. ``split``: one pass over every file writes each row (with its row number) to the
   spill file of its batch (Arrow IPC, in a temporary folder ``.recompute.*.spill.tmp``
   beside the ledgers), so no batch reads the inputs again;
4. ``batch i/n``: the rows of a range of teacher ids are read from the spill, validated,
   joined with the used rows of step 2 in that range, and every policy runs over them;
   each ledger is appended to its temporary Parquet file.

Memory is bounded by a batch, the hashes of step 1 and the rows of step 2. A policy with
ranks (teachers compared across the province) keeps each batch's per-teacher results and
ranks once at the end, so its memory grows with teachers x periods (not with events).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import importlib.metadata
import itertools
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from credit_rules import ir
from credit_rules.api import as_policy, bulk_ledger, with_named_teachers
from credit_rules.compile.usage import policy_usage
from credit_rules.errors import InputError, UsageError, did_you_mean
from credit_rules.eval import bulk
from credit_rules.io import EventTable, LoadReport, Roster, columns, load_events, load_roster, parse, sources
from credit_rules.io import events as ev
from credit_rules.io.ledger import atomic_output, temporary_prefix
from credit_rules.schema import EVENT_COLUMNS, LEDGER_COLUMNS, LEDGER_FRAME, REQUIRED_EVENT_COLUMNS
from credit_rules.values import DEFAULT_TIMEZONE, today

#: ``progress(stage, done, total)``: rows for ``scan`` and ``validate``, batches for
#: ``policy NAME``.
Progress = Callable[[str, int, int], None]
#: Default most events validated and evaluated at once (8M: 7.2 GiB at peak for
#: five_year_cycle; 20M peaked at 15 GiB, 10M at 8.1 GiB, measured at 99.5M events).
BATCH_ROWS = 8_000_000
#: Rows per Parquet row group of a ledger, whatever the batching (same inputs, same bytes).
ROW_GROUP_ROWS = 65_536
#: The Parquet key-value metadata key holding a ledger's provenance (JSON).
PROVENANCE_KEY = "credit_rules.provenance"
#: Written last into ``out_dir``: what the run read and wrote, with checksums.
MANIFEST_NAME = "manifest.json"
#: Held (``flock``) by the run writing into ``out_dir``.
LOCK_NAME = ".recompute.lock"
_SPILL_PREFIX, _SPILL_SUFFIX = ".recompute.", ".spill.tmp"
#: Rows read at once while splitting the events into batches (whole row groups).
_SPLIT_ROWS = 1_000_000


class StrictInputError(InputError):
    """An input problem refused by ``strict_input``; carries the rejected rows, if any, so
    they can still be written out."""

    def __init__(self, message: str, rejects: pl.DataFrame | None = None,
                 roster_rejects: pl.DataFrame | None = None) -> None:
        super().__init__(message)
        self.rejects = rejects
        self.roster_rejects = roster_rejects


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
    #: What produced the ledger (also in its Parquet metadata under :data:`PROVENANCE_KEY`).
    provenance: dict[str, Any] = attrs.field(factory=dict, eq=False, repr=False)
    #: Input problems worth a look (a misspelt column, roster columns without a roster…).
    warnings: tuple[str, ...] = ()
    roster_rejects: pl.DataFrame | None = attrs.field(default=None, eq=False, repr=False)


def recompute(
    policies: ir.Policy | str | os.PathLike[str] | Sequence[ir.Policy | str | os.PathLike[str]],
    events: Any,
    roster: Any = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    progress: Progress | None = None,
    as_of: dt.date | None = None,
    batch_rows: int = BATCH_ROWS,
    strict_input: bool = False,
) -> list[RecomputeResult]:
    """Run every policy over ``events`` (and ``roster``) with the bulk engine.

    ``events``: a path, a folder or a list of them (Parquet is scanned lazily, in batches
    of teachers; other formats are read whole), a Polars or Arrow table, or an
    :class:`EventTable`. ``roster``: a path, a frame, an Arrow table or a :class:`Roster`.
    With ``out_dir`` each ledger is written to ``<out_dir>/<policy>.parquet`` and the
    run's ``manifest.json`` last; without it, each result carries its ledger frame.
    ``strict_input``: a rejected event or roster row, events with none of the columns a
    policy reads, or roster columns read without a roster raise :class:`StrictInputError`
    (no ledger is replaced) instead of being reported in ``warnings``.

    >>> results = recompute("policies/five_year_cycle.policy", "events/", "roster.parquet")  # doctest: +SKIP
    >>> results[0].ledger.head()                                                           # doctest: +SKIP
    """
    report = progress or (lambda stage, done, total: None)
    listed = (
        [policies] if isinstance(policies, ir.Policy | str | os.PathLike) else list(policies)
    )
    checked = [as_policy(p) for p in listed]
    policy_files = {
        p.name: Path(item) if isinstance(item, str | os.PathLike) else None
        for p, item in zip(checked, listed, strict=True)
    }
    out = Path(out_dir) if out_dir is not None else None
    outputs = [f"{p.name}.parquet" for p in checked]
    started_at = dt.datetime.now(dt.UTC)
    with contextlib.ExitStack() as run:
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            run.enter_context(_locked(out))
            remove_stale_temporaries(out, [*outputs, MANIFEST_NAME])
        events = _event_inputs(events, out, outputs)
        started = time.perf_counter()
        loaded_roster: Roster | None = None
        if roster is not None:
            loaded_roster = roster if isinstance(roster, Roster) else load_roster(roster)
        roster_frame = loaded_roster.frame if loaded_roster is not None else None
        inputs = {"events": _input_entries(events), "roster": _input_entries(roster)}
        if strict_input and loaded_roster is not None and loaded_roster.report.rejected:
            raise StrictInputError(
                f"{loaded_roster.report.rejected} roster row(s) rejected (--strict-input); "
                "see them with --rejects FILE", roster_rejects=loaded_roster.rejects)
        results: list[RecomputeResult] = []
        # Events are validated once per time zone (the zone decides local days).
        for zone in dict.fromkeys(p.timezone for p in checked):
            group = [p for p in checked if p.timezone == zone]
            source = _batched_source(events, batch_rows)
            if source is None:
                table = _load_table(events, zone, report)
                present = table_columns(table)
                # SPEC §5: teachers named only on bad rows still get their rows.
                named = [*table.seen_teacher_ids, *_unresolved(loaded_roster)]
                batches: Iterator[tuple[pl.DataFrame, pl.DataFrame | None]] = iter(
                    [(table.frame, with_named_teachers(roster_frame, named, table.teacher_ids()))])
                count = 1
                accounting: Callable[[], tuple[LoadReport, pl.DataFrame]] = functools.partial(
                    _table_accounting, table)
            else:
                spill = Path(tempfile.mkdtemp(prefix=_SPILL_PREFIX, suffix=_SPILL_SUFFIX,
                                              dir=out))
                run.callback(shutil.rmtree, spill, ignore_errors=True)
                batcher = _Batcher(source, zone, batch_rows, report, spill)
                present = set(batcher.columns)
                count = batcher.count
                batches = batcher.batches(roster_frame, _unresolved(loaded_roster))
                accounting = batcher.accounting
            warnings = {p.name: input_warnings(p, present, roster is not None) for p in group}
            found = [w for p in group for w in warnings[p.name]]
            if strict_input and found:
                raise StrictInputError("; ".join(dict.fromkeys(found)) + " (--strict-input)")
            context = _Context(out, as_of, report, started, accounting, loaded_roster, inputs,
                               policy_files, strict_input, warnings)
            results.extend(_run_group(group, batches, count, context))
        order = {p.name: i for i, p in enumerate(checked)}
        results.sort(key=lambda r: order[r.policy])
        if out is not None:
            write_manifest(out / MANIFEST_NAME, results, started_at, batch_rows)
    return results


def write_manifest(path: Path, results: Sequence[RecomputeResult], started_at: dt.datetime,
                   batch_rows: int) -> None:
    """``manifest.json``: the run's inputs, accounting and every ledger with its SHA-256."""
    finished = dt.datetime.now(dt.UTC)
    manifest = {
        "credit_rules_version": version(),
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": finished.isoformat(timespec="seconds"),
        "batch_rows": batch_rows,
        "batches": max((r.batches for r in results), default=1),
        "ledgers": [
            {"file": r.path.name if r.path is not None else None,
             "sha256": file_sha256(r.path) if r.path is not None else None,
             "rows": r.rows, "provenance": r.provenance}
            for r in results
        ],
    }
    with atomic_output(path, "w") as handle:
        handle.write(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")


def version() -> str:
    """The installed credit-rules version (``credit_rules.__version__``)."""
    try:
        return importlib.metadata.version("credit-rules")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a bare checkout
        return "unknown"


def file_sha256(path: str | os.PathLike[str]) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _input_entries(source: Any) -> list[dict[str, Any]] | None:
    """Each input file with its size and SHA-256 (a frame: its kind, no checksum)."""
    if source is None:
        return None
    items = source if isinstance(source, list | tuple) else [source]
    entries: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, str | os.PathLike) and os.fspath(item) != "-":
            name = os.fspath(item)
            paths = sources.expand_folder(item) if Path(name).is_dir() else [item]
            for path in paths:
                entries.append({"path": os.fspath(path), "bytes": os.path.getsize(path),
                                "sha256": file_sha256(path)})
        else:
            entries.append({"path": "-" if isinstance(item, str) else f"<{type(item).__name__}>",
                            "bytes": None, "sha256": None})
    return entries


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
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


def remove_stale_temporaries(out: Path, names: Collection[str]) -> list[Path]:
    """Remove what a killed run left in ``out``: the temporaries of the files ``names``
    (``.NAME.XXXXXXXX.tmp``) and spill folders. Call with the folder's lock held."""
    patterns = [re.compile(re.escape(temporary_prefix(name)) + r"[A-Za-z0-9_]+\.tmp")
                for name in names]
    spill = re.compile(re.escape(_SPILL_PREFIX) + r"[A-Za-z0-9_]+" + re.escape(_SPILL_SUFFIX))
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


def _event_inputs(events: Any, out: Path | None, outputs: Collection[str]) -> Any:
    """``events`` with each folder replaced by its data files: no hidden or metadata file,
    and, in the output folder, none of the run's outputs (its ledgers, ``manifest.json``,
    any ledger a credit-rules run wrote)."""
    if isinstance(events, str | os.PathLike):
        items: list[Any] = [events]
    elif isinstance(events, list | tuple) and events and all(
            isinstance(e, str | os.PathLike) for e in events):
        items = list(events)
    else:
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


# ------------------------------------------------------------ what a policy reads


_FRAME_NAMES = {"hours_u": "hours", "credits_u": "credits", "score_u": "score"}


def table_columns(table: EventTable) -> set[str]:
    """The event columns with at least one value in a validated table (and the extras)."""
    frame = table.frame
    present = {
        _FRAME_NAMES.get(c, c) for c in frame.columns
        if c not in ("source", "row", "day", "at_us")
        and frame.get_column(c).null_count() < frame.height
    }
    return present | set(table.attribute_columns) | set(REQUIRED_EVENT_COLUMNS)


def roster_columns(policy: ir.Policy) -> set[str]:
    """The roster columns ``policy`` reads (conditions on the teacher, roles, the
    reduction's date, the fields ranks are grouped by)."""
    read: set[str] = set()
    for node in ir.walk(policy):
        if isinstance(node, ir.Compare | ir.Member) and node.scope == ir.Scope.TEACHER:
            read.add(node.field)
        elif isinstance(node, ir.HasRole):
            read.add("roles")
        elif isinstance(node, ir.Top) and node.field is not None:
            read.add(node.field)
    if policy.reduction is not None:
        read.add(policy.reduction.attribute)
    return read


def input_warnings(policy: ir.Policy, present: Collection[str], roster_given: bool) -> list[str]:
    """What looks wrong in the inputs of ``policy``: events with none of the columns it
    reads, a column it reads missing beside a close name, roster columns without a roster."""
    found: list[str] = []
    # ``count`` has a default (1): events without it are complete.
    read = sorted(policy_usage(policy).columns - {*REQUIRED_EVENT_COLUMNS, "count"})
    have = set(present)
    extras = sorted(have - set(EVENT_COLUMNS))
    missing = [c for c in read if c not in have]
    if read and len(missing) == len(read):
        found.append(f"the events have none of the columns policy {policy.name} reads "
                     f"({', '.join(read)})")
    for column in missing:
        hint = did_you_mean(column, extras)
        if hint:
            found.append(f'no column "{column}" in the events ({hint})')
    if not roster_given:
        found.extend(f'policy {policy.name} reads roster column "{c}" but no --roster was given'
                     for c in sorted(roster_columns(policy)))
    return found


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


def _ledger_schema() -> pa.Schema:
    return pl.DataFrame(schema=LEDGER_FRAME).to_arrow().schema


class _Writer:
    """A ledger written batch by batch into a temporary Parquet file, made final at the end.

    Rows are buffered into row groups of exactly :data:`ROW_GROUP_ROWS` (the last one
    shorter), each written from one contiguous table: the file's bytes depend on the
    ledger, not on how it was batched."""

    def __init__(self, stack: contextlib.ExitStack, path: Path | None) -> None:
        self.path = path
        self.handle: IO[Any] | None = stack.enter_context(atomic_output(path, "wb")) \
            if path is not None else None
        self.writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None
        self.pending: list[pa.Table] = []
        self.pending_rows = 0
        self.frames: list[pl.DataFrame] = []
        self.rows = 0
        if self.handle is not None:
            # Runs before the temporary file is closed and removed on an error or Ctrl-C.
            stack.callback(self.abandon)

    def add(self, frame: pl.DataFrame) -> None:
        self.rows += frame.height
        if self.handle is None:
            self.frames.append(frame)
            return
        table = frame.to_arrow()
        if self.schema is None:
            self.schema = _ledger_schema() if tuple(frame.columns) == LEDGER_COLUMNS \
                else table.schema
        self.pending.append(table.cast(self.schema))
        self.pending_rows += table.num_rows
        while self.pending_rows >= ROW_GROUP_ROWS:
            whole = pa.concat_tables(self.pending)
            self._write(whole.slice(0, ROW_GROUP_ROWS))
            rest = whole.slice(ROW_GROUP_ROWS)
            self.pending, self.pending_rows = [rest], rest.num_rows

    def _write(self, table: pa.Table) -> None:
        assert self.handle is not None and self.schema is not None
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.handle, self.schema, compression="zstd")
        self.writer.write_table(table.combine_chunks(), row_group_size=ROW_GROUP_ROWS)

    def finish(self, metadata: dict[str, str]) -> None:
        """Write the last rows and the footer (with ``metadata``); the file is replaced
        when the run's stack closes."""
        if self.handle is None:
            return
        if self.schema is None:
            self.schema = _ledger_schema()
        if self.pending_rows or self.writer is None:
            self._write(pa.concat_tables(self.pending) if self.pending
                        else self.schema.empty_table())
        self.pending, self.pending_rows = [], 0
        assert self.writer is not None
        self.writer.add_key_value_metadata(metadata)
        writer, self.writer = self.writer, None
        writer.close()

    def abandon(self) -> None:
        """Close the Parquet writer of a failed run (no ``ParquetWriter.__del__`` later)."""
        writer, self.writer = self.writer, None
        if writer is not None:
            with contextlib.suppress(Exception):
                writer.close()

    def ledger(self) -> pl.DataFrame | None:
        if self.handle is not None:
            return None
        return pl.concat(self.frames) if self.frames else None


@attrs.frozen
class _Context:
    out: Path | None
    as_of: dt.date | None
    report: Progress
    started: float
    accounting: Callable[[], tuple[LoadReport, pl.DataFrame]]
    roster: Roster | None
    inputs: dict[str, Any]
    policy_files: dict[str, Path | None]
    strict: bool
    warnings: dict[str, list[str]]


def _counts(report: LoadReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {"read": report.rows_read, "used": report.rows_used, "duplicates": report.duplicates,
            "rejected": report.rejected, "summary": report.summary()}


def provenance(policy: ir.Policy, policy_file: Path | None, plan: bulk.BulkPlan, as_of: dt.date,
               inputs: dict[str, Any], events: LoadReport,
               roster: LoadReport | None) -> dict[str, Any]:
    """What produced a ledger: policy (file and SHA-256), version, engine, as-of date,
    input files with SHA-256, and the accounting. Deterministic (no clock)."""
    return {
        "policy": policy.name,
        "policy_file": os.fspath(policy_file) if policy_file is not None else None,
        "policy_sha256": file_sha256(policy_file) if policy_file is not None else None,
        "credit_rules_version": version(),
        "engine": "bulk" if not plan.fallbacks else "bulk+interpreter",
        "as_of": as_of.isoformat(),
        "timezone": policy.timezone,
        "inputs": inputs,
        "accounting": {"events": _counts(events), "roster": _counts(roster)},
    }


def _run_group(
    policies: list[ir.Policy],
    batches: Iterator[tuple[pl.DataFrame, pl.DataFrame | None]],
    count: int,
    context: _Context,
) -> list[RecomputeResult]:
    out, as_of, report, loaded_roster = context.out, context.as_of, context.report, context.roster
    roster_frame = loaded_roster.frame if loaded_roster is not None else None
    plans = [bulk.compile_plan(p) for p in policies]
    days = {p.name: as_of or today(p.timezone) for p in policies}
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
                day = days[name]
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
                ledger = _finish(plan, ranked[name], roster_frame, days[name])
                t1 = time.perf_counter()
                writers[name].add(ledger)
                eval_seconds[name] += t1 - t0
                write_seconds[name] += time.perf_counter() - t1
        events_report, rejects = context.accounting()
        roster_report = loaded_roster.report if loaded_roster is not None else None
        if context.strict and events_report.rejected:
            raise StrictInputError(
                f"{events_report.rejected} event(s) rejected (--strict-input): "
                f"{events_report.summary()}; see them with --rejects FILE",
                rejects=rejects,
                roster_rejects=loaded_roster.rejects if loaded_roster is not None else None)
        origins = {
            plan.policy.name: provenance(plan.policy, context.policy_files.get(plan.policy.name),
                                         plan, days[plan.policy.name], context.inputs,
                                         events_report, roster_report)
            for plan in plans
        }
        for name, writer in writers.items():
            writer.finish({PROVENANCE_KEY: json.dumps(origins[name], ensure_ascii=False,
                                                      sort_keys=True, separators=(",", ":"))})
    return [
        RecomputeResult(
            policy=plan.policy.name,
            path=writers[plan.policy.name].path, rows=writers[plan.policy.name].rows,
            events=events_report,
            roster=roster_report,
            fallbacks=plan.fallbacks, load_seconds=load_seconds,
            eval_seconds=eval_seconds[plan.policy.name],
            write_seconds=write_seconds[plan.policy.name], batches=count,
            ledger=writers[plan.policy.name].ledger(), rejects=rejects,
            provenance=origins[plan.policy.name],
            warnings=tuple(context.warnings.get(plan.policy.name, ())),
            roster_rejects=loaded_roster.rejects if loaded_roster is not None else None,
        )
        for plan in plans
    ]


def _unresolved(roster: Roster | None) -> tuple[str, ...]:
    """Teachers whose every roster row was rejected."""
    return tuple(roster.unresolved_teacher_ids()) if roster is not None else ()


def _ranks_across_batches(plan: bulk.BulkPlan) -> bool:
    return bool(plan.policy.ranks)


def _evaluate_part(
    plan: bulk.BulkPlan, frame: pl.DataFrame, roster: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame:
    """Per teacher-period results of one batch, before ranks (ranks need every teacher)."""
    events_only = frame.with_columns(pl.lit(True).alias("__cr_events_only"))
    if plan.fallbacks:
        # The interpreter ranks all teachers at once: keep the events for one run at the
        # end (this policy is then evaluated unbatched).
        return events_only
    try:
        return bulk.evaluate_batch(plan, frame, roster, as_of=as_of)
    except bulk.BulkOverflow:
        return events_only  # sums beyond Int64: the interpreter, at the end


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

    def __init__(self, files: list[Path], timezone: str, batch_rows: int, report: Progress,
                 spill: Path):
        self.files = files
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
        rows, self.repeat_hashes = self._scan()
        self.rows_read = int(rows.get_column("len").sum()) if rows.height else 0
        report("scan", self.rows_read, self.rows_read)
        self.bounds = _bounds(rows, batch_rows)
        self.count = len(self.bounds) + 1
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

    def _bucket(self, name: str) -> Path:
        return self.spill / name

    def _split(self) -> None:
        """One pass over every file: each row, numbered within its file, goes to the spill
        file of its batch, or of ``special`` (repeated ``event_id`` hashes, odd teachers)."""
        special = self._id_hash().is_in(self.repeat_hashes.implode()) | self._odd_teacher()
        bounds = pl.Series("bounds", self.bounds, dtype=pl.String)
        done = 0
        self.report("split", 0, self.rows_read)
        for index, path in enumerate(self.files):
            for start, length in _row_group_chunks(path, min(self.batch_rows, _SPLIT_ROWS)):
                frame = pl.scan_parquet(path).slice(start, length).collect()
                frame = frame.hstack([pl.Series(columns.ROW, range(start + 1, start + 1 + frame.height),
                                                dtype=pl.Int64)])
                odd = frame.select(special.alias("odd")).get_column("odd")
                tid = frame.get_column("teacher_id").cast(pl.String)
                batch = bounds.search_sorted(tid, side="right").cast(pl.Int64) \
                    if len(bounds) else pl.repeat(0, frame.height, dtype=pl.Int64, eager=True)
                keys = pl.select(pl.when(odd).then(-1).otherwise(batch).alias("b")).get_column("b")
                parts = frame.hstack([keys.alias("__cr_batch")]).partition_by(
                    "__cr_batch", as_dict=True, include_key=False)
                for (key,), part in parts.items():
                    bucket = self._bucket("special" if key == -1 else f"{key:06d}")
                    bucket.mkdir(exist_ok=True)
                    part.write_ipc(bucket / f"{index:06d}-{start:012d}.arrow", compression="lz4")
                done += frame.height
                self.report("split", done, self.rows_read)

    def _raw(self, bucket: Path) -> sources.RawInput:
        named = []
        for index, name in enumerate(self.names):
            parts = sorted(bucket.glob(f"{index:06d}-*.arrow")) if bucket.is_dir() else []
            if parts:
                frame = pl.concat([pl.read_ipc(p) for p in parts])
            else:
                frame = pl.DataFrame(schema={**self.schemas[index], columns.ROW: pl.Int64})
            frame = sources.textify(frame, name, keep=(*ev.TYPED_EVENT_COLUMNS, columns.ROW))
            frame = frame.hstack(
                [pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias(columns.BAD)])
            named.append((name, frame, False))
        shutil.rmtree(bucket, ignore_errors=True)  # each batch is read once
        raw = sources.combine_raw(named, required=REQUIRED_EVENT_COLUMNS)
        # Same columns in every batch (a batch may lack a column some file has).
        return sources.RawInput(raw.frame, tuple(dict.fromkeys([*raw.columns, *self.columns])),
                                tuple(self.names))

    def _validate(self, bucket: Path) -> EventTable:
        raw = self._raw(bucket)
        table = ev.validate_events(raw, self.timezone)
        self.used += table.report.rows_used
        self.duplicates += table.report.duplicates
        self.rejected += table.report.rejected
        if table.rejects.height:
            self.rejects.append(table.rejects)
        self.done_rows += table.report.rows_read
        self.report("validate", self.done_rows, self.rows_read)
        return table

    def batches(self, roster: pl.DataFrame | None, unresolved: Sequence[str] = (),
                ) -> Iterator[tuple[pl.DataFrame, pl.DataFrame | None]]:
        self._split()
        self.report("validate", 0, self.rows_read)
        special_table = self._validate(self._bucket("special"))
        special = special_table.frame
        # every teacher named on any row (SPEC §5), placed in its batch by id below
        named_all = pl.Series([*special_table.seen_teacher_ids, *unresolved], dtype=pl.String)
        edges: list[str | None] = [None, *self.bounds, None]
        for number, (low, high) in enumerate(itertools.pairwise(edges)):
            table = self._validate(self._bucket(f"{number:06d}"))
            extra = special.filter(_in_range(pl.col("teacher_id"), low, high))
            frame = table.frame
            if extra.height:
                frame = pl.concat([frame, extra.select(frame.columns)], how="vertical_relaxed") \
                    .sort(["teacher_id", "at_us", "event_id"])
            roster_part = roster.filter(_in_range(pl.col("teacher_id"), low, high)) \
                if roster is not None else None
            named = [*table.seen_teacher_ids, *named_all.to_frame("teacher_id").filter(
                _in_range(pl.col("teacher_id"), low, high))["teacher_id"].to_list()]
            roster_part = with_named_teachers(roster_part, named, frame["teacher_id"].unique().to_list())
            yield frame.drop("source", "row"), roster_part

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
