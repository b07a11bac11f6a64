"""Evaluators: the reference interpreter and the bulk (Polars) engine."""

from typing import Literal

#: The engines ``evaluate`` and the command line offer (re-exported by ``credit_rules.api``).
Engine = Literal["interpreter", "bulk"]
ENGINES: tuple[str, ...] = ("interpreter", "bulk")
