"""Where the nodes of a Lark parse tree are in the policy text, as :class:`~credit_rules.span.Span`."""

from __future__ import annotations

from lark import Token, Tree

from credit_rules.span import Span


def token_span(token: Token, file: str) -> Span:
    """The whole of ``token``."""
    return Span(file, token.line or 1, token.column or 1, token.end_line or token.line or 1,
                token.end_column or (token.column or 1) + len(str(token)))


def start_span(node: Tree[Token] | Token, file: str) -> Span:
    """The first character of ``node`` (unknown when the tree has no position)."""
    if isinstance(node, Token):
        return token_span(node, file)
    meta = node.meta
    if getattr(meta, "empty", True):
        return Span.unknown(file)
    return Span(file, meta.line, meta.column, meta.line, meta.column + 1)
