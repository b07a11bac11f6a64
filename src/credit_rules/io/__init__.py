"""Reading events and rosters, writing ledgers and rejects (SPEC §2, §3, §5).

The modules, in pipeline order: ``columns`` (internal column names), ``sources`` (files and
frames to text columns), ``parse`` (text to typed values, with reasons), ``repeats``
(duplicates and conflicts), ``rejects`` (reporting bad rows), ``report`` (the accounting),
then ``events`` and ``roster`` (the loaders) and ``ledger`` (the output).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credit_rules.lazy import lazy_exports

if TYPE_CHECKING:
    from credit_rules.io.events import EventTable, load_events
    from credit_rules.io.ledger import format_from_path, read_ledger, write_ledger
    from credit_rules.io.parse import parse_at
    from credit_rules.io.rejects import write_rejects
    from credit_rules.io.report import LoadReport
    from credit_rules.io.roster import Roster, load_roster

__all__ = [
    "EventTable",
    "LoadReport",
    "Roster",
    "format_from_path",
    "load_events",
    "load_roster",
    "parse_at",
    "read_ledger",
    "write_ledger",
    "write_rejects",
]

#: Where each name lives, imported on first use (PEP 562): ``credit_rules.io.ledger`` alone
#: (``fmt --write``) does not load the readers, nor with them Polars.
_SOURCES: dict[str, str] = {
    "EventTable": "credit_rules.io.events",
    "LoadReport": "credit_rules.io.report",
    "Roster": "credit_rules.io.roster",
    "format_from_path": "credit_rules.io.ledger",
    "load_events": "credit_rules.io.events",
    "load_roster": "credit_rules.io.roster",
    "parse_at": "credit_rules.io.parse",
    "read_ledger": "credit_rules.io.ledger",
    "write_ledger": "credit_rules.io.ledger",
    "write_rejects": "credit_rules.io.rejects",
}


__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, __all__)
