"""Reading events and rosters, writing ledgers and rejects (SPEC §2, §3, §5).

The modules, in pipeline order: ``columns`` (internal column names), ``sources`` (files and
frames to text columns), ``parse`` (text to typed values, with reasons), ``repeats``
(duplicates and conflicts), ``rejects`` (reporting bad rows), ``report`` (the accounting),
then ``events`` and ``roster`` (the loaders) and ``ledger`` (the output).
"""

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
