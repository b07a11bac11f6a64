"""Conditions compiled to Polars boolean expressions, with the meaning of
:mod:`credit_rules.core.scalars`: ``!=`` and ``not in`` are negations, and every other
atom is false on a missing (or unreadable) value.

Every compiled expression is non-null. Comparisons that have no exact native form
(a text attribute compared with a number, for instance) are evaluated by calling the
reference :func:`~credit_rules.core.scalars.compare` once per *distinct* value of the
column, so they are exact by construction and cost one Python call per distinct value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Literal, TypeAlias

import attrs
import polars as pl

from credit_rules import ir
from credit_rules.core.scalars import compare, member
from credit_rules.values import PeriodKind

FieldKind: TypeAlias = Literal["text", "date", "bool", "missing", "list"] | int  # int: scaled integer 10^n


class Unsupported(Exception):
    """A construct the bulk engine cannot compile exactly (the plan falls back)."""


@attrs.frozen
class Field:
    expr: pl.Expr
    kind: FieldKind


def _apply(op: str, left: pl.Expr, right: pl.Expr) -> pl.Expr:
    match op:
        case "=":
            return left == right
        case "!=":
            return left != right
        case "<":
            return left < right
        case "<=":
            return left <= right
        case ">":
            return left > right
        case ">=":
            return left >= right
    raise AssertionError(op)  # pragma: no cover


def _scaled_compare(expr: pl.Expr, digits: int, op: str, value: Decimal) -> pl.Expr:
    """``expr / 10^digits  op  value`` exactly, for an integer column."""
    x = Fraction(value) * 10**digits
    if x.denominator == 1:
        return _apply(op, expr, pl.lit(int(x), pl.Int64))
    lo, hi = math.floor(x), math.ceil(x)
    match op:
        case "=":
            return pl.lit(False)
        case "!=":
            return pl.lit(True)
        case "<" | "<=":
            return expr <= pl.lit(lo, pl.Int64)
        case ">" | ">=":
            return expr >= pl.lit(hi, pl.Int64)
    raise AssertionError(op)  # pragma: no cover


def _by_distinct(expr: pl.Expr, test: Callable[[object], bool]) -> pl.Expr:
    """Apply the reference Python predicate once per distinct (non-null) value; a
    missing value makes the atom false."""

    def fn(series: pl.Series) -> pl.Series:
        distinct = series.drop_nulls().unique()
        results = pl.Series([test(v) for v in distinct.to_list()], dtype=pl.Boolean)
        out = series.replace_strict(distinct, results, default=None, return_dtype=pl.Boolean)
        return out.fill_null(False)

    return expr.map_batches(fn, return_dtype=pl.Boolean, is_elementwise=True)


def compile_compare(field: Field, op: str, value: ir.Scalar) -> pl.Expr:
    """One comparison atom: false on a missing or unreadable value (core.scalars), so
    ``!=`` is the negation of ``=``."""
    if op == "!=":
        return ~compile_compare(field, "=", value)
    expr, kind = field.expr, field.kind
    if kind == "missing":
        return pl.lit(False)
    native: pl.Expr
    if isinstance(value, bool):
        if kind == "bool":
            native = _apply(op, expr.cast(pl.Int8), pl.lit(int(value), pl.Int8))
        elif isinstance(kind, int):
            native = _apply(op, (expr != 0).cast(pl.Int8), pl.lit(int(value), pl.Int8))
        elif kind == "text":
            native = _apply(op, (expr.str.len_bytes() > 0).cast(pl.Int8), pl.lit(int(value), pl.Int8))
        else:
            raise Unsupported(f"comparing a {kind} with a boolean")
    elif isinstance(value, Decimal):
        if isinstance(kind, int):
            native = _scaled_compare(expr, kind, op, value)
        elif kind == "bool":
            native = _scaled_compare(expr.cast(pl.Int64), 0, op, value)
        elif kind == "text":
            return _by_distinct(expr, lambda v: compare(v, op, value))
        else:
            return pl.lit(False)  # a date never reads as a number: missing
    elif isinstance(value, dt.date):
        if kind == "date":
            native = _apply(op, expr, pl.lit(value, pl.Date))
        elif kind == "text":
            return _by_distinct(expr, lambda v: compare(v, op, value))
        else:
            return pl.lit(False)  # numbers and booleans never read as dates
    else:
        if kind == "text":
            native = _apply(op, expr, pl.lit(value, pl.String))
        elif kind == "date":
            native = _apply(op, expr.dt.strftime("%Y-%m-%d"), pl.lit(value, pl.String))
        else:
            raise Unsupported(f"comparing a {kind} field with text")
    return pl.when(expr.is_null()).then(pl.lit(False)).otherwise(native.fill_null(False))


def compile_member(field: Field, values: frozenset[ir.Scalar], negated: bool) -> pl.Expr:
    """One ``in`` atom, false on a missing value; ``not in`` is its negation."""
    if negated:
        return ~compile_member(field, values, False)
    expr, kind = field.expr, field.kind
    if kind == "missing" or not values:
        return pl.lit(False)
    found: pl.Expr | None = None
    if kind == "text" and all(isinstance(v, str) for v in values):
        found = expr.is_in(sorted(str(v) for v in values))
    elif isinstance(kind, int) and all(
        isinstance(v, Decimal) and not isinstance(v, bool) for v in values
    ):
        ints = []
        for v in values:
            x = Fraction(v) * 10**kind  # type: ignore[arg-type]
            if x.denominator == 1:
                ints.append(int(x))
        found = expr.is_in(sorted(ints)) if ints else pl.lit(False)
    elif kind == "date" and all(isinstance(v, dt.date) for v in values):
        found = expr.is_in(sorted(values), nulls_equal=False)  # type: ignore[type-var,unused-ignore]
    elif kind == "text":
        return _by_distinct(expr, lambda v: member(v, values))
    else:
        raise Unsupported(f"membership of a {kind} field")
    return pl.when(expr.is_null()).then(pl.lit(False)).otherwise(found.fill_null(False))


# --------------------------------------------------------------------------- issue 9 (C)
_MICRO_DIGITS = 6


def _linear_operand(field: Field, dates: bool) -> pl.Expr | None:
    """A column as Int128 micro-units (day numbers for ``dates``); None: always missing."""
    kind = field.kind
    if dates:
        return field.expr.cast(pl.Int32).cast(pl.Int128) if kind == "date" else None
    if isinstance(kind, int) and not isinstance(kind, bool) and kind <= _MICRO_DIGITS:
        return field.expr.cast(pl.Int128) * pl.lit(10 ** (_MICRO_DIGITS - kind), pl.Int128)
    return None


def compile_linear(fields: list[Field], terms: tuple[tuple[str, int], ...], constant: int, op: str,
                   dates: bool) -> pl.Expr:
    """``sum(k * column) + constant OP 0`` exactly in Int128 (:class:`credit_rules.ir.Linear`);
    false when an operand is missing."""
    total: pl.Expr = pl.lit(constant, pl.Int128)
    present: pl.Expr = pl.lit(True)
    for field, (_, k) in zip(fields, terms, strict=True):
        operand = _linear_operand(field, dates)
        if operand is None:
            return pl.lit(False)
        total = total + operand * pl.lit(k, pl.Int128)
        present = present & operand.is_not_null()
    return pl.when(present).then(_apply(op, total, pl.lit(0, pl.Int128))).otherwise(pl.lit(False))


def compile_has(field: Field, value: str) -> pl.Expr:
    """``tags has mentor`` on a `list of text` column (text split at ``;``, items trimmed)."""
    if field.kind != "list":
        return pl.lit(False)
    items = field.expr.str.split(";").list.eval(pl.element().str.strip_chars())
    return items.list.contains(pl.lit(value, pl.String)).fill_null(False)


@attrs.define
class CondCompiler:
    """Compiles conditions over one frame: ``fields`` maps names to columns.

    ``roles``: the teacher's role list column (teacher conditions); ``qualified``,
    ``has_kind``, ``ranked``: how a derived fact is found in the frame; ``day``: the
    event's date (date bounds). A name not in ``fields`` is a missing value.
    """

    fields: Mapping[str, Field]
    roles: pl.Expr | None = None
    qualified: Callable[[str], pl.Expr] | None = None
    has_kind: Callable[[str], pl.Expr] | None = None
    ranked: Callable[[str | None], pl.Expr] | None = None
    day: pl.Expr | None = None
    requirement_met: Callable[[str], pl.Expr] | None = None

    def field(self, name: str) -> Field:
        found = self.fields.get(name)
        if found is not None:
            return found
        return Field(pl.lit(None), "missing")

    def __call__(self, cond: ir.Cond | None) -> pl.Expr:
        if cond is None:
            return pl.lit(True)
        match cond:
            case ir.And(items):
                out: pl.Expr = pl.lit(True)
                for item in items:
                    out = out & self(item)
                return out
            case ir.Or(items):
                out = pl.lit(False)
                for item in items:
                    out = out | self(item)
                return out
            case ir.Not(item):
                return ~self(item)
            case ir.Compare(name, _, op, value):
                return compile_compare(self.field(name), op, value)
            case ir.Member(name, _, values, negated):
                return compile_member(self.field(name), values, negated)
            case ir.DateBound(op, date):
                if self.day is None:
                    raise Unsupported("a date bound outside an event filter")
                return (self.day <= date) if op == "<=" else (self.day >= date)
            case ir.HasRole(role):
                if self.roles is None:
                    raise Unsupported("`role` in an event filter")
                return self.roles.list.contains(pl.lit(role, pl.String)).fill_null(False)
            case ir.Qualified(program):
                if self.qualified is None:
                    raise Unsupported("`qualified` in an event filter")
                return self.qualified(program)
            case ir.EventsExist(kind, exists):
                if self.has_kind is None:
                    raise Unsupported("`any KIND` in an event filter")
                has = self.has_kind(kind)
                return has if exists else ~has
            case ir.Ranked(rank):
                if self.ranked is None:
                    raise Unsupported("`ranked` outside `excellent`")
                return self.ranked(rank)
            case ir.Linear(terms, _, constant, op, dates):
                return compile_linear([self.field(name) for name, _ in terms], terms, constant, op, dates)
            case ir.Has(name, _, value):
                return compile_has(self.field(name), value)
            case ir.RequirementMet(name):
                if self.requirement_met is None:
                    raise Unsupported("`requirement … met` outside outcome conditions")
                return self.requirement_met(name)
            case ir.DateWindow(attribute, anchor, months, days, periods):
                found = self.fields.get(teacher_date_field(attribute))
                if self.day is None or found is None:
                    raise Unsupported("a period relative to a teacher's date outside an event filter")
                start, end = relative_window_exprs(found.expr, anchor, months, days, periods)
                return ((self.day >= start) & (self.day <= end)).fill_null(False)
        raise Unsupported(f"condition {cond!r}")


# ------------------------------------------------------------------ issue 9 (D)
def teacher_date_field(attribute: str) -> str:
    """The name under which an event filter reads its teacher's roster date ``attribute``
    (a column ``__t_<attribute>`` the load stage joins to the events)."""
    return f"teacher.{attribute}"


def relative_window_exprs(date: pl.Expr, anchor: PeriodKind | None, months: int, days: int,
                          periods: int) -> tuple[pl.Expr, pl.Expr]:
    """The inclusive bounds of :func:`credit_rules.values.relative_window` for a date
    column, natively (null where the date is null; beyond year 9999 Polars dates simply
    go on, and no event day reaches them)."""
    if anchor is None:
        after = date.dt.offset_by(f"{months}mo") if months else date
        if days:
            after = after + pl.duration(days=days)
        return date, after - pl.duration(days=1)
    starts = (9,) if anchor is PeriodKind.SCHOOL_YEAR else (2, 9)
    n = len(starts)
    month, day = date.dt.month().cast(pl.Int64), date.dt.day().cast(pl.Int64)
    later: pl.Expr = pl.lit(0, pl.Int64)
    for start in starts:  # the starts of the date's year it comes after
        later = later + ((month > start) | ((month == start) & (day > 1))).cast(pl.Int64)
    index = date.dt.year().cast(pl.Int64) * n + later

    def start_of(ix: pl.Expr) -> pl.Expr:
        position = ix % n
        start_month: pl.Expr = pl.lit(starts[0], pl.Int64)
        for i, m in enumerate(starts[1:], 1):
            start_month = pl.when(position == i).then(pl.lit(m, pl.Int64)).otherwise(start_month)
        return pl.date(ix // n, start_month, 1)

    return start_of(index), start_of(index + periods) - pl.duration(days=1)
