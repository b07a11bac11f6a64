"""What every recompute run does before its first event, whatever the engine (the bulk
engine here, Spark in :mod:`credit_rules.spark`): the policies checked, the output folder
locked and cleared of stale temporaries, the event inputs told apart from the ledgers, the
roster loaded under the policies' shared input contract, and ``--strict-input`` applied
to it."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from credit_rules import ir
from credit_rules.api import as_policy, input_contract
from credit_rules.io import Roster, load_roster
from credit_rules.recompute.checks import StrictInputError
from credit_rules.recompute.folder import event_inputs, locked, remove_stale_temporaries
from credit_rules.recompute.provenance import MANIFEST_NAME, input_entries

PolicyInputs = ir.Policy | str | os.PathLike[str] | Sequence[ir.Policy | str | os.PathLike[str]]


@attrs.frozen
class PreparedRun:
    """A run ready for its events (see :func:`prepare_run`)."""

    checked: list[ir.Policy]
    policy_files: dict[str, Path | None]
    out: Path | None
    events: Any
    roster: Roster | None
    inputs: dict[str, Any]
    started_at: dt.datetime
    started: float


def prepare_run(run: contextlib.ExitStack, policies: PolicyInputs, events: Any, roster: Any,
                out_dir: str | os.PathLike[str] | None, *, strict_input: bool) -> PreparedRun:
    """Check the policies, lock ``out_dir`` for the life of ``run`` (after removing stale
    temporaries of its ledgers), and load the roster under the policies' input contract
    when they share one. Raises :class:`StrictInputError` for rejected roster rows under
    ``strict_input``."""
    listed = [policies] if isinstance(policies, ir.Policy | str | os.PathLike) else list(policies)
    checked = [as_policy(p) for p in listed]
    policy_files = {p.name: Path(item) if isinstance(item, str | os.PathLike) else None
                    for p, item in zip(checked, listed, strict=True)}
    out = Path(out_dir) if out_dir is not None else None
    outputs = [f"{p.name}.parquet" for p in checked]
    started_at = dt.datetime.now(dt.UTC)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        run.enter_context(locked(out))
        remove_stale_temporaries(out, [*outputs, MANIFEST_NAME])
    events = event_inputs(events, out, outputs)
    started = time.perf_counter()
    loaded: Roster | None = None
    if roster is not None:
        # issue 9 (C): the policies' input contract, when they share one
        contracts = {input_contract(p) for p in checked}
        loaded = roster if isinstance(roster, Roster) else load_roster(
            roster, inputs=contracts.pop() if len(contracts) == 1 else None)
    if strict_input and loaded is not None and loaded.report.rejected:
        raise StrictInputError(
            f"{loaded.report.rejected} roster row(s) rejected (--strict-input); "
            "see them with --rejects FILE", roster_rejects=loaded.rejects)
    inputs = {"events": input_entries(events), "roster": input_entries(roster)}
    return PreparedRun(checked, policy_files, out, events, loaded, inputs, started_at, started)
