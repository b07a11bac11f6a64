"""Cold start: wall and CPU time of short commands, each in a fresh interpreter, printed, never asserted.

    python benchmarks/cold_start.py [--runs 10] [--policy policies/five_year_cycle.policy] [--bytecode]
                                    [--against ../main]

Runs ``credit-rules check``, ``credit-rules fmt --check`` on a shipped policy and
``python -c "import credit_rules"``, each ``--runs`` times in a new subprocess, and prints
the median and the fastest wall time and the median CPU time (user + system: the figure
to read on a machine shared with other work). ``--bytecode`` lets Python write and reuse
.pyc files, as an installed package does (pip compiles them); by default the environment
decides (``PYTHONDONTWRITEBYTECODE=1`` recompiles every module at every start).
``--against CHECKOUT`` times another checkout's ``src`` too, run for run interleaved.

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
    parser.add_argument("--against", metavar="CHECKOUT",
                        help="also time another checkout's src (e.g. ../main), runs interleaved with this one's")
    args = parser.parse_args()
    trees = {"": ROOT / "src"}
    if args.against:
        trees = {"this: ": ROOT / "src", "other: ": Path(args.against).resolve() / "src"}
    envs = {}
    for label, src in trees.items():
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH", "")) if p)
        if args.bytecode:  # as an installed package runs: modules compiled once, read from .pyc after
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "credit-rules-cold-start-pyc")
        envs[label] = env
    bytecode = "with" if args.bytecode or "PYTHONDONTWRITEBYTECODE" not in os.environ else \
        "without (PYTHONDONTWRITEBYTECODE)"
    print(f"python {sys.version.split()[0]}, {args.runs} fresh runs each (seconds), {bytecode} bytecode caching"
          + "".join(f"; {label}{src}" for label, src in trees.items() if label))
    print(f"{'command':<68} {'median':>8} {'min':>8} {'cpu med':>8}")
    for name, argv in commands(args.policy).items():
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in envs}
        for _ in range(args.runs):  # interleaved, so a change in the machine's load hits both alike
            for label, env in envs.items():
                runs[label].append(time_once(argv, env))
        for label, timed in runs.items():
            walls, cpus = [w for w, _ in timed], [c for _, c in timed]
            print(f"{label + name:<68} {statistics.median(walls):>8.3f} {min(walls):>8.3f} "
                  f"{statistics.median(cpus):>8.3f}", flush=True)


if __name__ == "__main__":
    main()
