"""One impact report from end to end: load the inputs once, evaluate OLD and NEW, compute
the model, explain the first affected teachers, and write the HTML and its JSON twin.

>>> report = impact_report("old.policy", "new.policy", "events/", "roster.parquet")  # doctest: +SKIP
>>> report.counts.lose                                                              # doctest: +SKIP
12
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import attrs

from credit_rules import ir
from credit_rules.api import as_policy
from credit_rules.errors import UsageError
from credit_rules.eval.messages import Lang
from credit_rules.io.ledger import atomic_output
from credit_rules.report.explanations import EXPLAIN_LIMIT, explain_teachers
from credit_rules.report.html import render_html
from credit_rules.report.impact import Impact, impact
from credit_rules.report.ledgers import Engine, describe_sources, ledger_frames, load_change_inputs
from credit_rules.values import today


def impact_report(
    old: ir.Policy | str | os.PathLike[str],
    new: ir.Policy | str | os.PathLike[str],
    events: Any,
    roster: Any = None,
    *,
    as_of: dt.date | None = None,
    engine: Engine = "bulk",
    lang: Lang = "en",
    explain_limit: int = EXPLAIN_LIMIT,
    master: str | None = None,
    partitions: int | None = None,
) -> Impact:
    """The impact of replacing policy ``old`` by ``new`` over ``events`` (and ``roster``):
    both evaluated by ``engine`` over the same validated inputs; the first
    ``explain_limit`` affected teachers explained under ``new`` in ``lang``."""
    old_policy, new_policy = as_policy(old), as_policy(new)
    day = as_of or today(new_policy.timezone)
    inputs = load_change_inputs(old_policy, new_policy, events, roster)
    before, after = ledger_frames(old_policy, new_policy, inputs, engine=engine, as_of=day,
                                  master=master, partitions=partitions)
    model = impact(old_policy, new_policy, before, after,
                   inputs.roster.frame if inputs.roster is not None else None)
    teachers = list(dict.fromkeys(a.teacher_id for a in model.affected))
    chosen = teachers[:explain_limit]
    explained = explain_teachers(old_policy, new_policy, inputs.table, inputs.roster, chosen, as_of=day,
                                 lang=lang, compare_old=inputs.events is not None)
    loaded = inputs.table.report
    meta = {
        "events": describe_sources(events),
        "events_read": {"read": loaded.rows_read, "used": loaded.rows_used,
                        "duplicates": loaded.duplicates, "rejected": loaded.rejected},
        "roster": os.fspath(roster) if isinstance(roster, str | os.PathLike) else None,
        "as_of": day.isoformat(), "engine": engine, "lang": lang,
        "explain_limit": explain_limit,
        # caps are compared from OLD's awards over the same validated events only
        "caps_compared": inputs.events is not None,
    }
    return attrs.evolve(model, caps=explained.caps,
                        explained={t: tuple(explained.by_teacher.get(t, ())) for t in chosen},
                        not_explained=len(teachers) - len(chosen), meta=meta)


def write_report(report: Impact, html_path: str | os.PathLike[str], json_path: str | os.PathLike[str] | None = None,
                 *, lang: Lang = "en") -> tuple[Path, Path]:
    """Write the HTML report and its JSON twin (default: ``html_path`` with ``.json``),
    each atomically; returns both paths."""
    html_file = Path(html_path)
    json_file = Path(json_path) if json_path is not None else html_file.with_suffix(".json")
    if json_file.resolve() == html_file.resolve():
        raise UsageError(f"the JSON twin would overwrite the HTML report {html_file}; name another --json")
    page = render_html(report, lang)
    data = json.dumps(report.to_json(), ensure_ascii=False, indent=1)
    with atomic_output(html_file, "w") as handle:
        handle.write(page)
    with atomic_output(json_file, "w") as handle:
        handle.write(data + "\n")
    return html_file, json_file
