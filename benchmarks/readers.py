"""Reading speed of the text formats: JSON Lines and CSV, read and read + validate.

    python benchmarks/readers.py --rows 1000000 --repeat 3 [--python-reader]

Writes a synthetic province's events (``credit_rules.synth``, SPEC §2 columns) once as
JSON Lines (``hours``, ``credits``, ``score``, ``count``, ``words`` as bare JSON numbers,
absent keys left out, as exports write them) and as CSV under ``--dir``, then prints rows/s
for reading the file into the text-column frame validation takes
(``credit_rules.io.sources.read_raw``) and for reading + validating
(``credit_rules.io.load_events``), the best of ``--repeat`` runs each. ``--python-reader``
also times the exact Python JSON parser the native reader falls back to, on the same file.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import io
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import polars as pl

from credit_rules.io import load_events, text_formats
from credit_rules.io.sources import read_raw
from credit_rules.schema import REQUIRED_EVENT_COLUMNS
from credit_rules.synth import generate_events, generate_roster

_NUMBERS = ("hours", "credits", "score", "count", "words")


def write_inputs(folder: Path, rows: int, seed: int) -> tuple[Path, Path, int]:
    """``events.jsonl`` and ``events.csv`` of about ``rows`` events (written once per size)."""
    folder.mkdir(parents=True, exist_ok=True)
    jsonl, csv = folder / f"events-{rows}.jsonl", folder / f"events-{rows}.csv"
    if not (jsonl.exists() and csv.exists()):
        roster = generate_roster(max(1, rows // 100), seed=seed)
        events = pl.concat(generate_events(roster, seed=seed, events_per_teacher=100)).head(rows)
        events.write_csv(csv)
        typed = events.with_columns(pl.col(c).cast(pl.Float64) if events.schema[c] == pl.String
                                    else pl.col(c) for c in _NUMBERS)
        # JSON numbers in their shortest form (1.5, 2), keys with no value left out.
        lines = typed.select(pl.struct(pl.all()).struct.json_encode().str.replace_all(
            r',?"[a-z_]+":null', "").str.replace(r"^\{,", "{").alias("line"))
        jsonl.write_text("\n".join(lines["line"].to_list()) + "\n", encoding="utf-8")
    return jsonl, csv, pl.scan_csv(csv, infer_schema=False).select(pl.len()).collect().item()


def best(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of ``repeat`` runs. CPU is this process's user +
    system time: on a shared machine it shows the work done when the wall clock shows the
    neighbours."""
    runs = []
    for _ in range(repeat):
        before, start = os.times(), time.perf_counter()
        run()
        wall, after = time.perf_counter() - start, os.times()
        runs.append((wall, after.user - before.user + after.system - before.system))
    return min(runs)


def steps(path: Path) -> None:
    """The JSON Lines reader's steps, each timed apart (CPU seconds, one run): where the
    time goes."""
    data = path.read_bytes()
    lines = pl.read_csv(data, has_header=False, separator="\x1f", quote_char=None,
                        schema={"line": pl.String})["line"]
    frame, line = pl.DataFrame({"line": lines}), pl.col("line")
    misread = frame.select(line.str.contains(text_formats._MISREAD)).to_series()
    keys = list(text_formats.parse_json_records(enumerate(lines.head(2000).to_list(), 1),
                                                str(path)).columns[:-2])
    timed: dict[str, Callable[[], object]] = {
        "split into lines": lambda: pl.read_csv(data, has_header=False, separator="\x1f",
                                                quote_char=None, schema={"line": pl.String}),
        "blank lines": lambda: frame.select(line.str.strip_chars(" \t\r") == ""),
        "misread regex": lambda: frame.select(line.str.contains(text_formats._MISREAD)),
        "key and null counts": lambda: frame.select(
            line.str.count_matches('":', literal=True),
            b=line.str.count_matches('":null', literal=True)
            + line.str.count_matches('": null', literal=True)),
        f"quote numbers ({misread.sum():,} lines)":
            lambda: text_formats._quote_numbers(lines.filter(misread)),
        "write the payload back": lambda: text_formats._joined(lines),
        "Polars read_ndjson, all String": lambda: pl.read_ndjson(
            io.BytesIO(data), schema=dict.fromkeys(keys, pl.String)),
        "the whole reader": lambda: text_formats.read_json_lines(data, str(path), "events"),
    }
    for label, run in timed.items():
        wall, cpu = best(run, 1)
        print(f"  step {label:38} {wall:6.2f} s wall  {cpu:6.2f} s CPU")


def _python_reader(path: Path) -> pl.DataFrame:
    """The exact Python JSON parser (the reading before the native one, and its fallback)."""
    return text_formats.read_json_text(
        text_formats.decode(path.read_bytes(), str(path), "events"), str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/credit-rules-readers"))
    parser.add_argument("--python-reader", action="store_true",
                        help="also time the exact Python JSON parser (slow)")
    parser.add_argument("--steps", action="store_true",
                        help="also time the JSON Lines reader's steps apart (CPU seconds)")
    parser.add_argument("--file", type=Path, action="append", default=[],
                        help="time this .jsonl/.csv instead of writing the synthetic ones"
                        " (e.g. the events.jsonl of ../shared/anchors/gen_province.py --jsonl)")
    args = parser.parse_args(argv)
    if args.file:
        files = list(args.file)
        rows = sum(pl.scan_csv(f, has_header=False, separator="\x1f", quote_char=None)
                   .select(pl.len()).collect().item() - (f.suffix == ".csv") for f in files)
    else:
        jsonl, csv, rows = write_inputs(args.dir, args.rows, args.seed)
        files = [jsonl, csv]
    sizes = ", ".join(f"{f.name} {f.stat().st_size / 2**20:,.0f} MiB" for f in files)
    print(f"rows {rows:,} ({sizes}); {os.cpu_count()} cores,"
          f" load average {os.getloadavg()[0]:.1f}, Polars {pl.__version__}")

    def report(label: str, seconds: tuple[float, float]) -> None:
        wall, cpu = seconds
        print(f"{label:36} {wall:7.2f} s wall {rows / wall:>11,.0f} rows/s"
              f"   {cpu:7.2f} s CPU {rows / cpu:>11,.0f} rows/CPU-s")

    for path in files:
        report(f"read {path.suffix[1:]}", best(partial(
            read_raw, path, what="events", required=REQUIRED_EVENT_COLUMNS), args.repeat))
        if args.python_reader and path.suffix == ".jsonl":
            report("read jsonl, Python parser", best(partial(_python_reader, path), 1))
    if args.steps:
        for path in files:
            if path.suffix == ".jsonl":
                steps(path)
    for path in files:
        report(f"read + validate {path.suffix[1:]} (load_events)",
               best(partial(load_events, path), args.repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
