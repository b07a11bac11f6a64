"""Diagnostics: a stable code, a span, a message, optional hint and notes.

Diagnostics are collected, sorted by position and rendered once, like ruff or
Catala do::

    error[E102]: unknown category `ethic`
      --> policies/five_year_cycle.policy:12:9
       |
    12 |   at least 6 credits of category ethic
       |                                  ^^^^^ did you mean `ethics`?
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from credit_rules.span import Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a source file."""

    code: str
    message: str
    span: Span
    hint: str | None = None
    severity: Severity = Severity.ERROR
    notes: tuple[tuple[str, Span], ...] = field(default=())

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.span.file, self.span.line, self.span.col, self.code)

    def one_line(self) -> str:
        """``FILE:LINE:COL: severity[CODE]: message (hint)`` — for logs and tests."""
        text = f"{self.span}: {self.severity.value}[{self.code}]: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def render(self, source: str | None) -> str:
        """The diagnostic with its source line and a caret under the span."""
        head = f"{self.span}: {self.severity.value}[{self.code}]: {self.message}"
        lines = [head]
        lines.extend(_excerpt(self.span, source, self.hint))
        for note, span in self.notes:
            lines.append(f"  note: {note}")
            lines.extend(_excerpt(span, source if span.file == self.span.file else None, None))
        return "\n".join(lines)


def _excerpt(span: Span, source: str | None, label: str | None) -> list[str]:
    if source is None:
        return [f"  = help: {label}"] if label else []
    text_lines = source.splitlines()
    if not 1 <= span.line <= len(text_lines):
        return [f"  = help: {label}"] if label else []
    text = text_lines[span.line - 1]
    gutter = " " * len(str(span.line))
    width = (span.end_col - span.col) if span.end_line == span.line else len(text) - span.col + 1
    width = max(1, width)
    caret = " " * (span.col - 1) + "^" * width
    out = [f"{gutter} |", f"{span.line} | {text}", f"{gutter} | {caret}" + (f" {label}" if label else "")]
    return out


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sort by file and position and drop exact repeats (OPA ``Errors.Sort``)."""
    unique = {(d.sort_key(), d.message): d for d in diagnostics}
    return [unique[k] for k in sorted(unique)]


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    """A hint naming the closest known name, if one is close enough."""
    matches = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6)
    return f"did you mean `{matches[0]}`?" if matches else None


class CreditRulesError(Exception):
    """Base class of every error credit-rules raises on bad input."""


class PolicyError(CreditRulesError):
    """A policy could not be parsed or failed its static checks."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = sort_diagnostics(diagnostics)
        self.sources = sources or {}
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0] if errors else self.diagnostics[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first.one_line() + more)

    def render(self) -> str:
        return "\n\n".join(d.render(self.sources.get(d.span.file)) for d in self.diagnostics)


class InputError(CreditRulesError):
    """An events or roster file cannot be read at all (missing, wrong format, bad header)."""


class UsageError(CreditRulesError):
    """A request the engine cannot honour (unknown engine, missing option value…)."""
