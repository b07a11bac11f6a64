"""What the roster and the event generators share: seeded streams, weighted draws, code
tables and day arithmetic (days since 1970-01-01, as numpy integers)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
Codes = npt.NDArray[np.signedinteger[Any]]

#: Seconds in a day; instants are seconds since 1970-01-01 (naive local time).
DAY = 86_400
EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    """``d`` as days since 1970-01-01."""
    return (d - EPOCH).days


# Policy windows of SPEC §6, as (first day, last day) in days since 1970-01-01.
REMOTE = (day_number(dt.date(2017, 9, 1)), day_number(dt.date(2018, 8, 31)))
ZIYANG = (day_number(dt.date(2017, 10, 20)), day_number(dt.date(2017, 12, 31)))
LANXI = (day_number(dt.date(2022, 12, 2)), day_number(dt.date(2023, 6, 30)))
LANXI_REFLECTION_DUE = day_number(dt.date(2023, 4, 30))
ANNUAL = (day_number(dt.date(2023, 3, 1)), day_number(dt.date(2024, 2, 29)))
CYCLE = (day_number(dt.date(2021, 1, 1)), day_number(dt.date(2025, 12, 31)))


def seeded(seed: int, *stream: int) -> np.random.Generator:
    """The random stream of ``(seed, *stream)``: independent of every other stream."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *stream])))


def id_strings(numbers: IntArray, width: int, prefix: str) -> pl.Series:
    """``prefix`` and each number zero-padded to ``width`` digits (``T0000001``)."""
    return pl.select(
        pl.lit(prefix) + pl.Series(numbers).cast(pl.String).str.zfill(width)
    ).to_series()


def decode(values: Sequence[str], codes: Codes) -> pl.Series:
    """``values[code]`` as a String series; code -1 gives null."""
    lookup = pl.Series([None, *values], dtype=pl.String)
    return lookup.gather((pl.Series(codes).cast(pl.Int32) + 1).cast(pl.UInt32))


def weighted(rng: np.random.Generator, n: int, weights: Sequence[float]) -> IntArray:
    """``n`` codes ``0..len(weights)-1`` drawn with the given (unnormalised) weights."""
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(p.size, size=n, p=p / p.sum()).astype(np.int64)
