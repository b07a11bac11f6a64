"""A lean LALR(1) run over the tables Lark builds for the policy grammar.

Lark builds the grammar (``credit_rules.syntax.grammar``); this module copies what a parse
needs out of the built parser into plain data (:func:`tables_from_lark`: the action
table, the tree-shaping of every rule, the contextual lexer's scanners) that
:mod:`marshal` saves and loads in a few milliseconds, and parses with it
(:class:`LalrParser`), giving the very tree Lark gives: the same ``Tree``/``Token``
objects with the same positions (``propagate_positions``), so the AST builder and every
diagnostic downstream are unchanged.

Why not Lark's own run: loading Lark's cached parser rebuilds ~30,000 objects in Python
(0.1 s of every ``credit-rules check``), and its parse loop wraps every reduction in
three callback layers (about half of the parse time of a big policy).

Only the success path lives here. Anything unexpected (a character no terminal of the
state matches, a token the state has no action for) raises :class:`NeedsLark`, and the
caller parses the same text with Lark, which raises its own error: so a syntax error's
message, position and expected set are Lark's, byte for byte.
"""

from __future__ import annotations

import re
from typing import Any

from lark import Lark, Token, Tree
from lark.tree import Meta

try:  # Lark's insides this module reads the tables through; another Lark may move them
    from lark.lexer import UnlessCallback
    from lark.parse_tree_builder import ChildFilterLALR_NoPlaceholders, ExpandSingleChild, PropagatePositions
    from lark.parsers.lalr_analysis import Shift
except ImportError:  # pragma: no cover - then tables_from_lark says NeedsLark and Lark parses
    Shift = None  # type: ignore[assignment]

#: Bumped when the layout of the tables changes; part of the cache key.
TABLES_FORMAT = 3


class NeedsLark(Exception):
    """The fast run cannot go on (a syntax error, or a shape it does not know); parse with
    Lark to get Lark's result or Lark's error."""


# ------------------------------------------------------------------ tables from Lark
def tables_from_lark(parser: Lark) -> dict[str, Any]:
    """The plain-data copy of a built LALR parser with the contextual lexer (only
    ints, strings, tuples, lists and dicts, for :mod:`marshal`).

    Raises :class:`NeedsLark` when the parser uses something this module does not
    reproduce (another lexer, token callbacks, placeholders, a custom tree class), or
    when Lark's insides are not where this module looks (another Lark version).
    """
    try:
        return _tables(parser)
    except NeedsLark:
        raise
    except Exception as exc:  # renamed or reshaped internals: Lark parses everything
        raise NeedsLark(f"cannot read the tables of this Lark: {type(exc).__name__}: {exc}") from exc


def _tables(parser: Lark) -> dict[str, Any]:
    if Shift is None:
        raise NeedsLark("this Lark keeps its parser elsewhere")
    frontend = parser.parser
    lalr = frontend.parser
    table = lalr._parse_table
    lexer = frontend.lexer
    conf = parser.lexer_conf
    if not hasattr(lexer, "lexers") or conf.callbacks or conf.use_bytes or parser.options.postlex is not None:
        raise NeedsLark("only the contextual lexer without callbacks is reproduced")
    rule_index: dict[Any, int] = {}
    rules: list[tuple[str, int, str, bool, tuple[tuple[int, bool], ...] | None]] = []
    for rule, callback in lalr.parser.callbacks.items():
        rule_index[rule] = len(rules)
        rules.append((str(rule.origin.name), len(rule.expansion), *_shape(callback)))
    states: dict[int, dict[str, int]] = {}
    for state, actions in table.states.items():
        # a shift is the next state (>= 0), a reduction ~rule (< 0)
        states[int(state)] = {str(name): (int(arg) if action is Shift else ~rule_index[arg])
                              for name, (action, arg) in actions.items()}
    lexers: list[tuple[Any, ...]] = []
    lexer_of: dict[int, int] = {}
    state_lexer: dict[int, int] = {}
    for state, basic in lexer.lexers.items():
        if id(basic) not in lexer_of:
            lexer_of[id(basic)] = len(lexers)
            lexers.append(_scanner(basic))
        state_lexer[int(state)] = lexer_of[id(basic)]
    # plain str and int only (a freshly built grammar names things with str subclasses)
    return {"format": TABLES_FORMAT, "states": states, "rules": rules, "start": int(table.start_states["start"]),
            "end": int(table.end_states["start"]), "state_lexer": state_lexer, "lexers": lexers}


