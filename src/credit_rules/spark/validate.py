"""Events validated on Spark: the io validation per partition, repeats decided once.

1. ``repeats``: a Spark aggregation over ``event_id`` alone finds the ids seen more than
   once anywhere in the input (SPEC §2: a differing copy under another teacher voids
   both, so copies may sit in any partition, under any teacher);
2. their copies (a scan and a filter in the JVM) are validated together in one small
   stage on the driver by :func:`credit_rules.io.events.validate_events`, whose
   :mod:`credit_rules.io.repeats` decides duplicates and conflicts; the rows it keeps are
   joined back (a union) to the events of step 3;
3. ``validate``: every other row is validated in its partition, on its Arrow batches
   (``mapInArrow``), by the same function — the one definition of a valid row. No
   partition sees a repeated id, so none decides a repeat. This step is lazy: it runs
   inside the evaluation's job, so the events cross into Python once before the shuffle.

Rejected rows, the accounting, the teachers named only on rows that did not count and the
columns present come back beside the events as side rows of Arrow IPC blobs
(:mod:`credit_rules.spark.arrow`), gathered by :func:`summarize`.
"""

from __future__ import annotations

import functools
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs
import polars as pl
import pyarrow as pa

from credit_rules import core
from credit_rules.errors import InputError
from credit_rules.io import LoadReport, sources
from credit_rules.io import events as ev
from credit_rules.io.columns import BAD, KEY, ROW, SOURCE
from credit_rules.recompute.checks import table_columns
from credit_rules.schema import REQUIRED_EVENT_COLUMNS
from credit_rules.spark.arrow import from_blob, spark_schema, struct_type, to_blob, to_table

if TYPE_CHECKING:
    from pyspark import Broadcast
    from pyspark.sql import DataFrame

#: The kind of a side row of the validation's output (null on an event row) and its blob.
SIDE_KIND, SIDE = "__cr_side_kind", "__cr_side"
#: Columns of the validated events that evaluation does not read.
_PROVENANCE_COLUMNS = ("source", "row")
#: The repeat key: ``event_id`` as text with every white space removed. Two ids the
#: validation reads as equal (trimmed) are equal here too, so no repeat is missed; ids that
#: differ inside are merely validated together (the validation tells them apart).
_REPEAT_KEY = "__cr_repeat_key"


@attrs.frozen
class ValidatedEvents:
    """The events being validated on Spark, and the repeats decided on the driver.

    ``events`` is lazy: the valid rows of every partition (the :attr:`EventTable.frame`
    layout without ``source`` and ``row``, plus ``__cr_side_kind`` and ``__cr_side``
    null) followed by each partition's side rows (what :func:`summarize` reads), and the
    kept copies of repeated ids. Nothing runs until the events are evaluated, so the rows
    go through Python once."""

    events: DataFrame
    schema: pl.Schema
    #: Every copy of every repeated id, validated together (rejects, accounting).
    repeats: ev.EventTable


@attrs.frozen
class Summary:
    """What the validation reported, gathered on the driver."""

    report: LoadReport
    rejects: pl.DataFrame
    #: Teachers named on some row that did not count in its part (SPEC §5: they keep
    #: their ledger rows; those with valid events elsewhere are found after evaluation).
    named: tuple[str, ...]
    #: Columns with at least one value, for the input warnings of recompute.
    present: frozenset[str]


