"""Source positions. Every AST node and every diagnostic carries a :class:`Span`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import attrs


@dataclass(frozen=True, slots=True)
class Span:
    """A region of one source file; lines and columns count from 1, ``end_col`` is exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"

    @staticmethod
    def unknown(file: str = "<input>") -> Span:
        return Span(file, 1, 1, 1, 1)



def span_field() -> Any:
    """The ``span`` field of a node: defaults to unknown, ignored by equality and repr
    (two nodes that differ only in where they were written are equal)."""
    return attrs.field(default=Span.unknown(), eq=False, repr=False, kw_only=True)
