"""Lark parse tree → AST for the issue-9 constructs: a mixin of the transformer.

The methods :class:`credit_rules.syntax.transform.Builder` inherits for (A) a rule's own
rate, rounding and units other than hours; (B) caps and their grains; (C) typed columns,
vocabularies and the arithmetic over columns; (D) periods relative to the teacher and
the ``count only`` evidence states; (E) best-of groups, choices (``either``), outcomes,
carry-forward and dated lines (``from DATE``); (F) layers' ``replace``/``drop`` items.
Values, conditions, the header and the other items are the builder's; this module only
turns these constructs' productions into their nodes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
from lark import Token, Transformer, v_args
from lark.tree import Meta

from credit_rules.span import Span
from credit_rules.syntax import ast

#: The marker ``cap_hours`` hands to ``cap`` in place of a percentage's requirement.
_HOURS = "\x00hours"

#: issue 9 (C): the vocabulary words, singular or plural, as their plural.
_VOCABULARY_PLURALS = {
    word: plural for plural in ("roles", "titles", "kinds", "categories", "levels", "formats")
    for word in (plural, plural[:-3] + "y" if plural == "categories" else plural[:-1])
}


# A Transformer with its own ``v_args``, not a plain mixin: Lark's class-level ``v_args``
# wraps only the methods defined on the decorated class itself, so methods inherited from
# a plain mixin would be called without ``meta``.
@v_args(meta=True)
class ConstructsMixin(Transformer[Token, Any]):
    if TYPE_CHECKING:
        # provided by the builder (:class:`credit_rules.syntax.transform.Builder`)
        def _span(self, meta: Meta) -> Span: ...
        def _date(self, token: Token) -> dt.date: ...
        @staticmethod
        def _when_source(rest: list[Any]) -> tuple[ast.Cond | None, str | None]: ...
        def at_least(self, meta: Meta, c: list[Any]) -> ast.AtLeast: ...
        def require_qualified(self, meta: Meta, c: list[Any]) -> ast.RequireQualified: ...
        def requirement(self, meta: Meta, c: list[Any]) -> ast.Requirement: ...

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

    # ---- issue 9 (F): layers — replacing and dropping an inherited item
    # (``extends`` is a header clause, so the builder builds it with the header)
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

    # ---- issue 9 (B): caps, with their grains (`per event`, per column, per period)
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

    # ---- issue 9 (E): best-of groups, choices (``either``) and outcomes
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
