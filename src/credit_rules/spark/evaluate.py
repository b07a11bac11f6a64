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
from credit_rules.spark.validate import SIDE, SIDE_KIND

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

#: The bucket of a teacher, the policy of an output row and the blob of a ranking
#: policy's per-teacher results.
BUCKET, POLICY, PART = "__cr_bucket", "__cr_policy", "__cr_part"
#: The bucket of the validation's side rows (never a teacher's: buckets are >= 0).
SIDE_BUCKET = -1
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
    plans: Sequence[bulk.BulkPlan],
    days: dict[str, dt.date],
    buckets: int,
) -> DataFrame:
    """Every plan over ``events`` (:attr:`ValidatedEvents.events`), lazily: rows of
    ``__cr_policy`` plus the ledger columns; for a ranking policy one ``__cr_part`` blob
    per bucket; and the validation's side rows passed through (``__cr_side_kind``)."""
    from pyspark.sql import functions as F

    session = events.sparkSession
    side = roster.frame if roster is not None else pl.DataFrame(schema={"teacher_id": pl.String})
    side_arrow = frame_schema(side.schema)
    roster_df = session.createDataFrame(to_table(side, side_arrow), schema=struct_type(side_arrow))
    roster_df = roster_df.withColumn(BUCKET, bucket_of(F.col("teacher_id"), buckets))
    keyed = events.withColumn(BUCKET, F.when(F.col(SIDE_KIND).isNull(), bucket_of(F.col("teacher_id"), buckets))
                              .otherwise(F.lit(SIDE_BUCKET)))
    out_arrow = pa.schema([pa.field(POLICY, pa.string()), pa.field(SIDE_KIND, pa.string()), *ledger_arrow(),
                           pa.field(PART, pa.binary())])
    run = functools.partial(
        _evaluate_bucket, plans=tuple(plans), days=days, event_schema=event_schema,
        roster_schema=roster.frame.schema if roster is not None else None, out=out_arrow)
    return keyed.groupBy(BUCKET).cogroup(roster_df.groupBy(BUCKET)).applyInArrow(
        run, struct_type(out_arrow))


def _evaluate_bucket(
    events_arrow: pa.Table, roster_arrow: pa.Table, *, plans: tuple[bulk.BulkPlan, ...],
    days: dict[str, dt.date], event_schema: pl.Schema, roster_schema: pl.Schema | None, out: pa.Schema,
) -> pa.Table:
    """One bucket of teachers through the bulk engine, one call per policy (or the side
    rows of the validation, passed on)."""
    rows = pl.from_arrow(events_arrow.drop_columns([BUCKET]))
    assert isinstance(rows, pl.DataFrame)
    side = rows.filter(pl.col(SIDE_KIND).is_not_null())
    pieces: list[pl.DataFrame] = [side.select(SIDE_KIND, pl.col(SIDE).alias(PART))] if side.height else []
    events = rows.filter(pl.col(SIDE_KIND).is_null()).drop(SIDE_KIND, SIDE) \
        .cast(dict(event_schema)).sort(_EVENT_ORDER)  # type: ignore[arg-type]
    roster_part = (to_frame(roster_arrow.drop_columns([BUCKET]), roster_schema)
                   if roster_schema is not None else None)
    if events.height or (roster_part is not None and roster_part.height):
        pieces.extend(_policies(plans, days, events, roster_part))
    if not pieces:
        return out.empty_table()
    joined = pl.concat(pieces, how="diagonal_relaxed") if len(pieces) > 1 else pieces[0]
    missing = [pl.lit(None).alias(c) for c in out.names if c not in joined.columns]
    return to_table(joined.with_columns(missing) if missing else joined, out)


def _policies(plans: Sequence[bulk.BulkPlan], days: dict[str, dt.date], events: pl.DataFrame,
              roster: pl.DataFrame | None) -> list[pl.DataFrame]:
    """Each plan over the events and roster of some teachers: ledger rows, or for a policy
    with ranks its per-teacher results before ranks as one blob."""
    pieces: list[pl.DataFrame] = []
    for plan in plans:
        name = plan.policy.name
        if plan.policy.ranks:
            part = evaluate_part(plan, events, roster, days[name])
            pieces.append(pl.DataFrame({POLICY: [name], PART: [to_blob(part)]},
                                       schema={POLICY: pl.String, PART: pl.Binary}))
        else:
            ledger = bulk_ledger(plan, events, roster, as_of=days[name])
            pieces.append(ledger.with_columns(pl.lit(name, pl.String).alias(POLICY)))
    return pieces