def _shape(callback: Any) -> tuple[str, bool, tuple[tuple[int, bool], ...] | None]:
    """(tree name, expand a single child, children kept and inlined) of one rule, read off
    the callback chain Lark built for it: PropagatePositions → [child filter] → [expand
    single child] → Tree."""
    if not isinstance(callback, PropagatePositions) or callback.node_filter is not None:
        raise NeedsLark(f"unexpected tree builder {callback!r}")
    inner = callback.node_builder
    include: tuple[tuple[int, bool], ...] | None = None
    if isinstance(inner, ChildFilterLALR_NoPlaceholders):
        include = tuple((int(i), bool(expand)) for i, expand in inner.to_include)
        inner = inner.node_builder
    expand1 = isinstance(inner, ExpandSingleChild)
    if expand1:
        inner = inner.node_builder
    if getattr(inner, "func", None) is not Tree or len(inner.args) != 1 or inner.keywords:
        raise NeedsLark(f"unexpected tree builder {inner!r}")
    return str(inner.args[0]), expand1, include


def _scanner(basic: Any) -> tuple[tuple[tuple[str, int], ...], dict[str, tuple[tuple[str, int], ...]],
                                  tuple[str, ...], tuple[str, ...]]:
    """One of the contextual lexer's lexers: its scanner's patterns, the keyword checks
    (Lark's "unless" callbacks), and the terminals that may hold newlines or are ignored."""
    scanner = basic.scanner  # builds it
    unless: dict[str, tuple[tuple[str, int], ...]] = {}
    for name, callback in basic.callback.items():
        if not isinstance(callback, UnlessCallback):
            raise NeedsLark(f"unexpected lexer callback on {name}")
        unless[str(name)] = tuple((str(m.pattern), int(m.flags)) for m in callback.scanner._mres)
    return (tuple((str(m.pattern), int(m.flags)) for m in scanner._mres), unless,
            tuple(sorted(map(str, basic.newline_types))), tuple(sorted(map(str, basic.ignore_types))))


# ------------------------------------------------------------------ the run
class _Lexer:
    """One contextual lexer, its patterns compiled on first use (as Lark does)."""

    __slots__ = ("ignore", "newline", "patterns", "unless")

    def __init__(self, spec: tuple[Any, ...]):
        patterns, unless, newline, ignore = spec
        self.patterns = [re.compile(p, f) for p, f in patterns]
        self.unless = {name: [re.compile(p, f) for p, f in found] for name, found in unless.items()}
        self.newline = frozenset(newline)
        self.ignore = frozenset(ignore)


