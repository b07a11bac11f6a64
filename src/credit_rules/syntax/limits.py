"""The size and nesting limits of a policy text (E007, E008, E009), checked by the parser.

Each is a diagnostic, never a traceback: a policy text is at most
:data:`MAX_POLICY_BYTES` of UTF-8 (E007), holds at most :data:`MAX_ITEMS` items (rules,
caps, requirements, tests…; E009), and its conditions nest at most :data:`MAX_NESTING`
deep (``not``, ``and``, ``or`` inside one another; E008). Lark's LALR parser is a loop,
but building the AST and every later pass walk conditions recursively: the depth is
measured on the parse tree, without recursion, before anything recurses.
"""

from __future__ import annotations

from lark import Token, Tree

from credit_rules.errors import Diagnostic
from credit_rules.span import Span
from credit_rules.syntax.spans import start_span

#: The largest policy text accepted, in bytes of UTF-8 (2 MiB).
MAX_POLICY_BYTES = 2 * 1024 * 1024
#: The most items (rules, caps, requirements, waivers, tests, invariants…) in one policy.
MAX_ITEMS = 20_000
#: The deepest nesting of conditions (``not``, ``and``, ``or`` inside one another).
MAX_NESTING = 50

_NESTING_NODES = frozenset({"negate", "and_cond", "or_cond"})


def size_diagnostic(text: str, file: str) -> Diagnostic | None:
    """E007 when ``text`` is over :data:`MAX_POLICY_BYTES`, at the line where it crosses."""
    if len(text) * 4 <= MAX_POLICY_BYTES:  # cheap: at most 4 bytes per character
        return None
    encoded = text.encode("utf-8", errors="surrogatepass")
    if len(encoded) <= MAX_POLICY_BYTES:
        return None
    head = encoded[:MAX_POLICY_BYTES].decode("utf-8", errors="ignore")
    line = head.count("\n") + 1
    col = len(head) - (head.rfind("\n") + 1) + 1
    return Diagnostic(
        "E007", f"the policy is too large: {len(encoded):,} bytes, at most {MAX_POLICY_BYTES:,}",
        Span(file, line, col, line, col + 1),
        "split it into several policies; a policy this size is not a document anyone can review",
    )


def limit_diagnostics(tree: Tree[Token], file: str) -> list[Diagnostic]:
    """E008 (conditions nested deeper than :data:`MAX_NESTING`) and E009 (more than
    :data:`MAX_ITEMS` items), measured on the parse tree with an explicit stack, before
    the recursive passes (the AST builder, the compiler, the evaluators) see it."""
    out: list[Diagnostic] = []
    items = tree.children[1:]
    if len(items) > MAX_ITEMS:
        extra = items[MAX_ITEMS]
        out.append(Diagnostic(
            "E009", f"the policy has {len(items):,} items, at most {MAX_ITEMS:,}",
            start_span(extra, file), "split it into several policies",
        ))
    stack: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if node.data in _NESTING_NODES:
            depth += 1
            if depth > MAX_NESTING:
                out.append(Diagnostic(
                    "E008", f"conditions are nested more than {MAX_NESTING} deep",
                    start_span(node, file),
                    "write it flatter: `not not x` is `x`, and `a and (b and c)` is `a and b and c`",
                ))
                break
        stack.extend((child, depth) for child in node.children if isinstance(child, Tree))
    return out
