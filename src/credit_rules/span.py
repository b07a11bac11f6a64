"""Source positions. Every AST node and every diagnostic carries a :class:`Span`."""

from __future__ import annotations

import threading
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


_repr_context = threading.local()


def _node_repr(self: Any) -> str:
    """What attrs would generate as ``__repr__``: ``Name(field=value, ...)`` over the
    fields declared with repr, ``...`` for a node already being printed."""
    printing: set[int] | None = getattr(_repr_context, "printing", None)
    if printing is None:
        printing = _repr_context.printing = set()
    if id(self) in printing:
        return "..."
    printing.add(id(self))
    try:
        fields = ", ".join(f"{a.name}={(repr if a.repr is True else a.repr)(getattr(self, a.name))}"
                           for a in attrs.fields(type(self)) if a.repr is not False)
        return f"{type(self).__qualname__.rsplit('>.', 1)[-1]}({fields})"
    finally:
        printing.discard(id(self))


def share_repr(namespace: dict[str, Any]) -> None:
    """Give the attrs classes a module defines with ``@attrs.frozen(repr=False)`` one
    shared ``__repr__`` that prints what attrs' own would. Why: attrs compiles a method
    set per class, and the repr is a quarter of it; the AST and the IR (130 classes)
    are built at every start of the command line (``benchmarks/cold_start.py``)."""
    for value in list(namespace.values()):
        if (isinstance(value, type) and attrs.has(value) and value.__module__ == namespace["__name__"]
                and "__repr__" not in value.__dict__):
            value.__repr__ = _node_repr  # type: ignore[method-assign]
