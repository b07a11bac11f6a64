"""Time ``recompute`` batched and unbatched over one province, and compare the ledgers' bytes.

    python benchmarks/generate_province.py --teachers 2000 --seed 1 --out /tmp/province-2000
    python benchmarks/batched_recompute.py /tmp/province-2000 --batch-rows 100 --batch-rows 20000

Prints seconds and batches per run (split into reading+validating the batches and evaluating
them) and whether the ledger file is byte-identical to the unbatched one (measured, never
asserted).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import tempfile
import time
from pathlib import Path

from credit_rules.recompute import recompute


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("province", type=Path, help="folder with events/ and roster.parquet")
    parser.add_argument("--policy", type=Path, default=Path("policies/five_year_cycle.policy"))
    parser.add_argument("--batch-rows", type=int, action="append", default=[])
    args = parser.parse_args(argv)
    events, roster = args.province / "events", args.province / "roster.parquet"
    runs = [10**12, *(args.batch_rows or [100])]
    digests: dict[int, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for batch_rows in runs:
            out = Path(tmp) / str(batch_rows)
            t0 = time.perf_counter()
            result = recompute(args.policy, events, roster if roster.exists() else None, out,
                               as_of=dt.date(2025, 12, 31), batch_rows=batch_rows)[0]
            seconds = time.perf_counter() - t0
            assert result.path is not None
            digests[batch_rows] = _digest(result.path)
            label = "unbatched" if batch_rows == 10**12 else f"--batch-rows {batch_rows}"
            same = "" if batch_rows == 10**12 else \
                f"  bytes {'identical' if digests[batch_rows] == digests[10**12] else 'DIFFERENT'}"
            print(f"{label:<22} {result.events.rows_read:>10,} events  {result.batches:>6} batches"
                  f"  {seconds:8.2f} s (reading+validating {result.load_seconds:7.2f} s,"
                  f" evaluating {result.eval_seconds:7.2f} s)  sha256 {digests[batch_rows]}{same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
