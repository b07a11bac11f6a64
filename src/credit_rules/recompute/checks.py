"""What looks wrong in a run's inputs before any ledger is written: the columns the events
have (:func:`table_columns`), the roster columns a policy reads (:func:`roster_columns`), the
warnings for a policy (:func:`input_warnings`), and :class:`StrictInputError`, which
``strict_input`` raises instead of warning."""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from credit_rules import ir
from credit_rules.compile.usage import policy_usage
from credit_rules.errors import InputError, did_you_mean
from credit_rules.io import EventTable
from credit_rules.schema import EVENT_COLUMNS, REQUIRED_EVENT_COLUMNS


class StrictInputError(InputError):
    """An input problem refused by ``strict_input``; carries the rejected rows, if any, so
    they can still be written out."""

    def __init__(self, message: str, rejects: pl.DataFrame | None = None,
                 roster_rejects: pl.DataFrame | None = None) -> None:
        super().__init__(message)
        self.rejects = rejects
        self.roster_rejects = roster_rejects


_FRAME_NAMES = {"hours_u": "hours", "credits_u": "credits", "score_u": "score"}


def table_columns(table: EventTable) -> set[str]:
    """The event columns with at least one value in a validated table (and the extras)."""
    present = {
        _FRAME_NAMES.get(c, c) for c in table.columns_with_values()
        if c not in ("source", "row", "day", "at_us")
    }
    return present | set(table.attribute_columns) | set(REQUIRED_EVENT_COLUMNS)


def roster_columns(policy: ir.Policy) -> set[str]:
    """The roster columns ``policy`` reads (conditions on the teacher, roles, the
    reduction's date, the fields ranks are grouped by)."""
    read: set[str] = set()
    for node in ir.walk(policy):
        if isinstance(node, ir.Compare | ir.Member | ir.Has) and node.scope == ir.Scope.TEACHER:
            read.add(node.field)
        elif isinstance(node, ir.HasRole):
            read.add("roles")
        elif isinstance(node, ir.Linear) and node.scope == ir.Scope.TEACHER:  # issue 9 (C)
            read.update(name for name, _ in node.terms)
        elif isinstance(node, ir.Top) and node.field is not None:
            read.add(node.field)
        elif isinstance(node, ir.Relative):  # within 1 year of hired_on (issue 9, D)
            read.add(node.attribute)
    if policy.reduction is not None:
        read.add(policy.reduction.attribute)
    return read


def input_warnings(policy: ir.Policy, present: Collection[str], roster_given: bool) -> list[str]:
    """What looks wrong in the inputs of ``policy``: events with none of the columns it
    reads, a column it reads missing beside a close name, roster columns without a roster."""
    found: list[str] = []
    # ``count`` has a default (1): events without it are complete.
    read = sorted(policy_usage(policy).columns - {*REQUIRED_EVENT_COLUMNS, "count"})
    have = set(present)
    extras = sorted(have - set(EVENT_COLUMNS))
    missing = [c for c in read if c not in have]
    if read and len(missing) == len(read):
        found.append(f"the events have none of the columns policy {policy.name} reads "
                     f"({', '.join(read)})")
    for column in missing:
        hint = did_you_mean(column, extras)
        if hint:
            found.append(f'no column "{column}" in the events ({hint})')
    if policy.count_only is not None and "status" not in have:  # issue 9 (D)
        found.append(f'policy {policy.name} counts only events with status '
                     f'{", ".join(sorted(policy.count_only.values))}, but the events have no "status" '
                     "column: none of them counts")
    if not roster_given:
        found.extend(f'policy {policy.name} reads roster column "{c}" but no --roster was given'
                     for c in sorted(roster_columns(policy)))
    return found
