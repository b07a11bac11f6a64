"""Spark engine beside the bulk engine on the same machine: figures printed, never asserted.

    python benchmarks/spark.py [--events /tmp/p100k/events.parquet] [--roster /tmp/p100k/roster.parquet]
        [--policy five_year_cycle ...] [--master local[2]] [--partitions N] [--out /tmp/spark-bench]

1. the bulk engine: ``credit_rules.recompute`` (Parquet in, Parquet ledgers out) in a fresh
   subprocess, timed, with its peak memory (``VmHWM``);
2. the Spark engine: :func:`credit_rules.spark.recompute_files` on ``--master`` in a fresh
   subprocess: the session's start-up, then the same run, timed (stages: validate,
   evaluate); the driver's peak memory (executors' Python workers are other processes);
3. the ledgers of both read back and compared column for column; the overhead ratio
   (Spark run / bulk run, start-up excluded and included), and the throughput per core:
   events / (Spark run seconds x cores), the figure the README's cluster estimate uses.

The inputs come from ``python ../shared/anchors/gen_province.py --teachers 100000``
(10,112,378 events); the machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

AS_OF = dt.date(2025, 12, 31)
POLICIES = Path(__file__).resolve().parents[1] / "policies"


def peak_gib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 2**20
    return float("nan")  # pragma: no cover


def run_bulk(args: argparse.Namespace) -> dict[str, float]:
    from credit_rules.recompute import recompute

    started = time.perf_counter()
    recompute([POLICIES / f"{p}.policy" for p in args.policy], args.events, args.roster,
              Path(args.out) / "bulk", as_of=AS_OF)
    return {"seconds": time.perf_counter() - started, "peak_gib": peak_gib()}


def run_spark(args: argparse.Namespace) -> dict[str, float]:
    from credit_rules.spark import recompute_files, spark_session

    started = time.perf_counter()
    session = spark_session(args.master, {"spark.driver.memory": args.driver_memory})
    session.range(1).count()  # the JVM and a first job, apart from the run
    startup = time.perf_counter() - started
    stages: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        key = f"{stage}_{'end' if done else 'start'}"
        stages[key] = time.perf_counter()

    run_started = time.perf_counter()
    results = recompute_files([POLICIES / f"{p}.policy" for p in args.policy], args.events, args.roster,
                              Path(args.out) / "spark", partitions=args.partitions, as_of=AS_OF,
                              progress=progress, session=session)
    seconds = time.perf_counter() - run_started
    cores = session.sparkContext.defaultParallelism
    figures = {"startup": startup, "seconds": seconds, "peak_gib": peak_gib(), "cores": cores,
               "partitions": results[0].batches, "events": results[0].events.rows_read}
    for stage in ("validate (spark)", "evaluate (spark)"):
        if f"{stage}_start" in stages and f"{stage}_end" in stages:
            figures[stage.split()[0]] = stages[f"{stage}_end"] - stages[f"{stage}_start"]
    session.stop()
    return figures


def child(engine: str, args: argparse.Namespace) -> dict[str, float]:
    """Run one engine in a fresh process (its own peak memory, a cold Spark)."""
    argv = [sys.executable, __file__, "--child", engine, "--events", args.events, "--roster", args.roster,
            "--master", args.master, "--out", args.out, "--driver-memory", args.driver_memory,
            *(["--partitions", str(args.partitions)] if args.partitions else []),
            *[a for p in args.policy for a in ("--policy", p)]]
    done = subprocess.run(argv, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", default="/tmp/p100k/events.parquet")
    parser.add_argument("--roster", default="/tmp/p100k/roster.parquet")
    parser.add_argument("--policy", action="append", help="policy name (repeatable; default five_year_cycle)")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--partitions", type=int, default=None)
    parser.add_argument("--driver-memory", default="4g")
    parser.add_argument("--out", default="/tmp/spark-bench")
    parser.add_argument("--child", choices=["bulk", "spark"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.policy = args.policy or ["five_year_cycle"]
    if args.child:
        print(json.dumps(run_bulk(args) if args.child == "bulk" else run_spark(args)))
        return
    import polars as pl

    shutil.rmtree(args.out, ignore_errors=True)
    load = os.getloadavg()
    bulk = child("bulk", args)
    spark = child("spark", args)
    equal = all(
        pl.read_parquet(Path(args.out) / "spark" / f"{p}.parquet").equals(
            pl.read_parquet(Path(args.out) / "bulk" / f"{p}.parquet"))
        for p in args.policy)
    per_core = spark["events"] / (spark["seconds"] * spark["cores"])
    print(f"load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; after: "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"policies: {', '.join(args.policy)}; events: {spark['events']:,}")
    print(f"bulk  recompute: {bulk['seconds']:.1f} s, peak {bulk['peak_gib']:.2f} GiB")
    validate, evaluate = spark.get("validate", float("nan")), spark.get("evaluate", float("nan"))
    print(f"spark recompute ({args.master}, {spark['partitions']} partitions): {spark['seconds']:.1f} s "
          f"(validate {validate:.1f} s, evaluate {evaluate:.1f} s)"
          f" + {spark['startup']:.1f} s session start-up; driver peak {spark['peak_gib']:.2f} GiB")
    print(f"overhead ratio spark / bulk: {spark['seconds'] / bulk['seconds']:.2f}x "
          f"({(spark['seconds'] + spark['startup']) / bulk['seconds']:.2f}x with start-up)")
    print(f"spark throughput: {per_core:,.0f} events/s per core ({spark['cores']} cores)")
    print(f"ledgers equal: {equal}")


if __name__ == "__main__":
    main()
