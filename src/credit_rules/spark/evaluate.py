"""Validated events evaluated on Spark: buckets of teachers through the bulk engine, ranks once.

Every ledger row depends on one teacher's events and roster row, except ranks
(:func:`credit_rules.eval.bulk.run`), so:

1. ``buckets``: each teacher goes to bucket ``xxhash64(teacher_id) mod n``; events and
   roster rows (plus the teachers named only on rows that did not count, SPEC §5) are
   cogrouped by bucket and each bucket is one call of the bulk engine per policy
   (``applyInArrow``): :func:`credit_rules.api.bulk_ledger` for a policy without ranks, as
   the batched recompute does for a batch; for a policy with ranks the per-teacher results
   before ranks (:func:`credit_rules.recompute.run.evaluate_part`), as one Arrow blob;
2. ``ranks``: the blobs of a ranking policy are read on the driver and finished together
   (:func:`credit_rules.recompute.run.finish_parts`): ranks compare every teacher once.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl
import pyarrow as pa

from credit_rules.api import bulk_ledger, with_named_teachers
from credit_rules.eval import bulk
from credit_rules.io import Roster
from credit_rules.recompute.run import evaluate_part, finish_parts
from credit_rules.schema import LEDGER_COLUMNS, LEDGER_FRAME
from credit_rules.spark.arrow import frame_schema, from_blob, struct_type, to_blob, to_frame, to_table

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

#: The bucket of a teacher, the marker of a named-only teacher on the roster side, the
#: policy of an output row and the blob of a ranking policy's per-teacher results.
BUCKET, NAMED, POLICY, PART = "__cr_bucket", "__cr_named", "__cr_policy", "__cr_part"
_EVENT_ORDER = ["teacher_id", "at_us", "event_id"]


def bucket_of(teacher_id: Column, buckets: int) -> Column:
    """The bucket of a teacher: a stable hash of its id, modulo the bucket count."""
    from pyspark.sql import functions as F

    return F.pmod(F.xxhash64(teacher_id), F.lit(buckets))


def ledger_arrow() -> pa.Schema:
    """The Arrow (Spark) schema of a ledger frame (:data:`~credit_rules.schema.LEDGER_FRAME`)."""
    return frame_schema(LEDGER_FRAME)


def evaluate(
    events: DataFrame,
    event_schema: pl.Schema,
    roster: Roster | None,
    named: Sequence[str],
    plans: Sequence[bulk.BulkPlan],
    days: dict[str, dt.date],
    buckets: int,
) -> DataFrame:
    """One Spark job evaluating every plan over ``events`` (validated, on Spark): rows of
    ``__cr_policy`` plus the ledger columns, and for a ranking policy one ``__cr_part``
    blob per bucket (see :func:`ledgers`)."""
    from pyspark.sql import functions as F

    session = events.sparkSession
    side = _roster_side(roster, named)
    side_schema = side.schema
    side_arrow = frame_schema(side_schema)
    roster_df = session.createDataFrame(to_table(side, side_arrow), schema=struct_type(side_arrow))
    roster_df = roster_df.withColumn(BUCKET, bucket_of(F.col("teacher_id"), buckets))
    keyed = events.withColumn(BUCKET, bucket_of(F.col("teacher_id"), buckets))
    out_arrow = pa.schema([pa.field(POLICY, pa.string()), *ledger_arrow(), pa.field(PART, pa.binary())])
    run = functools.partial(
        _evaluate_bucket, plans=tuple(plans), days=days, event_schema=event_schema,
        roster_schema=roster.frame.schema if roster is not None else None,
        side_schema=side_schema, out=out_arrow)
    return keyed.groupBy(BUCKET).cogroup(roster_df.groupBy(BUCKET)).applyInArrow(
        run, struct_type(out_arrow))


def _roster_side(roster: Roster | None, named: Sequence[str]) -> pl.DataFrame:
    """The roster rows and, marked, the teachers named only on rows that did not count."""
    names = pl.DataFrame({"teacher_id": list(named)}, schema={"teacher_id": pl.String})
    if roster is None:
        return names.with_columns(pl.lit(True).alias(NAMED))
    return pl.concat([roster.frame.with_columns(pl.lit(False).alias(NAMED)),
                      names.with_columns(pl.lit(True).alias(NAMED))], how="diagonal")


def _evaluate_bucket(
    events_arrow: pa.Table, side_arrow: pa.Table, *, plans: tuple[bulk.BulkPlan, ...],
    days: dict[str, dt.date], event_schema: pl.Schema, roster_schema: pl.Schema | None,
    side_schema: pl.Schema, out: pa.Schema,
) -> pa.Table:
    """One bucket of teachers through the bulk engine, one call per policy."""
    events = to_frame(events_arrow.drop_columns([BUCKET]), event_schema).sort(_EVENT_ORDER)
    side = to_frame(side_arrow.drop_columns([BUCKET]), side_schema)
    named = side.filter(pl.col(NAMED)).get_column("teacher_id").to_list()
    roster_part = (side.filter(~pl.col(NAMED)).drop(NAMED).cast(dict(roster_schema))  # type: ignore[arg-type]
                   if roster_schema is not None else None)
    roster_part = with_named_teachers(roster_part, named, events.get_column("teacher_id").unique().to_list())
    pieces: list[pl.DataFrame] = []
    for plan in plans:
        name = plan.policy.name
        if plan.policy.ranks:
            part = evaluate_part(plan, events, roster_part, days[name])
            pieces.append(pl.DataFrame({POLICY: [name], PART: [to_blob(part)]},
                                       schema={POLICY: pl.String, PART: pl.Binary}))
        else:
            ledger = bulk_ledger(plan, events, roster_part, as_of=days[name])
            pieces.append(ledger.with_columns(pl.lit(name, pl.String).alias(POLICY)))
    if not pieces:
        return out.empty_table()
    rows = pl.concat(pieces, how="diagonal_relaxed") if len(pieces) > 1 else pieces[0]
    for column in out.names:
        if column not in rows.columns:
            rows = rows.with_columns(pl.lit(None).alias(column))
    return to_table(rows, out)


def ledgers(
    result: DataFrame, plans: Sequence[bulk.BulkPlan], roster: Roster | None, named: Sequence[str],
    days: dict[str, dt.date],
) -> dict[str, pl.DataFrame]:
    """Every plan's ledger frame from :func:`evaluate`'s output, on the driver: the rows of
    the policies without ranks as they are, the ranking policies finished here (ranks
    across every bucket); each sorted by ``teacher_id``, ``period_start`` (SPEC §5)."""
    table = pl.from_arrow(result.toArrow())
    assert isinstance(table, pl.DataFrame)
    out: dict[str, pl.DataFrame] = {}
    roster_frame = roster.frame if roster is not None else None
    for plan in plans:
        name = plan.policy.name
        mine = table.filter(pl.col(POLICY) == name)
        if plan.policy.ranks:
            parts = [from_blob(b) for b in mine.get_column(PART).to_list()]
            full = with_named_teachers(roster_frame, named, [])
            ledger = finish_parts(plan, parts, full, days[name]) if parts else \
                pl.DataFrame(schema=LEDGER_FRAME)  # no teacher at all
        else:
            ledger = mine.select(LEDGER_COLUMNS)
        out[name] = ledger.cast(LEDGER_FRAME).sort(  # type: ignore[arg-type]
            ["teacher_id", "period_start"], maintain_order=True)
    return out
