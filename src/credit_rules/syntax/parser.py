"""Text → :mod:`credit_rules.syntax.ast`, with Lark errors turned into diagnostics.

The grammar and the cached LALR parser built from it are
:mod:`credit_rules.syntax.grammar`.

The size and nesting limits (E007, E008, E009) are checked by
:mod:`credit_rules.syntax.limits`: the size before parsing, the items and the nesting on
the parse tree before the AST is built (``MAX_*`` are re-exported here).
"""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.tree import Meta

from credit_rules.errors import Diagnostic, PolicyError
from credit_rules.span import Span
from credit_rules.syntax import ast
from credit_rules.syntax.grammar import build_parser as build_parser
from credit_rules.syntax.grammar import grammar_cache_dir as grammar_cache_dir
from credit_rules.syntax.grammar import grammar_text as grammar_text
from credit_rules.syntax.limits import MAX_ITEMS as MAX_ITEMS
from credit_rules.syntax.limits import MAX_NESTING as MAX_NESTING
from credit_rules.syntax.limits import MAX_POLICY_BYTES as MAX_POLICY_BYTES
from credit_rules.syntax.limits import limit_diagnostics, size_diagnostic
from credit_rules.syntax.spans import token_span


@functools.cache
def _lark() -> Lark:
    return build_parser(grammar_cache_dir())


def parse(text: str, file: str = "<input>") -> ast.Policy:
    """Parse policy text into an AST, or raise :class:`PolicyError` with diagnostics.

    >>> parse('policy demo  rule r: on training count hours').items[0].name
    'r'
    """
    too_large = size_diagnostic(text, file)
    if too_large is not None:
        raise PolicyError([too_large], {file: text})
    try:
        tree = _lark().parse(text)
    except UnexpectedInput as exc:
        raise PolicyError([_syntax_diagnostic(exc, text, file)], {file: text}) from None
    beyond = limit_diagnostics(tree, file)
    if beyond:
        raise PolicyError(beyond, {file: text})
    builder = _Builder(file)
    try:
        policy = builder.transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, _BuildError):
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


# ------------------------------------------------------------------ tree → AST
#: The marker ``cap_hours`` hands to ``cap`` in place of a percentage's requirement.
_HOURS = "\x00hours"


