"""Surface ASTs for the formatter's properties: ``parse(print_policy(tree)) == tree``.

One strategy per node kind. Each is built once and reused (:func:`functools.cache`):
Hypothesis strategies are immutable, and rebuilding a recursive one for every example
costs more than drawing from it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from credit_rules.syntax import ast as syntax
from credit_rules.syntax.parser import grammar_text

#: Every English keyword of the grammar: a generated name never is one.
KEYWORD_WORDS = frozenset(re.findall(r'"([A-Za-z_][A-Za-z_]*)"', grammar_text()))
_SAFE_NAMES = ("training", "ethics", "municipal", "senior", "hired_on", "words", "title", "total", "practice",
               "reflection", "workshop", "chinese", "x", "t1", "remote_credit", "leave_days", "region")


@functools.cache
def names() -> st.SearchStrategy[str]:
    """Identifiers that are never a keyword (``category``, ``at`` … are left out)."""
    generated = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(lambda n: n not in KEYWORD_WORDS)
    return st.one_of(st.sampled_from(_SAFE_NAMES), generated)


@functools.cache
def texts() -> st.SearchStrategy[str]:
    """Quoted text: Chinese, quotes, backslashes and `#` included; no line breaks."""
    return st.text(st.one_of(st.sampled_from('"\\#:,()（）：，、学分至少每 '),
                             st.characters(blacklist_categories=("Cs", "Cc"))), max_size=12)


@functools.cache
def amounts(places: int = 2) -> st.SearchStrategy[Decimal]:
    """Non-negative exact decimals, as written in a policy (``7.2``, ``36``, ``0.05``)."""
    return st.builds(lambda n, k: Decimal(n).scaleb(-k), st.integers(0, 100_000), st.integers(0, places))


@functools.cache
def _dates() -> st.SearchStrategy[dt.date]:
    return st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31))


@functools.cache
def values() -> st.SearchStrategy[syntax.Value]:
    return st.one_of(
        st.builds(syntax.Word, names()), st.builds(syntax.Text, texts()), st.builds(syntax.Number, amounts()),
        st.builds(syntax.DateValue, _dates()), st.builds(syntax.Bool, st.booleans()),
    )


@functools.cache
def _field() -> st.SearchStrategy[str]:
    return st.one_of(names(), st.sampled_from(("category", "level", "format")))


_OPS: tuple[syntax.CompareOp, ...] = ("=", "!=", "<", "<=", ">", ">=")


@functools.cache
def atoms() -> st.SearchStrategy[syntax.Cond]:
    return st.one_of(
        st.builds(syntax.Compare, _field(), st.sampled_from(_OPS), values()),
        st.builds(syntax.Member, _field(), st.lists(values(), min_size=1, max_size=3).map(tuple), st.booleans()),
        st.builds(syntax.HasRole, names()),
        st.builds(syntax.DateBound, st.sampled_from(("<=", ">=")), _dates()),
        st.builds(syntax.Qualified, texts()),
        st.builds(syntax.EventsExist, names(), st.booleans()),
        st.builds(syntax.Ranked, st.one_of(st.none(), names())),
        st.builds(syntax.RequirementMet, names()),
        st.builds(syntax.Relative, names(), st.integers(1, 40).map(Decimal),  # issue 9 (D)
                  st.sampled_from(("years", "months", "days", "school year", "semester"))),
        *_typed_atoms(),  # issue 9 (C)
    )


# ------------------------------------------------------------------ issue 9 (C)
_VOCABULARY_WORDS = frozenset({"roles", "role", "titles", "title", "kinds", "kind", "categories", "category",
                               "levels", "level", "formats", "format"})


@functools.cache
def _arith() -> st.SearchStrategy[syntax.Arith]:
    operand: st.SearchStrategy[str | Decimal] = st.one_of(names(), amounts())
    return st.integers(1, 3).flatmap(lambda n: st.builds(
        lambda xs, ops: syntax.Arith(tuple(xs), tuple(ops)),
        st.lists(operand, min_size=n + 1, max_size=n + 1),
        st.lists(st.sampled_from(("+", "-", "*", "/")), min_size=n, max_size=n)))


def _typed_atoms() -> tuple[st.SearchStrategy[syntax.Cond], ...]:
    """Arithmetic comparisons (one side at least is arithmetic, as the grammar has it) and `has`."""
    ops = st.sampled_from(_OPS)
    return (
        st.builds(syntax.ArithCompare, st.one_of(_field(), _arith()), ops, _arith()),
        st.builds(syntax.ArithCompare, _arith(), ops, values()),
        st.builds(syntax.Has, _field(), values()),
    )


def _typed_statements() -> tuple[st.SearchStrategy[syntax.Item], ...]:
    """`columns` and `vocabulary` statements."""
    decl = st.builds(syntax.ColumnDecl, names(), st.sampled_from(("number", "decimal", "date", "text", "list")),
                     st.booleans())
    field = st.one_of(st.sampled_from(("roles", "titles", "kinds", "categories", "levels", "formats")),
                      names().filter(lambda n: n not in _VOCABULARY_WORDS))
    return (
        st.builds(syntax.Columns, st.lists(decl, min_size=1, max_size=8).map(tuple), _opt(texts())),
        st.builds(syntax.Vocabulary, field, st.lists(names(), min_size=1, max_size=4).map(tuple), _opt(texts())),
    )


def _junction(kind: type[syntax.And] | type[syntax.Or], inner: st.SearchStrategy[syntax.Cond]) -> Any:
    # the parser flattens `a and (b and c)`: a conjunction never holds a conjunction directly
    items = st.lists(inner.filter(lambda c: not isinstance(c, kind)), min_size=2, max_size=3)
    return items.map(lambda xs: kind(tuple(xs)))


@functools.cache
def conditions() -> st.SearchStrategy[syntax.Cond]:
    """Conditions as the parser builds them: ``and``/``or`` with two or more items, flattened."""
    return st.recursive(
        atoms(),
        lambda inner: st.one_of(_junction(syntax.And, inner), _junction(syntax.Or, inner),
                                st.builds(syntax.Not, inner)),
        max_leaves=6,
    )


def _opt(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


_UNITS = st.sampled_from(("credits", "hours"))
_PERIODS = st.sampled_from(("school year", "semester", "year", "day"))  # year, day: issue 9 (B)


@functools.cache
def awards() -> st.SearchStrategy[syntax.Award]:
    return st.one_of(
        st.builds(syntax.CountHours), st.builds(syntax.CountCredits), st.builds(syntax.Leave),
        st.builds(syntax.Fixed, amounts(), _UNITS), st.builds(syntax.IfQualified, amounts(), _UNITS),
        st.builds(syntax.Block, amounts(), amounts(), st.booleans()),
    )


@functools.cache
def _rules() -> st.SearchStrategy[syntax.Rule]:
    return st.builds(
        syntax.Rule, names(), awards(), source=_opt(texts()),
        on=_opt(st.builds(syntax.OnKind, names(), st.booleans())), program=_opt(texts()),
        where=_opt(conditions()), when=_opt(conditions()), as_level=_opt(names()), as_category=_opt(names()),
        without_category=st.booleans(), exception_to=_opt(names()),
        rate=_opt(st.builds(syntax.RuleRate, amounts(), amounts())),  # issue 9 (A)
        rounding=_opt(st.builds(syntax.Rounding, _ROUND_MODES, amounts(), st.booleans())),
    )


@functools.cache
def _caps() -> st.SearchStrategy[syntax.Cap]:
    # issue 9 (B): `per event` or `per COLUMN`, and caps on hours (never a percentage's)
    grains = st.lists(st.one_of(st.just(syntax.CapGrain("event", None)),
                                st.builds(syntax.CapGrain, st.just("column"), names())), max_size=1).map(tuple)
    return st.builds(syntax.Cap, names(), amounts(), _opt(names()), _opt(_PERIODS), _opt(conditions()),
                     _opt(texts()), grains=grains, measure=_UNITS).map(
        lambda c: attrs.evolve(c, measure="credits") if c.percent_of is not None else c)


@functools.cache
def _requirement_lines() -> st.SearchStrategy[syntax.RequirementLine]:
    measures = st.one_of(
        st.builds(syntax.MeasureCredits, _opt(conditions())), st.builds(syntax.MeasureHours, _opt(conditions())),
        st.builds(syntax.MeasureCount, names(), _opt(conditions())),
    )
    return st.one_of(
        st.builds(syntax.AtLeast, amounts(), measures, _opt(conditions()), _opt(texts()),
                  per=_opt(st.just("year")), since=_opt(_dates()))  # per: issue 9 (B); since: E2
        .filter(lambda line: line.per is None or line.since is None),  # a dated line is not `per year`
        st.builds(syntax.RequireQualified, texts(), _opt(conditions()), _opt(texts()), since=_opt(_dates())),
        st.builds(syntax.AtLeastBest, amounts(), measures, _field(),
                  st.lists(values(), min_size=1, max_size=3).map(tuple), _opt(conditions()), _opt(texts())),
        st.builds(syntax.Either, st.lists(names(), min_size=2, max_size=3).map(tuple), _opt(conditions()),
                  _opt(texts())),
    )


@functools.cache
def _carry() -> st.SearchStrategy[syntax.CarryForward | None]:
    """``carry forward at most N UNIT`` (issue 9, E2), or none."""
    return _opt(st.builds(syntax.CarryForward, amounts(), st.sampled_from(("credits", "hours")), _opt(texts())))


@functools.cache
def _tops() -> st.SearchStrategy[syntax.Top]:
    listed = st.lists(values(), min_size=1, max_size=3).map(tuple)
    return st.one_of(
        st.builds(syntax.Top, st.integers(0, 50), st.just("overall")),
        st.builds(syntax.Top, st.integers(0, 50), st.sampled_from(("per", "across")), names(), listed),
    )


@functools.cache
def _ids() -> st.SearchStrategy[str]:
    return st.one_of(names(), texts())


@functools.cache
def _assigns() -> st.SearchStrategy[tuple[syntax.Assign, ...]]:
    attr = st.one_of(names(), st.sampled_from(("at", "count", "program", "grade")))
    return st.lists(st.builds(syntax.Assign, attr, values()), max_size=3).map(tuple)


@functools.cache
def _expectations() -> st.SearchStrategy[syntax.Expectation]:
    target = st.one_of(names(), st.builds(lambda a, b: f"{a}.{b}", names(), names()))
    return st.one_of(
        st.builds(syntax.ExpectField, target, st.sampled_from(_OPS), values()),
        st.builds(syntax.ExpectRequirement, names(), st.sampled_from(("met", "not met", "absent", "waived"))),
        st.builds(syntax.ExpectRequired, names(), values()),
        st.builds(syntax.ExpectActual, names(), values()),
        st.builds(syntax.ExpectPeriod, _dates(), _dates()),
        st.builds(syntax.ExpectRule, names(), names(), st.sampled_from(_OPS), values()),
        st.builds(syntax.ExpectRuleEvents, names(), st.lists(_ids(), min_size=1, max_size=3).map(tuple)),
        st.builds(syntax.ExpectOutcome, names(), st.booleans()),
    )


@functools.cache
def _tests() -> st.SearchStrategy[syntax.Test]:
    clause = st.one_of(
        st.builds(syntax.TestAsOf, _dates()),
        st.builds(syntax.TestTeacher, _ids(), _assigns()),
        st.builds(syntax.TestEvent, _ids(), _assigns()),
        st.builds(syntax.Expect, _ids(), st.lists(_expectations(), min_size=1, max_size=4).map(tuple)),
    )
    return st.builds(syntax.Test, texts(), st.lists(clause, max_size=4).map(tuple))


@functools.cache
def statements() -> st.SearchStrategy[syntax.Item]:
    """One statement of each kind the language has: rule, cap, require, …, test, invariant."""
    return st.one_of(
        _rules(), _caps(),
        st.builds(syntax.Requirement, names(), st.lists(_requirement_lines(), min_size=1, max_size=3).map(tuple),
                  _opt(texts()), carry=_carry()),
        st.builds(syntax.Waiver, st.lists(names(), min_size=1, max_size=3).map(tuple), conditions(), _opt(texts())),
        st.builds(syntax.CapFrom, names(), _dates(), amounts(), _opt(texts())),  # issue 9 (E2)
        st.builds(syntax.Reduction, amounts(), amounts(), names(), _opt(texts())),
        st.builds(syntax.GradeFromAssessment, texts(), _opt(texts())),
        st.builds(syntax.GradeFromScore, texts(),
                  st.lists(st.builds(syntax.Threshold, names(), amounts()), min_size=1, max_size=3).map(tuple),
                  names(), _opt(texts())),
        st.builds(syntax.Excellent, conditions(), _opt(texts())),
        st.builds(syntax.Penalty, names(), _opt(texts()), _opt(st.builds(syntax.OnKind, names(), st.booleans())),
                  _opt(conditions()), st.booleans(), st.booleans()),
        st.builds(syntax.Rank, names(), _opt(texts()), _opt(conditions()), st.lists(_tops(), max_size=3).map(tuple),
                  _opt(texts())),
        _tests(),
        st.builds(syntax.Invariant, names(), conditions(), _opt(texts())),
        *_typed_statements(),  # issue 9 (C)
        st.builds(syntax.Outcome, names(), conditions(), _opt(texts())),
        _layer_items(),
    )


@functools.cache
def _layer_items() -> st.SearchStrategy[syntax.Item]:
    """``replace rule|cap|requirement NAME: …`` and ``drop rule|cap|requirement NAME`` (issue 9 F)."""
    requirement = st.builds(syntax.Requirement, names(),
                            st.lists(_requirement_lines(), min_size=1, max_size=2).map(tuple), _opt(texts()))
    return st.one_of(
        st.builds(syntax.Replace, st.one_of(_rules(), _caps(), requirement)),
        st.builds(syntax.Drop, st.sampled_from(("rule", "cap", "requirement")), names(), _opt(texts())),
    )


@functools.cache
def _headers() -> st.SearchStrategy[syntax.Header]:
    windows = st.builds(lambda a, b, k: syntax.Window(min(a, b), max(a, b), k), _dates(), _dates(),
                        st.sampled_from(("window", "cycle")))
    return st.builds(
        syntax.Header, names(), _opt(texts()), _opt(texts()), _opt(texts()), _opt(windows),
        _opt(st.sampled_from(("school year", "semester", "window"))),
        _opt(st.builds(syntax.Conversion, amounts(), amounts(), _opt(texts()))),
        minutes=_opt(_unit_conversions("minutes")), days=_opt(_unit_conversions("days")),  # issue 9 (A)
        extends=_opt(st.one_of(st.builds(syntax.Extends, names()),
                               st.builds(syntax.Extends, texts(), st.just(True)))),
        count_only=_opt(st.one_of(  # issue 9 (D)
            st.builds(syntax.CountOnly, st.one_of(st.builds(syntax.Word, names()),
                                                  st.builds(syntax.Text, texts())).map(lambda v: (v,))),
            st.builds(syntax.CountOnly, st.lists(values(), min_size=1, max_size=3).map(tuple), st.just(True)),
        )),
    )


_ROUND_MODES = st.sampled_from(("down", "half up"))


def _unit_conversions(unit: str) -> st.SearchStrategy[syntax.UnitConversion]:
    return st.builds(syntax.UnitConversion, st.just(unit), amounts(), amounts(),
                     _opt(st.builds(syntax.UnitRounding, _ROUND_MODES, st.booleans())), _opt(texts()))


def _readable(items: list[syntax.Item]) -> tuple[syntax.Item, ...]:
    # After a test's `teacher`/`event` line, `grade` is read as a column name (LALR(1) cannot
    # look two words ahead), so a grade statement never directly follows one.
    kept: list[syntax.Item] = []
    for item in items:
        previous = kept[-1] if kept else None
        if (isinstance(item, syntax.GradeFromAssessment | syntax.GradeFromScore)
                and isinstance(previous, syntax.Test) and previous.clauses
                and isinstance(previous.clauses[-1], syntax.TestTeacher | syntax.TestEvent)):
            continue
        kept.append(item)
    return tuple(kept)


@functools.cache
def policy_asts(max_statements: int = 6) -> st.SearchStrategy[syntax.Policy]:
    """Whole surface ASTs that the printer can write and the parser read back unchanged."""
    return st.builds(lambda h, items: syntax.Policy(h, _readable(items)), _headers(),
                     st.lists(statements(), max_size=max_statements))
