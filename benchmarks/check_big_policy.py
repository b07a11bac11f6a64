"""Check big policies: parse, check and compile times of generated N-rule policies,
printed, never asserted.

    python benchmarks/check_big_policy.py [--rules 1000 10000] [--kinds 8] [--timeout 120] [--lift-limits]

Times are wall-clock seconds; ``cpu_s`` is the process's CPU time for the whole, the
figure to read on a machine shared with other work.

Each policy has N rules spread over ``--kinds`` event kinds, each rule with its own
program, a few with a `where` on the category, plus one cap and one requirement: the
shape of a province's catalogue written as one file. Each size runs in a subprocess so a
size that does not finish within ``--timeout`` seconds is reported as such.

A policy over the size limits (2 MiB, E007; 20,000 items, E009; from 50,000 rules here)
is refused before parsing or right after it, and the time to refuse it is printed;
``--lift-limits`` raises both limits in the measuring process, to time the whole
pipeline on such a policy anyway.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

KINDS = ("training", "observation", "lesson_given", "reflection", "credit_award", "material_submitted",
         "probation_training")


def policy_text(rules: int, kinds: int) -> str:
    lines = ["policy big", "  window 2023-09-01 .. 2028-08-31", "  evaluate per school year",
             "  10 hours = 1 credit", ""]
    for i in range(rules):
        kind = KINDS[i % kinds]
        where = "\n  where category ethics" if i % 7 == 0 else ""
        lines.append(f'rule r{i}:\n  on {kind}\n  program "p{i}"{where}\n  count hours\n')
    lines.append("cap ethics_cap: at most 20 credits of category ethics\n")
    lines.append("require total: at least 72 credits\n")
    return "\n".join(lines)


def measure(rules: int, kinds: int, lift_limits: bool) -> dict[str, float | int | str]:
    from credit_rules.compile import compile_ast
    from credit_rules.errors import PolicyError
    from credit_rules.eval import bulk
    from credit_rules.syntax import limits
    from credit_rules.syntax.parser import parse

    if lift_limits:
        limits.MAX_POLICY_BYTES = limits.MAX_ITEMS = 10**12
    text = policy_text(rules, kinds)
    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        tree = parse(text, "big.policy")
    except PolicyError as exc:
        return {"rules": rules, "bytes": len(text.encode()), "refused": exc.diagnostics[0].one_line(),
                "total_s": round(time.perf_counter() - started, 2)}
    parsed = time.perf_counter()
    policy, diagnostics = compile_ast(tree, "big.policy")
    checked = time.perf_counter()
    assert policy is not None, [d.one_line() for d in diagnostics[:3]]
    bulk.compile_plan(policy)
    compiled = time.perf_counter()
    return {"rules": rules, "bytes": len(text.encode()), "parse_s": round(parsed - started, 2),
            "check_s": round(checked - parsed, 2), "compile_s": round(compiled - checked, 2),
            "total_s": round(compiled - started, 2), "cpu_s": round(time.process_time() - cpu_started, 2),
            "diagnostics": len(diagnostics),
            **({"limits": "lifted"} if lift_limits else {})}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--kinds", type=int, default=len(KINDS))
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--lift-limits", action="store_true",
                        help="raise the size limits (E007, E009) to time policies beyond them")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.kinds, args.lift_limits)))
        return
    for rules in args.rules:
        command = [sys.executable, __file__, "--one", str(rules), "--kinds", str(args.kinds),
                   *(["--lift-limits"] if args.lift_limits else [])]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=args.timeout, check=True)
            print(done.stdout.strip())
        except subprocess.TimeoutExpired:
            print(json.dumps({"rules": rules, "total_s": f"> {args.timeout:g} (stopped)"}))
        except subprocess.CalledProcessError as exc:
            print(json.dumps({"rules": rules, "error": exc.stderr.strip().splitlines()[-1:]}))


if __name__ == "__main__":
    main()
