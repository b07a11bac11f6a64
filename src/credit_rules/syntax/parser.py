"""Text → :mod:`credit_rules.syntax.ast`, with Lark errors turned into diagnostics.

This module runs the parse and translates what goes wrong into diagnostics; the parse
tree becomes AST nodes in :mod:`credit_rules.syntax.transform` (the issue-9 constructs
in :mod:`credit_rules.syntax.transform_constructs`).

The grammar and the cached LALR parser built from it are
:mod:`credit_rules.syntax.grammar`.

The size and nesting limits (E007, E008, E009) are checked by
:mod:`credit_rules.syntax.limits`: the size before parsing, the items and the nesting on
the parse tree before the AST is built (``MAX_*`` are re-exported here).
"""

from __future__ import annotations

import contextlib
import functools
import gc
from collections.abc import Iterator
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from credit_rules.errors import Diagnostic, PolicyError
from credit_rules.span import Span
from credit_rules.syntax import ast
from credit_rules.syntax.grammar import build_parser as build_parser
from credit_rules.syntax.grammar import grammar_cache_dir as grammar_cache_dir
from credit_rules.syntax.grammar import grammar_text as grammar_text
from credit_rules.syntax.grammar import parse_tables
from credit_rules.syntax.lalr import LalrParser, NeedsLark
from credit_rules.syntax.limits import MAX_ITEMS as MAX_ITEMS
from credit_rules.syntax.limits import MAX_NESTING as MAX_NESTING
from credit_rules.syntax.limits import MAX_POLICY_BYTES as MAX_POLICY_BYTES
from credit_rules.syntax.limits import limit_diagnostics, size_diagnostic
from credit_rules.syntax.transform import Builder, BuildError


@functools.cache
def _lark() -> Lark:
    return build_parser(grammar_cache_dir())


@functools.cache
def _fast() -> LalrParser | None:
    try:
        return LalrParser(parse_tables(grammar_cache_dir()))
    except NeedsLark:  # a Lark this module cannot copy the tables of: Lark parses everything
        return None


def parse_tree(text: str) -> Tree[Token]:
    """Lark's parse tree of ``text``, from the lean run over Lark's tables
    (:mod:`credit_rules.syntax.lalr`); a text it cannot parse is parsed by Lark itself,
    which raises Lark's own error (or, should the two ever disagree, gives its tree)."""
    fast = _fast()
    if fast is not None:
        try:
            return fast.parse(text)
        except NeedsLark:
            pass
    return _lark().parse(text)


@contextlib.contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a parse (or the compiler) builds its trees:
    they grow by a few objects per character and hold no reference cycles, so each
    collection walks the growing tree for nothing (40 % of the parse of a 10,000-rule
    policy, half of its checks). Turned back on at the end, as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse(text: str, file: str = "<input>") -> ast.Policy:
    """Parse policy text into an AST, or raise :class:`PolicyError` with diagnostics.

    >>> parse('policy demo  rule r: on training count hours').items[0].name
    'r'
    """
    with without_cycle_collection():
        return _parse(text, file)


def _parse(text: str, file: str) -> ast.Policy:
    too_large = size_diagnostic(text, file)
    if too_large is not None:
        raise PolicyError([too_large], {file: text})
    try:
        tree = parse_tree(text)
    except UnexpectedInput as exc:
        raise PolicyError([_syntax_diagnostic(exc, text, file)], {file: text}) from None
    beyond = limit_diagnostics(tree, file)
    if beyond:
        raise PolicyError(beyond, {file: text})
    builder = Builder(file)
    try:
        policy = builder.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, BuildError):
            raise PolicyError([exc.orig_exc.diagnostic], {file: text}) from None
        raise
    if builder.diagnostics:
        raise PolicyError(builder.diagnostics, {file: text})
    assert isinstance(policy, ast.Policy)
    return ast.Policy(policy.header, policy.items, extract_comments(text, file), span=policy.span,
                      clause_spans=_clause_spans(tree, file))


