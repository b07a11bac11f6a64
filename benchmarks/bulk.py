"""Bulk engine benchmark: figures printed, never asserted.

    python benchmarks/bulk.py --teachers 100000 [--dir /tmp/province-100000] [--sample 300]
        [--policy five_year_cycle ...]

1. generates (or reuses) a province with :func:`credit_rules.synth.write_province`;
2. validates the raw events once (``load_events``, timed, part file by part file) and
   stores the validated table as ``validated/part-*.parquet`` (the EventTable.frame
   layout; an existing ``validated.parquet`` is used as it is);
3. per policy, in a fresh subprocess whose peak is its own (``VmHWM`` of
   ``/proc/self/status``, which a new process image starts afresh): scan the validated
   Parquet, run the bulk plan with the trace (the contract) and without it (the trace's
   cost), report wall time, events/s and peak memory;
4. the interpreter on the first ``--sample`` teachers, scaled to events/s, checked equal to
   the bulk ledger of the same sample;
5. for five_year_cycle, ``benchmarks/handwritten_five_year.py`` (a direct Polars query of
   the same policy) in a fresh subprocess: the bulk/hand-written ratio.

``--measure POLICY`` runs step 3 alone (one JSON line), e.g. under ``/usr/bin/time -v``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

AS_OF = dt.date(2025, 12, 31)


def events_path(directory: Path) -> Path | str:
    single = directory / "validated.parquet"
    return single if single.exists() else str(directory / "validated" / "*.parquet")


def peak_gib() -> float:
    """This process's peak resident memory (VmHWM: reset by exec, unlike ru_maxrss, which
    Linux carries over from the parent through fork and exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # pragma: no cover


def _measure(policy_path: str, directory: Path, trace: bool) -> None:
    from credit_rules.compile import load_policy
    from credit_rules.eval import bulk

    policy = load_policy(policy_path)
    t0 = time.perf_counter()
    events = pl.scan_parquet(events_path(directory))
    roster = pl.read_parquet(directory / "roster_valid.parquet")
    plan = bulk.compile_plan(policy)
    frame = bulk.run(plan, events, roster, as_of=AS_OF, trace=trace)
    wall = time.perf_counter() - t0
    print(json.dumps({"wall": wall, "rss_gib": peak_gib(), "rows": frame.height,
                      "fallbacks": list(plan.fallbacks)}))


def _prepare(directory: Path, teachers: int, per_teacher: int) -> int:
    from credit_rules.io import load_events, load_roster
    from credit_rules.synth import write_province

    if not (directory / "roster.parquet").exists():
        t0 = time.perf_counter()
        files = write_province(directory, teachers, seed=1, events_per_teacher=per_teacher)
        print(f"generated {files.n_events:,} events for {teachers:,} teachers in "
              f"{time.perf_counter() - t0:.1f} s")
    done = directory / "validated" / "_SUCCESS"
    if not (directory / "validated.parquet").exists() and not done.exists():
        # Part by part: the generator writes each teacher in one part, parts in
        # teacher_id order, so the validated parts together stay in EventTable order.
        t0 = time.perf_counter()
        out = directory / "validated"
        out.mkdir(exist_ok=True)
        parts = sorted((directory / "events").glob("*.parquet"))
        rows = 0
        for index in range(0, len(parts), 5):
            table = load_events(parts[index:index + 5])
            rows += table.report.rows_read
            table.frame.write_parquet(out / f"part-{index:05d}.parquet")
        took = time.perf_counter() - t0
        print(f"validated {rows:,} events in {took:.1f} s = {rows / took:,.0f} rows/s"
              " (load_events, five part files at a time)")
        load_roster(directory / "roster.parquet").frame.write_parquet(
            directory / "roster_valid.parquet")
        done.touch()
    return int(pl.scan_parquet(events_path(directory)).select(pl.len()).collect().item())


def _interpreter_sample(policy_path: Path, directory: Path, sample: int) -> tuple[float, int, bool]:
    from credit_rules.compile import load_policy
    from credit_rules.eval import bulk, interpreter
    from credit_rules.io.frames import frame_to_events, frame_to_teachers, rows_from_frame

    policy = load_policy(policy_path)
    roster = pl.read_parquet(directory / "roster_valid.parquet").head(sample)
    ids = roster["teacher_id"]
    frame = pl.scan_parquet(events_path(directory)).filter(
        pl.col("teacher_id").is_in(ids.implode())).collect()
    events = frame_to_events(frame, policy.timezone)
    teachers = frame_to_teachers(roster)
    t0 = time.perf_counter()
    rows = interpreter.evaluate(policy, events, teachers, as_of=AS_OF)
    took = time.perf_counter() - t0
    got = rows_from_frame(bulk.run(bulk.compile_plan(policy), frame, roster, as_of=AS_OF))
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
    parser.add_argument("--no-handwritten", action="store_true")
    args = parser.parse_args()
    directory = args.dir or Path(f"/tmp/province-{args.teachers}")
    if args.measure:
        _measure(args.measure, directory, trace=not args.no_trace)
        return
    n_events = _prepare(directory, args.teachers, args.events_per_teacher)
    root = Path(__file__).resolve().parents[1] / "policies"
    names = args.policy or sorted(p.stem for p in root.glob("*.policy"))
    print(f"{n_events:,} validated events; python {sys.version.split()[0]}, polars {pl.__version__};"
          f" load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'policy':22} {'wall s':>7} {'Mev/s':>6} {'peak GiB':>8} {'no-trace s':>10}"
          f" {'trace %':>7} {'interp ev/s':>11} {'bulk/interp':>11} {'hand s':>6}"
          f" {'bulk/hand':>9} same")
    for name in names:
        path = root / f"{name}.policy"
        figures = []
        for trace in (True, False):
            cmd = [sys.executable, __file__, "--dir", str(directory), "--measure", str(path)]
            out = subprocess.run(cmd + ([] if trace else ["--no-trace"]), check=True,
                                 capture_output=True, text=True).stdout
            figures.append(json.loads(out.strip().splitlines()[-1]))
        hand = ""
        ratio = ""
        if name == "five_year_cycle" and not args.no_handwritten:
            cmd = [sys.executable, str(Path(__file__).with_name("handwritten_five_year.py")),
                   "--dir", str(directory)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            hand_figures = json.loads(out.strip().splitlines()[-1])
            hand = f"{hand_figures['wall']:.2f}"
            ratio = f"{figures[0]['wall'] / hand_figures['wall']:.2f}x"
        if args.sample:
            took, sample_events, same = _interpreter_sample(path, directory, args.sample)
            interp_rate = sample_events / took if took else float("nan")
        else:
            interp_rate, same = float("nan"), None
        bulk_rate = n_events / figures[0]["wall"]
        cost = 100 * (figures[0]["wall"] - figures[1]["wall"]) / figures[0]["wall"]
        print(f"{name:22} {figures[0]['wall']:7.2f} {bulk_rate / 1e6:6.2f} "
              f"{figures[0]['rss_gib']:8.2f} {figures[1]['wall']:10.2f} {cost:6.0f}%"
              f" {interp_rate:11,.0f} {bulk_rate / interp_rate:10.0f}x {hand:>6} {ratio:>9}"
              f" {same}", flush=True)


if __name__ == "__main__":
    main()
