"""What the two loaded tables (:class:`~credit_rules.io.events.EventTable` and
:class:`~credit_rules.io.roster.Roster`) share: their ``frame`` and ``rejects``, given by
the vectorised loader, or built on first read from the rows of a small input read row by
row (:mod:`credit_rules.io.small`, :mod:`credit_rules.io.small_roster`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import polars as pl


class SmallInput(Protocol):
    """A small input's rows, as :mod:`credit_rules.io.small` keeps them."""

    def frame(self, attribute_columns: Sequence[str]) -> pl.DataFrame: ...

    def rejects_frame(self) -> pl.DataFrame: ...


class LoadedFrames:
    """``frame`` and ``rejects`` of a loaded table (a mixin of attrs classes that define
    ``_frame``, ``_rejects``, ``attribute_columns``, ``small`` and ``_built``)."""

    __slots__ = ()
    _frame: pl.DataFrame | None
    _rejects: pl.DataFrame | None
    attribute_columns: tuple[str, ...]
    small: SmallInput | None
    _built: dict[str, pl.DataFrame]

    @property
    def frame(self) -> pl.DataFrame:
        """The valid rows in the table's frame layout, then the attribute columns,
        ``source`` and ``row``."""
        return self._given_or_built("frame", self._frame, lambda small: small.frame(self.attribute_columns))

    @property
    def rejects(self) -> pl.DataFrame:
        """Rejected rows: ``source, row``, the key, ``reason`` and the raw columns."""
        return self._given_or_built("rejects", self._rejects, lambda small: small.rejects_frame())

    def _given_or_built(self, name: str, given: pl.DataFrame | None,
                        build: Callable[[SmallInput], pl.DataFrame]) -> pl.DataFrame:
        if given is not None:
            return given
        if name not in self._built:
            assert self.small is not None
            self._built[name] = build(self.small)
        return self._built[name]
