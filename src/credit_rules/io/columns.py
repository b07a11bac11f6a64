"""Names of the internal columns the readers add beside a user's columns, in one place.

The ``__cr_`` prefix keeps them apart from a user's columns (a source may not use it).
"""

from __future__ import annotations

#: The prefix of every internal column; a user column that starts with it is refused.
INTERNAL_PREFIX = "__cr_"
#: The name of the source (file path, ``<stdin>``, ``<dataframe>``) a row came from.
SOURCE = "__cr_source"
#: The 1-based row number within its source.
ROW = "__cr_row"
#: A reason when the row could not even be read (e.g. a broken JSON line), else null.
BAD = "__cr_bad"
#: The row's position across all sources: the global input order.
KEY = "__cr_key"
#: Why a row is rejected (null for a valid row).
REASON = "__cr_reason"

#: Column names the output frames use for themselves; a source may not use them either.
RESERVED_COLUMNS = ("source", "row", "reason", "day", "at_us", "hours_u", "credits_u", "score_u")