def side_rows(result: DataFrame) -> list[tuple[str, bytes]]:
    """The validation's side rows of :func:`evaluate`'s output (kind, blob)."""
    from pyspark.sql import functions as F

    table = result.filter(F.col(SIDE_KIND).isNotNull()).select(SIDE_KIND, PART).toArrow()
    return list(zip(table.column(SIDE_KIND).to_pylist(), table.column(PART).to_pylist(), strict=True))


def named_only(plans: Sequence[bulk.BulkPlan], days: dict[str, dt.date], event_schema: pl.Schema,
               roster: Roster | None, named: Sequence[str]) -> dict[str, pl.DataFrame]:
    """Per plan, the rows (or, with ranks, the per-teacher results) of the teachers named
    only on rows that did not count in their part and without a roster row (SPEC §5),
    evaluated with no events. A teacher among them with valid events in another part is
    evaluated in its bucket too: :func:`ledgers` keeps that bucket's rows."""
    on_roster = set(roster.frame.get_column("teacher_id").to_list()) if roster is not None else set()
    names = sorted(set(named) - on_roster)
    if not names:
        return {}
    frame = with_named_teachers(roster.frame.clear() if roster is not None else None, names, None)
    empty = pl.DataFrame(schema=event_schema)
    out: dict[str, pl.DataFrame] = {}
    for plan in plans:
        name = plan.policy.name
        out[name] = (evaluate_part(plan, empty, frame, days[name]) if plan.policy.ranks
                     else bulk_ledger(plan, empty, frame, as_of=days[name]))
    return out


def ledgers(
    result: DataFrame, plans: Sequence[bulk.BulkPlan], roster: Roster | None, named: Sequence[str],
    extra: dict[str, pl.DataFrame], days: dict[str, dt.date],
) -> dict[str, pl.DataFrame]:
    """Every plan's ledger frame from :func:`evaluate`'s output, on the driver: the rows of
    the policies without ranks as they are, the ranking policies finished here (ranks
    across every bucket), the named-only teachers' rows (``extra``: :func:`named_only`)
    added where no bucket had the teacher; each sorted by ``teacher_id``, ``period_start``."""
    from pyspark.sql import functions as F

    table = pl.from_arrow(result.filter(F.col(SIDE_KIND).isNull()).drop(SIDE_KIND).toArrow())
    assert isinstance(table, pl.DataFrame)
    out: dict[str, pl.DataFrame] = {}
    # Read only by a ranking policy the interpreter evaluates (plan.fallbacks) at the end.
    roster_frame = with_named_teachers(roster.frame if roster is not None else None, named, None)
    for plan in plans:
        name = plan.policy.name
        mine = table.filter(pl.col(POLICY) == name)
        if plan.policy.ranks:
            parts = [from_blob(b) for b in mine.get_column(PART).to_list()]
            parts = [*parts, *_new_teachers(extra.get(name), parts)]
            ledger = finish_parts(plan, parts, roster_frame, days[name]) if parts else \
                pl.DataFrame(schema=LEDGER_FRAME)  # no teacher at all
        else:
            ledger = mine.select(LEDGER_COLUMNS)
            ledger = pl.concat([ledger.cast(LEDGER_FRAME), *_new_teachers(extra.get(name), [ledger])])  # type: ignore[arg-type]
        out[name] = ledger.cast(LEDGER_FRAME).sort(  # type: ignore[arg-type]
            ["teacher_id", "period_start"], maintain_order=True)
    return out


def _new_teachers(rows: pl.DataFrame | None, known: Sequence[pl.DataFrame]) -> list[pl.DataFrame]:
    """``rows`` of the teachers none of ``known`` has."""
    if rows is None or rows.height == 0:
        return []
    seen = pl.concat([k.select("teacher_id") for k in known]) if known \
        else pl.DataFrame(schema={"teacher_id": pl.String})
    fresh = rows.join(seen.unique(), on="teacher_id", how="anti", maintain_order="left")
    return [fresh] if fresh.height else []