def raw_input(frame: pl.DataFrame, names: Sequence[str], columns: Sequence[str]) -> sources.RawInput:
    """Raw rows (user columns, ``__cr_source``, ``__cr_row``, maybe ``__cr_bad``) as the
    :class:`~credit_rules.io.sources.RawInput` the loader would build from their files:
    each source's rows read as text but for the typed columns (as the batched recompute
    reads Parquet), ``names`` every source of the input, ``columns`` every user column."""
    named: list[tuple[str, pl.DataFrame, bool]] = []
    present = set(frame.get_column(SOURCE).unique().to_list()) if frame.height else set()
    strange = {value: source_name(value, names) for value in present if value not in names}
    if strange:  # Spark names a file by its URI: back to the name the user gave
        frame = frame.with_columns(pl.col(SOURCE).replace(strange))
        present = {strange.get(value, value) for value in present}
    for name in names:
        if name not in present:
            continue
        part = frame.filter(pl.col(SOURCE) == name).drop(SOURCE, KEY, strict=False)
        part = sources.textify(part, name, keep=(*ev.TYPED_EVENT_COLUMNS, ROW, BAD))
        if BAD not in part.columns:
            part = part.hstack([pl.repeat(None, part.height, dtype=pl.String, eager=True).alias(BAD)])
        named.append((name, part.with_columns(pl.col(ROW).cast(pl.Int64)), False))
    if not named:  # an empty input: the columns as text, so the validation gives its layout
        empty = pl.DataFrame(schema={**dict.fromkeys(columns, pl.String), ROW: pl.Int64, BAD: pl.String})
        named.append((names[0] if names else "<spark>", empty, False))
    raw = sources.combine_raw(named, required=REQUIRED_EVENT_COLUMNS)
    return sources.RawInput(raw.frame, tuple(dict.fromkeys([*raw.columns, *columns])), tuple(names))


def source_name(uri: str, names: Sequence[str]) -> str:
    """The events file, as the user named it, of the ``file:`` URI Spark reports for it."""
    path = Path(urllib.parse.unquote(urllib.parse.urlparse(uri).path)).resolve()
    for name in names:
        if Path(name).resolve() == path:
            return name
    return uri


