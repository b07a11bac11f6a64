"""``five_year_cycle`` written directly in Polars: the yardstick for the compiled plan.

    python benchmarks/handwritten_five_year.py --dir /tmp/province-100000 [--check 2000]

Reads the validated events (``validated.parquet`` or ``validated/*.parquet``, the
EventTable layout, sorted by teacher_id, at_us, event_id) and ``roster_valid.parquet``,
and computes per teacher: credits, hours, by_category, by_level (credited) and ``met``,
exactly (Int64 at 10^-7 credits), with the policy's rules, caps and requirements spelt
out by hand. No trace, no JSON rendering. The register (SPEC §4: caps that overlap need
time order) runs only for teachers whose caps bind, one numpy step per award position
across all of them at once. With ``--check N`` the first N teachers are compared with the
bulk engine's ledger (assert). Prints one JSON line of timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

S = 10**7  # credits and hours at 10^-7 (hours_u is 10^-6 hours; 10 hours = 1 credit)
START, END = dt.date(2021, 1, 1), dt.date(2025, 12, 31)
CATEGORIES = ("class_teacher", "ethics", "knowledge", "literacy", "practice")
LEVELS = ("district", "municipal", "national", "province", "school")
# (name, condition on the award, amount, cap period key or None)
CAPS = (
    ("municipal", pl.col("lvl") == "municipal", 7 * S, False),
    ("district", pl.col("lvl") == "district", 14 * S, False),
    ("practice", pl.col("cat") == "practice", 2 * S, True),
    ("lecture", (pl.col("cat") == "practice") & (pl.col("format") == "lecture"), 1 * S, False),
)


def events_path(directory: Path) -> Path | str:
    single = directory / "validated.parquet"
    return single if single.exists() else str(directory / "validated" / "*.parquet")


def awards(directory: Path) -> pl.DataFrame:
    """One award per event (the four rules of five_year_cycle never share an event)."""
    kinds = ["training", "credit_award", "probation_training"]
    ev = (pl.scan_parquet(events_path(directory))
          .filter(pl.col("kind").is_in(kinds) & pl.col("day").is_between(START, END))
          .select("teacher_id", "day", "kind", "hours_u", "credits_u", "category", "level", "format")
          .collect(engine="streaming"))
    tid = pl.col("teacher_id")
    new = (tid != tid.shift()).fill_null(True)
    ev = ev.with_columns((new.cast(pl.Int32).cum_sum() - 1).alias("t").set_sorted())
    hours = pl.col("hours_u").fill_null(0) * 10
    training = pl.col("kind") == "training"
    ct = training & (pl.col("category") == "class_teacher").fill_null(False)
    ct_after = pl.when(ct).then(hours).otherwise(0).cum_sum().over("t")
    ct_before = ct_after - pl.when(ct).then(hours).otherwise(0)
    size = 30 * S
    probation = pl.col("kind") == "probation_training"
    first_probation = probation & (probation.cast(pl.Int32).cum_sum().over("t") == 1)
    credits = (pl.when(ct).then((ct_after // size - ct_before // size) * 3 * S)
               .when(training).then(pl.col("hours_u").fill_null(0))
               .when(pl.col("kind") == "credit_award").then(pl.col("credits_u").fill_null(0) * 10)
               .otherwise(12 * S))
    out = ev.with_columns(
        credits.alias("a"),
        pl.when(probation).then(0).otherwise(hours).alias("h"),
        pl.when(probation).then(None).otherwise(pl.col("category")).alias("cat"),
        pl.when(ct).then(pl.lit("municipal")).when(probation).then(pl.lit("school"))
        .otherwise(pl.col("level")).alias("lvl"),
        pl.col("day").dt.year().cast(pl.Int32).alias("sy0"), pl.col("day").dt.month().alias("m"),
        first_probation.alias("keep"),
    )
    out = out.filter(~probation | pl.col("keep")).with_columns(
        pl.when(pl.col("m") >= 9).then(pl.col("sy0")).otherwise(pl.col("sy0") - 1).alias("sy"))
    return out.select("t", "teacher_id", "a", "h", "cat", "lvl", "format", "sy")


def register(aw: pl.DataFrame) -> pl.DataFrame:
    """``c``: the credited amount of every award (SPEC §4 register)."""
    aw = aw.with_columns([cond.fill_null(False).alias(f"in_{n}") for n, cond, _, _ in CAPS])
    binds = []
    for name, _, amount, per_year in CAPS:
        keys = ["t", "sy"] if per_year else ["t"]
        total = pl.when(pl.col(f"in_{name}")).then(pl.col("a")).otherwise(0).sum().over(keys)
        binds.append((total > amount) & pl.col(f"in_{name}"))
    aw = aw.with_columns(pl.any_horizontal(binds).any().over("t").alias("hot"))
    cold = aw.filter(~pl.col("hot")).with_columns(pl.col("a").alias("c"))
    hot = aw.filter(pl.col("hot"))
    # Teachers whose caps bind: award by award in time order, all such teachers at once
    # (step n credits every teacher's n-th award).
    a = hot["a"].to_numpy()
    t_ = hot["t"].to_numpy().astype(np.int64)
    n = len(a)
    starts = np.flatnonzero(np.diff(t_, prepend=-1))
    pos = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    sy = hot["sy"].to_numpy().astype(np.int64) - (START.year - 1)  # 0 .. 5
    cap_keys: list[Any] = []
    amounts: list[int] = []
    for name, _, amount, per_year in CAPS:
        inside = hot[f"in_{name}"].to_numpy()
        cap_keys.append(np.where(inside, t_ * 8 + (sy if per_year else 0), -1))
        amounts.append(amount)
    used = [np.zeros(int(t_.max() + 1) * 8 if n else 1, dtype=np.int64) for _ in CAPS]
    c = np.zeros(n, dtype=np.int64)
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(int(pos.max()) + 2)) if n else [0]
    for step in range(len(bounds) - 1):
        rows = order[bounds[step]:bounds[step + 1]]
        grant = a[rows].copy()
        picked = []
        for j in range(len(CAPS)):
            k = cap_keys[j][rows]
            m = k >= 0
            picked.append((m, k[m]))
            grant[m] = np.minimum(grant[m], np.maximum(amounts[j] - used[j][k[m]], 0))
        for j, (m, k) in enumerate(picked):
            used[j][k] += grant[m]
        c[rows] = grant
    hot = hot.with_columns(pl.Series("c", c))
    return pl.concat([cold, hot.select(cold.columns)])


def ledger(aw: pl.DataFrame, roster: pl.DataFrame) -> pl.DataFrame:
    c, h = pl.col("c"), pl.col("h")
    aggs = [c.sum().alias("credits"), h.sum().alias("hours")]
    aggs += [c.filter(pl.col("cat") == v).sum().alias(f"cat_{v}") for v in CATEGORIES]
    aggs += [c.filter(pl.col("lvl") == v).sum().alias(f"lvl_{v}") for v in LEVELS]
    aggs += [h.filter(pl.col("cat") == "class_teacher").sum().alias("ct_hours")]
    sums = aw.lazy().group_by("teacher_id").agg(aggs).collect(engine="streaming")
    zero = [*(f"cat_{v}" for v in CATEGORIES), *(f"lvl_{v}" for v in LEVELS)]
    out = roster.select("teacher_id", "title", "roles", "hired_on", "retired_on").join(
        sums, on="teacher_id", how="left").with_columns(
        pl.col("credits", "hours", "ct_hours", *zero).fill_null(0))
    retired = (pl.col("retired_on") <= END).fill_null(False)
    hired = pl.col("hired_on")
    factor = pl.when(hired.is_between(START, END)).then(
        pl.max_horizontal(5 - (hired.dt.year().cast(pl.Int64) - START.year), 0)).otherwise(5)
    total = (pl.when(retired).then(18 * S).when((pl.col("title") == "senior").fill_null(False))
             .then(54 * S).otherwise(36 * S)) * factor // 5

    def need(amount: int) -> pl.Expr:
        return amount * S * factor // 5

    waivable = [
        pl.col("cat_ethics") + pl.col("cat_literacy") >= need(12),
        pl.col("cat_ethics") >= need(6), pl.col("cat_knowledge") >= need(14),
        pl.col("cat_practice") >= need(10), pl.col("lvl_municipal") >= need(4),
        pl.col("lvl_district") >= need(11),
        ~pl.col("roles").list.contains("class_teacher").fill_null(False)
        | (pl.col("ct_hours") >= 30 * S),
    ]
    met = ((pl.col("credits") >= total) & (pl.col("lvl_school") >= need(18))
           & (retired | pl.all_horizontal(waivable)))
    return out.with_columns(met.alias("met")).select(
        "teacher_id", "credits", "hours", *zero, "met")


def check(directory: Path, mine: pl.DataFrame, n: int) -> int:
    """Compare the first ``n`` teachers with the bulk engine's ledger (assert)."""
    from credit_rules.compile import load_policy
    from credit_rules.eval import bulk

    root = Path(__file__).resolve().parents[1]
    policy = load_policy(root / "policies" / "five_year_cycle.policy")
    roster = pl.read_parquet(directory / "roster_valid.parquet").sort("teacher_id").head(n)
    events = pl.scan_parquet(events_path(directory)).filter(
        pl.col("teacher_id").is_in(roster["teacher_id"].implode())).collect()
    frame = bulk.run(bulk.compile_plan(policy), events, roster, as_of=END, trace=False)
    theirs = {r["teacher_id"]: r for r in frame.iter_rows(named=True)}

    def dec(v: int) -> Decimal:
        return Decimal(v) / S

    for r in mine.filter(pl.col("teacher_id").is_in(roster["teacher_id"].implode())).iter_rows(named=True):
        t = theirs[r["teacher_id"]]
        assert Decimal(t["credits"]) == dec(r["credits"]), (r, t)
        assert Decimal(t["hours"]) == dec(r["hours"]), (r, t)
        assert t["met"] == r["met"], (r, t)
        cats = {e["key"]: e["value"] for e in t["by_category"]}
        lvls = {e["key"]: e["value"] for e in t["by_level"]}
        for v in CATEGORIES:
            assert cats.get(v, Decimal(0)) == dec(r[f"cat_{v}"]), (v, r, t)
        for v in LEVELS:
            assert lvls.get(v, Decimal(0)) == dec(r[f"lvl_{v}"]), (v, r, t)
    return len(theirs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=Path("/tmp/province-100000"))
    parser.add_argument("--check", type=int, default=0, help="compare the first N teachers")
    args = parser.parse_args()
    t0 = time.perf_counter()
    roster = pl.read_parquet(args.dir / "roster_valid.parquet")
    aw = awards(args.dir)
    t1 = time.perf_counter()
    aw = register(aw)
    t2 = time.perf_counter()
    out = ledger(aw, roster)
    t3 = time.perf_counter()
    checked = check(args.dir, out, args.check) if args.check else 0
    hwm = next(line for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("VmHWM")).split()[1]
    print(json.dumps({"wall": t3 - t0, "scan_awards": t1 - t0, "register": t2 - t1,
                      "aggregate": t3 - t2, "rows": out.height, "awards": aw.height,
                      "rss_gib": int(hwm) / 2**20, "checked": checked}))


if __name__ == "__main__":
    main()
