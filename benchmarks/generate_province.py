"""Write a synthetic province (roster + events) and report generation throughput.

    python benchmarks/generate_province.py --teachers 100000 --events-per-teacher 100 \\
        --seed 1 --out /tmp/province
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from credit_rules.synth import write_province


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--events-per-teacher", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--format", choices=("parquet", "jsonl", "csv"), default="parquet")
    parser.add_argument("--chunk-teachers", type=int, default=100_000)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        elapsed = time.perf_counter() - t0
        print(f"  {done:>10,} / {total:,} teachers  {elapsed:8.1f} s", file=sys.stderr,
              flush=True)

    files = write_province(
        args.out, args.teachers, seed=args.seed, events_per_teacher=args.events_per_teacher,
        fmt=args.format, chunk_teachers=args.chunk_teachers, progress=progress,
    )
    seconds = time.perf_counter() - t0
    written = _size([files.roster, *files.events])
    print(f"teachers      {files.n_teachers:,}")
    print(f"events        {files.n_events:,}  ({len(files.events)} file(s))")
    print(f"bytes         {written:,}  ({written / 2**20:,.1f} MiB)")
    print(f"seconds       {seconds:,.2f}")
    print(f"events/second {files.n_events / seconds:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