def validate(raw: DataFrame, names: Sequence[str], timezone: str,
             inputs: core.Inputs | None = None) -> ValidatedEvents:
    """Validate the raw events ``raw`` (user columns plus ``__cr_source`` and ``__cr_row``)
    on Spark; ``names``: every source, in input order."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import to_arrow_schema

    user = [c for c in raw.columns if c not in (SOURCE, ROW, BAD)]
    missing = [c for c in REQUIRED_EVENT_COLUMNS if c not in user]
    if missing:
        raise InputError(f"events: required column(s) {', '.join(missing)} missing "
                         f"(found: {', '.join(user) or 'none'}); add or rename them")
    # The layout of a validated event, from the validation itself (typed declared columns
    # included): validate no rows of the input's types.
    probe_frame = pl.from_arrow(to_arrow_schema(raw.schema).empty_table())
    assert isinstance(probe_frame, pl.DataFrame)
    probe = ev.validate_events(raw_input(probe_frame, names, user), timezone, inputs=inputs)
    event_schema = probe.frame.drop(*_PROVENANCE_COLUMNS).schema
    event_arrow = spark_schema(probe.frame.drop(*_PROVENANCE_COLUMNS).to_arrow().schema)
    out_arrow = pa.schema([*event_arrow, pa.field(SIDE_KIND, pa.string()), pa.field(SIDE, pa.binary())])

    keyed = raw.withColumn(
        _REPEAT_KEY, F.regexp_replace(F.col("event_id").cast("string"), r"(?U)\s", ""))
    # Stage 1 reads event_id alone: the repeated ids are few, and go to every partition.
    repeated = sorted(r[0] for r in keyed.groupBy(_REPEAT_KEY).count()
                      .filter(F.col("count") > 1).select(_REPEAT_KEY).collect())
    session = raw.sparkSession
    # Stage 2: their copies (a scan and a filter, no Python), decided together once.
    copy_frame = pl.from_arrow(to_arrow_schema(raw.schema).empty_table())
    if repeated:
        keys = session.createDataFrame([(k,) for k in repeated], f"{_REPEAT_KEY} string")
        copy_frame = pl.from_arrow(keyed.join(F.broadcast(keys), _REPEAT_KEY, "left_semi")
                                   .drop(_REPEAT_KEY).toArrow())
    assert isinstance(copy_frame, pl.DataFrame)
    decided = ev.validate_events(raw_input(copy_frame, names, user), timezone, inputs=inputs)
    # Stage 3 (lazy): every other row validated in its partition.
    check = functools.partial(_validate_partition, names=tuple(names), columns=tuple(user),
                              timezone=timezone, inputs=inputs, schema=out_arrow,
                              event_schema=event_schema,
                              repeated=session.sparkContext.broadcast(frozenset(repeated)))
    events = keyed.mapInArrow(check, struct_type(out_arrow))
    kept = decided.frame.drop(*_PROVENANCE_COLUMNS)
    if kept.height:
        table = to_table(kept, event_arrow)
        kept_df = session.createDataFrame(table, schema=struct_type(event_arrow))
        events = events.unionByName(kept_df, allowMissingColumns=True)
    return ValidatedEvents(events, event_schema, decided)


def summarize(side: Sequence[tuple[str, bytes]], repeats: ev.EventTable) -> Summary:
    """The accounting, rejected rows, named teachers and present columns of every part
    (``side``: kind and blob of each side row) and of the repeat stage."""
    parts: dict[str, list[pl.DataFrame]] = {"rejects": [], "counts": [], "named": [], "present": []}
    for kind, blob in side:
        parts[kind].append(from_blob(blob))
    parts["rejects"].append(repeats.rejects)
    parts["counts"].append(_counts(repeats))
    parts["named"].append(_named(repeats))
    parts["present"].append(_present(repeats))
    counts = pl.concat(parts["counts"]).sum()
    report = LoadReport(int(counts["read"][0]), int(counts["used"][0]), int(counts["duplicates"][0]),
                        int(counts["rejected"][0]), "events")
    rejects = pl.concat(parts["rejects"], how="diagonal_relaxed").sort("source", "row")
    named = pl.concat(parts["named"]).get_column("teacher_id").unique().sort().to_list()
    present = frozenset(pl.concat(parts["present"]).get_column("column").to_list())
    return Summary(report, rejects, tuple(named), present)


def _counts(table: ev.EventTable) -> pl.DataFrame:
    r = table.report
    return pl.DataFrame({"read": [r.rows_read], "used": [r.rows_used], "duplicates": [r.duplicates],
                         "rejected": [r.rejected]}, schema={c: pl.Int64 for c in
                                                            ("read", "used", "duplicates", "rejected")})


def _named(table: ev.EventTable) -> pl.DataFrame:
    """Teachers named on a row of this part without a valid event in it."""
    named = set(table.named_teacher_ids)
    valid = table.with_valid_events(named)
    return pl.DataFrame({"teacher_id": sorted(named - valid)}, schema={"teacher_id": pl.String})


def _present(table: ev.EventTable) -> pl.DataFrame:
    return pl.DataFrame({"column": sorted(table_columns(table))}, schema={"column": pl.String})


def _validate_partition(
    batches: Iterator[pa.RecordBatch], *, names: tuple[str, ...], columns: tuple[str, ...],
    timezone: str, inputs: core.Inputs | None, schema: pa.Schema, event_schema: pl.Schema,
    repeated: Broadcast[frozenset[str]],
) -> Iterator[pa.RecordBatch]:
    """One partition's rows validated at once (``mapInArrow``), but for the rows whose id
    repeats somewhere (``repeated``: decided in the repeat stage): its valid events, then
    one side row each for its rejected rows, its accounting, the teachers it named without
    a valid event, and the columns it had values in."""
    arrow = list(batches)
    if not arrow or not any(b.num_rows for b in arrow):
        return
    frame = pl.from_arrow(pa.Table.from_batches(arrow))
    assert isinstance(frame, pl.DataFrame)
    is_copy = pl.col(_REPEAT_KEY).is_in(list(repeated.value)) if repeated.value else pl.lit(False)
    # time_ordered=False: each bucket's events are put in time order where they are evaluated
    table = ev.validate_events(raw_input(frame.filter(~is_copy).drop(_REPEAT_KEY), names, columns),
                               timezone, inputs=inputs, time_ordered=False)
    events = table.frame.drop(*_PROVENANCE_COLUMNS).cast(dict(event_schema))  # type: ignore[arg-type]
    side = pl.DataFrame({
        SIDE_KIND: ["rejects", "counts", "named", "present"],
        SIDE: [to_blob(table.rejects), to_blob(_counts(table)), to_blob(_named(table)), to_blob(_present(table))],
    }, schema={SIDE_KIND: pl.String, SIDE: pl.Binary})
    out = pl.concat([events, side], how="diagonal")
    yield from out.select(schema.names).to_arrow().cast(schema).to_batches(max_chunksize=1_000_000)
