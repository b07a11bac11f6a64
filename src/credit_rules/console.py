"""The command line's two consoles, with rich imported only when it has work to do.

Importing rich costs 20–50 ms, a tenth of a ``credit-rules check`` that finds nothing to
report (``benchmarks/cold_start.py``). A :class:`LazyConsole` stands where a
``rich.console.Console`` stood: it writes a line that rich would print unchanged
straight to the stream, and hands everything else (markup, tables, progress bars, any
text rich would alter) to a real Console made on first need with the same options.
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

# What rich would change in a plain (markup=False, highlight=False) string: its emoji
# codes (`:smile:`, also `:100:`, so any `:…:` without spaces), tabs (expanded), control
# codes (stripped), and the layout of several lines. Such text goes through rich.
_RICH_WOULD_CHANGE = re.compile(r":\S*?:|[\x00-\x1f\x7f]")


class LazyConsole:
    """A ``rich.console.Console(**options)`` made on first need; ``print(text,
    markup=False)`` of one line that rich would print as it is writes it directly."""

    def __init__(self, **options: Any):
        object.__setattr__(self, "_options", options)
        object.__setattr__(self, "_console", None)

    @property
    def rich(self) -> Console:
        """The real console (imports rich the first time)."""
        console: Console | None = self._console
        if console is None:
            from rich.console import Console

            console = Console(**self._options)
            object.__setattr__(self, "_console", console)
        return console

    def print(self, *objects: Any, **kwargs: Any) -> None:
        """``Console.print``; plain text rich would not change skips rich."""
        if (self._console is None and kwargs == {"markup": False} and len(objects) == 1
                and type(objects[0]) is str and not _RICH_WOULD_CHANGE.search(objects[0])):
            stream = sys.stderr if self._options.get("stderr") else sys.stdout
            stream.write(objects[0] + "\n")
            stream.flush()
            return
        self.rich.print(*objects, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.rich, name, value)
