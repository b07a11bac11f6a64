"""Lark parse tree → :mod:`credit_rules.syntax.ast`: the transformer that builds the AST.

:class:`Builder` builds nodes bottom-up and gathers order-free clauses into their item:
values, conditions, the header, rules, requirements, waivers and reductions, grades,
penalties, ranks, invariants and the ``test`` blocks. The issue-9 constructs are a mixin
of it, :mod:`credit_rules.syntax.transform_constructs`. Running the parse and turning
errors into diagnostics is :mod:`credit_rules.syntax.parser`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from lark import Token, Transformer, Tree, v_args
from lark.exceptions import GrammarError, VisitError
from lark.tree import Meta

from credit_rules.errors import Diagnostic
from credit_rules.span import Span
from credit_rules.syntax import ast
from credit_rules.syntax.spans import token_span
from credit_rules.syntax.transform_constructs import ConstructsMixin

_UNSET = object()


class BuildError(Exception):
    """A diagnostic that stops the build; :func:`credit_rules.syntax.parser.parse` reports it."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _string(token: Token) -> str:
    body = str(token)[1:-1]
    return body.replace('\\"', '"').replace("\\\\", "\\")


@v_args(meta=True)
class Builder(ConstructsMixin, Transformer[Token, Any]):
    """Builds AST nodes bottom-up; order-free clauses are gathered into their item."""

    def __init__(self, file: str):
        super().__init__()
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self._callbacks: dict[str, Any] = {}

    # ---- dispatch: Lark's Transformer._call_userfunc(_token), with the method looked up
    # once per name instead of once per node (each lookup of a v_args method builds a new
    # wrapper: a third of the AST build of a big policy)
    def _callback(self, name: str) -> Any:
        found = self._callbacks.get(name, _UNSET)
        if found is _UNSET:
            method = getattr(self, name, None)
            found = self._callbacks[name] = (
                None if method is None else (method, getattr(method, "visit_wrapper", None)))
        return found

    def _call_userfunc(self, tree: Tree[Token], new_children: list[Any] | None = None) -> Any:
        children = new_children if new_children is not None else tree.children
        found = self._callback(tree.data)
        if found is None:
            return self.__default__(tree.data, children, tree.meta)
        method, wrapper = found
        try:
            return method(children) if wrapper is None else wrapper(method, tree.data, children, tree.meta)
        except GrammarError:
            raise
        except Exception as exc:
            raise VisitError(tree.data, tree, exc) from exc  # type: ignore[no-untyped-call]

    def _call_userfunc_token(self, token: Token) -> Any:
        found = self._callback(token.type)
        if found is None:
            return self.__default_token__(token)  # type: ignore[no-untyped-call]
        try:
            return found[0](token)
        except GrammarError:
            raise
        except Exception as exc:
            raise VisitError(token.type, token, exc) from exc  # type: ignore[no-untyped-call]

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
            raise BuildError(Diagnostic(
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

    # ---- layers (issue 9 F): ``extends`` is a header clause; replace/drop are in transform_constructs
    def extends_name(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("extends", ast.Extends(str(c[0]), span=span), span)

    def extends_path(self, meta: Meta, c: list[Token]) -> tuple[str, Any, Span]:
        span = self._span(meta)
        return ("extends", ast.Extends(_string(c[0]), is_path=True, span=span), span)

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

    # ---- requirements (caps are in transform_constructs)
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

    def requirement(self, meta: Meta, c: list[Any]) -> ast.Requirement:
        carries = [x for x in c[1:] if isinstance(x, ast.CarryForward)]
        if len(carries) > 1:
            raise BuildError(Diagnostic(
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

    def start(self, meta: Meta, c: list[Any]) -> ast.Policy:
        return ast.Policy(c[0], tuple(c[1:]), span=self._span(meta))

    def __default__(self, data: str, children: list[Any], meta: Meta) -> Any:  # pragma: no cover
        return Tree(data, children, meta)
