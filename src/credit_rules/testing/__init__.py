"""Testing support for policy authors and integrators.

- :mod:`credit_rules.testing.builders`: build events and teachers in a line of code;
- :mod:`credit_rules.testing.strategies`: Hypothesis strategies for rosters, events and policies.
"""

from credit_rules.testing.builders import make_event, make_teacher

__all__ = ["make_event", "make_teacher"]
