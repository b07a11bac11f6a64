"""Testing support for policy authors and integrators.

- :mod:`credit_rules.testing.builders`: build events and teachers in a line of code;
- :mod:`credit_rules.testing.strategies`: Hypothesis strategies for rosters, events and policies;
- :mod:`credit_rules.testing.runner`: runs a policy's ``test`` blocks and ``invariant`` lines, with
  :mod:`~credit_rules.testing.blocks` (a block's input), :mod:`~credit_rules.testing.expect` (its
  ``expect`` clauses) and :mod:`~credit_rules.testing.invariants` (generated inputs, counterexamples);
- :mod:`credit_rules.testing.coverage`: which rules, conditions, caps and requirement lines tests ran;
- :mod:`credit_rules.testing.explain_text`: a plain-text explanation of one ledger row;
- :mod:`credit_rules.testing.pytest_plugin`: pytest collects ``*.policy`` files (``pytest11`` entry point).
"""

from credit_rules.testing.builders import make_event, make_teacher

__all__ = ["make_event", "make_teacher"]
