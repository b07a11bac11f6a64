"""Cold start: wall and CPU time of short commands, each in a fresh interpreter, printed, never asserted.

    python benchmarks/cold_start.py [--runs 10] [--policy policies/five_year_cycle.policy] [--bytecode]

Runs ``credit-rules check``, ``credit-rules fmt --check`` on a shipped policy and
``python -c "import credit_rules"``, each ``--runs`` times in a new subprocess, and prints
the median and the fastest wall time and the median CPU time (user + system: the figure
to read on a machine shared with other work). ``--bytecode`` lets Python write and reuse
.pyc files, as an installed package does (pip compiles them); by default the environment
decides (``PYTHONDONTWRITEBYTECODE=1`` recompiles every module at every start).

The package is taken from this checkout's ``src`` (put first on ``PYTHONPATH``), as the
console script would run it; the first run of each command may also write the grammar
cache (see ``credit_rules.syntax.grammar``).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from credit_rules.cli import main; sys.argv[0] = 'credit-rules'; main()"


def commands(policy: str) -> dict[str, list[str]]:
    return {
        f"credit-rules check {policy}": [sys.executable, "-c", CLI, "check", policy],
        f"credit-rules fmt --check {policy}": [sys.executable, "-c", CLI, "fmt", "--check", policy],
        'python -c "import credit_rules"': [sys.executable, "-c", "import credit_rules"],
        'python -c "import credit_rules.cli"': [sys.executable, "-c", "import credit_rules.cli"],
    }


def time_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of one fresh run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{argv[3:] or argv} exited {done.returncode}:\n{done.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--policy", default="policies/five_year_cycle.policy")
    parser.add_argument("--bytecode", action="store_true",
                        help="let Python cache compiled modules (in a temporary folder), as after pip install")
    args = parser.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p)
    if args.bytecode:  # as an installed package runs: modules compiled once, read from .pyc after
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "credit-rules-cold-start-pyc")
    bytecode = "with" if "PYTHONDONTWRITEBYTECODE" not in env else "without (PYTHONDONTWRITEBYTECODE)"
    print(f"python {sys.version.split()[0]}, {args.runs} fresh runs each (seconds), {bytecode} bytecode caching")
    print(f"{'command':<60} {'median':>8} {'min':>8} {'cpu med':>8}")
    for name, argv in commands(args.policy).items():
        runs = [time_once(argv, env) for _ in range(args.runs)]
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(f"{name:<60} {statistics.median(walls):>8.3f} {min(walls):>8.3f} {statistics.median(cpus):>8.3f}",
              flush=True)


if __name__ == "__main__":
    main()
