"""Repeated keys among valid rows: identical copies are duplicates, differing ones conflicts.

A repeat is judged on valid rows only, comparing every column after parsing (``1.50`` and
``1.5`` hours are the same); a differing copy makes every copy a conflict, wherever it lies
(SPEC §2). Rosters use the same rule on ``teacher_id``.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from credit_rules.io.columns import KEY, REASON, ROW, SOURCE


def location(source: pl.Expr, row: pl.Expr, many_sources: bool) -> pl.Expr:
    """Where a row lies: its row number, prefixed by ``<source>:`` when there are several."""
    if many_sources:
        return pl.concat_str([source, pl.lit(":"), row.cast(pl.String)])
    return row.cast(pl.String)


def split_repeats(
    valid: pl.DataFrame,
    *,
    key: str,
    content: Sequence[str],
    many_sources: bool,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Split valid rows into (used, duplicates, conflicts-with-reason) by ``key``.

    Only rows whose key repeats are examined, so the common case stays cheap.
    """
    # A hash of the key finds the candidates cheaply; the key itself decides among them.
    hashes = valid.get_column(key).hash()
    if hashes.n_unique() == valid.height:
        repeated = valid.clear()
    else:
        repeated = valid.filter(hashes.is_duplicated()).filter(pl.col(key).is_duplicated())
    if repeated.height == 0:
        empty = valid.clear().with_columns(pl.lit(None, pl.String).alias(REASON))
        return valid, valid.clear(), empty
    variants = (
        repeated.select([key, *(c for c in content if c != key)]).unique()
        .group_by(key).agg(pl.len().alias("__cr_n"))
        .filter(pl.col("__cr_n") > 1)
        .select(key)
    )
    conflicting = repeated.join(variants, on=key, how="semi").sort(KEY)
    settled = repeated.join(variants, on=key, how="anti").sort(KEY)
    duplicates = settled.filter(~pl.col(key).is_first_distinct())
    locs = conflicting.group_by(key, maintain_order=True).agg(
        location(pl.col(SOURCE), pl.col(ROW), many_sources).alias("__cr_locs")
    ).select(
        key,
        pl.format(
            f"conflicting copies of {key} {{}} (rows {{}})",
            pl.col(key), pl.col("__cr_locs").list.join(", "),
        ).alias(REASON),
    )
    conflicts = conflicting.drop(REASON, strict=False).join(locs, on=key, how="left")
    dropped = pl.concat([conflicting.select(KEY), duplicates.select(KEY)])
    # Row order is not kept here: the caller sorts the used rows by a total order.
    used = valid.join(dropped, on=KEY, how="anti")
    return used, duplicates, conflicts