def _clause_spans(tree: Tree[Token], file: str) -> tuple[tuple[str, Span], ...]:
    """Every production's position, for the formatter (clauses kept as strings have no span)."""
    found = [(str(t.data), Span(file, t.meta.line, t.meta.column, t.meta.end_line, t.meta.end_column))
             for t in tree.iter_subtrees() if not getattr(t.meta, "empty", True)]
    return tuple(sorted(found, key=lambda item: (item[1].line, item[1].col)))


def parse_file(path: str | Path) -> ast.Policy:
    """Read and parse a ``.policy`` file (UTF-8)."""
    path = Path(path)
    return parse(path.read_text(encoding="utf-8"), str(path))


def extract_comments(text: str, file: str = "<input>") -> tuple[ast.Comment, ...]:
    """The ``#`` comments of a policy (outside quoted text), for the formatter."""
    found: list[ast.Comment] = []
    for number, line in enumerate(text.splitlines(), start=1):
        in_string = escaped = False
        for col, char in enumerate(line):
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_string = False
            elif char == '"':
                in_string = True
            elif char == "#":
                found.append(ast.Comment(line[col:].rstrip(), span=Span(file, number, col + 1, number, len(line) + 1)))
                break
    return tuple(found)


# ------------------------------------------------------------------ syntax errors
_EXPECTED_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "DATE": "a date (YYYY-MM-DD)", "STRING": 'a quoted text ("…")',
    "CMP": "a comparison (=, !=, <, <=, >, >=)", "COLON": "`:`", "LPAR": "`(`", "RPAR": "`)`",
    "COMMA": "`,`", "EQUAL": "`=`", "PERCENT": "`%`", "SLASH": "`/`", "$END": "the end of the file",
    # punctuation terminals that also accept the full-width form (：，（）) or 、
    "_COLON": "`:`", "_COMMA": "`,`", "_LPAR": "`(`", "_RPAR": "`)`", "_ENUM_COMMA": "`、`",
}


def _describe_expected(expected: set[str]) -> str:
    words: list[str] = []
    for name in sorted(expected):
        if name in _EXPECTED_NAMES:
            words.append(_EXPECTED_NAMES[name])
        elif name.startswith("__ANON"):
            continue
        else:
            words.append(f"`{name.lower()}`")
    words = sorted(set(words))
    if len(words) > 8:
        words = [*words[:8], "…"]
    return ", ".join(words)


def _syntax_diagnostic(exc: UnexpectedInput, text: str, file: str) -> Diagnostic:
    line, col = max(exc.line, 1), max(exc.column, 1)
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else "?"
        hint = "text must be in double quotes" if char in "'“”" else "remove it or quote the text"
        return Diagnostic("E001", f"unexpected character `{char}`", Span(file, line, col, line, col + 1), hint)
    if isinstance(exc, UnexpectedEOF):
        lines = text.splitlines() or [""]
        last = len(lines)
        return Diagnostic(
            "E002", "the policy ends in the middle of a statement",
            Span(file, last, len(lines[-1]) + 1, last, len(lines[-1]) + 2),
            f"expected {_describe_expected(set(exc.expected))}",
        )
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    value = str(token)
    width = max(1, len(value))
    if token.type == "$END":
        lines = text.splitlines() or [""]
        return Diagnostic(
            "E002", "the policy ends in the middle of a statement",
            Span(file, len(lines), len(lines[-1]) + 1, len(lines), len(lines[-1]) + 2),
            f"expected {_describe_expected(set(exc.expected))}",
        )
    found_hint = _hint_for(value, set(exc.expected))
    return Diagnostic(
        "E003", f"unexpected `{value}`", Span(file, line, col, line, col + width),
        found_hint or f"expected {_describe_expected(set(exc.expected))}",
    )


def _hint_for(value: str, expected: set[str]) -> str | None:
    if value.replace(".", "", 1).isdigit() and "DATE" in expected:
        return "dates are written YYYY-MM-DD, e.g. 2023-04-30"
    if value in ("学分", "credits", "credit") and "NUMBER" in expected:
        return "put the amount before the unit, e.g. `18 credits`"
    return None
