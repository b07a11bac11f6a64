"""Printed lines and their layout: indents, where comments go, and the final text.

The printer turns each statement into :class:`Line` objects that remember where their
code sat in the source; this module puts every comment back beside the nearest of those
lines and renders the lines to text, spacing tokens by their kind.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import attrs

from credit_rules.span import Span
from credit_rules.syntax import ast
from credit_rules.syntax.print_tokens import CLOSE, KW, KW_JOINS, KW_OPENS, NUM, OPEN, Lang, Token

#: Continuation lines of a long ``expect`` are wrapped at this width.
WIDTH = 110
INDENT = "  "


# ------------------------------------------------------------------ printed lines
@attrs.define
class Line:
    indent: int
    tokens: list[Token]
    origin: tuple[int, int] | None = None
    before: list[ast.Comment] = attrs.Factory(list)
    after: list[str] = attrs.Factory(list)
    continuation: list[list[Token]] = attrs.Factory(list)


def known_start(span: Span | None) -> tuple[int, int] | None:
    if span is None or (span.line, span.col, span.end_line, span.end_col) == (1, 1, 1, 1):
        return None
    return (span.line, span.col)


class Layout:
    """Finds where a clause held as a plain string sat, from the parser's clause spans."""

    def __init__(self, clause_spans: Sequence[tuple[str, Span]]):
        self.spans = list(clause_spans)

    def find(self, names: Iterable[str], inside: Span | None,
             outside: Sequence[Span | None] = ()) -> tuple[int, int] | None:
        wanted = set(names)
        if known_start(inside) is None:
            return None
        assert inside is not None
        for name, span in self.spans:
            if name in wanted and within(span, inside) and not any(
                    o is not None and known_start(o) is not None and within(span, o) for o in outside):
                return (span.line, span.col)
        return None


def within(span: Span, outer: Span) -> bool:
    return (outer.line, outer.col) <= (span.line, span.col) and \
        (span.end_line, span.end_col) <= (outer.end_line, outer.end_col)



# ------------------------------------------------------------------ comments
def code_starts(tree: ast.Policy) -> set[tuple[int, int]]:
    """Where every node and clause starts: code on a comment's line before it makes it trailing."""
    found = {(s.line, s.col) for _, s in tree.clause_spans if known_start(s)}

    def walk(node: object) -> None:
        if isinstance(node, tuple):
            for x in node:
                walk(x)
        elif attrs.has(type(node)) and not isinstance(node, ast.Comment):
            span = getattr(node, "span", None)
            start = known_start(span) if isinstance(span, Span) else None
            if start:
                found.add(start)
            for name in attrs.fields_dict(type(node)):  # type: ignore[arg-type]
                if name not in ("span", "comments", "clause_spans"):
                    walk(getattr(node, name))

    walk(tree.header)
    walk(tree.items)
    return found


def place_comments(blocks: list[list[Line]], tree: ast.Policy, comments: Sequence[ast.Comment]) -> list[ast.Comment]:
    lines = [line for block in blocks for line in block]
    placed = [line for line in lines if line.origin is not None]
    starts = code_starts(tree)
    at_end: list[ast.Comment] = []
    for comment in sorted(comments, key=lambda c: (c.span.line, c.span.col)):
        where = (comment.span.line, comment.span.col)
        trailing = any(line == where[0] and col < where[1] for line, col in starts)
        before = [line for line in placed if line.origin is not None and line.origin <= where]
        after = [line for line in placed if line.origin is not None and line.origin > where]
        if trailing and before:
            max(before, key=lambda line: line.origin or (0, 0)).after.append(comment.text)
        elif after:
            min(after, key=lambda line: line.origin or (0, 0)).before.append(comment)
        else:
            at_end.append(comment)
    return at_end


# ------------------------------------------------------------------ rendering
def render(blocks: list[list[Line]], at_end: list[ast.Comment], lang: Lang) -> str:
    out: list[str] = []
    for b, block in enumerate(blocks):
        if b:
            out.append("")
        for i, line in enumerate(block):
            pad = INDENT * line.indent
            previous: int | None = None
            for comment in line.before:
                if i == 0 and previous is not None and comment.span.line > previous + 1:
                    out.append("")  # keep one blank line between comment paragraphs above a statement
                out.append(pad + comment.text)
                previous = comment.span.line
            if i == 0 and previous is not None and line.origin is not None and line.origin[0] > previous + 1:
                out.append("")
            text = pad + join_tokens(line.tokens, lang)
            for extra in line.continuation:
                out.append(text)
                text = pad + INDENT + join_tokens(extra, lang)
            out.append(with_comments(text, line.after))
    if at_end:
        out.append("")
        previous = None
        for comment in at_end:
            if previous is not None and comment.span.line > previous + 1:
                out.append("")
            out.append(comment.text)
            previous = comment.span.line
    return "\n".join(out) + "\n"


def with_comments(text: str, comments: list[str]) -> str:
    return "  ".join([text, *comments]) if comments else text


def join_tokens(tokens: Sequence[Token], lang: Lang) -> str:
    out = ""
    previous: Token | None = None
    for token in tokens:
        if previous is not None and space_between(previous, token, lang):
            out += " "
        out += token[1]
        previous = token
    return out


def space_between(left: Token, right: Token, lang: Lang) -> bool:
    if right[0] == CLOSE or left[0] == OPEN:
        return False
    if lang == "zh":
        if left[0] in (CLOSE, OPEN) or right[0] == OPEN:
            return False  # full-width punctuation carries its own space
        if right[0] in (KW_OPENS, KW_JOINS) or left[0] == KW_JOINS:
            return True
        if {left[0], right[0]} <= {KW, KW_OPENS, NUM} and not left[0] == right[0] == NUM:
            return False  # Chinese keywords and numbers run together: 至少36学分, 计入级别, 每学年
    return True


def cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef"


def display_width(text: str) -> int:
    """Display width: a Chinese character takes two columns."""
    return sum(2 if cjk(c) else 1 for c in text)


