"""The ``credit-rules`` command line. The only module that prints or exits.

Exit codes: 0 success, 1 a policy error / failed check / failed test, 2 bad usage or
unreadable input, 3 an internal error (with a message asking for a bug report).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import click

from credit_rules.console import LazyConsole
from credit_rules.errors import CreditRulesError, InputError, PolicyError, UsageError
from credit_rules.eval import ENGINES

# Nothing here imports Polars, PyArrow or NumPy at module level: `check` and `fmt` never
# read data, and start in a fraction of the time (benchmarks/cold_start.py). The commands
# that read data import what they need inside.

F = TypeVar("F", bound=Callable[..., Any])

# rich.console.Console, imported when first needed (check and fmt usually print plain lines).
err = LazyConsole(stderr=True, highlight=False, soft_wrap=True, emoji=False)  # ":100:" is a place, not 💯
# Wide enough for the demo table when stdout is a pipe or a CI log (rich assumes 80 there).
out = LazyConsole(highlight=False, emoji=False, soft_wrap=True,
                  width=max(shutil.get_terminal_size((110, 24)).columns, 100))


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
            err.print("interrupted: no output was replaced and temporary files were removed",
                      markup=False)
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
@click.option("--events", "events", multiple=True,
              help="Also report event kinds, programs and columns in these files that no rule uses.")
@friendly_errors
def check(policies: tuple[str, ...], strict: bool, events: tuple[str, ...]) -> None:
    """Check policy files; print every diagnostic with its line and a caret."""
    from credit_rules.compile import check_source, layer_sources  # here: fmt never needs the IR

    failed = False
    for path in policies:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot read the policy ({exc.strerror}); check the path") from None
        policy, diagnostics = check_source(text, path)
        sources = layer_sources(diagnostics, {path: text})  # a parent layer's lines, for its diagnostics
        for diagnostic in diagnostics:
            err.print(diagnostic.render(sources.get(diagnostic.span.file)) + "\n", markup=False)
        findings = _unused_in_events(policy, events) if (policy is not None and events) else []
        for finding in findings:
            err.print(finding, markup=False)
        errors = [d for d in diagnostics if d.is_error or strict]
        if policy is None or errors or (strict and findings):
            failed = True
        else:
            warnings = len(diagnostics) + len(findings)
            suffix = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
            err.print(f"{path}: ok{suffix}", markup=False)
    if failed:
        sys.exit(1)


def roster_rejects_path(path: str) -> Path:
    """Where ``--rejects FILE`` puts rejected roster rows: ``FILE`` with ``.roster`` before
    its extension (``rejects.csv`` → ``rejects.roster.csv``)."""
    target = Path(path)
    return target.with_name(f"{target.stem}.roster{target.suffix}")


def _warn_roster_rejects(roster: Any) -> None:
    """Name the teachers whose roster row was rejected: they are evaluated without their
    roster attributes (title, roles, dates), which may change their requirements."""
    if roster is None or not roster.height or "teacher_id" not in roster.columns:
        return
    ids = sorted({t for t in roster["teacher_id"].to_list() if t})
    if ids:
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        err.print(f"warning: the roster rows of {len(ids)} teacher(s) were rejected ({shown}); a teacher "
                  "left without a valid row is evaluated without roster attributes. Fix the roster, "
                  "see --rejects, or stop on this with --strict-input", markup=False)


def _report_rejects(path: str | None, events: Any, roster: Any) -> None:
    """Write rejected events to ``path`` and rejected roster rows beside it (when a roster
    was read), or say that some rows were rejected."""
    from credit_rules.io import write_rejects

    _warn_roster_rejects(roster)
    if path:
        if events is not None:
            write_rejects(events, path)
            err.print(f"rejected rows written to {path}", markup=False)
        if roster is not None:
            write_rejects(roster, roster_rejects_path(path))
            err.print(f"rejected roster rows written to {roster_rejects_path(path)}", markup=False)
    elif (events is not None and events.height) or (roster is not None and roster.height):
        err.print("some rows were rejected: see them with --rejects FILE", markup=False)


def _check_input(findings: list[str], rejected: list[Any], strict: bool) -> None:
    """Warn about ``findings`` on stderr; with ``--strict-input`` fail on them and on any
    rejected row (``rejected``: the load reports with rejected rows)."""
    if strict and (findings or rejected):
        problems = [*findings, *(f"{r.rejected} {r.label} row(s) rejected" for r in rejected)]
        raise InputError("; ".join(problems) + " (--strict-input)")
    for finding in findings:
        err.print(f"warning: {finding}", markup=False)


def _unused_in_events(policy: Any, events: tuple[str, ...]) -> list[str]:
    """Kinds, programs and columns present in the events that the policy never reads."""
    import polars as pl

    from credit_rules.compile.usage import policy_usage
    from credit_rules.io import load_events

    table = load_events(list(events) if len(events) > 1 else events[0], timezone=policy.timezone)
    usage = policy_usage(policy)
    frame = table.frame
    label = ", ".join(events)
    findings: list[str] = []
    for kind, n in frame.group_by("kind").len().sort("kind").rows():
        if kind not in usage.kinds:
            findings.append(f"{label}: warning[W170]: event kind `{kind}` ({n} events) is not used by "
                            f"policy {policy.name}")
    by_program = frame.drop_nulls("program").group_by("program").agg(pl.col("kind").unique(), pl.len())
    for program, kinds, n in by_program.sort("program").rows():
        if program not in usage.programs and not set(kinds) & usage.any_program_kinds:
            findings.append(f"{label}: warning[W170]: program `{program}` ({n} events) is not used by "
                            f"policy {policy.name}")
    present = [c for c in frame.columns if c not in ("source", "row", "day", "at_us")]
    names = {"hours_u": "hours", "credits_u": "credits", "score_u": "score", "minutes_u": "minutes",
             "days_u": "days"}
    for column in present:
        name = names.get(column, column)
        if name in usage.columns or frame.get_column(column).null_count() == frame.height:
            continue
        if name in ("minutes", "days"):  # issue 9 (A): such rows are rejected, never 0 hours
            n = frame.height - frame.get_column(column).null_count()
            findings.append(f"{label}: warning[W172]: {n} events carry {name}, but policy {policy.name} "
                            f"declares no conversion of {name} to hours: they will be rejected")
            continue
        findings.append(f"{label}: warning[W171]: column `{name}` is not used by policy {policy.name}")
    return findings


# ---------------------------------------------------------------------- eval
@main.command(name="eval")
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("--events", "events", required=True, multiple=True,
              help="Events file (.jsonl, .csv, .parquet, .arrow; - for JSON Lines on stdin) or a folder "
                   "of such files. Repeatable.")
@click.option("--roster", type=click.Path(dir_okay=False), help="Roster file.")
@click.option("--as-of", callback=parse_date_option, help="Date deciding the current period (default today).")
@click.option("--engine", type=click.Choice(ENGINES), default="interpreter", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["json", "jsonl", "csv", "parquet"]), default="json",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Write the ledger here instead of stdout.")
@click.option("--rejects", type=click.Path(dir_okay=False),
              help="Write rejected rows here (.csv or .jsonl); rejected roster rows go to "
                   "FILE.roster.csv (or .jsonl) beside it.")
@click.option("--strict-input", is_flag=True,
              help="Fail (exit 2) on any rejected event or roster row, on events with none of the "
                   "columns the policy reads, or on roster columns read without --roster.")
@friendly_errors
def eval_command(policy: str, events: tuple[str, ...], roster: str | None, as_of: dt.date | None,
                 engine: str, fmt: str, out: str | None, rejects: str | None,
                 strict_input: bool) -> None:
    """Evaluate one policy and print its ledger (SPEC §5)."""
    from credit_rules.api import evaluate
    from credit_rules.io import write_ledger
    from credit_rules.recompute import input_warnings, table_columns

    sources: Any = list(events) if len(events) > 1 else events[0]
    ledger = evaluate(policy, sources, roster, as_of=as_of, engine=engine)  # type: ignore[arg-type]
    for report in ledger.reports:
        err.print(report.summary(), markup=False)
    findings = input_warnings(ledger.policy, table_columns(ledger.events), roster is not None) \
        if ledger.events is not None else []
    _report_rejects(rejects, ledger.events.rejects if ledger.events is not None else None,
                    ledger.roster.rejects if ledger.roster is not None else None)
    _check_input(findings, [r for r in ledger.reports if r.rejected], strict_input)
    rows = ledger.to_json()
    if out:
        write_ledger(rows, out, fmt)
    elif fmt == "parquet":
        raise UsageError("--format parquet needs --out FILE")
    else:
        write_ledger(rows, sys.stdout, fmt)


# ---------------------------------------------------------------------- explain
@main.command()
@click.argument("policy", type=click.Path(dir_okay=False))
@click.option("--events", "events", required=True, multiple=True, help="Events file(s), as for eval.")
@click.option("--roster", type=click.Path(dir_okay=False), help="Roster file.")
@click.option("--teacher", required=True, help="The teacher_id to explain.")
@click.option("--as-of", callback=parse_date_option, help="Date deciding the current period (default today).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--lang", type=click.Choice(["en", "zh", "auto"]), default="en", show_default=True,
              help="Explain in English or in Chinese (中文); auto: Chinese when the policy's keywords are Chinese.")
@friendly_errors
def explain(policy: str, events: tuple[str, ...], roster: str | None, teacher: str, as_of: dt.date | None,
            fmt: str, lang: str) -> None:
    """Show why a teacher got each credit: rules, events, caps, requirements, each with its clause."""
    from credit_rules.api import as_event_table, as_policy, as_roster, input_contract, named_only
    from credit_rules.core import lower
    from credit_rules.eval.explain import explain as explain_teacher
    from credit_rules.io.units import reject_unconvertible
    from credit_rules.records import Teacher

    checked = as_policy(policy)
    inputs = input_contract(checked)
    table = as_event_table(list(events) if len(events) > 1 else events[0], checked.timezone, inputs)
    table = reject_unconvertible(lower(checked), table)  # issue 9 (A): as `eval` does
    loaded, teachers = as_roster(roster, inputs)
    # a teacher named only on rejected rows is explained too (SPEC §5): nothing counted
    teachers.update({t: Teacher(t) for t in named_only(table, loaded, teachers)})
    if teacher not in teachers and teacher not in set(table.teacher_ids()):
        raise UsageError(f"teacher {teacher!r} is in neither the roster nor the events; check the id")
    chosen = _explain_lang(lang, checked)
    explanations = explain_teacher(checked, table.events(), teachers, teacher, as_of=as_of, lang=chosen)
    if fmt == "json":
        out.print(_dump([e.to_json() for e in explanations]), markup=False)
        return
    for explanation in explanations:
        _render_explanation(explanation)


def _explain_lang(lang: str, policy: Any) -> Literal["en", "zh"]:
    """``auto``: Chinese when the policy's text starts with the Chinese header keyword ``政策``."""
    if lang == "en":
        return "en"
    if lang == "zh":
        return "zh"
    try:
        text = Path(policy.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "en"
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            return "zh" if stripped.startswith("政策") else "en"
    return "en"


def _render_explanation(e: Any) -> None:
    """One period of an explanation, in the language it was made in (``e.lang``). Every id,
    reason and policy text is escaped: rich markup in the data (``[/x]``, ``[link=…]``) is
    shown as written, never interpreted."""
    from rich.markup import escape
    from rich.table import Table

    from credit_rules.eval.explain import cap_text
    from credit_rules.eval.messages import amount, figure, grade_name, message, words, yes_no

    lang = e.lang

    def q(value: Any) -> str:
        return escape(str(value))

    def m(key: str, **fields: Any) -> str:
        return message(key, lang, **fields)

    def requirement_figure(r: Any, value: Any) -> str:
        if r.unit is None:
            return figure(value)
        return amount(value, r.unit, lang, kind=r.kind)

    status = f"[green]{m('state.met')}[/green]" if e.met else f"[red]{m('state.not met')}[/red]"
    out.print(m("explain.head", teacher=f"[bold]{q(e.teacher_id)}[/bold]", start=e.period_start, end=e.period_end,
                credits=amount(e.credits, "credits", lang), hours=amount(e.hours, "hours", lang),
                leave=amount(e.leave_days, "leave_days", lang),
                grade=q(grade_name(e.grade, lang) if e.grade is not None else "-"),
                excellent=yes_no(e.excellent_eligible, lang), status=status))
    rules = Table(title=m("explain.rules"), title_justify="left", show_lines=True)
    for column in ("rule", "clause", "credited", "hours", "events"):
        rules.add_column(m(f"explain.col.{column}"), overflow="fold")
    for r in e.rules:
        if r.awards:
            lines = [q(a.text(lang)) for a in r.awards]
            detail = "\n".join(lines)
        else:
            detail = q(m("explain.nothing", why=r.why_nothing))
        layer = f"\n[dim]{q(m('explain.from_layer', layer=r.layer))}[/dim]" if getattr(r, "layer", None) else ""
        rules.add_row(f"{q(r.rule)}\n[dim]{q(r.text)}[/dim]{layer}", q(r.source or ""),
                      amount(r.credited, "credits", lang), amount(r.hours, "hours", lang), detail)
    out.print(rules)
    cut_caps = [c for c in e.caps if c.cut]
    for c in cut_caps:
        sources = "; ".join(s for s in [c.source or "", *(src or "" for _, _, src in c.dated)] if s)
        out.print(m("explain.cap", cap=f"[bold]{q(c.cap)}[/bold]", amount=q(c.amounts_text(lang)),
                    events=q(words(c.cut, lang))) + f"  [dim]{q(sources)}[/dim]"
                  + (f"  [dim]({q(cap_text(c, lang))})[/dim]" if c.grains or c.of or c.unit != "credits" else "")
                  + (f"  [dim]{q(m('explain.from_layer', layer=c.layer))}[/dim]" if getattr(c, "layer", None)
                     else ""))
    for name, source, event_id in e.penalties:
        out.print(m("explain.penalty", penalty=f"[bold]{q(name)}[/bold]", event=q(event_id))
                  + f"  [dim]{q(source or '')}[/dim]")
    if e.leave_events:
        out.print(m("explain.leave", events=words(e.leave_events, lang)), markup=False)
    if e.excellent_reason is not None:
        out.print(q(m("explain.not_excellent", reason=e.excellent_reason))
                  + (f"  [dim]{q(e.excellent_source)}[/dim]" if e.excellent_source else ""))
    if e.requirements:
        reqs = Table(title=m("explain.requirements"), title_justify="left")
        for column in ("requirement", "required", "actual", "shortfall", "status", "clause"):
            reqs.add_column(m(f"explain.col.{column}"), overflow="fold")
        for r in e.requirements:
            state = (m("state.waived") if r.waived else
                     f"[green]{m('state.met')}[/green]" if r.met else f"[red]{m('state.short')}[/red]")
            name = q(r.name) + (f"\n[dim]{q(m('explain.from_layer', layer=r.layer))}[/dim]"
                                if getattr(r, "layer", None) else "")
            reqs.add_row(name, q(requirement_figure(r, r.required)), q(requirement_figure(r, r.actual)),
                         q(requirement_figure(r, r.shortfall)) if not r.met and r.unit != "qualified" else "",
                         state, q(r.source or "") + (f"\n[dim]{q(r.detail)}[/dim]" if r.detail else ""))
        out.print(reqs)
    for o in e.outcomes:
        value = f"[green]{m('yes')}[/green]" if o.holds else f"[red]{m('no')}[/red]"
        why = m("list.sep").join(m("explain.outcome_part", part=text, value=m("yes" if holds else "no"))
                                 for text, holds in o.parts)
        out.print(q(m("explain.outcome", name=o.name, value="\0", why=why)).replace("\0", value)
                  + f"  [dim]{q(o.source or '')}[/dim]")
    for c in getattr(e, "carried", ()):  # issue 9 (E2)
        out.print(f"{q(c.describe(lang))}  [dim]{q(c.source or '')}[/dim]")
    by_requirement: dict[str, list[str]] = {}
    for event_id, _, names in e.requirement_events:
        for name in names:
            by_requirement.setdefault(name, []).append(event_id)
    for name, event_ids in by_requirement.items():
        out.print(m("explain.counted_by", requirement=name, events=words(event_ids, lang)), markup=False)
    if e.grade_event is not None:
        out.print(m("explain.grade_from", event=e.grade_event), markup=False)
    if e.unused_events:
        listed = words((m("explain.event_kind", event=event_id, kind=kind) for event_id, kind in e.unused_events[:12]),
                       lang)
        more = m("explain.more", n=len(e.unused_events) - 12) if len(e.unused_events) > 12 else ""
        out.print(f"[dim]{q(m('explain.unused', events=listed + more))}[/dim]")
    from credit_rules.eval.explain import d_lines

    for line in d_lines(e, lang):  # issue 9 (D): relative periods, uncounted evidence
        out.print(q(line))
    out.print()


# ---------------------------------------------------------------------- test
@main.command(name="test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--coverage", "with_coverage", is_flag=True,
              help="Report which rules, conditions, caps and requirement lines the test blocks exercised.")
@click.option("--threshold", type=click.FloatRange(0, 100), default=None, metavar="P",
              help="Fail when coverage is below P percent (implies --coverage).")
@click.option("--examples", type=click.IntRange(min=1), default=100, show_default=True,
              help="Generated inputs each invariant is checked on.")
@click.option("--engine", "engines", multiple=True, type=click.Choice(ENGINES),
              help="Run test blocks with this engine (repeatable; default: every available engine).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Report failures in English or in Chinese (中文).")
@friendly_errors
def test_policies(paths: tuple[str, ...], with_coverage: bool, threshold: float | None, examples: int,
                  engines: tuple[str, ...], lang: Literal["en", "zh"]) -> None:
    """Run the test blocks and invariants written in policy files (POLICY... or DIR)."""
    from credit_rules.eval.messages import message
    from credit_rules.testing.coverage import Coverage
    from credit_rules.testing.runner import available_engines, load, policy_files, run_file

    console = globals()["out"]
    chosen = engines or available_engines()
    coverage = Coverage() if with_coverage or threshold is not None else None
    files = policy_files(paths)
    if not files:
        raise UsageError(f"no .policy files in {', '.join(paths)}")
    passed = failed = 0
    failures: list[tuple[str, str]] = []
    sources: dict[str, str] = {}
    for path in files:
        try:
            put = load(path)
        except PolicyError as exc:
            console.print(f"{path} E", markup=False)
            failures.append((message("test.does_not_compile", lang, path=path), exc.render()))
            failed += 1
            continue
        sources[put.path] = put.text
        if coverage is not None:
            coverage.add_policy(put.policy)
        outcomes = run_file(put, chosen, examples=examples, recorder=coverage, lang=lang)
        marks = "".join("." if o.passed else "F" for o in outcomes)
        console.print(f"{path} {marks or '(no tests)'}", markup=False)
        for outcome in outcomes:
            if outcome.passed:
                passed += 1
            else:
                failed += 1
                failures.append((outcome.title, outcome.report()))
    for title, report in failures:
        console.print(f"\n___ {title} ___", markup=False)
        console.print(report, markup=False)
    below = False
    if coverage is not None:
        console.print("\ncoverage (rules, where/when conditions, caps, requirement lines…):", markup=False)
        for file in coverage.files():
            covered, total = file.counts
            console.print(f"{file.path}: {covered}/{total} ({file.percent:.1f}%)", markup=False)
            for line in file.lines(sources.get(file.path)):
                console.print(line, markup=False)
        percent = coverage.percent
        console.print(f"total coverage: {percent:.1f}%", markup=False)
        if threshold is not None and percent < threshold:
            below = True
            console.print(f"coverage {percent:.1f}% is below the threshold of {threshold:g}%", markup=False)
    console.print(f"{passed} passed, {failed} failed", markup=False)
    if failed or below:
        sys.exit(1)


# ---------------------------------------------------------------------- fmt
@main.command(name="fmt")
@click.argument("policies", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--check", "check_only", is_flag=True, help="Change nothing; exit 1 listing files that would change.")
@click.option("--write", is_flag=True, help="Rewrite the files in place (atomically).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Keywords in English or in Chinese (中文关键字).")
@friendly_errors
def fmt_command(policies: tuple[str, ...], check_only: bool, write: bool, lang: str) -> None:
    """Print policies in canonical form, keeping comments and citations."""
    from credit_rules.io.ledger import atomic_output
    from credit_rules.syntax.parser import parse
    from credit_rules.syntax.printer import print_policy

    if check_only and write:
        raise UsageError("--check and --write do not go together: --check changes nothing")
    failed, changed = False, []
    for path in policies:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot read the policy ({exc.strerror}); check the path") from None
        try:  # a broken file is reported and the others are still formatted
            canonical = print_policy(parse(text, path), lang=lang)  # type: ignore[arg-type]
        except PolicyError as exc:
            err.print(exc.render(), markup=False)
            failed = True
            continue
        if canonical != text:
            changed.append(path)
        if check_only:
            continue
        if write:
            if canonical != text:
                with atomic_output(path) as handle:
                    handle.write(canonical)
                err.print(f"reformatted {path}", markup=False)
        else:
            sys.stdout.write(canonical)
    if check_only:
        for path in changed:
            out.print(f"would reformat {path}", markup=False)
        unchanged = len(policies) - len(changed)
        err.print(f"{len(changed)} file(s) would be reformatted, {unchanged} already canonical", markup=False)
    if failed or (check_only and changed):
        sys.exit(1)


# ---------------------------------------------------------------------- recompute
@main.command()
@click.argument("policies", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--events", "events", required=True, multiple=True,
              help="Events file(s) or folder(s); Parquet is scanned lazily, in batches of teachers.")
@click.option("--roster", type=click.Path(dir_okay=False), help="Roster file.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the ledgers, one <policy>.parquet each (written atomically).")
@click.option("--as-of", callback=parse_date_option, help="Date deciding the current period (default today).")
@click.option("--rejects", type=click.Path(dir_okay=False),
              help="Write rejected rows here (.csv or .jsonl); rejected roster rows go to "
                   "FILE.roster.csv (or .jsonl) beside it.")
@click.option("--batch-rows", type=click.IntRange(min=1), default=None,
              help="Most events validated and evaluated at once (default: one pass up to "
                   "12,000,000 Parquet events, batches of 4,000,000 beyond).")
@click.option("--strict-input", is_flag=True,
              help="Fail (exit 2, no ledger replaced) on any rejected event or roster row, on events "
                   "with none of the columns a policy reads, or on roster columns read without --roster.")
@click.option("--engine", "recompute_engine", type=click.Choice(["bulk", "spark"]), default="bulk",
              show_default=True,
              help='spark: validate and evaluate on Spark (pip install "credit-rules[spark]"); the same files.')
@click.option("--master", help="Spark master URL with --engine spark (default: local[*]).")
@click.option("--partitions", type=click.IntRange(min=1), default=None,
              help="With --engine spark: event partitions and buckets of teachers "
                   "(default: about 1,000,000 events each).")
@friendly_errors
def recompute(policies: tuple[str, ...], events: tuple[str, ...], roster: str | None, out_dir: str,
              as_of: dt.date | None, rejects: str | None, batch_rows: int | None,
              strict_input: bool, recompute_engine: str = "bulk", master: str | None = None,
              partitions: int | None = None) -> None:
    """Recompute the ledgers of POLICY... with the bulk engine (or on Spark), with a progress bar.

    One run at a time writes into a folder (the second is refused); a killed run's
    temporaries are removed by the next; Ctrl-C (or SIGTERM) removes them and exits 130."""
    from credit_rules.recompute import StrictInputError
    from credit_rules.recompute import recompute as run_recompute

    if recompute_engine != "spark" and (master is not None or partitions is not None):
        raise UsageError("--master and --partitions go with --engine spark")
    if recompute_engine == "spark" and batch_rows is not None:
        raise UsageError("--batch-rows is for the bulk engine; with --engine spark use --partitions")
    sources: Any = list(events) if len(events) > 1 else events[0]
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with progress_bar() as callback:
            if recompute_engine == "spark":
                from credit_rules.spark import recompute_files, require_pyspark

                require_pyspark()
                results = recompute_files(list(policies), sources, roster, out_dir, master=master,
                                          partitions=partitions, as_of=as_of,
                                          strict_input=strict_input, progress=callback)
            else:
                results = run_recompute(list(policies), sources, roster, out_dir, as_of=as_of,
                                        progress=callback, batch_rows=batch_rows,
                                        strict_input=strict_input)
    except StrictInputError as exc:
        if exc.rejects is not None or exc.roster_rejects is not None:
            _report_rejects(rejects, exc.rejects, exc.roster_rejects)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    first = results[0]
    err.print(first.events.summary(), markup=False)
    if first.roster is not None:
        err.print(first.roster.summary(), markup=False)
    _report_rejects(rejects, first.rejects, first.roster_rejects)
    for finding in dict.fromkeys(w for r in results for w in r.warnings):
        err.print(f"warning: {finding}", markup=False)
    for r in results:
        fallback = f"; interpreter for {len(r.fallbacks)} construct(s)" if r.fallbacks else ""
        err.print(f"{r.path}: {r.rows} rows ({r.eval_seconds:.1f} s eval, {r.write_seconds:.1f} s write"
                  f"{fallback})", markup=False)
    err.print(f"{os.path.join(out_dir, 'manifest.json')}: inputs, checksums and accounting", markup=False)


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM as Ctrl-C: outputs stay as they were, temporaries are removed, exit 130."""
    raise KeyboardInterrupt


@contextlib.contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar with one line per stage (rows or batches, and their rate)."""
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TimeElapsedColumn())
    tasks: dict[str, Any] = {}
    starts: dict[str, float] = {}
    with Progress(*columns, console=err.rich, transient=False) as bar:
        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(escape(stage), total=max(total, 1), rate="")
                starts[stage] = time.perf_counter()
            elapsed = time.perf_counter() - starts[stage]
            unit = "rows" if stage in ("scan", "split", "validate") else "batches"
            rate = f"{done / elapsed:,.0f} {unit}/s" if elapsed > 0 and done and unit == "rows" else ""
            bar.update(tasks[stage], completed=done, total=max(total, 1), rate=rate)

        yield update


# ---------------------------------------------------------------------- diff (issue 12)
@main.command(name="diff")
@click.argument("old_policy", type=click.Path(dir_okay=False))
@click.argument("new_policy", type=click.Path(dir_okay=False))
@click.option("--events", "events", required=True, multiple=True, help="Events file(s) or folder(s), as for recompute.")
@click.option("--roster", type=click.Path(dir_okay=False),
              help="Roster file (its city / county / school columns give the breakdowns).")
@click.option("--out", "out_html", required=True, type=click.Path(dir_okay=False),
              help="The HTML report (self-contained: open it offline).")
@click.option("--json", "out_json", type=click.Path(dir_okay=False),
              help="The JSON twin (default: --out with the suffix .json).")
@click.option("--lang", type=click.Choice(["en", "zh"]), default="en", show_default=True,
              help="Language of the report and of the explanations (中文: zh).")
@click.option("--as-of", callback=parse_date_option, help="Date deciding the current period (default today).")
@click.option("--engine", "report_engine", type=click.Choice(["bulk", "spark"]), default="bulk", show_default=True,
              help="Engine evaluating both policies (spark: the optional Spark engine).")
@click.option("--master", help="Spark master URL (with --engine spark).")
@click.option("--partitions", type=click.IntRange(min=1), help="Spark partitions (with --engine spark).")
@click.option("--explain", "explain_limit", type=click.IntRange(min=0), default=200, show_default=True,
              help="How many affected teachers to explain in the HTML (the JSON lists every one).")
@friendly_errors
def diff(old_policy: str, new_policy: str, events: tuple[str, ...], roster: str | None, out_html: str,
         out_json: str | None, lang: str, as_of: dt.date | None, report_engine: str, master: str | None,
         partitions: int | None, explain_limit: int) -> None:
    """Report the impact of replacing OLD_POLICY by NEW_POLICY: who gains or loses met, and why."""
    from credit_rules.report import impact_report, write_report

    html_path, json_path = Path(out_html), Path(out_json) if out_json else Path(out_html).with_suffix(".json")
    if json_path.resolve() == html_path.resolve():
        raise UsageError(f"--json {json_path} is the HTML report's own path; give the JSON twin another name")
    for path in (html_path, json_path):
        if not path.resolve().parent.is_dir():
            raise UsageError(f"cannot write {path}: the folder {path.parent} does not exist")
    sources: Any = list(events) if len(events) > 1 else events[0]
    report = impact_report(old_policy, new_policy, sources, roster, as_of=as_of, lang=lang,  # type: ignore[arg-type]
                           engine=report_engine, explain_limit=explain_limit,  # type: ignore[arg-type]
                           master=master, partitions=partitions)
    try:
        write_report(report, html_path, json_path, lang=lang)  # type: ignore[arg-type]
    except OSError as exc:
        raise InputError(f"cannot write the report: {exc}") from None
    c = report.counts
    read = report.meta["events_read"]
    err.print(f"events: {read['read']} read = {read['used']} used + {read['duplicates']} duplicates + "
              f"{read['rejected']} rejected", markup=False)
    err.print(f"{c.matched} teacher-periods compared: {c.gain} gain met, {c.lose} lose met, "
              f"{c.credits_changed} credits changed, {c.only_old + c.only_new} in one policy only", markup=False)
    err.print(f"{html_path}: the report; {json_path}: its JSON twin", markup=False)


# ---------------------------------------------------------------------- demo
@main.command()
@click.option("--out", type=click.Path(file_okay=False),
              help="Folder for the demo province (default: a temporary one).")
@click.option("--teachers", default=3000, show_default=True, help="How many teachers the demo province has.")
@click.option("--seed", default=2026, show_default=True, help="Random seed (same seed, same province).")
@click.option("--engine", type=click.Choice(ENGINES), default="bulk", show_default=True)
@friendly_errors
def demo(out: str | None, teachers: int, seed: int, engine: str) -> None:
    """Make a demo province and recompute it with the shipped policies."""
    from rich.markup import escape
    from rich.table import Table

    from credit_rules.demo import run_demo
    from credit_rules.values import canonical

    with progress_bar() as stages:
        summary = run_demo(out, teachers=teachers, seed=seed, engine=engine,  # type: ignore[arg-type]
                           progress=lambda message: err.print(message, markup=False), stages=stages)
    console = globals()["out"]
    console.print(f"[bold]Demo province[/bold] in {escape(str(summary.folder))}: {summary.teachers} teachers, "
                  f"events {summary.events_read} read = {summary.events_used} used + "
                  f"{summary.duplicates} duplicates + {summary.rejected} rejected "
                  f"(engine: {summary.engine})")
    table = Table(title="Shipped policies")
    table.add_column("policy", no_wrap=True)
    for column in ("teachers", "rows met", "credits min/med/max", "hours med", "excellent", "s"):
        table.add_column(column, justify="right")
    for p in summary.policies:
        share = f"{p.rows_met}/{p.rows} ({100 * p.rows_met / max(p.rows, 1):.0f}%)"
        table.add_row(escape(p.policy), str(p.teachers), share,
                      f"{canonical(p.credits_min)}/{canonical(p.credits_median)}/{canonical(p.credits_max)}",
                      canonical(p.hours_median), str(p.excellent), f"{p.seconds:.1f}")
    console.print(table)
    console.print("[bold]Top shortfalls[/bold] (requirement: teachers short, mean amount missing)")
    for p in summary.policies:
        shortfalls = "; ".join(f"{s.requirement}: {s.teachers}, {canonical(s.mean_missing)}"
                               for s in p.top_shortfalls) or "none"
        console.print(f"  {p.policy}: {shortfalls}", markup=False)
    console.print(f"Try: credit-rules explain policies/five_year_cycle.policy --events {summary.folder}/events "
                  f"--roster {summary.folder}/roster.parquet --teacher T0000001 --as-of 2025-12-31", markup=False)


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)


if __name__ == "__main__":  # pragma: no cover
    main()