class LalrParser:
    """Parses policy text into Lark's tree from the tables of :func:`tables_from_lark`."""

    def __init__(self, tables: dict[str, Any]):
        if tables.get("format") != TABLES_FORMAT:
            raise ValueError("tables of another format")
        self.states: dict[int, dict[str, int]] = tables["states"]
        self.rules: list[tuple[str, int, str, bool, tuple[tuple[int, bool], ...] | None]] = tables["rules"]
        # rules that hand their one child up unchanged (`?rule: a | b`, the chains of
        # conditions): Lark's callbacks for them change nothing, not even a position
        self.passthrough = frozenset(
            ~index for index, (_, size, _, expand1, include) in enumerate(self.rules)
            if size == 1 and expand1 and include in (None, ((0, False),)))
        self.start: int = tables["start"]
        self.end: int = tables["end"]
        self.state_lexer: dict[int, int] = tables["state_lexer"]
        self.lexer_specs: list[tuple[Any, ...]] = tables["lexers"]
        self.lexers: dict[int, _Lexer] = {}
        self.lexer_by_state: dict[int, _Lexer] = {}

    def _lexer(self, state: int) -> _Lexer:
        index = self.state_lexer[state]
        found = self.lexers.get(index)
        if found is None:
            found = self.lexers[index] = _Lexer(self.lexer_specs[index])
        self.lexer_by_state[state] = found
        return found

    def parse(self, text: str) -> Tree[Token]:
        """The parse tree of ``text``; :class:`NeedsLark` on anything but a clean parse."""
        lexer_by_state, end = self.lexer_by_state, len(text)
        state_stack = [self.start]
        value_stack: list[Any] = []
        pos, line, line_start = 0, 1, 0
        last: Token | None = None
        while pos < end:
            lexer = lexer_by_state.get(state_stack[-1]) or self._lexer(state_stack[-1])
            for pattern in lexer.patterns:
                match = pattern.match(text, pos, end)
                if match:
                    break
            else:
                raise NeedsLark("no terminal matches here")
            value, kind = match.group(0), match.lastgroup
            assert kind is not None
            start, column = pos, pos - line_start + 1
            start_line = line
            if kind in lexer.newline:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = pos + value.rindex("\n") + 1
            pos += len(value)
            if kind in lexer.ignore:
                continue
            token = Token(kind, value, start, start_line, column, line, pos - line_start + 1, pos)
            keywords = lexer.unless.get(kind)
            if keywords:
                for pattern in keywords:
                    whole = pattern.fullmatch(value)
                    if whole:
                        token.type = str(whole.lastgroup)
                        break
            self._feed(token, state_stack, value_stack)
            last = token
        closing = Token.new_borrow_pos("$END", "", last) if last is not None else Token("$END", "", 0, 1, 1)
        return self._feed(closing, state_stack, value_stack)  # type: ignore[no-any-return]

    def _feed(self, token: Token, state_stack: list[int], value_stack: list[Any]) -> Any:
        """Lark's ``ParserState.feed_token``: reduce as long as the table says, then shift;
        at ``$END``, return the tree once the end state is reached."""
        states, rules, kind, at_end = self.states, self.rules, token.type, token.type == "$END"
        passthrough = self.passthrough
        while True:
            action = states[state_stack[-1]].get(kind)
            if action is None:
                raise NeedsLark(f"no action for {kind}")
            if action >= 0:
                if at_end:
                    raise NeedsLark("shift at the end")
                state_stack.append(action)
                value_stack.append(token)
                return None
            if action in passthrough:  # the child stays where it is; only the state moves on
                state_stack[-1] = states[state_stack[-2]][rules[~action][0]]
                if at_end and state_stack[-1] == self.end:
                    return value_stack[-1]
                continue
            origin, size, name, expand1, include = rules[~action]
            if size:
                children = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                children = []
            value = _build(name, expand1, include, children)
            state_stack.append(states[state_stack[-1]][origin])
            value_stack.append(value)
            if at_end and state_stack[-1] == self.end:
                return value_stack[-1]


def _build(name: str, expand1: bool, include: tuple[tuple[int, bool], ...] | None, children: list[Any]) -> Any:
    """One reduction, as Lark's callback chain does it: filter and inline the children,
    expand a single child, make the tree, then give it the positions of its first and
    last child (PropagatePositions, over the unfiltered children; a child tree's place
    is its "container", which includes the tokens its rule filtered out)."""
    if include is None:
        filtered = children
    else:
        filtered = []
        for i, expand in include:
            if expand:
                if filtered:
                    filtered += children[i].children
                else:  # as Lark: take the inlined child's list itself
                    filtered = children[i].children
            else:
                filtered.append(children[i])
    meta: Any  # Meta, with the positions PropagatePositions adds as attributes
    first: Any
    last: Any
    if expand1 and len(filtered) == 1:
        result = filtered[0]
        if result.__class__ is not Tree:
            return result
        meta = result._meta
        fresh = not hasattr(meta, "line")
    else:
        meta = Meta()  # type: ignore[no-untyped-call]
        result = Tree(name, filtered, meta)
        fresh = True
    for child in children:
        if child.__class__ is Tree:
            first = child._meta
            if not first.empty:
                start = (first.container_line, first.container_column, first.container_start_pos)
                break
        else:
            start = (child.line, child.column, child.start_pos)
            break
    else:
        return result  # nothing with a position: the meta stays empty
    for child in reversed(children):
        if child.__class__ is Tree:
            last = child._meta
            if not last.empty:
                stop = (last.container_end_line, last.container_end_column, last.container_end_pos)
                break
        else:
            stop = (child.end_line, child.end_column, child.end_pos)
            break
    found = meta.__dict__
    if fresh:
        found["line"], found["column"], found["start_pos"] = start
        found["empty"] = False
    if "end_line" not in found:
        found["end_line"], found["end_column"], found["end_pos"] = stop
        found["empty"] = False
    found["container_line"], found["container_column"], found["container_start_pos"] = start
    found["container_end_line"], found["container_end_column"], found["container_end_pos"] = stop
    return result
