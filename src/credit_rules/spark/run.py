"""Recompute on Spark: Spark DataFrames in, the ledger out; or files in, Parquet ledgers out.

:func:`recompute` takes Spark DataFrames and returns the ledger as one; :func:`recompute_files`
takes paths as :func:`credit_rules.recompute.recompute` does and writes the same files
through its writer (:func:`credit_rules.recompute.run.write_ledgers`): same schema, row
groups, provenance and ``manifest.json``. :func:`ledger_frames` is the latter without
files, for reports comparing policies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow.parquet as pq

from credit_rules import ir
from credit_rules.api import as_policy, input_contract
from credit_rules.errors import InputError
from credit_rules.eval import bulk
from credit_rules.io import Roster, load_roster, sources
from credit_rules.io import events as ev
from credit_rules.io.columns import KEY, ROW, SOURCE
from credit_rules.recompute.batches import Progress
from credit_rules.recompute.checks import StrictInputError, input_warnings
from credit_rules.recompute.folder import path_items
from credit_rules.recompute.provenance import MANIFEST_NAME, write_manifest
from credit_rules.recompute.run import RecomputeResult, write_ledgers
from credit_rules.recompute.setup import prepare_run
from credit_rules.schema import LEDGER_COLUMNS, REQUIRED_EVENT_COLUMNS
from credit_rules.spark.arrow import spark_schema, struct_type, to_table
from credit_rules.spark.evaluate import PART, POLICY, evaluate, ledger_arrow, ledgers, named_only, side_rows
from credit_rules.spark.session import spark_session
from credit_rules.spark.validate import summarize, validate
from credit_rules.values import today

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

#: Events per partition aimed at when no partition count is given: a partition's
#: validation and evaluation then stay well under 2 GiB of executor memory.
PARTITION_ROWS = 1_000_000
#: The source name of events given as a Spark DataFrame (row numbers are its order).
DATAFRAME_SOURCE = "<spark>"


def recompute(
    policy: ir.Policy | str | os.PathLike[str],
    events_df: DataFrame,
    roster_df: DataFrame | None = None,
    *,
    as_of: dt.date | None = None,
    partitions: int | None = None,
) -> DataFrame:
    """The ledger of ``policy`` over the events of a Spark DataFrame, as a Spark DataFrame
    with the columns and types of the Parquet ledger ``credit-rules recompute`` writes.

    ``events_df`` has the event columns of SPEC §2 (any Spark types the loader reads);
    ``roster_df`` the roster columns of SPEC §3 (validated on the driver: a roster is
    small beside the events). ``partitions``: buckets of teachers evaluated apart (default:
    the session's parallelism). Rows are sorted by ``teacher_id``, ``period_start``.

    >>> ledger = recompute("policies/five_year_cycle.policy", spark.read.parquet("events/"))  # doctest: +SKIP
    >>> ledger.filter("NOT met").count()                                                      # doctest: +SKIP
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    checked = as_policy(policy)
    contract = input_contract(checked)
    session = events_df.sparkSession
    buckets = partitions or session.sparkContext.defaultParallelism
    raw, names = (events_df, _source_names(events_df)) if SOURCE in events_df.columns \
        else (numbered(events_df), [DATAFRAME_SOURCE])
    roster = load_roster(roster_df.toArrow(), inputs=contract) if roster_df is not None else None
    validated = validate(raw, names, checked.timezone, contract)
    plan = bulk.compile_plan(checked)
    days = {checked.name: as_of or today(checked.timezone)}
    result = evaluate(validated.events, validated.schema, roster, [plan], days, buckets)
    result = result.persist(StorageLevel.MEMORY_AND_DISK)  # ledger rows: small beside the events
    summary = summarize(side_rows(result), validated.repeats)
    named = [*summary.named, *_unresolved(roster)]
    extra = named_only([plan], days, validated.schema, roster, named)
    schema = ledger_arrow()
    if plan.policy.ranks:
        frame = ledgers(result, [plan], roster, named, extra, days)[checked.name]
        ledger = session.createDataFrame(to_table(frame, schema), schema=struct_type(schema))
    else:
        ledger = result.filter(F.col(PART).isNull() & (F.col(POLICY) == checked.name)).select(*LEDGER_COLUMNS)
        if checked.name in extra:
            rows = session.createDataFrame(to_table(extra[checked.name], schema), schema=struct_type(schema))
            ledger = ledger.unionByName(rows.join(ledger.select("teacher_id").distinct(), "teacher_id", "left_anti"))
    return ledger.orderBy("teacher_id", "period_start")


def numbered(events_df: DataFrame) -> DataFrame:
    """``events_df`` with ``__cr_source`` (:data:`DATAFRAME_SOURCE`) and ``__cr_row``: a
    unique number growing with the DataFrame's order (not consecutive across partitions: a
    DataFrame has no row numbers, and counting them would cost a job). It only tells rows
    apart; the ledger does not depend on it."""
    from pyspark.sql import functions as F

    return (events_df.withColumn(ROW, F.monotonically_increasing_id() + 1)
            .withColumn(SOURCE, F.lit(DATAFRAME_SOURCE)))


def _source_names(events_df: DataFrame) -> list[str]:
    return sorted(r[0] for r in events_df.select(SOURCE).distinct().collect())


def _unresolved(roster: Roster | None) -> tuple[str, ...]:
    return tuple(roster.unresolved_teacher_ids()) if roster is not None else ()


def read_events(session: SparkSession, events: Any, partitions: int | None) -> tuple[DataFrame, list[str], int]:
    """Event files as a raw Spark DataFrame (user columns, ``__cr_source``, ``__cr_row``),
    the source names in input order, and the partition count. Parquet is read by Spark,
    each file numbered by its row index; other formats (JSON Lines, CSV, Arrow) are read
    by the loader on the driver and distributed."""
    from pyspark.sql import functions as F

    items = path_items(events)
    if items is None:
        raise InputError("the Spark engine reads events from files or folders; "
                         "for a DataFrame use credit_rules.spark.recompute")
    files = [p for item in items for p in sources.expand_folder(item)]
    names = [os.fspath(p) for p in files]
    parallelism = session.sparkContext.defaultParallelism
    if not all(isinstance(p, str | os.PathLike) and sources.format_of(p) == "parquet" for p in files):
        raw = sources.read_raw(files, what="events", required=REQUIRED_EVENT_COLUMNS,
                               typed=ev.TYPED_EVENT_COLUMNS)
        count = partitions or max(parallelism, math.ceil(raw.frame.height / PARTITION_ROWS))
        table = raw.frame.drop(KEY).to_arrow()
        frame = session.createDataFrame(table, schema=struct_type(table.schema)).repartition(count)
        return frame, list(raw.source_names), count
    for path in files:
        if not Path(path).is_file():
            raise InputError(f"{path}: no such events file; check the path")
    metadata = [pq.ParquetFile(p).metadata for p in files]
    rows = sum(m.num_rows for m in metadata)
    count = partitions or max(parallelism, math.ceil(rows / PARTITION_ROWS))
    size = sum(Path(p).stat().st_size for p in files)
    # Spark cuts Parquet files at row groups into splits of at most this many bytes.
    session.conf.set("spark.sql.files.maxPartitionBytes", str(max(1 << 20, size // count)))
    frame = session.read.schema(_parquet_schema(files)).parquet(*[str(Path(p).resolve()) for p in files])
    frame = frame.select("*", F.col("_metadata.file_path").alias(SOURCE),
                         (F.col("_metadata.row_index") + 1).alias(ROW))
    if frame.rdd.getNumPartitions() < count:
        frame = frame.repartition(count)
    return frame, names, count



def _parquet_schema(files: Sequence[Any]) -> Any:
    """The Spark schema of all the Parquet files together, read from their footers here (no
    inference job); a column missing from a file reads as null there, as the loader reads it."""
    import pyarrow as pa

    try:
        schema = pa.unify_schemas([spark_schema(pq.read_schema(p)) for p in files],
                                  promote_options="permissive")
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"the events files do not share column types ({exc}); "
                         "write them with one schema") from None
    return struct_type(schema)


def recompute_files(
    policies: ir.Policy | str | os.PathLike[str] | Sequence[ir.Policy | str | os.PathLike[str]],
    events: Any,
    roster: Any = None,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    master: str | None = None,
    partitions: int | None = None,
    as_of: dt.date | None = None,
    strict_input: bool = False,
    progress: Progress | None = None,
    session: SparkSession | None = None,
) -> list[RecomputeResult]:
    """:func:`credit_rules.recompute.recompute` on Spark: the same inputs (paths), the same
    results and, with ``out_dir``, the same files. ``master``: the Spark master URL (default
    the active session, else ``local[*]``); ``partitions``: partitions of the events and
    buckets of teachers (default: about :data:`PARTITION_ROWS` events each)."""
    report = progress or (lambda stage, done, total: None)
    spark = session or spark_session(master)
    results: list[RecomputeResult] = []
    with contextlib.ExitStack() as run:
        prepared = prepare_run(run, policies, events, roster, out_dir, strict_input=strict_input)
        checked, policy_files, out = prepared.checked, prepared.policy_files, prepared.out
        events, loaded_roster, inputs = prepared.events, prepared.roster, prepared.inputs
        started_at, started = prepared.started_at, prepared.started
        from pyspark import StorageLevel

        raw, names, count = read_events(spark, events, partitions)
        spark.conf.set("spark.sql.shuffle.partitions", str(count))
        for zone, contract in dict.fromkeys((p.timezone, input_contract(p)) for p in checked):
            group = [p for p in checked if p.timezone == zone and input_contract(p) == contract]
            report("validate (spark)", 0, 1)
            valid = validate(raw, names, zone, contract)
            report("validate (spark)", 1, 1)
            plans = [bulk.compile_plan(p) for p in group]
            days = {p.name: as_of or today(p.timezone) for p in group}
            t0 = time.perf_counter()
            report("evaluate (spark)", 0, 1)
            result = evaluate(valid.events, valid.schema, loaded_roster, plans, days, count)
            result = result.persist(StorageLevel.MEMORY_AND_DISK)  # ledger rows: small beside the events
            summary = summarize(side_rows(result), valid.repeats)
            warnings = {p.name: input_warnings(p, summary.present, roster is not None) for p in group}
            found = [w for p in group for w in warnings[p.name]]
            if strict_input and found:
                raise StrictInputError("; ".join(dict.fromkeys(found)) + " (--strict-input)")
            if strict_input and summary.report.rejected:
                raise StrictInputError(
                    f"{summary.report.rejected} event(s) rejected (--strict-input): "
                    f"{summary.report.summary()}; see them with --rejects FILE", rejects=summary.rejects,
                    roster_rejects=loaded_roster.rejects if loaded_roster is not None else None)
            named = [*summary.named, *_unresolved(loaded_roster)]
            extra = named_only(plans, days, valid.schema, loaded_roster, named)
            frames = ledgers(result, plans, loaded_roster, named, extra, days)
            result.unpersist()
            report("evaluate (spark)", 1, 1)
            seconds = (time.perf_counter() - t0) / len(plans)
            load_seconds = t0 - started
            results.extend(write_ledgers(
                out, [(plan, frames[plan.policy.name]) for plan in plans], engine="spark",
                as_of=days, policy_files=policy_files, inputs=inputs, events=summary.report,
                rejects=summary.rejects, roster=loaded_roster,
                seconds=(load_seconds, dict.fromkeys(frames, seconds)), batches=count,
                warnings=warnings))
        order = {p.name: i for i, p in enumerate(checked)}
        results.sort(key=lambda r: order[r.policy])
        if out is not None:
            write_manifest(out / MANIFEST_NAME, results, started_at, 0)
    return results


def ledger_frames(
    policies: ir.Policy | str | os.PathLike[str] | Sequence[ir.Policy | str | os.PathLike[str]],
    events: Any,
    roster: Any = None,
    *,
    master: str | None = None,
    partitions: int | None = None,
    as_of: dt.date | None = None,
) -> dict[str, pl.DataFrame]:
    """Each policy's ledger frame (the typed layout of the Parquet ledger), computed on
    Spark from event and roster files given as :func:`credit_rules.recompute.recompute`
    takes them; keyed by policy name."""
    results = recompute_files(policies, events, roster, master=master, partitions=partitions,
                              as_of=as_of)
    out: dict[str, pl.DataFrame] = {}
    for r in results:
        assert r.ledger is not None
        out[r.policy] = r.ledger
    return out
