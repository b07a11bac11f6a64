"""One teacher through the public API: ``credit_rules.evaluate`` per shipped policy, printed,
never asserted (issue 10: target <= 1 ms median, validation of the small input included).

    python benchmarks/one_teacher.py [--events 200] [--runs 200] [--seed 3]

The teacher's events are drawn like a real teacher's by :mod:`credit_rules.synth` (a small
province; the teacher whose event count is nearest ``--events``), given once as a list of
dicts and once as a Polars frame, with the teacher's roster row as a dict. The policy is
loaded once; each run is one ``evaluate`` call (interpreter). Printed per policy and input:
the wall time of the call (median, fastest), its CPU time (median: on a shared machine the
wall time counts other processes too), and the CPU medians of its parts: validation
(events and roster, as ``evaluate`` reads them), building the interpreter's records (only
those of the events the policy reads: its days and kinds), the interpreter, and
``other``: the call's CPU median less the three, what the split does not account for
(the API's own work: roster handling, the teachers named only by rejected rows, the
ledger); near 0 when the split is complete. The last line times a plain Python loop, to
show how loaded the machine was. ``PYTHONPATH=OLD/src`` runs it against another checkout
(before/after, in the same conditions).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from credit_rules import core, evaluate, load_policy
from credit_rules.api import as_event_table, as_roster, input_contract, shipped_policies
from credit_rules.eval import interpreter
from credit_rules.io.units import reject_unconvertible
from credit_rules.synth import generate_events, generate_roster

try:
    from credit_rules.api import interpreter_events
except ImportError:  # an older checkout (PYTHONPATH=OLD/src, for a before/after run): every record built
    def interpreter_events(table: Any, teachers: Any, policy: Any) -> Any:
        return table.events()

AS_OF = dt.date(2025, 12, 31)


def one_teacher(events: int, seed: int) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The events (a frame) and roster row of the synthetic teacher nearest ``events`` events."""
    roster = generate_roster(40, seed=seed)
    frame = pl.concat(list(generate_events(roster, seed=seed, events_per_teacher=events)))
    counts = frame.group_by("teacher_id").len().with_columns((pl.col("len") - events).abs().alias("gap"))
    teacher = counts.sort("gap", "teacher_id")["teacher_id"][0]
    row = roster.filter(pl.col("teacher_id") == teacher).to_dicts()[0]
    return frame.filter(pl.col("teacher_id") == teacher), row


def timed(call: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of ``runs`` calls (CPU time: on a shared machine, wall time
    also counts the other processes)."""
    call()  # warm: caches of the policy (lowering, condition tests)
    wall, cpu = [], []
    gc.collect()
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu


def measure(path: Path, events: Any, teacher: dict[str, Any], runs: int) -> str:
    """One line: total wall (median, fastest), total CPU, and the CPU split (medians, ms)."""
    policy = load_policy(path)
    lowered = core.lower(policy)
    inputs = input_contract(policy)

    def validate() -> tuple[Any, Any]:
        table = reject_unconvertible(lowered, as_event_table(events, policy.timezone, inputs))
        return table, as_roster([teacher], inputs)[1]

    table, teachers = validate()
    records = interpreter_events(table, teachers, policy)
    wall, cpu = timed(lambda: evaluate(policy, events, [teacher], as_of=AS_OF), runs)
    reading = timed(validate, runs)[1]
    building = timed(lambda: interpreter_events(table, dict(teachers), policy), runs)[1]
    engine = timed(lambda: interpreter.evaluate(policy, records, teachers, as_of=AS_OF), runs)[1]
    parts = [statistics.median(reading), statistics.median(building), statistics.median(engine)]
    ms = [statistics.median(wall), min(wall), statistics.median(cpu), *parts, statistics.median(cpu) - sum(parts)]
    return " ".join(f"{x * 1e3:8.2f}" for x in ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    frame, teacher = one_teacher(args.events, args.seed)
    dicts = frame.to_dicts()
    print(f"teacher {teacher['teacher_id']}: {frame.height} events; {args.runs} runs each; ms"
          f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"{'policy':22} {'input':6} {'wall med':>8} {'fastest':>8} {'CPU med':>8} {'validate':>8}"
          f" {'records':>8} {'evaluate':>8} {'other':>8}")
    for path in shipped_policies():
        for name, events in (("dicts", dicts), ("frame", frame)):
            print(f"{path.stem:22} {name:6} {measure(path, events, teacher, args.runs)}")
    loop = min(timeit.repeat("sum(range(1000))", number=1000, repeat=5)) / 1000
    print(f"load probe: sum(range(1000)) takes {loop * 1e6:.1f} us")


if __name__ == "__main__":
    main()
