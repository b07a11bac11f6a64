"""AST back to canonical policy text: the formatter behind ``credit-rules fmt``.

This module lays out each statement and clause; the keyword tables and tokens live in
:mod:`~credit_rules.syntax.print_tokens`, and the printed lines, comment placement and
rendering in :mod:`~credit_rules.syntax.print_lines`. Callers import from here.

The canonical layout is the one the shipped policies use: header clauses indented two
spaces, a blank line between statements, one clause per line inside a rule (its
``source`` first), requirement lines indented two with their own ``source`` indented
four, conditions with only the parentheses they need, and ``category X`` / ``level X``
/ ``format X`` for equality on those three fields. ``lang="zh"`` prints the Chinese
keywords and the Chinese word order (合格计18学分, 每30学时计3学分); both parse to the
same AST.

Comments come back where they were: a comment on its own line stays before the
statement or clause that follows it, a comment after code stays at the end of that
code's line. Each is attached by position to the nearest printed line, using the
spans of the nodes and of the clauses (:attr:`~credit_rules.syntax.ast.Policy.clause_spans`).

>>> from credit_rules.syntax.parser import parse
>>> print(print_policy(parse('policy p rule r: program "x" 18 credits if qualified'), lang="zh"), end="")
政策 p
<BLANKLINE>
规则 r：
  项目 "x"
  合格计18学分
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from credit_rules.span import Span
from credit_rules.syntax import ast
from credit_rules.syntax.print_lines import (
    WIDTH,
    Layout,
    Line,
    display_width,
    join_tokens,
    known_start,
    place_comments,
    render,
)
from credit_rules.syntax.print_tokens import (
    KEYWORDS,
    KW,
    KW_OPENS,
    NUM,
    WORD,
    ZH_UNITS,
    Lang,
    Token,
    TokenWriter,
    decimal_text,
)

# The public face of the formatter: callers import these from here, wherever they live.
__all__ = ["KEYWORDS", "WIDTH", "Lang", "Token", "print_policy"]


def print_policy(tree: ast.Policy, *, lang: Lang = "en", comments: Sequence[ast.Comment] | None = None) -> str:
    """The canonical text of a policy, in English (``en``) or Chinese (``zh``) keywords.

    ``comments`` defaults to the comments the parser kept (``tree.comments``); every one
    of them is printed. ``parse(print_policy(tree)) == tree`` for every tree the parser
    can build, and printing is idempotent.
    """
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    printer = _Printer(lang, Layout(tree.clause_spans))
    blocks = [printer.header(tree.header), *(printer.item(item) for item in tree.items)]
    at_end = place_comments(blocks, tree, tree.comments if comments is None else comments)
    return render(blocks, at_end, lang)


# ------------------------------------------------------------------ the printer
class _Printer(TokenWriter):
    """Turns each statement of the AST into printed lines; its tokens come from TokenWriter."""

    def __init__(self, lang: Lang, layout: Layout):
        super().__init__(lang)
        self.layout = layout

    # ---- conditions: or (0) < and (1) < not (2) < atom (3)
    def cond(self, cond: ast.Cond, level: int = 0) -> list[Token]:
        """``cond`` in parentheses only when its operator binds looser than ``level`` requires."""
        out: list[Token] = []
        if isinstance(cond, ast.Or | ast.And):
            own = 0 if isinstance(cond, ast.Or) else 1
            joiner = "or" if isinstance(cond, ast.Or) else "and"
            for i, item in enumerate(cond.items):
                if i:
                    out.append(self.kw(joiner))
                # `a or (b or c)` keeps its nesting; `a or (b and c)` keeps parentheses a reader
                # needs (the shipped policies write them), though `and` binds tighter anyway
                out += self.cond(item, 2 if own == 0 and isinstance(item, ast.And) else own + 1)
        elif isinstance(cond, ast.Not):
            own = 2
            out = [self.kw("not"), *self.cond(cond.item, 2)]
        else:
            own = 3
            out = self.atom(cond)
        if own < level:
            return [self.punct("("), *out, self.punct(")")]
        return out

    def atom(self, cond: ast.Cond) -> list[Token]:
        if isinstance(cond, ast.Compare):
            if cond.field in ("category", "level", "format") and cond.op == "=" and isinstance(cond.value, ast.Word):
                return [self.kw(cond.field), self.name(cond.value.text)]
            return [self.field(cond.field), (WORD, cond.op), self.value(cond.value)]
        if isinstance(cond, ast.Member):
            return [self.field(cond.field), self.kw("not in" if cond.negated else "in"), *self.values(cond.values)]
        if isinstance(cond, ast.HasRole):
            return [self.kw("role"), self.name(cond.role)]
        if isinstance(cond, ast.DateBound):
            return [self.kw("on or before" if cond.op == "<=" else "on or after"), self.date(cond.date)]
        if isinstance(cond, ast.Qualified):
            return self.qualified(cond.program)
        if isinstance(cond, ast.EventsExist):
            return [self.kw("any" if cond.exists else "no"), self.name(cond.kind)]
        if isinstance(cond, ast.Ranked):
            return [self.kw("ranked"), *([self.name(cond.rank)] if cond.rank else [])]
        if isinstance(cond, ast.ArithCompare | ast.Has):
            return self.typed_atom(cond)
        if isinstance(cond, ast.RequirementMet):
            return [self.kw("requirement"), self.name(cond.requirement), self.kw("met")]
        if isinstance(cond, ast.Relative):
            return self.relative(cond)
        raise TypeError(f"not a condition: {cond!r}")  # pragma: no cover

    # ---- issue 9 (D)
    def relative(self, cond: ast.Relative) -> list[Token]:
        """``within 1 year of hired_on`` (hired_on 后1年内), ``in the first 2 semesters
        after hired_on`` (hired_on 后前2学期内); a count of 1 periods is not written."""
        count, unit = cond.count, cond.unit
        if unit in ("years", "months", "days"):
            if self.zh:
                return [self.name(cond.attribute), (KW, "后"), self.number(count), (KW, ZH_UNITS[unit]),
                        (KW, "内")]
            word = unit[:-1] if count == 1 else unit
            return [(KW, "within"), self.number(count), (KW, word), self.kw("of"), self.name(cond.attribute)]
        if self.zh:
            first = [(KW, "首")] if count == 1 else [(KW, "前"), self.number(count)]
            return [self.name(cond.attribute), (KW, "后"), *first, self.kw(unit), (KW, "内")]
        plural = {"school year": "school years", "semester": "semesters"}[unit]
        return [(KW, "in the first"), *([] if count == 1 else [self.number(count)]),
                (KW, unit if count == 1 else plural), (KW, "after"), self.name(cond.attribute)]

    def count_only(self, c: ast.CountOnly) -> list[Token]:
        """``count only status approved`` / ``仅计状态属于（approved、verified）``."""
        head: Token = (KW, "仅计状态" if self.zh else "count only status")
        if c.listed:
            return [head, self.kw("in"), *self.values(c.values)]
        return [head, self.value(c.values[0])]

    def field(self, field: str) -> Token:
        return self.kw(field) if field in ("category", "level", "format") else self.name(field)

    def qualified(self, program: str) -> list[Token]:
        if self.zh:  # 项目 "P" 合格
            return [self.kw("program"), self.string(program), self.kw("qualified")]
        return [*self.kws("qualified", "in", "program"), self.string(program)]

    # ---- lines
    def source_line(self, indent: int, text: str | None, inside: Span | None,
                    outside: Sequence[Span | None] = ()) -> list[Line]:
        if text is None:
            return []
        return [Line(indent, [self.kw("source"), self.string(text)], self.layout.find(("source",), inside, outside))]

    def header(self, h: ast.Header) -> list[Line]:
        lines = [Line(0, [self.kw("policy"), self.name(h.name)], known_start(h.span))]
        if h.extends is not None:
            lines[0].tokens += self.extends(h.extends)
        conversion_span = h.conversion.span if h.conversion else None
        if h.title is not None:
            lines.append(Line(1, [self.kw("title"), self.string(h.title)], self.layout.find(("title",), h.span)))
        lines += self.source_line(1, h.source, h.span, (conversion_span,))
        if h.timezone is not None:
            lines.append(Line(1, [self.kw("timezone"), self.string(h.timezone)],
                               self.layout.find(("timezone",), h.span)))
        if h.window is not None:
            w = h.window
            lines.append(Line(1, [self.kw(w.keyword), self.date(w.start), self.kw(".."), self.date(w.end)],
                               known_start(w.span)))
        if h.evaluate is not None:
            origin = self.layout.find(("evaluate_per", "evaluate_window"), h.span)
            lines.append(Line(1, self.evaluate(h), origin))
        if h.conversion is not None:
            c = h.conversion
            lines.append(Line(1, [self.number(c.hours), self.unit("hours", c.hours), self.kw("="),
                                   self.number(c.credits), self.unit("credits", c.credits)], known_start(c.span)))
            lines += self.source_line(2, c.source, c.span)
        for unit in (h.minutes, h.days):
            if unit is not None:
                lines += self.unit_conversion(unit)
        if h.count_only is not None:
            lines.append(Line(1, self.count_only(h.count_only), known_start(h.count_only.span)))
        return lines

    # ---- issue 9 (A): units other than hours, a rule's own rate, rounding
    def unit_conversion(self, u: ast.UnitConversion) -> list[Line]:
        word = ("minute" if u.amount == 1 else "minutes") if u.unit == "minutes" else (
            "day" if u.amount == 1 else "days")
        tokens = [self.number(u.amount), self.kw("A:" + word), self.kw("="), self.number(u.hours),
                  self.unit("hours", u.hours)]
        if u.rounding is not None:
            mode = self.kw("A:" + u.rounding.mode)
            scope = self.kw("A:per period" if u.rounding.pooled else "A:per event")
            tokens += [scope, mode] if self.zh else [self.kw("A:rounded"), mode, scope]
        return [Line(1, tokens, known_start(u.span)), *self.source_line(2, u.source, u.span)]

    def rule_rate(self, rate: ast.RuleRate) -> list[Token]:
        return [self.kw("A:rate at"), self.number(rate.hours), self.unit("hours", rate.hours), self.kw("="),
                self.number(rate.credits), self.unit("credits", rate.credits)]

    def rounding(self, r: ast.Rounding) -> list[Token]:
        mode, scope = self.kw("A:" + r.mode), self.kw("A:per period" if r.pooled else "A:per event")
        if self.zh:  # 逐条按0.5学分向下取整
            return [scope, self.kw("A:rate at"), self.number(r.step), self.kw("credits"), mode]
        return [self.kw("A:rounded"), mode, self.kw("A:to"), self.number(r.step), self.unit("credits", r.step), scope]

    def extends(self, e: ast.Extends) -> list[Token]:
        return [self.kw("extends"), self.string(e.parent) if e.is_path else self.name(e.parent)]

    # ---- layers: `replace rule|cap|requirement NAME: …`, `drop rule|cap|requirement NAME`
    def layer_kind(self, kind: ast.LayerKind) -> Token:
        return self.kw({"rule": "rule", "cap": "cap", "requirement": "replace requirement"}[kind])

    def item_Replace(self, r: ast.Replace) -> list[Line]:
        lines = self.item(r.item)
        # the item's own head (`rule NAME:`, `cap NAME: at most …`, `require NAME:`) after `replace KIND`
        lines[0] = attrs.evolve(lines[0], tokens=[self.kw("replace"), self.layer_kind(r.kind), *lines[0].tokens[1:]],
                                origin=known_start(r.span))
        return lines

    def item_Drop(self, d: ast.Drop) -> list[Line]:
        return [Line(0, [self.kw("drop"), self.layer_kind(d.kind), self.name(d.name)], known_start(d.span)),
                *self.source_line(1, d.source, d.span)]

    def evaluate(self, h: ast.Header) -> list[Token]:
        if h.evaluate == "window":
            over = h.window.keyword if h.window is not None else "window"
            if self.zh:  # 按周期核算
                return self.kws("by", over, "evaluate")
            return self.kws("evaluate", "over", over)
        assert h.evaluate is not None
        if self.zh:  # 每学期核算
            return self.kws("per", h.evaluate, "evaluate")
        return self.kws("evaluate", "per", h.evaluate)

    def item(self, item: ast.Item) -> list[Line]:
        method = getattr(self, "item_" + type(item).__name__)
        lines: list[Line] = method(item)
        return lines

    def head(self, keyword: str, name: str) -> list[Token]:
        return [self.kw(keyword), self.name(name), self.punct(":")]

    def on(self, on: ast.OnKind) -> list[Token]:
        if not on.first:
            return [self.kw("on"), self.name(on.kind)]
        if self.zh:  # 首次 probation_training
            return [self.kw("first"), self.name(on.kind)]
        return [*self.kws("on", "first"), self.name(on.kind)]

    # ---- rules
    def item_Rule(self, r: ast.Rule) -> list[Line]:
        find = self.layout.find
        lines = [Line(0, self.head("rule", r.name), known_start(r.span))]
        lines += self.source_line(1, r.source, r.span)
        if r.on is not None:
            lines.append(Line(1, self.on(r.on), known_start(r.on.span)))
        if r.program is not None:
            lines.append(Line(1, [self.kw("program"), self.string(r.program)], find(("program",), r.span)))
        if r.where is not None:
            lines.append(Line(1, [self.kw("where"), *self.cond(r.where)], find(("where",), r.span)))
        if r.when is not None:
            lines.append(Line(1, [self.kw("when"), *self.cond(r.when)], find(("when",), r.span)))
        if r.award is not None:
            lines.append(Line(1, self.award(r.award), known_start(r.award.span)))
        if r.rate is not None:
            lines.append(Line(1, self.rule_rate(r.rate), known_start(r.rate.span)))
        if r.rounding is not None:
            lines.append(Line(1, self.rounding(r.rounding), known_start(r.rounding.span)))
        if r.as_level is not None:
            lines.append(Line(1, [*self.kws("as", "level"), self.name(r.as_level)], find(("as_level",), r.span)))
        if r.as_category is not None:
            lines.append(Line(1, [*self.kws("as", "category"), self.name(r.as_category)],
                               find(("as_category",), r.span)))
        if r.without_category:
            lines.append(Line(1, [self.kw("without category")], find(("without_category",), r.span)))
        if r.exception_to is not None:
            lines.append(Line(1, [self.kw("exception to"), self.name(r.exception_to)],
                               find(("exception",), r.span)))
        return lines

    def award(self, a: ast.Award) -> list[Token]:
        if isinstance(a, ast.CountHours):
            return self.kws("count", "hours")
        if isinstance(a, ast.CountCredits):
            return self.kws("count", "credits")
        if isinstance(a, ast.Block):
            if self.zh:  # 每30学时[按比例]计3学分
                return [self.kw("per"), self.number(a.hours), self.kw("hours"),
                        *([self.kw("pro rata")] if a.pro_rata else []), self.kw("count"),
                        self.number(a.credits), self.kw("credits")]
            return [self.number(a.credits), self.unit("credits", a.credits), self.kw("per"),
                    self.number(a.hours), self.unit("hours", a.hours), *([self.kw("pro rata")] if a.pro_rata else [])]
        if isinstance(a, ast.IfQualified):
            if self.zh:  # 合格计18学分
                return [*self.kws("qualified", "count"), self.number(a.amount), self.unit(a.unit, a.amount)]
            return [self.number(a.amount), self.unit(a.unit, a.amount), *self.kws("if", "qualified")]
        if isinstance(a, ast.Fixed):
            if self.zh:  # 计12学分
                return [self.kw("count"), self.number(a.amount), self.unit(a.unit, a.amount)]
            return [self.number(a.amount), self.unit(a.unit, a.amount)]
        return [self.kw("absent task = one day leave")]

    # ---- caps and requirements
    def item_Cap(self, c: ast.Cap) -> list[Line]:
        tokens = [*self.head("cap", c.name), self.kw("at most")]
        if c.percent_of is not None:
            percent = (NUM, decimal_text(c.amount) + "%")
            tokens += [self.name(c.percent_of), (KW, "的"), percent] if self.zh else [
                percent, self.kw("of"), self.name(c.percent_of)]
        else:
            tokens += [self.number(c.amount), self.unit(c.measure, c.amount)]
        if c.per is not None:
            tokens += [(KW_OPENS, "每"), self.kw(c.per)] if self.zh else self.kws("per", c.per)
        for grain in c.grains:  # issue 9 (B)
            word = self.kw("event grain") if grain.kind == "event" else \
                self.kw(grain.name or "") if grain.kind == "period" else self.name(grain.name or "")
            tokens += [(KW_OPENS, "每"), word] if self.zh else [self.kw("per"), word]
        if c.of is not None:
            tokens += [self.kw("of"), *self.cond(c.of)]
        return [Line(0, tokens, known_start(c.span)), *self.source_line(1, c.source, c.span)]

    def requirement_line(self, line: ast.RequirementLine) -> list[Token]:
        if isinstance(line, ast.Either):
            tokens = self.either(line)
        elif isinstance(line, ast.AtLeastBest):
            tokens = [*self.requirement_line(ast.AtLeast(line.amount, line.measure)), self.kw("in any one of"),
                      self.field(line.field), *self.values(line.values)]
        elif isinstance(line, ast.RequireQualified):
            tokens = self.qualified(line.program)
        else:
            m = line.measure
            tokens = [self.kw("at least"), self.number(line.amount)]
            if isinstance(m, ast.MeasureCount):
                tokens.append(self.name(m.kind))
                if m.where is not None:
                    tokens += [self.kw("where"), *self.cond(m.where)]
            else:
                tokens.append(self.unit("credits" if isinstance(m, ast.MeasureCredits) else "hours", line.amount))
                if m.of is not None:
                    tokens += [self.kw("of"), *self.cond(m.of)]
            if line.per is not None:  # issue 9 (B)
                tokens += [(KW_OPENS, "每"), self.kw(line.per)] if self.zh else self.kws("per", line.per)
        if line.when is not None:
            tokens += [self.kw("when"), *self.cond(line.when)]
        since = line.since if isinstance(line, ast.AtLeast | ast.RequireQualified) else None
        if since is not None:  # issue 9 (E2): from 2024-01-01: … / 自2024-01-01起：…
            day = (NUM, since.isoformat())
            prefix = [(KW, "自"), day, (KW, "起")] if self.zh else [(KW, "from"), self.date(since)]
            tokens = [*prefix, self.punct(":"), *tokens]
        return tokens

    def item_CapFrom(self, c: ast.CapFrom) -> list[Line]:
        """``cap NAME from DATE: at most N credits`` / 上限 NAME 自DATE起：至多N学分 (issue 9, E2)."""
        day = (NUM, c.since.isoformat())
        prefix = [(KW, "自"), day, (KW, "起")] if self.zh else [(KW, "from"), self.date(c.since)]
        tokens = [self.kw("cap"), self.name(c.cap), *prefix, self.punct(":"), self.kw("at most"),
                  self.number(c.amount), self.unit("credits", c.amount)]
        return [Line(0, tokens, known_start(c.span)), *self.source_line(1, c.source, c.span)]

    def carry_line(self, carry: ast.CarryForward) -> list[Token]:
        """``carry forward at most 10 credits`` / 结转至多10学分 (issue 9, E2)."""
        return [(KW, "结转" if self.zh else "carry forward"), self.kw("at most"), self.number(carry.amount),
                self.unit(carry.unit, carry.amount)]

    def either(self, line: ast.Either) -> list[Token]:
        """``either requirement a or requirement b``; Chinese: 要求项 a 或 要求项 b 之一."""
        tokens: list[Token] = [] if self.zh else [self.kw("either")]
        for i, name in enumerate(line.names):
            tokens += [*([self.kw("or")] if i else []), self.kw("requirement"), self.name(name)]
        return [*tokens, self.kw("one of (zh)")] if self.zh else tokens

    def item_Outcome(self, o: ast.Outcome) -> list[Line]:
        head, cond = self.head("outcome", o.name), self.cond(o.cond)
        if display_width(join_tokens([*head, *cond], self.lang)) <= WIDTH:
            lines = [Line(0, [*head, *cond], known_start(o.span))]
        else:  # a long condition goes on its own line
            lines = [Line(0, head, known_start(o.span)), Line(1, cond, known_start(o.cond.span))]
        return [*lines, *self.source_line(1, o.source, o.span)]

    def item_Requirement(self, r: ast.Requirement) -> list[Line]:
        lines = [Line(0, self.head("require", r.name), known_start(r.span))]
        lines += self.source_line(1, r.source, r.span, [line.span for line in r.lines]
                                  + ([r.carry.span] if r.carry is not None else []))
        for line in r.lines:
            lines.append(Line(1, self.requirement_line(line), known_start(line.span)))
            lines += self.source_line(2, line.source, line.span)
        if r.carry is not None:
            lines.append(Line(1, self.carry_line(r.carry), known_start(r.carry.span)))
            lines += self.source_line(2, r.carry.source, r.carry.span)
        return lines

    def item_Waiver(self, w: ast.Waiver) -> list[Line]:
        names: list[Token] = []
        for i, n in enumerate(w.names):
            if i:
                names.append(self.list_sep() if self.zh else self.punct(","))
            names.append(self.name(n))
        return [Line(0, [self.kw("waive"), *names], known_start(w.span)),
                Line(1, [self.kw("when"), *self.cond(w.when)], known_start(w.when.span)),
                *self.source_line(1, w.source, w.span)]

    def item_Reduction(self, r: ast.Reduction) -> list[Line]:
        fraction = (NUM, f"{decimal_text(r.numerator)}/{decimal_text(r.denominator)}")
        if self.zh:  # 学分要求按 hired_on 之前每年递减1/5
            tokens = [*self.kws("credit requirements", "by"), self.name(r.attribute), self.kw("per year before"),
                      fraction]
        else:
            tokens = [*self.kws("reduce", "credit requirements", "by"), fraction, self.kw("per year before"),
                      self.name(r.attribute)]
        return [Line(0, tokens, known_start(r.span)), *self.source_line(1, r.source, r.span)]

    # ---- grades, excellence, penalties, ranks
    def program_of(self, what: str, program: str) -> list[Token]:
        if self.zh:  # 项目 "P" 考核
            return [self.kw("program"), self.string(program), self.kw(what)]
        return [*self.kws(what, "in", "program"), self.string(program)]

    def item_GradeFromAssessment(self, g: ast.GradeFromAssessment) -> list[Line]:
        tokens = [*self.kws("grade", "from"), *self.program_of("assessment", g.program)]
        return [Line(0, tokens, known_start(g.span)), *self.source_line(1, g.source, g.span)]

    def item_GradeFromScore(self, g: ast.GradeFromScore) -> list[Line]:
        tokens = [*self.kws("grade", "from"), *self.program_of("score", g.program), self.punct(":")]
        for t in g.thresholds:
            tokens += [self.name(t.grade), self.kw("at"), self.number(t.minimum), self.punct(",")]
        tokens += [self.kw("else"), self.name(g.otherwise)]
        return [Line(0, tokens, known_start(g.span)), *self.source_line(1, g.source, g.span)]

    def item_Excellent(self, e: ast.Excellent) -> list[Line]:
        return [Line(0, [*self.kws("excellent", "when"), *self.cond(e.when)], known_start(e.span)),
                *self.source_line(1, e.source, e.span)]

    def item_Penalty(self, p: ast.Penalty) -> list[Line]:
        find = self.layout.find
        lines = [Line(0, self.head("penalty", p.name), known_start(p.span))]
        lines += self.source_line(1, p.source, p.span)
        if p.on is not None:
            lines.append(Line(1, self.on(p.on), known_start(p.on.span)))
        if p.where is not None:
            lines.append(Line(1, [self.kw("where"), *self.cond(p.where)], find(("where",), p.span)))
        if p.void_credits:
            lines.append(Line(1, [self.kw("no credits")], find(("void_credits",), p.span)))
        if p.not_excellent:
            lines.append(Line(1, [self.kw("not excellent")], find(("not_excellent",), p.span)))
        return lines

    def item_Rank(self, r: ast.Rank) -> list[Line]:
        find = self.layout.find
        lines = [Line(0, self.head("rank", r.name), known_start(r.span))]
        lines += self.source_line(1, r.source, r.span)
        if r.program is not None:
            tokens = [self.kw("by"), *self.program_of("score", r.program)]
            lines.append(Line(1, tokens, find(("rank_by",), r.span)))
        if r.among is not None:
            lines.append(Line(1, [self.kw("among"), *self.cond(r.among)], find(("among",), r.span)))
        for top in r.tops:
            tokens = [self.kw("top"), self.number(top.count), *([(KW, "名")] if self.zh else [])]
            if top.mode != "overall":
                assert top.field is not None
                joiner = self.kw("per" if top.mode == "per" else "across")
                tokens += [(KW_OPENS, joiner[1]) if self.zh else joiner, self.name(top.field), self.kw("in"),
                           *self.values(top.values)]
            lines.append(Line(1, tokens, known_start(top.span)))
        return lines

    # ---- tests and invariants
    def item_Test(self, t: ast.Test) -> list[Line]:
        lines = [Line(0, [self.kw("test"), self.string(t.name), self.punct(":")], known_start(t.span))]
        for clause in t.clauses:
            lines.append(self.test_clause(clause))
        return lines

    def test_clause(self, clause: ast.TestClause) -> Line:
        if isinstance(clause, ast.TestAsOf):
            return Line(1, [self.kw("as of"), self.date(clause.date)], known_start(clause.span))
        if isinstance(clause, ast.TestTeacher | ast.TestEvent):
            who = clause.teacher_id if isinstance(clause, ast.TestTeacher) else clause.event_id
            tokens = [self.kw("teacher" if isinstance(clause, ast.TestTeacher) else "event"), self.ident(who)]
            for a in clause.attributes:
                tokens += [self.name(a.name), (WORD, "="), self.value(a.value)]
            return Line(1, tokens, known_start(clause.span))
        # expectations fill the line, then continue on lines indented four
        line = Line(1, [self.kw("expect"), self.ident(clause.teacher_id)], known_start(clause.span))
        current, indent, empty = line.tokens, 2, True
        for i, check in enumerate(clause.checks):
            piece = self.expectation(check)
            if i < len(clause.checks) - 1:
                piece.append(self.punct(","))
            if not empty and indent + display_width(join_tokens([*current, *piece], self.lang)) > WIDTH:
                current, indent = [], 4
                line.continuation.append(current)
            current += piece
            empty = False
        return line

    def expectation(self, e: ast.Expectation) -> list[Token]:
        if isinstance(e, ast.ExpectField):
            return [self.name(e.field), (WORD, e.op), self.value(e.value)]
        if isinstance(e, ast.ExpectRequirement):
            return [self.kw("requirement"), self.name(e.requirement), self.kw(e.state)]
        if isinstance(e, ast.ExpectRequired):
            return [self.kw("requirement"), self.name(e.requirement), self.kw("required"), self.value(e.value)]
        if isinstance(e, ast.ExpectActual):
            return [self.kw("requirement"), self.name(e.requirement), self.kw("actual"), self.value(e.value)]
        if isinstance(e, ast.ExpectPeriod):
            return [self.kw("period"), self.date(e.start), self.kw(".."), self.date(e.end)]
        if isinstance(e, ast.ExpectRule):
            return [self.kw("rule"), self.name(e.rule), self.name(e.field), (WORD, e.op), self.value(e.value)]
        if isinstance(e, ast.ExpectOutcome):
            return [*([] if e.holds else [self.kw("not")]), self.kw("outcome"), self.name(e.outcome)]
        out: list[Token] = [self.kw("rule"), self.name(e.rule), self.kw("events"), self.punct("(")]
        for i, event in enumerate(e.events):
            if i:
                out.append(self.punct(","))
            out.append(self.ident(event))
        return [*out, self.punct(")")]

    # ---- issue 9 (C): typed columns and vocabularies
    def arith(self, side: str | ast.Arith | ast.Value) -> list[Token]:
        if isinstance(side, str):
            return [self.field(side)]
        if not isinstance(side, ast.Arith):
            return [self.value(side)]
        out: list[Token] = []
        for i, operand in enumerate(side.operands):
            text = operand if isinstance(operand, str) else decimal_text(operand)
            if i and side.ops[i - 1] == "/" and not isinstance(operand, str) \
                    and not isinstance(side.operands[i - 1], str):
                out[-1] = (WORD, f"{out[-1][1]}/{text}")  # a fraction reads as one: 4/5
                continue
            if i:
                out.append((WORD, side.ops[i - 1]))
            out.append((WORD, text))
        return out

    def typed_atom(self, cond: ast.ArithCompare | ast.Has) -> list[Token]:
        if isinstance(cond, ast.Has):
            return [self.field(cond.field), self.kw("has"), self.value(cond.value)]
        return [*self.arith(cond.left), (WORD, cond.op), *self.arith(cond.right)]

    def item_Columns(self, c: ast.Columns) -> list[Line]:
        lines = [Line(0, [self.kw("columns"), self.punct(":")], known_start(c.span))]
        for i, decl in enumerate(c.columns):
            tokens = [self.name(decl.name), self.kw(f"type {decl.type}")]
            if decl.teacher:
                tokens.append(self.kw("of teacher"))
            if i + 1 < len(c.columns):
                tokens.append(self.list_sep())
            last = lines[-1]
            if i and display_width(join_tokens([*last.tokens, *tokens], self.lang)) + 2 * last.indent > WIDTH:
                lines.append(Line(1, tokens, None))  # a long list continues on the next line
            else:
                last.tokens.extend(tokens)
        return [*lines, *self.source_line(1, c.source, c.span)]

    def item_Vocabulary(self, v: ast.Vocabulary) -> list[Line]:
        field = self.kw(f"vocabulary {v.field}") if f"vocabulary {v.field}" in KEYWORDS else self.name(v.field)
        tokens: list[Token] = [self.kw("vocabulary"), field, self.punct(":")]
        for i, value in enumerate(v.values):
            if i:
                tokens.append(self.list_sep())
            tokens.append(self.name(value))
        return [Line(0, tokens, known_start(v.span)), *self.source_line(1, v.source, v.span)]

    def item_Invariant(self, i: ast.Invariant) -> list[Line]:
        head, cond = self.head("invariant", i.name), self.cond(i.cond)
        if display_width(join_tokens([*head, *cond], self.lang)) <= WIDTH:
            lines = [Line(0, [*head, *cond], known_start(i.span))]
        else:  # a long condition goes on its own line
            lines = [Line(0, head, known_start(i.span)), Line(1, cond, known_start(i.cond.span))]
        return [*lines, *self.source_line(1, i.source, i.span)]

