"""One teacher through the public API: ``credit_rules.evaluate`` per shipped policy, printed,
never asserted (issue 10: target <= 1 ms median, validation of the small input included).

    python benchmarks/one_teacher.py [--events 200] [--runs 200] [--seed 3]

The teacher's events are drawn like a real teacher's by :mod:`credit_rules.synth` (a small
province; the teacher whose event count is nearest ``--events``), given once as a list of
dicts and once as a Polars frame, with the teacher's roster row as a dict. The policy is
loaded once; each run is one ``evaluate`` call (interpreter). Printed per policy and input:
the median and fastest total, and the split of the median into validation (events and
roster, as ``evaluate`` reads them) and evaluation (the interpreter on the records).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import polars as pl

from credit_rules import core, evaluate, load_policy
from credit_rules.api import as_event_table, as_roster, input_contract, shipped_policies
from credit_rules.eval import interpreter
from credit_rules.io.units import reject_unconvertible
from credit_rules.synth import generate_events, generate_roster

AS_OF = dt.date(2025, 12, 31)


def one_teacher(events: int, seed: int) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The events (a frame) and roster row of the synthetic teacher nearest ``events`` events."""
    roster = generate_roster(40, seed=seed)
    frame = pl.concat(list(generate_events(roster, seed=seed, events_per_teacher=events)))
    counts = frame.group_by("teacher_id").len().with_columns((pl.col("len") - events).abs().alias("gap"))
    teacher = counts.sort("gap", "teacher_id")["teacher_id"][0]
    row = roster.filter(pl.col("teacher_id") == teacher).to_dicts()[0]
    return frame.filter(pl.col("teacher_id") == teacher), row


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm: caches of the policy (lowering, bound conditions)
    out = []
    gc.collect()
    for _ in range(runs):
        start = time.perf_counter()
        call()
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    frame, teacher = one_teacher(args.events, args.seed)
    dicts = frame.to_dicts()
    print(f"teacher {teacher['teacher_id']}: {frame.height} events; {args.runs} runs each; ms")
    print(f"{'policy':22} {'input':6} {'median':>7} {'fastest':>7} {'validate':>8} {'evaluate':>8}")
    for path in shipped_policies():
        policy = load_policy(path)
        lowered = core.lower(policy)
        inputs = input_contract(policy)
        for name, events in (("dicts", dicts), ("frame", frame)):
            def validate(events: Any = events) -> Any:
                table = reject_unconvertible(lowered, as_event_table(events, policy.timezone, inputs))
                return table, as_roster([teacher], inputs)[1]

            table, teachers = validate()
            records = table.events()
            total = timed(lambda events=events: evaluate(policy, events, [teacher], as_of=AS_OF), args.runs)
            reading = timed(validate, args.runs)
            engine = timed(lambda: interpreter.evaluate(policy, records, teachers, as_of=AS_OF), args.runs)
            print(f"{path.stem:22} {name:6} {statistics.median(total) * 1e3:7.2f} {min(total) * 1e3:7.2f}"
                  f" {statistics.median(reading) * 1e3:8.2f} {statistics.median(engine) * 1e3:8.2f}")


if __name__ == "__main__":
    main()
