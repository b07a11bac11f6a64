"""The ``credit-rules`` command line. The only module that prints or exits.

Exit codes: 0 success, 1 a policy error / failed check / failed test, 2 bad usage or
unreadable input, 3 an internal error (with a message asking for a bug report).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from credit_rules.api import ENGINES, evaluate
from credit_rules.compile import check_source
from credit_rules.errors import CreditRulesError, InputError, PolicyError, UsageError
from credit_rules.io import write_ledger, write_rejects

F = TypeVar("F", bound=Callable[..., Any])

err = Console(stderr=True, highlight=False, soft_wrap=True)
# Wide enough for the demo table when stdout is a pipe or a CI log (rich assumes 80 there).
out = Console(highlight=False, soft_wrap=True, width=max(shutil.get_terminal_size((110, 24)).columns, 100))


def friendly_errors(func: F) -> F:
    """Turn every error into a message and an exit code; never a bare traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PolicyError as exc:
            err.print(exc.render(), markup=False)
            sys.exit(1)
        except (InputError, UsageError) as exc:
            err.print(f"error: {exc}", markup=False)
            sys.exit(2)
        except CreditRulesError as exc:
            err.print(f"error: {exc}", markup=False)
            sys.exit(1)
        except KeyboardInterrupt:
            err.print("interrupted")
            sys.exit(130)
        except click.exceptions.Exit:
            raise
        except (click.ClickException, click.Abort):
            raise
        except Exception as exc:
            err.print(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in credit-rules; please report it with the command you ran.",
                markup=False,
            )
            sys.exit(3)

    return wrapper  # type: ignore[return-value]


def parse_date_option(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="credit-rules")
def main() -> None:
    """Teachers' continuing-education credits (继续教育 学时/学分) from declarative policies."""


# ---------------------------------------------------------------------- check
@main.command()
@click.argument("policies", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--strict", is_flag=True, help="Treat warnings as errors (for CI).")
@friendly_errors
def check(policies: tuple[str, ...], strict: bool) -> None:
    """Check policy files; print every diagnostic with its line and a caret."""
    failed = False
    for path in policies:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot read the policy ({exc.strerror}); check the path") from None
        policy, diagnostics = check_source(text, path)
        for diagnostic in diagnostics:
            err.print(diagnostic.render(text) + "\n", markup=False)
        errors = [d for d in diagnostics if d.is_error or strict]
        if policy is None or errors:
            failed = True
        else:
            warnings = len(diagnostics)
            suffix = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
            err.print(f"{path}: ok{suffix}", markup=False)
    if failed:
        sys.exit(1)


# ---------------------------------------------------------------------- eval
@main.command(name="eval")
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("--events", "events", required=True, multiple=True,
              help="Events file (.jsonl, .csv, .parquet, .arrow; - for JSON Lines on stdin). Repeatable.")
@click.option("--roster", type=click.Path(dir_okay=False), help="Roster file.")
@click.option("--as-of", callback=parse_date_option, help="Date deciding the current period (default today).")
@click.option("--engine", type=click.Choice(ENGINES), default="interpreter", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "csv", "parquet"]), default="json",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the ledger here instead of stdout.")
@click.option("--rejects", type=click.Path(dir_okay=False), help="Write rejected rows here (.csv or .jsonl).")
@friendly_errors
def eval_command(policy: str, events: tuple[str, ...], roster: str | None, as_of: dt.date | None,
                 engine: str, fmt: str, out: str | None, rejects: str | None) -> None:
    """Evaluate one policy and print its ledger (SPEC §5)."""
    sources: Any = list(events) if len(events) > 1 else events[0]
    ledger = evaluate(policy, sources, roster, as_of=as_of, engine=engine)  # type: ignore[arg-type]
    for report in ledger.reports:
        err.print(report.summary(), markup=False)
    if rejects and ledger.events is not None:
        write_rejects(ledger.events, rejects)
        err.print(f"rejected rows written to {rejects}", markup=False)
    elif ledger.events is not None and ledger.events.report.rejected:
        err.print("some rows were rejected: see them with --rejects FILE", markup=False)
    rows = ledger.to_json()
    if out:
        write_ledger(rows, out, fmt)
    elif fmt == "parquet":
        raise UsageError("--format parquet needs --out FILE")
    else:
        write_ledger(rows, sys.stdout, fmt)


# ---------------------------------------------------------------------- demo
@main.command()
@click.option("--out", type=click.Path(file_okay=False),
              help="Folder for the demo province (default: a temporary one).")
@click.option("--teachers", default=3000, show_default=True, help="How many teachers the demo province has.")
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same province).")
@click.option("--engine", type=click.Choice(ENGINES), default="interpreter", show_default=True)
@friendly_errors
def demo(out: str | None, teachers: int, seed: int, engine: str) -> None:
    """Make a demo province and recompute it with the shipped policies."""
    from rich.table import Table

    from credit_rules.demo import run_demo
    from credit_rules.values import canonical

    with err.status("making the demo province…") as status:
        summary = run_demo(out, teachers=teachers, seed=seed, engine=engine,  # type: ignore[arg-type]
                           progress=lambda message: status.update(message))
    console = globals()["out"]
    console.print(f"[bold]Demo province[/bold] in {summary.folder}: {summary.teachers} teachers, "
                  f"events {summary.events_read} read = {summary.events_used} used + "
                  f"{summary.duplicates} duplicates + {summary.rejected} rejected "
                  f"(engine: {summary.engine})")
    table = Table(title="Shipped policies")
    table.add_column("policy", no_wrap=True)
    for column in ("teachers met", "credits min/med/max", "hours med", "excellent", "s"):
        table.add_column(column, justify="right")
    for p in summary.policies:
        share = f"{p.teachers_met}/{p.teachers} ({100 * p.teachers_met / max(p.teachers, 1):.0f}%)"
        table.add_row(p.policy, share,
                      f"{canonical(p.credits_min)}/{canonical(p.credits_median)}/{canonical(p.credits_max)}",
                      canonical(p.hours_median), str(p.excellent), f"{p.seconds:.1f}")
    console.print(table)
    console.print("[bold]Top shortfalls[/bold] (requirement: teachers short, mean amount missing)")
    for p in summary.policies:
        shortfalls = "; ".join(f"{s.requirement}: {s.teachers}, {canonical(s.mean_missing)}"
                               for s in p.top_shortfalls) or "none"
        console.print(f"  {p.policy}: {shortfalls}", markup=False)
    console.print(f"Try: credit-rules eval policies/five_year_cycle.policy --events {summary.folder}/events/*.parquet "
                  f"--roster {summary.folder}/roster.parquet", markup=False)


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


if __name__ == "__main__":  # pragma: no cover
    main()
