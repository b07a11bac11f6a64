"""Writing a province: ``roster.<fmt>`` and the events, chunk by chunk."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Literal

import attrs
import polars as pl

from credit_rules.synth.events import generate_events
from credit_rules.synth.roster import generate_roster


@attrs.frozen
class ProvinceFiles:
    """What :func:`write_province` wrote."""

    roster: Path
    events: list[Path]
    n_teachers: int
    n_events: int


Format = Literal["parquet", "jsonl", "csv"]


def _write(frame: pl.DataFrame, path: Path, fmt: Format) -> None:
    if fmt == "parquet":
        frame.write_parquet(path, compression="zstd", compression_level=3, statistics=True)
    elif fmt == "csv":
        frame.write_csv(path)
    else:
        frame.write_ndjson(path)


def write_province(
    out_dir: Path,
    n_teachers: int,
    *,
    seed: int = 0,
    events_per_teacher: int = 100,
    fmt: Format = "parquet",
    chunk_teachers: int = 100_000,
    progress: Callable[[int, int], None] | None = None,
    start: dt.date = dt.date(2017, 9, 1),
    end: dt.date = dt.date(2025, 12, 31),
) -> ProvinceFiles:
    """Write ``roster.<fmt>`` and the events: ``events/part-00000.parquet``... one part per
    ``chunk_teachers`` teachers, or one ``events.jsonl`` / ``events.csv`` appended chunk by
    chunk. In CSV, ``roles`` is ``;``-separated (SPEC §3). ``progress(done, total)`` is
    called with teacher counts after each chunk.
    """
    if fmt not in ("parquet", "jsonl", "csv"):
        raise ValueError(f"unknown format {fmt!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    roster = generate_roster(n_teachers, seed=seed)
    roster_path = out_dir / f"roster.{fmt}"
    if fmt == "csv":
        _write(roster.with_columns(pl.col("roles").list.join(";")), roster_path, fmt)
    else:
        _write(roster, roster_path, fmt)

    chunks = generate_events(roster, seed=seed, events_per_teacher=events_per_teacher,
                             start=start, end=end, chunk_teachers=chunk_teachers)
    paths: list[Path] = []
    n_events = 0
    done = 0
    if fmt == "parquet":
        events_dir = out_dir / "events"
        events_dir.mkdir(exist_ok=True)
        for old in events_dir.glob("part-*.parquet"):
            old.unlink()
    single = out_dir / f"events.{fmt}"  # the one events file of jsonl / csv
    if fmt != "parquet":
        paths.append(single)

    with single.open("wb") if fmt != "parquet" else contextlib.nullcontext() as fh:

        def write_chunk(i: int, chunk: pl.DataFrame) -> None:
            if fmt == "parquet":
                _write(chunk, paths[i], fmt)
            elif fmt == "csv":
                chunk.write_csv(fh, include_header=i == 0)
            else:
                chunk.write_ndjson(fh)

        # One chunk is written in the background while the next is generated (two chunks
        # in memory at most); writes stay in order, so files do not depend on timing.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending: Future[None] | None = None
            for i, chunk in enumerate(chunks):
                if fmt == "parquet":
                    paths.append(events_dir / f"part-{i:05d}.parquet")
                if pending is not None:
                    pending.result()
                pending = pool.submit(write_chunk, i, chunk)
                n_events += chunk.height
                done = min(n_teachers, done + chunk_teachers)
                if progress:
                    progress(done, n_teachers)
            if pending is not None:
                pending.result()
    return ProvinceFiles(roster=roster_path, events=paths, n_teachers=n_teachers,
                         n_events=n_events)
