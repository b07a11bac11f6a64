"""Reading events and rosters, writing ledgers and rejects (SPEC §2, §3, §5)."""

from credit_rules.io.events import EventTable, LoadReport, load_events, write_rejects
from credit_rules.io.ledger import format_from_path, read_ledger, write_ledger
from credit_rules.io.roster import Roster, load_roster

__all__ = [
    "EventTable",
    "LoadReport",
    "Roster",
    "format_from_path",
    "load_events",
    "load_roster",
    "read_ledger",
    "write_ledger",
    "write_rejects",
]
