"""Repeated keys among valid rows: identical copies are duplicates, differing ones conflicts.

A repeat is judged on valid rows only, comparing every column after parsing (``1.50`` and
``1.5`` hours are the same); a differing copy makes every copy a conflict, wherever it lies
(SPEC §2). Rosters use the same rule on ``teacher_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from credit_rules.io.columns import KEY, REASON, ROW, SOURCE

#: The row's position in the valid rows, carried by the repeated rows.
_POSITION = "__cr_position"


def location(source: pl.Expr, row: pl.Expr, many_sources: bool) -> pl.Expr:
    """Where a row lies: its row number, prefixed by ``<source>:`` when there are several."""
    if many_sources:
        return pl.concat_str([source, pl.lit(":"), row.cast(pl.String)])
    return row.cast(pl.String)


def hash_repeats(keys: pl.Series, among: pl.Series | None = None) -> pl.Series:
    """True on each row (of those ``among`` says, when given) whose key's hash occurs more
    than once among them: a superset of the rows whose key repeats (the key itself decides
    among them), found by sorting the hashes (a vectorised sort of 64-bit integers is
    several times cheaper than a hash table of every row, and a province has few repeats)."""
    hashes = keys.hash()
    twice = repeated_values(hashes if among is None else hashes.filter(among))
    if twice.len() == 0:
        return pl.repeat(False, keys.len(), eager=True)
    found = hashes.is_in(twice.implode())
    return found if among is None else found & among


def repeated_values(values: pl.Series) -> pl.Series:
    """The integers occurring more than once in ``values``, each once, in order: by one
    sort (no hash table of every row)."""
    # np.sort copies: to_numpy(writable=True) may hand out the Series' own buffer.
    return pl.Series(values.name, repeated_in_sorted(np.sort(values.to_numpy())), dtype=values.dtype)


def repeated_in_sorted(ordered: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """The values occurring more than once in the sorted array ``ordered``, each once."""
    twice = ordered[1:][ordered[1:] == ordered[:-1]]
    return np.unique(twice)


def repeated_hashes(arrays: Sequence[np.ndarray[Any, Any]]) -> np.ndarray[Any, Any]:
    """The 64-bit hashes occurring more than once across ``arrays``, each once, sorted:
    part by part of the hash range (its top three bits), so that an eighth of them is
    copied and sorted at a time (a sorted copy of 100M hashes beside them would take
    another 0.8 GB)."""
    tops = [_top_bits(a) for a in arrays]  # one byte per hash
    found = []
    for part_number in range(1 << _PART_BITS):
        part = np.concatenate([a[top == part_number] for a, top in zip(arrays, tops, strict=True)])
        part.sort()
        found.append(repeated_in_sorted(part))
    return np.concatenate(found).astype(np.uint64)


#: :func:`repeated_hashes` splits the hashes into 2**_PART_BITS parts by their top bits.
_PART_BITS = 3
#: Hashes shifted at a time (a shifted copy of all of them would be 8 bytes each).
_SHIFT_CHUNK = 1 << 22


def _top_bits(hashes: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Each 64-bit hash's top :data:`_PART_BITS` bits, as one byte."""
    top = np.empty(len(hashes), dtype=np.uint8)
    shift = np.uint64(64 - _PART_BITS)
    for start in range(0, len(hashes), _SHIFT_CHUNK):
        top[start:start + _SHIFT_CHUNK] = hashes[start:start + _SHIFT_CHUNK] >> shift
    return top


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
    used, duplicates, conflicts = repeat_mask(valid, key=key, content=content, many_sources=many_sources)
    return (valid if used is None else valid.filter(used)), duplicates, conflicts


def repeat_mask(
    valid: pl.DataFrame,
    *,
    key: str,
    content: Sequence[str],
    many_sources: bool,
    among: pl.Series | None = None,
) -> tuple[pl.Series | None, pl.DataFrame, pl.DataFrame]:
    """:func:`split_repeats` with the used rows as a mask over ``valid`` (None: every
    row), so that a large table is copied once, by whoever needs the rows, or never.
    ``among``: the rows of ``valid`` that are valid (the others are in no result)."""
    # A hash of the key finds the candidates cheaply; the key itself decides among them.
    candidates = hash_repeats(valid.get_column(key), among)
    positions = candidates.arg_true()
    repeated = (
        valid.gather(positions).with_columns(positions.alias(_POSITION))
        .filter(pl.col(key).is_duplicated())
    )
    if repeated.height == 0:
        empty = valid.clear().with_columns(pl.lit(None, pl.String).alias(REASON))
        return among, valid.clear(), empty
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
    conflicts = conflicting.drop(REASON, _POSITION, strict=False).join(locs, on=key, how="left")
    dropped = pl.concat([conflicting.get_column(_POSITION), duplicates.get_column(_POSITION)])
    keep = (pl.repeat(True, valid.height, eager=True) if among is None else among.clone()).scatter(dropped, False)
    # Row order is not kept here: the caller sorts the used rows by a total order.
    return keep, duplicates.drop(_POSITION), conflicts


# ------------------------------------------------------------------ issue 9 (D): evidence states
#: How far along its life a piece of evidence is: a later state replaces an earlier one.
#: Approved, verified and rejected are all decisions on a submission (two different
#: decisions on one event stay a conflict); revoked undoes a decision.
STATUS_STAGES: dict[str, int] = {"submitted": 0, "pending": 0, "approved": 1, "verified": 1,
                                 "rejected": 1, "revoked": 2}


def supersede_statuses(
    valid: pl.DataFrame, *, key: str, content: Sequence[str], status: str = "status",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split valid rows into (kept, superseded): where the copies of one ``key`` differ
    only in ``status`` and every status is one of :data:`STATUS_STAGES`, the copies at
    the latest stage are kept and the earlier ones superseded (counted as duplicates).
    A record exported again as ``revoked`` after ``approved`` is therefore revoked,
    whatever the order of the files; any other difference stays a conflict
    (:func:`split_repeats`)."""
    if status not in valid.columns:
        return valid, valid.clear()
    candidates = hash_repeats(valid.get_column(key))  # as in split_repeats
    if not candidates.any():
        return valid, valid.clear()
    repeated = valid.filter(candidates).filter(pl.col(key).is_duplicated())
    if repeated.height == 0:
        return valid, valid.clear()
    others = [c for c in content if c not in (key, status)]
    stage = pl.col(status).str.strip_chars().replace_strict(STATUS_STAGES, default=None, return_dtype=pl.Int32)
    groups = (
        repeated.with_columns(stage.alias("__cr_stage"))
        .group_by(key).agg(
            pl.struct(others).n_unique().alias("__cr_variants") if others else pl.lit(1).alias("__cr_variants"),
            pl.col(status).n_unique().alias("__cr_statuses"),
            pl.col("__cr_stage").null_count().alias("__cr_unknown"),
            pl.col("__cr_stage").max().alias("__cr_latest"),
        )
        .filter((pl.col("__cr_variants") == 1) & (pl.col("__cr_statuses") > 1) & (pl.col("__cr_unknown") == 0))
        .select(key, "__cr_latest")
    )
    if groups.height == 0:
        return valid, valid.clear()
    marked = valid.join(groups, on=key, how="left", maintain_order="left")
    earlier = pl.col("__cr_latest").is_not_null() & (stage != pl.col("__cr_latest")).fill_null(True)
    superseded = marked.filter(earlier).drop("__cr_latest")
    kept = marked.filter(~earlier).drop("__cr_latest")
    return kept, superseded
