"""Run many policies over the same events with the bulk engine and write their ledgers.

Events go through the same validation as :func:`credit_rules.io.load_events`; every
policy is compiled once; each ledger is written as ``<out_dir>/<policy name>.parquet``
atomically (a temporary file replaced at the end: a failure leaves the previous file),
with the layout of :func:`credit_rules.io.write_ledger` (typed: decimals, lists of structs)
in row groups of :data:`ROW_GROUP_ROWS` rows whatever the batching, so the same inputs
give the same bytes. Each ledger carries its provenance in its Parquet key-value metadata
(:data:`~credit_rules.recompute.provenance.PROVENANCE_KEY`) and ``<out_dir>/manifest.json``
is written last. Events too large for memory come in batches
(:mod:`credit_rules.recompute.batches`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import attrs
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from credit_rules import core, ir
from credit_rules.api import bulk_ledger, with_named_teachers
from credit_rules.core import lower
from credit_rules.errors import InputError
from credit_rules.eval import bulk
from credit_rules.io import EventTable, LoadReport, Roster, load_events
from credit_rules.io.ledger import atomic_output
from credit_rules.recompute.batches import Batcher, Progress, batch_sizes, batched_source
from credit_rules.recompute.checks import StrictInputError, input_warnings, table_columns
from credit_rules.recompute.folder import SPILL_PREFIX, SPILL_SUFFIX
from credit_rules.recompute.provenance import MANIFEST_NAME, PROVENANCE_KEY, provenance, write_manifest
from credit_rules.recompute.setup import prepare_run
from credit_rules.schema import LEDGER_COLUMNS, LEDGER_FRAME
from credit_rules.values import today

#: Rows per Parquet row group of a ledger, whatever the batching (same inputs, same bytes).
ROW_GROUP_ROWS = 65_536


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
    batch_rows: int | None = None,
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
    (no ledger is replaced) instead of being reported in ``warnings``. ``batch_rows``:
    Parquet inputs of more events are evaluated in batches of that many (by default, one
    pass up to 12M events, batches of 4M beyond: see :func:`batch_sizes`).

    >>> results = recompute("policies/five_year_cycle.policy", "events/", "roster.parquet")  # doctest: +SKIP
    >>> results[0].ledger.head()                                                           # doctest: +SKIP
    """
    report = progress or (lambda stage, done, total: None)
    with contextlib.ExitStack() as run:
        prepared = prepare_run(run, policies, events, roster, out_dir, strict_input=strict_input)
        checked, policy_files, out = prepared.checked, prepared.policy_files, prepared.out
        events, loaded_roster, inputs = prepared.events, prepared.roster, prepared.inputs
        started_at, started = prepared.started_at, prepared.started
        roster_frame = loaded_roster.frame if loaded_roster is not None else None
        results: list[RecomputeResult] = []
        one_pass, per_batch = batch_sizes(batch_rows)
        # Events are validated once per time zone (the zone decides local days).
        # issue 9 (C): and once per input contract (declared columns and vocabularies).
        for zone, contract in dict.fromkeys((p.timezone, lower(p).inputs) for p in checked):
            group = [p for p in checked if p.timezone == zone and lower(p).inputs == contract]
            source = batched_source(events, one_pass)
            if source is None:
                table = _load_table(events, zone, report, contract)
                present = table_columns(table)
                # SPEC §5: teachers named only on bad rows still get their rows.
                named = [*table.named_teacher_ids, *_unresolved(loaded_roster)]
                batches: Iterator[tuple[pl.DataFrame | pl.LazyFrame, pl.DataFrame | None]] = iter(
                    [(table.lazy_frame(), with_named_teachers(roster_frame, named, table))])
                count = 1
                accounting: Callable[[], tuple[LoadReport, pl.DataFrame]] = functools.partial(
                    _table_accounting, table)
            else:
                spill = Path(tempfile.mkdtemp(prefix=SPILL_PREFIX, suffix=SPILL_SUFFIX,
                                              dir=out))
                run.callback(shutil.rmtree, spill, ignore_errors=True)
                batcher = Batcher(source, zone, per_batch, report, spill, inputs=contract)
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
            batched = any(r.batches > 1 for r in results)
            write_manifest(out / MANIFEST_NAME, results, started_at,
                           per_batch if batched else one_pass)
    return results


def _table_accounting(table: EventTable) -> tuple[LoadReport, pl.DataFrame]:
    return table.report, table.rejects


def _load_table(events: Any, timezone: str, report: Progress,
                inputs: core.Inputs | None = None) -> EventTable:
    report("validate", 0, 1)
    if isinstance(events, EventTable):
        if events.timezone != timezone:
            raise InputError(
                f"events were loaded in {events.timezone} but a policy's timezone is {timezone}"
            )
        table = events
    else:
        table = load_events(events, timezone=timezone, inputs=inputs, time_ordered=False)
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