class _BuildError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _string(token: Token) -> str:
    body = str(token)[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


#: issue 9 (C): the vocabulary words, singular or plural, as their plural.
_VOCABULARY_PLURALS = {
    word: plural for plural in ("roles", "titles", "kinds", "categories", "levels", "formats")
    for word in (plural, plural[:-3] + "y" if plural == "categories" else plural[:-1])
}


@v_args(meta=True)
class _Builder(Transformer[Token, Any]):
    """Builds AST nodes bottom-up; order-free clauses are gathered into their item."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file
        self.diagnostics: list[Diagnostic] = []

    def _span(self, meta: Meta) -> Span:
        if getattr(meta, "empty", True):
            return Span.unknown(self.file)
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    # ---- tokens
    def NAME(self, token: Token) -> Token:
        return token

    # ---- values
    def word(self, meta: Meta, c: list[Token]) -> ast.Word:
        return ast.Word(str(c[0]), span=self._span(meta))

    def string(self, meta: Meta, c: list[Token]) -> ast.Text:
        return ast.Text(_string(c[0]), span=self._span(meta))

    def number(self, meta: Meta, c: list[Token]) -> ast.Number:
        return ast.Number(Decimal(str(c[0])), span=self._span(meta))

    def date(self, meta: Meta, c: list[Token]) -> ast.DateValue:
        return ast.DateValue(self._date(c[0]), span=self._span(meta))

    def true(self, meta: Meta, c: list[Token]) -> ast.Bool:
        return ast.Bool(True, span=self._span(meta))

    def false(self, meta: Meta, c: list[Token]) -> ast.Bool:
        return ast.Bool(False, span=self._span(meta))

    def value_list(self, meta: Meta, c: list[ast.Value]) -> tuple[ast.Value, ...]:
        return tuple(c)

    def name_list(self, meta: Meta, c: list[Token]) -> tuple[str, ...]:
        return tuple(str(t) for t in c)

    def _date(self, token: Token) -> dt.date:
        try:
            return dt.date.fromisoformat(str(token))
        except ValueError:
            raise _BuildError(Diagnostic(
                "E004", f"`{token}` is not a calendar date", token_span(token, self.file),
                "dates are written YYYY-MM-DD and must exist",
            )) from None

    # ---- conditions
    def field(self, meta: Meta, c: list[Token]) -> str:
        return str(c[0])

    def field_category(self, meta: Meta, c: list[Token]) -> str:
        return "category"

    def field_level(self, meta: Meta, c: list[Token]) -> str:
        return "level"

    def field_format(self, meta: Meta, c: list[Token]) -> str:
        return "format"

    def compare(self, meta: Meta, c: list[Any]) -> ast.Compare:
        return ast.Compare(c[0], str(c[1]), c[2], span=self._span(meta))  # type: ignore[arg-type]

    def member(self, meta: Meta, c: list[Any]) -> ast.Member:
        return ast.Member(c[0], c[1], span=self._span(meta))

    def not_member(self, meta: Meta, c: list[Any]) -> ast.Member:
        return ast.Member(c[0], c[1], negated=True, span=self._span(meta))

    def _shorthand(self, field: str, meta: Meta, c: list[Token]) -> ast.Compare:
        return ast.Compare(field, "=", ast.Word(str(c[0]), span=token_span(c[0], self.file)),
                           span=self._span(meta))

    def category_is(self, meta: Meta, c: list[Token]) -> ast.Compare:
        return self._shorthand("category", meta, c)

    def level_is(self, meta: Meta, c: list[Token]) -> ast.Compare:
        return self._shorthand("level", meta, c)

    def format_is(self, meta: Meta, c: list[Token]) -> ast.Compare:
        return self._shorthand("format", meta, c)

    def has_role(self, meta: Meta, c: list[Token]) -> ast.HasRole:
        return ast.HasRole(str(c[0]), span=self._span(meta))

    def on_or_before(self, meta: Meta, c: list[Token]) -> ast.DateBound:
        return ast.DateBound("<=", self._date(c[0]), span=self._span(meta))

    def on_or_after(self, meta: Meta, c: list[Token]) -> ast.DateBound:
        return ast.DateBound(">=", self._date(c[0]), span=self._span(meta))

    def qualified(self, meta: Meta, c: list[Token]) -> ast.Qualified:
        return ast.Qualified(_string(c[0]), span=self._span(meta))

    def no_events(self, meta: Meta, c: list[Token]) -> ast.EventsExist:
        return ast.EventsExist(str(c[0]), False, span=self._span(meta))

    def any_events(self, meta: Meta, c: list[Token]) -> ast.EventsExist:
        return ast.EventsExist(str(c[0]), True, span=self._span(meta))

    def ranked(self, meta: Meta, c: list[Token]) -> ast.Ranked:
        return ast.Ranked(str(c[0]) if c else None, span=self._span(meta))

    def requirement_met(self, meta: Meta, c: list[Token]) -> ast.RequirementMet:
        return ast.RequirementMet(str(c[0]), span=self._span(meta))

    # ---- issue 9 (D): periods relative to the teacher
    def rel_years(self, meta: Meta, c: list[Any]) -> str:
        return "years"

    def rel_months(self, meta: Meta, c: list[Any]) -> str:
        return "months"

    def rel_days(self, meta: Meta, c: list[Any]) -> str:
        return "days"

    def within_of(self, meta: Meta, c: list[Any]) -> ast.Relative:
        return ast.Relative(str(c[2]), Decimal(str(c[0])), c[1], span=self._span(meta))

    def within_of_zh(self, meta: Meta, c: list[Any]) -> ast.Relative:
        return ast.Relative(str(c[0]), Decimal(str(c[1])), c[2], span=self._span(meta))

    def first_after(self, meta: Meta, c: list[Any]) -> ast.Relative:
        count = Decimal(str(c[0])) if len(c) == 3 else Decimal(1)
        return ast.Relative(str(c[-1]), count, c[-2], span=self._span(meta))

    def first_after_zh(self, meta: Meta, c: list[Any]) -> ast.Relative:
        count = Decimal(str(c[1])) if len(c) == 3 else Decimal(1)
        return ast.Relative(str(c[0]), count, c[-1], span=self._span(meta))

    # ---- issue 9 (D): evidence states
    def count_only(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("count_only", ast.CountOnly((c[0],), span=span), span)

    def count_only_list(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("count_only", ast.CountOnly(tuple(c[0]), listed=True, span=span), span)

    def and_cond(self, meta: Meta, c: list[ast.Cond]) -> ast.And:
        items: list[ast.Cond] = []
        for item in c:  # a parenthesised `and` inside an `and` is the same conjunction
            items.extend(item.items if isinstance(item, ast.And) else (item,))
        return ast.And(tuple(items), span=self._span(meta))

    def or_cond(self, meta: Meta, c: list[ast.Cond]) -> ast.Or:
        items: list[ast.Cond] = []
        for item in c:
            items.extend(item.items if isinstance(item, ast.Or) else (item,))
        return ast.Or(tuple(items), span=self._span(meta))

    def negate(self, meta: Meta, c: list[ast.Cond]) -> ast.Not:
        return ast.Not(c[0], span=self._span(meta))

    # ---- header
    def title(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return ("title", _string(c[0]), self._span(meta))

    def source(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return ("source", _string(c[0]), self._span(meta))

    def timezone(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return ("timezone", _string(c[0]), self._span(meta))

    def window(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("window", ast.Window(self._date(c[0]), self._date(c[1]), "window", span=span), span)

    def cycle(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("window", ast.Window(self._date(c[0]), self._date(c[1]), "cycle", span=span), span)

    def evaluate_per(self, meta: Meta, c: list[str]) -> tuple[str, Any, Span]:
        return ("evaluate", c[0], self._span(meta))

    def evaluate_window(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return ("evaluate", "window", self._span(meta))

    def school_year(self, meta: Meta, c: list[Any]) -> str:
        return "school year"

    def semester(self, meta: Meta, c: list[Any]) -> str:
        return "semester"

    def calendar_year(self, meta: Meta, c: list[Any]) -> str:
        return "year"

    def day(self, meta: Meta, c: list[Any]) -> str:
        return "day"

    def conversion(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        source = c[2][1] if len(c) > 2 else None
        return ("conversion", ast.Conversion(Decimal(str(c[0])), Decimal(str(c[1])), source, span=span), span)

    def header(self, meta: Meta, c: list[Any]) -> ast.Header:
        fields = self._gather("policy header", c[1:],
                              {"title", "source", "timezone", "window", "evaluate", "conversion", "extends",
                               "minutes", "days", "count_only"})
        return ast.Header(str(c[0]), span=self._span(meta), **fields)

    # ---- layers (issue 9 F)
    def extends_name(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("extends", ast.Extends(str(c[0]), span=span), span)

    def extends_path(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("extends", ast.Extends(_string(c[0]), is_path=True, span=span), span)

    def replace_rule(self, meta: Meta, c: list[Any]) -> ast.Replace:
        return ast.Replace(c[0], span=self._span(meta))

    def replace_cap(self, meta: Meta, c: list[Any]) -> ast.Replace:
        return ast.Replace(c[0], span=self._span(meta))

    def replace_requirement(self, meta: Meta, c: list[Any]) -> ast.Replace:
        return ast.Replace(self.requirement(meta, c), span=self._span(meta))

    def _drop(self, kind: ast.LayerKind, meta: Meta, c: list[Any]) -> ast.Drop:
        source = c[1][1] if len(c) > 1 else None
        return ast.Drop(kind, str(c[0]), source, span=self._span(meta))

    def drop_rule(self, meta: Meta, c: list[Any]) -> ast.Drop:
        return self._drop("rule", meta, c)

    def drop_cap(self, meta: Meta, c: list[Any]) -> ast.Drop:
        return self._drop("cap", meta, c)

    def drop_requirement(self, meta: Meta, c: list[Any]) -> ast.Drop:
        return self._drop("requirement", meta, c)

    def _gather(self, what: str, clauses: list[tuple[str, Any, Span]], allowed: set[str]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        seen: dict[str, Span] = {}
        for key, value, span in clauses:
            if key not in allowed:  # pragma: no cover - the grammar only produces allowed clauses
                continue
            if key in seen:
                self.diagnostics.append(Diagnostic(
                    "E005", f"`{key}` is given twice in this {what}", span,
                    "keep one", notes=(("first given here", seen[key]),),
                ))
                continue
            seen[key] = span
            fields[key] = value
        return fields

    # ---- rules
    def on_kind(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("on", ast.OnKind(str(c[0]), span=span), span)

    def on_first_kind(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("on", ast.OnKind(str(c[0]), first=True, span=span), span)

    def program(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return ("program", _string(c[0]), self._span(meta))

    def where(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return ("where", c[0], self._span(meta))

    def when(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return ("when", c[0], self._span(meta))

    def as_level(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return ("as_level", str(c[0]), self._span(meta))

    def as_category(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return ("as_category", str(c[0]), self._span(meta))

    def exception(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return ("exception_to", str(c[0]), self._span(meta))

    def without_category(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return ("without_category", True, self._span(meta))

    def _award(self, node: ast.Award) -> tuple[str, Any, Span]:
        return ("award", node, node.span)

    def count_hours(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return self._award(ast.CountHours(span=self._span(meta)))

    def count_credits(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return self._award(ast.CountCredits(span=self._span(meta)))

    def block(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return self._award(ast.Block(Decimal(str(c[0])), Decimal(str(c[1])), span=self._span(meta)))

    def pro_rata(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return self._award(ast.Block(Decimal(str(c[0])), Decimal(str(c[1])), pro_rata=True, span=self._span(meta)))

    def block_zh(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        """每30学时计3学分: hours come first in Chinese word order."""
        return self.block(meta, [c[1], c[0]])

    def pro_rata_zh(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return self.pro_rata(meta, [c[1], c[0]])

    def credits(self, meta: Meta, c: list[Any]) -> str:
        return "credits"

    def hours(self, meta: Meta, c: list[Any]) -> str:
        return "hours"

    def if_qualified(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return self._award(ast.IfQualified(Decimal(str(c[0])), c[1], span=self._span(meta)))

    def fixed(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return self._award(ast.Fixed(Decimal(str(c[0])), c[1], span=self._span(meta)))

    def leave(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return self._award(ast.Leave(span=self._span(meta)))

    def rule(self, meta: Meta, c: list[Any]) -> ast.Rule:
        span = self._span(meta)
        fields = self._gather(
            f"rule `{c[0]}`", c[1:],
            {"source", "on", "program", "where", "when", "award", "as_level", "as_category",
             "without_category", "exception_to", "rate", "rounding"},
        )
        if "award" not in fields:
            self.diagnostics.append(Diagnostic(
                "E006", f"rule `{c[0]}` awards nothing", span,
                "add an award such as `count hours`, `18 credits if qualified` or `3 credits per 30 hours`",
            ))
        award = fields.pop("award", None)
        return ast.Rule(str(c[0]), award, span=span, **fields)

    # ---- issue 9 (A): a rule's own rate, rounding, units other than hours
    def rule_rate(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("rate", ast.RuleRate(Decimal(str(c[0])), Decimal(str(c[1])), span=span), span)

    def round_down(self, meta: Meta, c: list[Any]) -> ast.RoundMode:
        return "down"

    def round_half_up(self, meta: Meta, c: list[Any]) -> ast.RoundMode:
        return "half up"

    def per_event(self, meta: Meta, c: list[Any]) -> bool:
        return False

    def per_period(self, meta: Meta, c: list[Any]) -> bool:
        return True

    @staticmethod
    def _mode_scope(c: list[Any]) -> tuple[ast.RoundMode, bool, Decimal | None]:
        """The mode, whether pooled, and the step, in either word order."""
        numbers = [Decimal(str(x)) for x in c if isinstance(x, Token)]
        mode: ast.RoundMode = "half up" if "half up" in c else "down"
        pooled = next(x for x in c if isinstance(x, bool))
        return mode, pooled, (numbers[0] if numbers else None)

    def rounding(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        mode, pooled, step = self._mode_scope(c)
        assert step is not None
        return ("rounding", ast.Rounding(mode, step, pooled, span=span), span)

    def unit_rounding(self, meta: Meta, c: list[Any]) -> ast.UnitRounding:
        mode, pooled, _ = self._mode_scope(c)
        return ast.UnitRounding(mode, pooled, span=self._span(meta))

    def _unit_conversion(self, unit: str, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        rounding = next((x for x in c[2:] if isinstance(x, ast.UnitRounding)), None)
        source = next((x[1] for x in c[2:] if isinstance(x, tuple)), None)
        node = ast.UnitConversion(unit, Decimal(str(c[0])), Decimal(str(c[1])),  # type: ignore[arg-type]
                                  rounding, source, span=span)
        return (unit, node, span)

    def minutes_conversion(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return self._unit_conversion("minutes", meta, c)

    def days_conversion(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return self._unit_conversion("days", meta, c)

    # ---- caps, requirements
    def cap_fixed(self, meta: Meta, c: list[Token]) -> tuple[Decimal, str | None]:
        return (Decimal(str(c[0])), None)

    def cap_percent(self, meta: Meta, c: list[Token]) -> tuple[Decimal, str | None]:
        return (Decimal(str(c[0])), str(c[1]))

    def cap_percent_zh(self, meta: Meta, c: list[Token]) -> tuple[Decimal, str | None]:
        """practice 的10%: the requirement comes first in Chinese word order."""
        return self.cap_percent(meta, [c[1], c[0]])

    def cap_hours(self, meta: Meta, c: list[Token]) -> tuple[Decimal, str | None]:
        return (Decimal(str(c[0])), _HOURS)

    def grain_event(self, meta: Meta, c: list[Any]) -> ast.CapGrain:
        return ast.CapGrain("event", None, span=self._span(meta))

    def grain_column(self, meta: Meta, c: list[Token]) -> ast.CapGrain:
        return ast.CapGrain("column", str(c[0]), span=self._span(meta))

    def cap(self, meta: Meta, c: list[Any]) -> ast.Cap:
        name, (amount, percent_of) = str(c[0]), c[1]
        measure = "credits"
        if percent_of == _HOURS:
            measure, percent_of = "hours", None
        per: str | None = None
        of: ast.Cond | None = None
        source: str | None = None
        grains: list[ast.CapGrain] = []
        for item in c[2:]:
            if isinstance(item, str):
                if per is not None:
                    grains.append(ast.CapGrain("period", item, span=self._span(meta)))
                per = per or item
            elif isinstance(item, ast.CapGrain):
                grains.append(item)
            elif isinstance(item, tuple):
                source = item[1]
            else:
                of = item
        return ast.Cap(name, amount, percent_of, per, of, source,  # type: ignore[arg-type]
                       grains=tuple(grains), measure=measure, span=self._span(meta))  # type: ignore[arg-type]

    def measure_credits(self, meta: Meta, c: list[Any]) -> ast.MeasureCredits:
        return ast.MeasureCredits(c[0] if c else None, span=self._span(meta))

    def measure_hours(self, meta: Meta, c: list[Any]) -> ast.MeasureHours:
        return ast.MeasureHours(c[0] if c else None, span=self._span(meta))

    def measure_count(self, meta: Meta, c: list[Any]) -> ast.MeasureCount:
        return ast.MeasureCount(str(c[0]), c[1] if len(c) > 1 else None, span=self._span(meta))

    @staticmethod
    def _when_source(rest: list[Any]) -> tuple[ast.Cond | None, str | None]:
        when: ast.Cond | None = None
        source: str | None = None
        for item in rest:
            if isinstance(item, tuple):
                source = item[1]
            else:
                when = item
        return when, source

    def at_least(self, meta: Meta, c: list[Any]) -> ast.AtLeast:
        when, source = self._when_source(c[2:])
        return ast.AtLeast(Decimal(str(c[0])), c[1], when, source, span=self._span(meta))

    def at_least_per(self, meta: Meta, c: list[Any]) -> ast.AtLeast:
        when, source = self._when_source(c[3:])
        return ast.AtLeast(Decimal(str(c[0])), c[1], when, source, per=c[2], span=self._span(meta))

    def require_qualified(self, meta: Meta, c: list[Any]) -> ast.RequireQualified:
        when, source = self._when_source(c[1:])
        return ast.RequireQualified(_string(c[0]), when, source, span=self._span(meta))

    # ---- issue 9 (E2): carry-forward and dated requirement lines
    def carry_forward(self, meta: Meta, c: list[Any]) -> ast.CarryForward:
        source = c[2][1] if len(c) > 2 else None
        return ast.CarryForward(Decimal(str(c[0])), c[1], source, span=self._span(meta))

    def cap_from(self, meta: Meta, c: list[Any]) -> ast.CapFrom:
        source = c[3][1] if len(c) > 3 else None
        return ast.CapFrom(str(c[0]), c[1], Decimal(str(c[2])), source, span=self._span(meta))

    def date_from(self, meta: Meta, c: list[Token]) -> dt.date:
        return self._date(c[0])

    def at_least_from(self, meta: Meta, c: list[Any]) -> ast.AtLeast:
        return attrs.evolve(self.at_least(meta, c[1:]), since=c[0])

    def require_qualified_from(self, meta: Meta, c: list[Any]) -> ast.RequireQualified:
        return attrs.evolve(self.require_qualified(meta, c[1:]), since=c[0])

    def at_least_best(self, meta: Meta, c: list[Any]) -> ast.AtLeastBest:
        when, source = self._when_source(c[4:])
        return ast.AtLeastBest(Decimal(str(c[0])), c[1], c[2], c[3], when, source, span=self._span(meta))

    def either(self, meta: Meta, c: list[Any]) -> ast.Either:
        names = tuple(str(x) for x in c if isinstance(x, Token))
        when, source = self._when_source([x for x in c if not isinstance(x, Token)])
        return ast.Either(names, when, source, span=self._span(meta))

    def outcome(self, meta: Meta, c: list[Any]) -> ast.Outcome:
        source = c[2][1] if len(c) > 2 else None
        return ast.Outcome(str(c[0]), c[1], source, span=self._span(meta))

    def requirement(self, meta: Meta, c: list[Any]) -> ast.Requirement:
        carries = [x for x in c[1:] if isinstance(x, ast.CarryForward)]
        if len(carries) > 1:
            raise _BuildError(Diagnostic(
                "E300", f"requirement `{c[0]}` carries forward twice", carries[1].span,
                "keep one `carry forward at most …` line"))
        c = [x for x in c if not isinstance(x, ast.CarryForward)]
        lines = tuple(x for x in c[1:] if not isinstance(x, tuple))
        sources = [x for x in c[1:] if isinstance(x, tuple)]
        fields = self._gather(f"requirement `{c[0]}`", sources, {"source"})
        return ast.Requirement(str(c[0]), lines, fields.get("source"), span=self._span(meta),
                               carry=carries[0] if carries else None)

    def waiver(self, meta: Meta, c: list[Any]) -> ast.Waiver:
        source = c[2][1] if len(c) > 2 else None
        return ast.Waiver(c[0], c[1], source, span=self._span(meta))

    def reduction(self, meta: Meta, c: list[Any]) -> ast.Reduction:
        source = c[3][1] if len(c) > 3 else None
        return ast.Reduction(Decimal(str(c[0])), Decimal(str(c[1])), str(c[2]), source, span=self._span(meta))

    def reduction_zh(self, meta: Meta, c: list[Any]) -> ast.Reduction:
        """学分要求按 hired_on 之前每年递减1/5: the attribute comes first in Chinese word order."""
        return self.reduction(meta, [c[1], c[2], c[0], *c[3:]])

    # ---- grades, excellence, penalties, ranks
    def grade_assessment(self, meta: Meta, c: list[Any]) -> ast.GradeFromAssessment:
        source = c[1][1] if len(c) > 1 else None
        return ast.GradeFromAssessment(_string(c[0]), source, span=self._span(meta))

    def threshold(self, meta: Meta, c: list[Token]) -> ast.Threshold:
        return ast.Threshold(str(c[0]), Decimal(str(c[1])), span=self._span(meta))

    def grade_score(self, meta: Meta, c: list[Any]) -> ast.GradeFromScore:
        thresholds = tuple(x for x in c[1:] if isinstance(x, ast.Threshold))
        rest = [x for x in c[1:] if not isinstance(x, ast.Threshold)]
        otherwise = str(rest[0])
        source = rest[1][1] if len(rest) > 1 else None
        return ast.GradeFromScore(_string(c[0]), thresholds, otherwise, source, span=self._span(meta))

    def excellent(self, meta: Meta, c: list[Any]) -> ast.Excellent:
        source = c[1][1] if len(c) > 1 else None
        return ast.Excellent(c[0], source, span=self._span(meta))

    def void_credits(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return ("void_credits", True, self._span(meta))

    def not_excellent(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return ("not_excellent", True, self._span(meta))

    def penalty(self, meta: Meta, c: list[Any]) -> ast.Penalty:
        fields = self._gather(
            f"penalty `{c[0]}`", c[1:], {"source", "on", "where", "void_credits", "not_excellent"}
        )
        return ast.Penalty(str(c[0]), span=self._span(meta), **fields)

    def rank_by(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        return ("program", _string(c[0]), self._span(meta))

    def among(self, meta: Meta, c: list[Any]) -> tuple[str, Any, Span]:
        return ("among", c[0], self._span(meta))

    def top_overall(self, meta: Meta, c: list[Token]) -> ast.Top:
        return ast.Top(int(Decimal(str(c[0]))), "overall", span=self._span(meta))

    def top_per(self, meta: Meta, c: list[Any]) -> ast.Top:
        return ast.Top(int(Decimal(str(c[0]))), "per", str(c[1]), c[2], span=self._span(meta))

    def top_across(self, meta: Meta, c: list[Any]) -> ast.Top:
        return ast.Top(int(Decimal(str(c[0]))), "across", str(c[1]), c[2], span=self._span(meta))

    def rank(self, meta: Meta, c: list[Any]) -> ast.Rank:
        tops = tuple(x for x in c[1:] if isinstance(x, ast.Top))
        fields = self._gather(f"rank `{c[0]}`", [x for x in c[1:] if isinstance(x, tuple)],
                              {"source", "program", "among"})
        return ast.Rank(str(c[0]), tops=tops, span=self._span(meta), **fields)

    # ---- tests and invariants
    def attr_name(self, meta: Meta, c: list[Token]) -> str:
        return str(c[0])

    def attr_at(self, meta: Meta, c: list[Token]) -> str:
        return "at"

    def attr_count(self, meta: Meta, c: list[Token]) -> str:
        return "count"

    def attr_program(self, meta: Meta, c: list[Token]) -> str:
        return "program"

    def attr_grade(self, meta: Meta, c: list[Token]) -> str:
        return "grade"

    def attr_assign(self, meta: Meta, c: list[Any]) -> ast.Assign:
        return ast.Assign(str(c[0]), c[1], span=self._span(meta))

    @staticmethod
    def _id(token: Token) -> str:
        return _string(token) if token.type == "STRING" else str(token)

    def test_as_of(self, meta: Meta, c: list[Token]) -> ast.TestAsOf:
        return ast.TestAsOf(self._date(c[0]), span=self._span(meta))

    def test_teacher(self, meta: Meta, c: list[Any]) -> ast.TestTeacher:
        return ast.TestTeacher(self._id(c[0]), tuple(c[1:]), span=self._span(meta))

    def test_event(self, meta: Meta, c: list[Any]) -> ast.TestEvent:
        return ast.TestEvent(self._id(c[0]), tuple(c[1:]), span=self._span(meta))

    def expect_target(self, meta: Meta, c: list[Token]) -> str:
        return ".".join(str(t) for t in c)

    def expect_target_grade(self, meta: Meta, c: list[Token]) -> str:
        return "grade"

    def id_list(self, meta: Meta, c: list[Token]) -> tuple[str, ...]:
        return tuple(self._id(t) for t in c)

    def expect_field(self, meta: Meta, c: list[Any]) -> ast.ExpectField:
        return ast.ExpectField(str(c[0]), str(c[1]), c[2], span=self._span(meta))  # type: ignore[arg-type]

    def expect_waived(self, meta: Meta, c: list[Token]) -> ast.ExpectRequirement:
        return ast.ExpectRequirement(str(c[0]), "waived", span=self._span(meta))

    def expect_actual(self, meta: Meta, c: list[Any]) -> ast.ExpectActual:
        return ast.ExpectActual(str(c[0]), c[1], span=self._span(meta))

    def expect_rule(self, meta: Meta, c: list[Any]) -> ast.ExpectRule:
        return ast.ExpectRule(str(c[0]), str(c[1]), str(c[2]), c[3], span=self._span(meta))  # type: ignore[arg-type]

    def expect_rule_events(self, meta: Meta, c: list[Any]) -> ast.ExpectRuleEvents:
        return ast.ExpectRuleEvents(str(c[0]), c[1], span=self._span(meta))

    def req_plain(self, meta: Meta, c: list[Token]) -> str:
        return str(c[0])

    def req_year(self, meta: Meta, c: list[Token]) -> str:
        """issue 9 (B): ``yearly/2023``, the ledger name of one year of a requirement per year."""
        return f"{c[0]}/{c[1]}"

    def expect_met(self, meta: Meta, c: list[Token]) -> ast.ExpectRequirement:
        return ast.ExpectRequirement(str(c[0]), "met", span=self._span(meta))

    def expect_not_met(self, meta: Meta, c: list[Token]) -> ast.ExpectRequirement:
        return ast.ExpectRequirement(str(c[0]), "not met", span=self._span(meta))

    def expect_absent(self, meta: Meta, c: list[Token]) -> ast.ExpectRequirement:
        return ast.ExpectRequirement(str(c[0]), "absent", span=self._span(meta))

    def expect_required(self, meta: Meta, c: list[Any]) -> ast.ExpectRequired:
        return ast.ExpectRequired(str(c[0]), c[1], span=self._span(meta))

    def expect_period(self, meta: Meta, c: list[Token]) -> ast.ExpectPeriod:
        return ast.ExpectPeriod(self._date(c[0]), self._date(c[1]), span=self._span(meta))

    def expect_outcome(self, meta: Meta, c: list[Token]) -> ast.ExpectOutcome:
        return ast.ExpectOutcome(str(c[0]), True, span=self._span(meta))

    def expect_not_outcome(self, meta: Meta, c: list[Token]) -> ast.ExpectOutcome:
        return ast.ExpectOutcome(str(c[0]), False, span=self._span(meta))

    def test_expect(self, meta: Meta, c: list[Any]) -> ast.Expect:
        return ast.Expect(self._id(c[0]), tuple(c[1:]), span=self._span(meta))

    def test(self, meta: Meta, c: list[Any]) -> ast.Test:
        return ast.Test(_string(c[0]), tuple(c[1:]), span=self._span(meta))

    def invariant(self, meta: Meta, c: list[Any]) -> ast.Invariant:
        source = c[2][1] if len(c) > 2 else None
        return ast.Invariant(str(c[0]), c[1], source, span=self._span(meta))

    # ---- issue 9 (C): typed columns and vocabularies
    def type_number(self, meta: Meta, c: list[Any]) -> str:
        return "number"

    def type_decimal(self, meta: Meta, c: list[Any]) -> str:
        return "decimal"

    def type_date(self, meta: Meta, c: list[Any]) -> str:
        return "date"

    def type_text(self, meta: Meta, c: list[Any]) -> str:
        return "text"

    def type_list(self, meta: Meta, c: list[Any]) -> str:
        return "list"

    def column_event(self, meta: Meta, c: list[Any]) -> ast.ColumnDecl:
        return ast.ColumnDecl(str(c[0]), c[1], teacher=False, span=self._span(meta))

    def column_teacher(self, meta: Meta, c: list[Any]) -> ast.ColumnDecl:
        return ast.ColumnDecl(str(c[0]), c[1], teacher=True, span=self._span(meta))

    def columns(self, meta: Meta, c: list[Any]) -> ast.Columns:
        decls = tuple(x for x in c if isinstance(x, ast.ColumnDecl))
        source = next((x[1] for x in c if isinstance(x, tuple)), None)
        return ast.Columns(decls, source, span=self._span(meta))

    def vocab_named(self, meta: Meta, c: list[Token]) -> str:
        """``roles``/``role`` … as the plural every spelling prints back as; another word as written."""
        return _VOCABULARY_PLURALS.get(str(c[0]), str(c[0]))

    def vocab_roles(self, meta: Meta, c: list[Any]) -> str:
        return "roles"

    def vocab_categories(self, meta: Meta, c: list[Any]) -> str:
        return "categories"

    def vocab_levels(self, meta: Meta, c: list[Any]) -> str:
        return "levels"

    def vocab_formats(self, meta: Meta, c: list[Any]) -> str:
        return "formats"

    def vocab_titles(self, meta: Meta, c: list[Any]) -> str:
        return "titles"

    def vocab_kinds(self, meta: Meta, c: list[Any]) -> str:
        return "kinds"

    def vocabulary(self, meta: Meta, c: list[Any]) -> ast.Vocabulary:
        source = c[2][1] if len(c) > 2 else None
        return ast.Vocabulary(c[0], c[1], source, span=self._span(meta))

    def operand_name(self, meta: Meta, c: list[Token]) -> str:
        return str(c[0])

    def operand_number(self, meta: Meta, c: list[Token]) -> Decimal:
        return Decimal(str(c[0]))

    def op_plus(self, meta: Meta, c: list[Any]) -> str:
        return "+"

    def op_minus(self, meta: Meta, c: list[Any]) -> str:
        return "-"

    def op_times(self, meta: Meta, c: list[Any]) -> str:
        return "*"

    def op_divide(self, meta: Meta, c: list[Any]) -> str:
        return "/"

    def arith(self, meta: Meta, c: list[Any]) -> ast.Arith:
        return ast.Arith(tuple(c[0::2]), tuple(c[1::2]), span=self._span(meta))

    def arith_compare(self, meta: Meta, c: list[Any]) -> ast.ArithCompare:
        return ast.ArithCompare(c[0], str(c[1]), c[2], span=self._span(meta))  # type: ignore[arg-type]

    def has_value(self, meta: Meta, c: list[Any]) -> ast.Has:
        return ast.Has(c[0], c[1], span=self._span(meta))

    def start(self, meta: Meta, c: list[Any]) -> ast.Policy:
        return ast.Policy(c[0], tuple(c[1:]), span=self._span(meta))

    def __default__(self, data: str, children: list[Any], meta: Meta) -> Any:  # pragma: no cover
        return Tree(data, children, meta)
