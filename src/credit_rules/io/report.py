"""The accounting every load gives: rows read = rows used + duplicates + rejected (SPEC §2)."""

from __future__ import annotations

import attrs


@attrs.frozen
class LoadReport:
    """The accounting of one load: ``rows_read == rows_used + duplicates + rejected``."""

    rows_read: int
    rows_used: int
    duplicates: int
    rejected: int
    label: str = "events"

    def __attrs_post_init__(self) -> None:
        if self.rows_read != self.rows_used + self.duplicates + self.rejected:
            raise AssertionError(f"accounting does not balance: {self!r}")

    def summary(self) -> str:
        """``events: 10 read = 7 used + 1 duplicates + 2 rejected``."""
        return (
            f"{self.label}: {self.rows_read} read = {self.rows_used} used"
            f" + {self.duplicates} duplicates + {self.rejected} rejected"
        )