def _run_group(
    policies: list[ir.Policy],
    batches: Iterator[tuple[pl.DataFrame | pl.LazyFrame, pl.DataFrame | None]],
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
                    ranked[name].append(evaluate_part(
                        plan, frame if isinstance(frame, pl.DataFrame) else frame.collect(), roster_part, day))
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
            del frame, roster_part  # this batch's rows, before the next is read
            mark = time.perf_counter()
        for plan in plans:
            name = plan.policy.name
            if ranked[name]:
                t0 = time.perf_counter()
                ledger = finish_parts(plan, ranked[name], roster_frame, days[name])
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


def evaluate_part(
    plan: bulk.BulkPlan, frame: pl.DataFrame, roster: pl.DataFrame | None, as_of: dt.date
) -> pl.DataFrame:
    """Per teacher-period results of one batch of teachers, before ranks (ranks need every
    teacher): what :func:`finish_parts` takes, once every batch is done. Also used by the
    Spark engine (:mod:`credit_rules.spark`) for each bucket of teachers."""
    events_only = frame.with_columns(pl.lit(True).alias("__cr_events_only"))
    if plan.fallbacks:
        # The interpreter ranks all teachers at once: keep the events for one run at the
        # end (this policy is then evaluated unbatched).
        return events_only
    try:
        return bulk.evaluate_batch(plan, frame, roster, as_of=as_of)
    except bulk.BulkOverflow:
        return events_only  # sums beyond Int64: the interpreter, at the end


def finish_parts(plan: bulk.BulkPlan, parts: list[pl.DataFrame], roster: pl.DataFrame | None,
                 as_of: dt.date) -> pl.DataFrame:
    """The ledger of a policy with ranks from the :func:`evaluate_part` results of every
    batch: ranks compare the teachers of all batches at once."""
    if "__cr_events_only" in parts[0].columns:
        events = pl.concat(parts, how="diagonal_relaxed").drop("__cr_events_only")
        return bulk_ledger(plan, events.sort(["teacher_id", "at_us", "event_id"]), roster,
                           as_of=as_of)
    # bulk.finish reads its rows in teacher, period order: batches cut by teacher-id ranges
    # come in that order already, hashed buckets (Spark) do not.
    together = pl.concat(parts, how="diagonal_relaxed")
    return bulk.finish(plan, together.sort(["teacher_id", "pstart"], maintain_order=True))


def write_frame(frame: pl.DataFrame, path: str | os.PathLike[str]) -> None:
    """Write a typed ledger frame as Parquet atomically (the layout
    :func:`credit_rules.io.write_ledger` writes)."""
    with atomic_output(path, "wb") as handle:
        frame.write_parquet(handle)


def write_ledgers(
    out_dir: str | os.PathLike[str] | None,
    ledgers: Sequence[tuple[bulk.BulkPlan, pl.DataFrame]],
    *,
    engine: str,
    as_of: dict[str, dt.date],
    policy_files: dict[str, Path | None],
    inputs: dict[str, Any],
    events: LoadReport,
    rejects: pl.DataFrame,
    roster: Roster | None,
    seconds: tuple[float, dict[str, float]],
    batches: int = 1,
    warnings: dict[str, list[str]] | None = None,
) -> list[RecomputeResult]:
    """Write ledgers another engine computed (the Spark engine: :mod:`credit_rules.spark`)
    exactly as :func:`recompute` writes its own: ``<out_dir>/<policy>.parquet`` atomically,
    in row groups of :data:`ROW_GROUP_ROWS`, with the provenance in the Parquet metadata
    (``engine`` names the engine), but not ``manifest.json`` (:func:`write_manifest`, after
    every group). Hold the folder's lock (:func:`~credit_rules.recompute.folder.locked`)
    around the whole run. Without ``out_dir`` the results carry the frames.
    ``seconds``: (loading and validation, evaluation per policy)."""
    out = Path(out_dir) if out_dir is not None else None
    load_seconds, eval_seconds = seconds
    results: list[RecomputeResult] = []
    with contextlib.ExitStack() as stack:
        writers: list[tuple[bulk.BulkPlan, _Writer, dict[str, Any], float]] = []
        for plan, ledger in ledgers:
            name = plan.policy.name
            writer = _Writer(stack, out / f"{name}.parquet" if out is not None else None)
            t0 = time.perf_counter()
            writer.add(ledger)
            origin = provenance(plan.policy, policy_files.get(name), plan, as_of[name], inputs,
                                events, roster.report if roster is not None else None)
            origin["engine"] = engine if not plan.fallbacks else f"{engine}+interpreter"
            writer.finish({PROVENANCE_KEY: json.dumps(origin, ensure_ascii=False, sort_keys=True,
                                                      separators=(",", ":"))})
            writers.append((plan, writer, origin, time.perf_counter() - t0))
    for plan, writer, origin, written in writers:
        name = plan.policy.name
        results.append(RecomputeResult(
            policy=name, path=writer.path, rows=writer.rows, events=events,
            roster=roster.report if roster is not None else None, fallbacks=plan.fallbacks,
            load_seconds=load_seconds, eval_seconds=eval_seconds.get(name, 0.0),
            write_seconds=written, batches=batches, ledger=writer.ledger(), rejects=rejects,
            provenance=origin, warnings=tuple((warnings or {}).get(name, ())),
            roster_rejects=roster.rejects if roster is not None else None))
    return results
