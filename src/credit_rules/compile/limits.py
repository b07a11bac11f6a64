"""The bounds on what a policy states, so that both engines compute every policy that passes
``check`` exactly and in bounded time (E114, E115, E116; the relative-date limit).

Kept apart from the builder so that each of its parts (:mod:`credit_rules.compile.from_syntax`,
:mod:`credit_rules.compile.requirements`) checks the same numbers; tests import them from
``credit_rules.compile.from_syntax``, which re-exports them.
"""

from __future__ import annotations

from decimal import Decimal

#: The largest number a policy may state (credits, hours, scores, counts, percentages).
MAX_LITERAL = Decimal(1_000_000)
#: The years a window may reach (inclusive).
WINDOW_YEARS = (1900, 2199)
#: The most ledger periods (semesters or school years) a window may hold.
MAX_PERIODS = 400
#: The largest N of `within N years|months|days of …` / `in the first N … after …`.
MAX_RELATIVE = 10_000
