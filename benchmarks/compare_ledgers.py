"""Compare a five_year_cycle ledger of the hand-written anchor query with credit-rules' one.

    python benchmarks/compare_ledgers.py HANDWRITTEN.parquet CREDIT_RULES.parquet

The anchor (``../shared/anchors/five_year_polars.py``, or ``bench.py --keep DIR``) writes
one wide row per teacher (``credits``, ``hours``, ``<requirement>_actual``,
``<requirement>_met``, ``met``; a requirement that does not apply has no required
amount); ``credit-rules recompute`` writes ``requirements`` as a list of structs, the
applicable ones. Every amount is compared exactly, as decimals, for every teacher of
either ledger (a teacher missing from one side counts as differing). Prints the number of
differing teachers per column and exits 1 if any differs.
"""

from __future__ import annotations

import argparse
import sys

import polars as pl

_EXACT = pl.Decimal(38, 12)


def differences(handwritten: pl.DataFrame, ours: pl.DataFrame) -> dict[str, int]:
    """Per compared column, how many teachers differ (exactly)."""
    requirements = ours.select("teacher_id", "requirements").explode("requirements") \
        .unnest("requirements").filter(pl.col("name").is_not_null())
    names = [n for n in requirements.get_column("name").unique().sort().to_list()
             if f"{n}_actual" in handwritten.columns]
    wide = requirements.pivot(on="name", index="teacher_id", values=["actual", "met"])
    ours_cols = ours.select("teacher_id", pl.col("credits").alias("c_credits"),
                            pl.col("hours").alias("c_hours"), pl.col("met").alias("c_met"))
    joined = handwritten.join(ours_cols, on="teacher_id", how="full", coalesce=True) \
        .join(wide, on="teacher_id", how="left")

    def differ(a: pl.Expr, b: pl.Expr, where: pl.Expr | None = None) -> int:
        unequal = a.ne_missing(b)
        return joined.filter(unequal if where is None else where & unequal).height

    found = {
        "teachers": differ(pl.col("credits").is_null(), pl.col("c_credits").is_null()),
        "credits": differ(pl.col("credits").cast(_EXACT), pl.col("c_credits").cast(_EXACT)),
        "hours": differ(pl.col("hours").cast(_EXACT), pl.col("c_hours").cast(_EXACT)),
        "met": differ(pl.col("met"), pl.col("c_met")),
    }
    for name in names:
        # The anchor writes a requirement that does not apply with no required amount;
        # credit-rules leaves it out of the teacher's list.
        applies = pl.col(f"{name}_required").is_not_null()
        found[f"{name} applies"] = differ(applies, pl.col(f"actual_{name}").is_not_null())
        found[f"{name} actual"] = differ(pl.col(f"{name}_actual").cast(_EXACT),
                                         pl.col(f"actual_{name}").cast(_EXACT), applies)
        found[f"{name} met"] = differ(pl.col(f"{name}_met"), pl.col(f"met_{name}"), applies)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("handwritten")
    parser.add_argument("ours")
    args = parser.parse_args()
    handwritten, ours = pl.read_parquet(args.handwritten), pl.read_parquet(args.ours)
    found = differences(handwritten, ours)
    print(f"teachers: {handwritten.height:,} hand-written, {ours.height:,} credit-rules")
    for column, count in found.items():
        print(f"  {column:28s} {count:,} differing")
    return 1 if any(found.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
