"""``credit-rules demo``: make a demo province and recompute it with the shipped policies.

Returns plain summary data; :mod:`credit_rules.cli` renders it.
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import attrs

from credit_rules.api import Engine, evaluate, shipped_policies
from credit_rules.compile import load_policy
from credit_rules.io import load_events, load_roster
from credit_rules.io.frames import rows_from_frame
from credit_rules.recompute import Progress, recompute
from credit_rules.synth import write_province

#: The demo is reproducible: its "today" is fixed, so per-semester periods do not drift.
DEMO_AS_OF = dt.date(2025, 12, 31)


@attrs.frozen
class Shortfall:
    requirement: str
    teachers: int
    mean_missing: Decimal


@attrs.frozen
class PolicySummary:
    policy: str
    title: str | None
    rows: int
    rows_met: int
    teachers: int
    credits_min: Decimal
    credits_median: Decimal
    credits_max: Decimal
    hours_median: Decimal
    excellent: int
    top_shortfalls: tuple[Shortfall, ...]
    seconds: float


@attrs.frozen
class DemoSummary:
    folder: Path
    teachers: int
    events_read: int
    events_used: int
    duplicates: int
    rejected: int
    policies: tuple[PolicySummary, ...]
    engine: str


def run_demo(
    out: str | Path | None,
    *,
    teachers: int = 3000,
    seed: int = 2026,
    engine: Engine = "bulk",
    progress: Callable[[str], None] | None = None,
    stages: Progress | None = None,
) -> DemoSummary:
    """Generate ``teachers`` teachers into ``out`` (a temporary folder if None) and evaluate
    the shipped policies: with the bulk engine (:func:`credit_rules.recompute.recompute`,
    reporting ``stages(stage, done, total)``) or one policy at a time with the interpreter."""
    say = progress or (lambda _message: None)
    folder = Path(out) if out else Path(tempfile.mkdtemp(prefix="credit-rules-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    say(f"generating {teachers} teachers into {folder}")
    files = write_province(folder, teachers, seed=seed)
    roster = load_roster(files.roster)
    summaries: list[PolicySummary] = []
    policies = [load_policy(path) for path in shipped_policies()]
    if engine == "bulk":
        say("recomputing the shipped policies with the bulk engine")
        results = recompute(policies, files.events, roster, as_of=DEMO_AS_OF, progress=stages)
        for policy, result in zip(policies, results, strict=True):
            assert result.ledger is not None
            rows = tuple(rows_from_frame(result.ledger))
            summaries.append(_summarise(policy.name, policy.title, rows, result.eval_seconds))
        report = results[0].events
    else:
        event_tables = {}
        for policy in policies:
            if policy.timezone not in event_tables:
                event_tables[policy.timezone] = load_events(files.events, timezone=policy.timezone)
            table = event_tables[policy.timezone]
            say(f"evaluating {policy.name}")
            started = time.perf_counter()
            ledger = evaluate(policy, table, roster, as_of=DEMO_AS_OF, engine=engine)
            seconds = time.perf_counter() - started
            summaries.append(_summarise(policy.name, policy.title, ledger.rows, seconds))
        report = next(iter(event_tables.values())).report
    return DemoSummary(folder, files.n_teachers, report.rows_read, report.rows_used,
                       report.duplicates, report.rejected, tuple(summaries), engine)


def _summarise(name: str, title: str | None, rows: tuple, seconds: float) -> PolicySummary:  # type: ignore[type-arg]
    credits = sorted(row.credits for row in rows) or [Decimal(0)]
    hours = sorted(row.hours for row in rows) or [Decimal(0)]
    missing: Counter[str] = Counter()
    missing_amount: dict[str, Decimal] = {}
    for row in rows:
        for requirement in row.requirements:
            if not requirement.met:
                missing[requirement.name] += 1
                gap = requirement.required - requirement.actual
                missing_amount[requirement.name] = missing_amount.get(requirement.name, Decimal(0)) + gap
    shortfalls = tuple(
        Shortfall(req, count, (missing_amount[req] / count).quantize(Decimal("0.1")))
        for req, count in missing.most_common(3)
    )
    return PolicySummary(
        policy=name, title=title, rows=len(rows),
        rows_met=sum(1 for row in rows if row.met), teachers=len({row.teacher_id for row in rows}),
        credits_min=credits[0], credits_median=statistics.median_low(credits), credits_max=credits[-1],
        hours_median=statistics.median_low(hours),
        excellent=sum(1 for row in rows if row.excellent_eligible),
        top_shortfalls=shortfalls, seconds=seconds,
    )
