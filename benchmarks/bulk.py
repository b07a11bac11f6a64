"""Bulk engine benchmark: figures printed, never asserted.

    python benchmarks/bulk.py --teachers 100000 [--dir /tmp/province-100000] [--sample 300]

1. generates (or reuses) a province with :func:`credit_rules.synth.write_province`;
2. validates the raw events once (``load_events``, timed) and stores the validated table
   as ``validated.parquet`` (the EventTable.frame layout);
3. per policy, in a fresh subprocess (so ``ru_maxrss`` is that run's peak): scan the
   validated Parquet, run the bulk plan (with and without trace), report wall time,
   events/s and peak RSS;
4. the interpreter on the first ``--sample`` teachers, scaled to events/s, checked equal to
   the bulk ledger of the same sample.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

AS_OF = dt.date(2025, 12, 31)


def _measure(policy_path: str, directory: Path, trace: bool) -> None:
    from credit_rules.compile import load_policy
    from credit_rules.eval import bulk

    policy = load_policy(policy_path)
    t0 = time.perf_counter()
    events = pl.scan_parquet(directory / "validated.parquet")
    roster = pl.read_parquet(directory / "roster_valid.parquet")
    plan = bulk.compile_plan(policy)
    frame = bulk.run(plan, events, roster, as_of=AS_OF, trace=trace)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(json.dumps({"wall": wall, "rss_gib": rss, "rows": frame.height,
                      "fallbacks": list(plan.fallbacks)}))


def _prepare(directory: Path, teachers: int, per_teacher: int) -> int:
    from credit_rules.io import load_events, load_roster
    from credit_rules.synth import write_province

    if not (directory / "roster.parquet").exists():
        t0 = time.perf_counter()
        files = write_province(directory, teachers, seed=1, events_per_teacher=per_teacher)
        print(f"generated {files.n_events:,} events for {teachers:,} teachers in "
              f"{time.perf_counter() - t0:.1f} s")
    if not (directory / "validated.parquet").exists():
        t0 = time.perf_counter()
        table = load_events(sorted((directory / "events").glob("*.parquet")))
        roster = load_roster(directory / "roster.parquet")
        took = time.perf_counter() - t0
        print(f"validated ({table.report.summary()}) in {took:.1f} s"
              f" = {table.report.rows_read / took:,.0f} rows/s (load_events, eager)")
        table.frame.write_parquet(directory / "validated.parquet")
        roster.frame.write_parquet(directory / "roster_valid.parquet")
    return pl.scan_parquet(directory / "validated.parquet").select(pl.len()).collect().item()


def _interpreter_sample(policy_path: Path, directory: Path, sample: int) -> tuple[float, int, bool]:
    from credit_rules.compile import load_policy
    from credit_rules.eval import bulk, interpreter
    from credit_rules.eval.bulk.engine import frame_to_events, frame_to_teachers

    policy = load_policy(policy_path)
    roster = pl.read_parquet(directory / "roster_valid.parquet").head(sample)
    ids = roster["teacher_id"]
    frame = pl.scan_parquet(directory / "validated.parquet").filter(
        pl.col("teacher_id").is_in(ids.implode())).collect()
    events = frame_to_events(frame, policy.timezone)
    teachers = frame_to_teachers(roster)
    t0 = time.perf_counter()
    rows = interpreter.evaluate(policy, events, teachers, as_of=AS_OF)
    took = time.perf_counter() - t0
    got = bulk.evaluate(policy, frame, roster, as_of=AS_OF)
    same = [r.to_json() for r in rows] == [r.to_json() for r in got]
    return took, frame.height, same


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--teachers", type=int, default=100_000)
    parser.add_argument("--events-per-teacher", type=int, default=100)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--policy", action="append")
    parser.add_argument("--measure")
    parser.add_argument("--no-trace", action="store_true")
    args = parser.parse_args()
    directory = args.dir or Path(f"/tmp/province-{args.teachers}")
    if args.measure:
        _measure(args.measure, directory, trace=not args.no_trace)
        return
    n_events = _prepare(directory, args.teachers, args.events_per_teacher)
    root = Path(__file__).resolve().parents[1] / "policies"
    names = args.policy or sorted(p.stem for p in root.glob("*.policy"))
    print(f"{n_events:,} validated events; python {sys.version.split()[0]}, polars {pl.__version__}")
    print(f"{'policy':24} {'wall s':>7} {'Mev/s':>7} {'peak GiB':>8} {'no-trace s':>10}"
          f" {'interp ev/s':>11} {'bulk/interp':>11} same")
    for name in names:
        path = root / f"{name}.policy"
        figures = []
        for trace in (True, False):
            cmd = [sys.executable, __file__, "--dir", str(directory), "--measure", str(path)]
            out = subprocess.run(cmd + ([] if trace else ["--no-trace"]), check=True,
                                 capture_output=True, text=True).stdout
            figures.append(json.loads(out.strip().splitlines()[-1]))
        took, sample_events, same = _interpreter_sample(path, directory, args.sample)
        interp_rate = sample_events / took if took else float("nan")
        bulk_rate = n_events / figures[0]["wall"]
        print(f"{name:24} {figures[0]['wall']:7.2f} {bulk_rate / 1e6:7.2f} "
              f"{figures[0]['rss_gib']:8.2f} {figures[1]['wall']:10.2f} {interp_rate:11,.0f}"
              f" {bulk_rate / interp_rate:10.0f}x {same}")


if __name__ == "__main__":
    main()
