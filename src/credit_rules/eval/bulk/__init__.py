"""The bulk evaluator: a checked policy compiled to Polars queries over an event table
(SPEC §1: "bulk: the AST compiled to Polars lazy expressions over an event table").

>>> plan = compile_plan(policy)                                   # doctest: +SKIP
>>> frame = run(plan, pl.scan_parquet("events/*.parquet"), roster_frame, as_of=day)  # doctest: +SKIP

:func:`run` gives the ledger as a frame (one row per teacher and period, columns
:data:`~credit_rules.schema.LEDGER_COLUMNS`), byte-identical once rendered to the
interpreter's ledger. Read the pipeline in :mod:`credit_rules.eval.bulk.run`
(:data:`STAGES`), one module per stage. The bulk engine never imports the interpreter: a
plan with ``fallbacks`` is refused (:class:`FallbackRequired`) and
:func:`credit_rules.api.evaluate` gives such a policy to the interpreter.
"""

from __future__ import annotations

from credit_rules.eval.bulk.plan import BulkOverflow, BulkPlan, compile_plan
from credit_rules.eval.bulk.ranks import finish
from credit_rules.eval.bulk.run import STAGES, FallbackRequired, evaluate_batch, run

__all__ = [
    "STAGES",
    "BulkOverflow",
    "BulkPlan",
    "FallbackRequired",
    "compile_plan",
    "evaluate_batch",
    "finish",
    "run",
]
