"""Hypothesis strategies for rosters, raw event rows, small random policies and surface ASTs.

The one public import path (``from credit_rules.testing.strategies import …``); the
strategies live by job in :mod:`~credit_rules.testing.strategies.events` (rosters, event
rows, the inputs of one policy), :mod:`~credit_rules.testing.strategies.policies` (policy
texts for the differential tests) and :mod:`~credit_rules.testing.strategies.syntax`
(surface ASTs for the formatter's properties: ``parse(print_policy(tree)) == tree`` in
English and Chinese).

Used by the differential tests (interpreter vs bulk) and free for anyone testing an
evaluator: every generated policy text compiles without errors.

>>> from hypothesis import given
>>> @given(rosters(), event_rows(), policies())          # doctest: +SKIP
... def test(roster, rows, policy_text): ...
"""

from credit_rules.testing.strategies.events import (
    BOUNDARY_DAYS,
    HOURS,
    KINDS,
    PROGRAMS,
    TEACHER_IDS,
    Case,
    Vocabulary,
    cases,
    days,
    event_rows,
    policy_event_rows,
    roster_rows,
    rosters,
    teachers,
    text_frame,
    vocabulary,
)
from credit_rules.testing.strategies.policies import policies
from credit_rules.testing.strategies.syntax import (
    KEYWORD_WORDS,
    amounts,
    atoms,
    awards,
    conditions,
    names,
    policy_asts,
    statements,
    texts,
    values,
)

__all__ = [
    "BOUNDARY_DAYS",
    "HOURS",
    "KEYWORD_WORDS",
    "KINDS",
    "PROGRAMS",
    "TEACHER_IDS",
    "Case",
    "Vocabulary",
    "amounts",
    "atoms",
    "awards",
    "cases",
    "conditions",
    "days",
    "event_rows",
    "names",
    "policies",
    "policy_asts",
    "policy_event_rows",
    "roster_rows",
    "rosters",
    "statements",
    "teachers",
    "text_frame",
    "texts",
    "values",
    "vocabulary",
]
