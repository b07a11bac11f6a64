"""credit-rules: a rules engine and policy language for teachers' continuing-education credits.

The public face; everything else is internal::

    from credit_rules import load_policy, evaluate
    policy = load_policy("policies/five_year_cycle.policy")
    ledger = evaluate(policy, "events.parquet", "roster.csv")
    for row in ledger.rows:
        print(row.teacher_id, row.credits, row.met)
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

from credit_rules.lazy import lazy_exports

if TYPE_CHECKING:
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

#: Where each public name lives: imported on first use (PEP 562), so ``import credit_rules``
#: and the ``check``/``fmt`` commands never load Polars, PyArrow or NumPy.
_SOURCES: dict[str, str] = {
    "CreditRulesError": "credit_rules.errors",
    "Diagnostic": "credit_rules.errors",
    "ENGINES": "credit_rules.api",
    "Event": "credit_rules.records",
    "EventTable": "credit_rules.io",
    "InputError": "credit_rules.errors",
    "Ledger": "credit_rules.api",
    "LedgerRow": "credit_rules.records",
    "LoadReport": "credit_rules.io",
    "PolicyError": "credit_rules.errors",
    "RecomputeResult": "credit_rules.recompute",
    "RequirementResult": "credit_rules.records",
    "Roster": "credit_rules.io",
    "Teacher": "credit_rules.records",
    "TraceEntry": "credit_rules.records",
    "UsageError": "credit_rules.errors",
    "check_source": "credit_rules.compile",
    "compile_source": "credit_rules.compile",
    "evaluate": "credit_rules.api",
    "load_events": "credit_rules.io",
    "load_policy": "credit_rules.compile",
    "load_roster": "credit_rules.io",
    "parse": "credit_rules.syntax.parser",
    "parse_file": "credit_rules.syntax.parser",
    "recompute": "credit_rules.recompute",
    "shipped_policies": "credit_rules.api",
    "write_ledger": "credit_rules.io",
}


__getattr__, __dir__ = lazy_exports(__name__, _SOURCES, __all__)


class _Package(types.ModuleType):
    """Keeps ``credit_rules.recompute`` the function, as the eager imports did.

    Importing the submodule ``credit_rules.recompute`` (say, from the command line) makes
    the import system bind the package's ``recompute`` attribute to that submodule; the
    public name is the function of the same name, so bind that instead.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "recompute" and isinstance(value, types.ModuleType):
            value = value.recompute
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
