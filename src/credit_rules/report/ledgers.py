"""Both ledgers of a policy change, over the same inputs: the inputs loaded and validated
once, then OLD and NEW evaluated by the chosen engine (:func:`ledger_frames`, the one place
that knows the engines).

OLD and NEW usually share a name (the same policy, edited), and the engines key their
ledgers by policy name (``recompute`` writes ``<name>.parquet``; the Spark engine returns a
dict by name), so each is evaluated under a name of its own (:data:`OLD`, :data:`NEW`).
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Sequence
from typing import Any, Literal

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.errors import UsageError
from credit_rules.io import EventTable, Roster, load_events, load_roster

#: The names OLD and NEW are evaluated under (any two distinct names would do).
OLD, NEW = "old", "new"

Engine = Literal["bulk", "spark"]
ENGINES: tuple[Engine, ...] = ("bulk", "spark")


@attrs.frozen
class ChangeInputs:
    """The events and roster, loaded and validated once for both policies.

    ``events`` is the validated table when OLD and NEW read the events alike (same time
    zone, same declared columns and vocabularies: the usual edit); otherwise each policy
    must validate the sources its own way, and ``events`` is None (``sources`` are read
    again for OLD)."""

    table: EventTable  # validated for NEW (its explanations are read from it)
    events: EventTable | None
    sources: Any
    roster: Roster | None
    roster_source: Any = None  # the roster as given (a path for the Spark engine)


def load_change_inputs(old: ir.Policy, new: ir.Policy, events: Any, roster: Any = None) -> ChangeInputs:
    """Load and validate ``events`` (paths, frames) and ``roster`` once for OLD and NEW."""
    contract = core.lower(new).inputs
    table = load_events(events, timezone=new.timezone, inputs=contract)
    shared = old.timezone == new.timezone and core.lower(old).inputs == contract
    loaded_roster = load_roster(roster, inputs=contract if shared else None) if roster is not None else None
    return ChangeInputs(table, table if shared else None, events, loaded_roster, roster)


def ledger_frames(
    old: ir.Policy,
    new: ir.Policy,
    inputs: ChangeInputs,
    *,
    engine: Engine = "bulk",
    as_of: dt.date | None = None,
    master: str | None = None,
    partitions: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The typed ledger frames (:data:`~credit_rules.schema.LEDGER_FRAME`) of OLD and NEW
    over ``inputs``, by ``engine``: ``bulk`` (:func:`credit_rules.recompute.recompute`) or
    ``spark`` (``credit_rules.spark.ledger_frames``; ``master`` and ``partitions`` go to it).
    """
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}; use one of: {', '.join(ENGINES)}")
    renamed = [attrs.evolve(old, name=OLD), attrs.evolve(new, name=NEW)]
    if engine == "spark":
        frames = _spark_frames(renamed, inputs, master=master, partitions=partitions, as_of=as_of)
    else:
        if master is not None or partitions is not None:
            raise UsageError("--master and --partitions are for --engine spark")
        frames = _bulk_frames(renamed, inputs, as_of=as_of)
    return frames[OLD], frames[NEW]


def _bulk_frames(policies: Sequence[ir.Policy], inputs: ChangeInputs, *,
                 as_of: dt.date | None) -> dict[str, pl.DataFrame]:
    from credit_rules.recompute import recompute

    old, new = policies
    if inputs.events is not None:
        results = recompute(list(policies), inputs.events, inputs.roster, as_of=as_of)
    else:
        # OLD reads the events differently (time zone or declared columns): validated for it
        results = [*recompute(old, inputs.sources, inputs.roster, as_of=as_of),
                   *recompute(new, inputs.table, inputs.roster, as_of=as_of)]
    frames: dict[str, pl.DataFrame] = {}
    for result in results:
        assert result.ledger is not None  # no out_dir: the ledger comes back as a frame
        frames[result.policy] = result.ledger
    return frames


def _spark_frames(policies: Sequence[ir.Policy], inputs: ChangeInputs, *, master: str | None,
                  partitions: int | None, as_of: dt.date | None) -> dict[str, pl.DataFrame]:
    try:
        # importlib, not an import statement: the Spark engine is optional (an extra), and
        # this module must load and type-check where it is absent.
        spark = importlib.import_module("credit_rules.spark")
    except ImportError as exc:
        raise UsageError(
            f"--engine spark needs the Spark engine ({exc}); install it with "
            '`pip install "credit-rules[spark]"`, or use --engine bulk') from None
    # The Spark engine validates the events itself, partition by partition, from the files
    # (as `recompute` takes them); the table loaded here serves the explanations.
    frames: dict[str, pl.DataFrame] = spark.ledger_frames(
        list(policies), inputs.sources, inputs.roster_source, master=master, partitions=partitions, as_of=as_of)
    return frames


def describe_sources(events: Any) -> list[str]:
    """The event sources as text, for the report's header."""
    items = events if isinstance(events, list | tuple) else [events]
    return [os.fspath(e) if isinstance(e, str | os.PathLike) else type(e).__name__ for e in items]
