"""credit-rules: a rules engine and policy language for teachers' continuing-education credits.

The public face; everything else is internal::

    from credit_rules import load_policy, evaluate
    policy = load_policy("policies/five_year_cycle.policy")
    ledger = evaluate(policy, "events.parquet", "roster.csv")
    for row in ledger.rows:
        print(row.teacher_id, row.credits, row.met)
"""

from credit_rules.api import ENGINES, Ledger, evaluate, shipped_policies
from credit_rules.compile import check_source, compile_source, load_policy
from credit_rules.errors import CreditRulesError, Diagnostic, InputError, PolicyError, UsageError
from credit_rules.io import EventTable, LoadReport, Roster, load_events, load_roster, write_ledger
from credit_rules.recompute import RecomputeResult, recompute
from credit_rules.records import Event, LedgerRow, RequirementResult, Teacher, TraceEntry
from credit_rules.syntax.parser import parse, parse_file

__all__ = [
    "ENGINES",
    "CreditRulesError",
    "Diagnostic",
    "Event",
    "EventTable",
    "InputError",
    "Ledger",
    "LedgerRow",
    "LoadReport",
    "PolicyError",
    "RecomputeResult",
    "RequirementResult",
    "Roster",
    "Teacher",
    "TraceEntry",
    "UsageError",
    "check_source",
    "compile_source",
    "evaluate",
    "load_events",
    "load_policy",
    "load_roster",
    "parse",
    "parse_file",
    "recompute",
    "shipped_policies",
    "write_ledger",
]

__version__ = "0.1.0"
