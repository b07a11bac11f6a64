"""AST back to canonical policy text: the formatter behind ``credit-rules fmt``.

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

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Literal

import attrs

from credit_rules.span import Span
from credit_rules.syntax import ast

Lang = Literal["en", "zh"]

#: Continuation lines of a long ``expect`` are wrapped at this width.
WIDTH = 110
_INDENT = "  "
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Token kinds decide the spacing: Chinese keywords, numbers and full-width punctuation
# sit side by side (至少36学分), anything else is separated by one space.
_KW, _NUM, _WORD, _PUNCT, _OPEN, _CLOSE = "kw", "num", "word", "punct", "open", "close"
# Chinese keywords that open a phrase get a space before them (至多7学分 限级别 municipal),
# and the connectives a space on both sides (… 或 met = 否).
_KW_OPENS, _KW_JOINS = "kw-opens", "kw-joins"
_ZH_OPENS = frozenset({"限", "其中", "适用于", "优先于"})
_ZH_JOINS = frozenset({"且", "或"})
Token = tuple[str, str]

# Keyword pairs (English, 中文). Multi-word English keywords are written with spaces.
KEYWORDS: dict[str, tuple[str, str]] = {
    "policy": ("policy", "政策"), "title": ("title", "标题"), "source": ("source", "依据"),
    "timezone": ("timezone", "时区"), "window": ("window", "时段"), "cycle": ("cycle", "周期"),
    "..": ("..", "至"), "evaluate": ("evaluate", "核算"), "over": ("over", "全"), "per": ("per", "每"),
    "school year": ("school year", "学年"), "semester": ("semester", "学期"),
    "year": ("year", "年"), "day": ("day", "日"), "event grain": ("event", "次"),  # issue 9 (B)
    "hours": ("hours", "学时"), "hour": ("hour", "学时"), "credits": ("credits", "学分"),
    "credit": ("credit", "学分"), "=": ("=", "折合"), "rule": ("rule", "规则"),
    "exception to": ("exception to", "优先于"), "on": ("on", "事件"), "first": ("first", "首次"),
    "program": ("program", "项目"), "where": ("where", "其中"), "when": ("when", "适用于"),
    "as": ("as", "计入"), "level": ("level", "级别"), "category": ("category", "类别"),
    "format": ("format", "形式"), "count": ("count", "计"), "pro rata": ("pro rata", "按比例"),
    "if": ("if", "若"), "qualified": ("qualified", "合格"),
    "absent task = one day leave": ("absent task = one day leave", "未完成任务视为请假一天"),
    "cap": ("cap", "上限"), "at most": ("at most", "至多"), "at least": ("at least", "至少"),
    "of": ("of", "限"), "require": ("require", "要求"), "in": ("in", "属于"), "not in": ("not in", "不属于"),
    "waive": ("waive", "免修"), "reduce": ("reduce", "递减"),
    "credit requirements": ("credit requirements", "学分要求"), "by": ("by", "按"),
    "per year before": ("per year before", "之前每年递减"), "grade": ("grade", "等级"),
    "from": ("from", "取自"), "assessment": ("assessment", "考核"), "score": ("score", "成绩"),
    "at": ("at", "达"), "else": ("else", "否则"), "excellent": ("excellent", "优秀"),
    "penalty": ("penalty", "处罚"), "no credits": ("no credits", "不计学分"),
    "not excellent": ("not excellent", "不得评优"), "rank": ("rank", "评选"), "among": ("among", "范围"),
    "top": ("top", "前"), "across": ("across", "合计"), "test": ("test", "测试"), "as of": ("as of", "截至"),
    "teacher": ("teacher", "教师"), "event": ("event", "记录"), "expect": ("expect", "预期"),
    "requirement": ("requirement", "要求项"), "met": ("met", "达标"), "not met": ("not met", "未达标"),
    "waived": ("waived", "已免修"), "required": ("required", "应达"), "actual": ("actual", "实际"),
    "absent": ("absent", "不适用"), "period": ("period", "期间"), "events": ("events", "记录"),
    "invariant": ("invariant", "恒成立"), "or": ("or", "或"), "and": ("and", "且"), "not": ("not", "非"),
    "role": ("role", "角色"), "on or before": ("on or before", "不晚于"),
    "on or after": ("on or after", "不早于"), "no": ("no", "无"), "any": ("any", "有"),
    "ranked": ("ranked", "入选"), "true": ("true", "是"), "false": ("false", "否"),
    "without category": ("without category", "不计类别"),
    # issue 9 (E1): choices and outcomes; `之一` closes a choice in Chinese word order
    "outcome": ("outcome", "结果"), "either": ("either", "满足其一"), "in any one of": ("in any one of", "任一"),
    "one of (zh)": ("", "之一"),
}
# issue 9 (A): a rule's own rate, rounding, units other than hours
KEYWORDS.update({
    # keys prefixed `A:` so that no other construct's key (B's `day` 日) is overwritten
    "A:rate at": ("at", "按"), "A:rounded": ("rounded", "取整"), "A:to": ("to", "to"),
    "A:down": ("down", "向下取整"), "A:half up": ("half up", "四舍五入"),
    "A:per event": ("per event", "逐条"), "A:per period": ("per period", "合计"),
    "A:minutes": ("minutes", "分钟"), "A:minute": ("minute", "分钟"), "A:days": ("days", "天"), "A:day": ("day", "天"),
})
# Layered policies (issue 9 F): `policy county_x extends city_y`, `replace rule …`, `drop cap …`.
KEYWORDS.update({
    "extends": ("extends", "继承"), "replace": ("replace", "替换"), "drop": ("drop", "删除"),
    "replace requirement": ("requirement", "要求"),
})
_PUNCTUATION = {":": "：", ",": "，", "(": "（", ")": "）"}
# issue 9 (C): typed columns and vocabularies
KEYWORDS.update({
    "columns": ("columns", "字段"), "of teacher": ("of teacher", "教师属性"),
    "type number": ("number", "整数"), "type decimal": ("decimal", "小数"), "type date": ("date", "日期"),
    "type text": ("text", "文本"), "type list": ("list of text", "文本列表"), "has": ("has", "包含"),
    "vocabulary": ("vocabulary", "词表"), "vocabulary roles": ("roles", "角色"),
    "vocabulary titles": ("titles", "职称"), "vocabulary kinds": ("kinds", "事件类型"),
    "vocabulary categories": ("categories", "类别"), "vocabulary levels": ("levels", "级别"),
    "vocabulary formats": ("formats", "形式"),
})
#: Chinese units of `within N … of ATTR` (issue 9, D): hired_on 后1年内, 后6个月内, 后30天内.
_ZH_UNITS = {"years": "年", "months": "个月", "days": "天"}


def print_policy(tree: ast.Policy, *, lang: Lang = "en", comments: Sequence[ast.Comment] | None = None) -> str:
    """The canonical text of a policy, in English (``en``) or Chinese (``zh``) keywords.

    ``comments`` defaults to the comments the parser kept (``tree.comments``); every one
    of them is printed. ``parse(print_policy(tree)) == tree`` for every tree the parser
    can build, and printing is idempotent.
    """
    if lang not in ("en", "zh"):
        raise ValueError(f"lang must be 'en' or 'zh', not {lang!r}")
    printer = _Printer(lang, _Layout(tree.clause_spans))
    blocks = [printer.header(tree.header), *(printer.item(item) for item in tree.items)]
    at_end = _place_comments(blocks, tree, tree.comments if comments is None else comments)
    return _render(blocks, at_end, lang)


# ------------------------------------------------------------------ printed lines
@attrs.define
class _Line:
    indent: int
    tokens: list[Token]
    origin: tuple[int, int] | None = None
    before: list[ast.Comment] = attrs.Factory(list)
    after: list[str] = attrs.Factory(list)
    continuation: list[list[Token]] = attrs.Factory(list)


def _known(span: Span | None) -> tuple[int, int] | None:
    if span is None or (span.line, span.col, span.end_line, span.end_col) == (1, 1, 1, 1):
        return None
    return (span.line, span.col)


class _Layout:
    """Finds where a clause held as a plain string sat, from the parser's clause spans."""

    def __init__(self, clause_spans: Sequence[tuple[str, Span]]):
        self.spans = list(clause_spans)

    def find(self, names: Iterable[str], inside: Span | None,
             outside: Sequence[Span | None] = ()) -> tuple[int, int] | None:
        wanted = set(names)
        if _known(inside) is None:
            return None
        assert inside is not None
        for name, span in self.spans:
            if name in wanted and _within(span, inside) and not any(
                    o is not None and _known(o) is not None and _within(span, o) for o in outside):
                return (span.line, span.col)
        return None


def _within(span: Span, outer: Span) -> bool:
    return (outer.line, outer.col) <= (span.line, span.col) and \
        (span.end_line, span.end_col) <= (outer.end_line, outer.end_col)


# ------------------------------------------------------------------ the printer
class _Printer:
    def __init__(self, lang: Lang, layout: _Layout):
        self.lang = lang
        self.zh = lang == "zh"
        self.layout = layout

    # ---- tokens
    def kw(self, key: str) -> Token:
        text = KEYWORDS[key][1 if self.zh else 0]
        return (_KW_OPENS if text in _ZH_OPENS else _KW_JOINS if text in _ZH_JOINS else _KW, text)

    def kws(self, *keys: str) -> list[Token]:
        return [self.kw(k) for k in keys]

    def punct(self, char: str) -> Token:
        kind = _OPEN if char == "(" else _CLOSE if char in "),:" else _PUNCT
        return (kind, _PUNCTUATION[char] if self.zh else char)

    def list_sep(self) -> Token:
        return (_CLOSE, "、" if self.zh else ",")

    @staticmethod
    def name(text: str) -> Token:
        return (_WORD, text)

    @staticmethod
    def number(value: Decimal | int) -> Token:
        return (_NUM, _decimal(value))

    @staticmethod
    def string(text: str) -> Token:
        return (_WORD, _quote(text))

    @staticmethod
    def date(value: dt.date) -> Token:
        return (_WORD, value.isoformat())

    def unit(self, unit: str, amount: Decimal | int) -> Token:
        singular = amount == 1
        if unit == "credits":
            return self.kw("credit" if singular else "credits")
        return self.kw("hour" if singular else "hours")

    def ident(self, text: str) -> Token:
        """A teacher or event id in a test: a bare name when it reads as one, else quoted."""
        if _NAME.match(text):  # where an id is expected a keyword is read as a name
            return self.name(text)
        return self.string(text)

    def value(self, value: ast.Value) -> Token:
        if isinstance(value, ast.Word):
            return self.name(value.text)
        if isinstance(value, ast.Text):
            return self.string(value.text)
        if isinstance(value, ast.Number):
            return (_WORD, _decimal(value.value))  # a compared value stands apart: credits = 0 且 …
        if isinstance(value, ast.DateValue):
            return self.date(value.value)
        return (_WORD, KEYWORDS["true" if value.value else "false"][1 if self.zh else 0])

    def values(self, values: Sequence[ast.Value]) -> list[Token]:
        out: list[Token] = [self.punct("(")]
        for i, v in enumerate(values):
            if i:
                out.append(self.list_sep())
            out.append(self.value(v))
        out.append(self.punct(")"))
        return out

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
            return [self.field(cond.field), (_WORD, cond.op), self.value(cond.value)]
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
                return [self.name(cond.attribute), (_KW, "后"), self.number(count), (_KW, _ZH_UNITS[unit]),
                        (_KW, "内")]
            word = unit[:-1] if count == 1 else unit
            return [(_KW, "within"), self.number(count), (_KW, word), self.kw("of"), self.name(cond.attribute)]
        if self.zh:
            first = [(_KW, "首")] if count == 1 else [(_KW, "前"), self.number(count)]
            return [self.name(cond.attribute), (_KW, "后"), *first, self.kw(unit), (_KW, "内")]
        plural = {"school year": "school years", "semester": "semesters"}[unit]
        return [(_KW, "in the first"), *([] if count == 1 else [self.number(count)]),
                (_KW, unit if count == 1 else plural), (_KW, "after"), self.name(cond.attribute)]

    def count_only(self, c: ast.CountOnly) -> list[Token]:
        """``count only status approved`` / ``仅计状态属于（approved、verified）``."""
        head: Token = (_KW, "仅计状态" if self.zh else "count only status")
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
                    outside: Sequence[Span | None] = ()) -> list[_Line]:
        if text is None:
            return []
        return [_Line(indent, [self.kw("source"), self.string(text)], self.layout.find(("source",), inside, outside))]

    def header(self, h: ast.Header) -> list[_Line]:
        lines = [_Line(0, [self.kw("policy"), self.name(h.name)], _known(h.span))]
        if h.extends is not None:
            lines[0].tokens += self.extends(h.extends)
        conversion_span = h.conversion.span if h.conversion else None
        if h.title is not None:
            lines.append(_Line(1, [self.kw("title"), self.string(h.title)], self.layout.find(("title",), h.span)))
        lines += self.source_line(1, h.source, h.span, (conversion_span,))
        if h.timezone is not None:
            lines.append(_Line(1, [self.kw("timezone"), self.string(h.timezone)],
                               self.layout.find(("timezone",), h.span)))
        if h.window is not None:
            w = h.window
            lines.append(_Line(1, [self.kw(w.keyword), self.date(w.start), self.kw(".."), self.date(w.end)],
                               _known(w.span)))
        if h.evaluate is not None:
            origin = self.layout.find(("evaluate_per", "evaluate_window"), h.span)
            lines.append(_Line(1, self.evaluate(h), origin))
        if h.conversion is not None:
            c = h.conversion
            lines.append(_Line(1, [self.number(c.hours), self.unit("hours", c.hours), self.kw("="),
                                   self.number(c.credits), self.unit("credits", c.credits)], _known(c.span)))
            lines += self.source_line(2, c.source, c.span)
        for unit in (h.minutes, h.days):
            if unit is not None:
                lines += self.unit_conversion(unit)
        if h.count_only is not None:
            lines.append(_Line(1, self.count_only(h.count_only), _known(h.count_only.span)))
        return lines

    # ---- issue 9 (A): units other than hours, a rule's own rate, rounding
    def unit_conversion(self, u: ast.UnitConversion) -> list[_Line]:
        word = ("minute" if u.amount == 1 else "minutes") if u.unit == "minutes" else (
            "day" if u.amount == 1 else "days")
        tokens = [self.number(u.amount), self.kw("A:" + word), self.kw("="), self.number(u.hours),
                  self.unit("hours", u.hours)]
        if u.rounding is not None:
            mode = self.kw("A:" + u.rounding.mode)
            scope = self.kw("A:per period" if u.rounding.pooled else "A:per event")
            tokens += [scope, mode] if self.zh else [self.kw("A:rounded"), mode, scope]
        return [_Line(1, tokens, _known(u.span)), *self.source_line(2, u.source, u.span)]

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

    def item_Replace(self, r: ast.Replace) -> list[_Line]:
        lines = self.item(r.item)
        # the item's own head (`rule NAME:`, `cap NAME: at most …`, `require NAME:`) after `replace KIND`
        lines[0] = attrs.evolve(lines[0], tokens=[self.kw("replace"), self.layer_kind(r.kind), *lines[0].tokens[1:]],
                                origin=_known(r.span))
        return lines

    def item_Drop(self, d: ast.Drop) -> list[_Line]:
        return [_Line(0, [self.kw("drop"), self.layer_kind(d.kind), self.name(d.name)], _known(d.span)),
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

    def item(self, item: ast.Item) -> list[_Line]:
        method = getattr(self, "item_" + type(item).__name__)
        lines: list[_Line] = method(item)
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
    def item_Rule(self, r: ast.Rule) -> list[_Line]:
        find = self.layout.find
        lines = [_Line(0, self.head("rule", r.name), _known(r.span))]
        lines += self.source_line(1, r.source, r.span)
        if r.on is not None:
            lines.append(_Line(1, self.on(r.on), _known(r.on.span)))
        if r.program is not None:
            lines.append(_Line(1, [self.kw("program"), self.string(r.program)], find(("program",), r.span)))
        if r.where is not None:
            lines.append(_Line(1, [self.kw("where"), *self.cond(r.where)], find(("where",), r.span)))
        if r.when is not None:
            lines.append(_Line(1, [self.kw("when"), *self.cond(r.when)], find(("when",), r.span)))
        if r.award is not None:
            lines.append(_Line(1, self.award(r.award), _known(r.award.span)))
        if r.rate is not None:
            lines.append(_Line(1, self.rule_rate(r.rate), _known(r.rate.span)))
        if r.rounding is not None:
            lines.append(_Line(1, self.rounding(r.rounding), _known(r.rounding.span)))
        if r.as_level is not None:
            lines.append(_Line(1, [*self.kws("as", "level"), self.name(r.as_level)], find(("as_level",), r.span)))
        if r.as_category is not None:
            lines.append(_Line(1, [*self.kws("as", "category"), self.name(r.as_category)],
                               find(("as_category",), r.span)))
        if r.without_category:
            lines.append(_Line(1, [self.kw("without category")], find(("without_category",), r.span)))
        if r.exception_to is not None:
            lines.append(_Line(1, [self.kw("exception to"), self.name(r.exception_to)],
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
    def item_Cap(self, c: ast.Cap) -> list[_Line]:
        tokens = [*self.head("cap", c.name), self.kw("at most")]
        if c.percent_of is not None:
            percent = (_NUM, _decimal(c.amount) + "%")
            tokens += [self.name(c.percent_of), (_KW, "的"), percent] if self.zh else [
                percent, self.kw("of"), self.name(c.percent_of)]
        else:
            tokens += [self.number(c.amount), self.unit(c.measure, c.amount)]
        if c.per is not None:
            tokens += [(_KW_OPENS, "每"), self.kw(c.per)] if self.zh else self.kws("per", c.per)
        for grain in c.grains:  # issue 9 (B)
            word = self.kw("event grain") if grain.kind == "event" else \
                self.kw(grain.name or "") if grain.kind == "period" else self.name(grain.name or "")
            tokens += [(_KW_OPENS, "每"), word] if self.zh else [self.kw("per"), word]
        if c.of is not None:
            tokens += [self.kw("of"), *self.cond(c.of)]
        return [_Line(0, tokens, _known(c.span)), *self.source_line(1, c.source, c.span)]

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
                tokens += [(_KW_OPENS, "每"), self.kw(line.per)] if self.zh else self.kws("per", line.per)
        if line.when is not None:
            tokens += [self.kw("when"), *self.cond(line.when)]
        since = line.since if isinstance(line, ast.AtLeast | ast.RequireQualified) else None
        if since is not None:  # issue 9 (E2): from 2024-01-01: … / 自2024-01-01起：…
            day = (_NUM, since.isoformat())
            prefix = [(_KW, "自"), day, (_KW, "起")] if self.zh else [(_KW, "from"), self.date(since)]
            tokens = [*prefix, self.punct(":"), *tokens]
        return tokens

    def item_CapFrom(self, c: ast.CapFrom) -> list[_Line]:
        """``cap NAME from DATE: at most N credits`` / 上限 NAME 自DATE起：至多N学分 (issue 9, E2)."""
        day = (_NUM, c.since.isoformat())
        prefix = [(_KW, "自"), day, (_KW, "起")] if self.zh else [(_KW, "from"), self.date(c.since)]
        tokens = [self.kw("cap"), self.name(c.cap), *prefix, self.punct(":"), self.kw("at most"),
                  self.number(c.amount), self.unit("credits", c.amount)]
        return [_Line(0, tokens, _known(c.span)), *self.source_line(1, c.source, c.span)]

    def carry_line(self, carry: ast.CarryForward) -> list[Token]:
        """``carry forward at most 10 credits`` / 结转至多10学分 (issue 9, E2)."""
        return [(_KW, "结转" if self.zh else "carry forward"), self.kw("at most"), self.number(carry.amount),
                self.unit(carry.unit, carry.amount)]

    def either(self, line: ast.Either) -> list[Token]:
        """``either requirement a or requirement b``; Chinese: 要求项 a 或 要求项 b 之一."""
        tokens: list[Token] = [] if self.zh else [self.kw("either")]
        for i, name in enumerate(line.names):
            tokens += [*([self.kw("or")] if i else []), self.kw("requirement"), self.name(name)]
        return [*tokens, self.kw("one of (zh)")] if self.zh else tokens

    def item_Outcome(self, o: ast.Outcome) -> list[_Line]:
        head, cond = self.head("outcome", o.name), self.cond(o.cond)
        if _width(_join([*head, *cond], self.lang)) <= WIDTH:
            lines = [_Line(0, [*head, *cond], _known(o.span))]
        else:  # a long condition goes on its own line
            lines = [_Line(0, head, _known(o.span)), _Line(1, cond, _known(o.cond.span))]
        return [*lines, *self.source_line(1, o.source, o.span)]

    def item_Requirement(self, r: ast.Requirement) -> list[_Line]:
        lines = [_Line(0, self.head("require", r.name), _known(r.span))]
        lines += self.source_line(1, r.source, r.span, [line.span for line in r.lines]
                                  + ([r.carry.span] if r.carry is not None else []))
        for line in r.lines:
            lines.append(_Line(1, self.requirement_line(line), _known(line.span)))
            lines += self.source_line(2, line.source, line.span)
        if r.carry is not None:
            lines.append(_Line(1, self.carry_line(r.carry), _known(r.carry.span)))
            lines += self.source_line(2, r.carry.source, r.carry.span)
        return lines

    def item_Waiver(self, w: ast.Waiver) -> list[_Line]:
        names: list[Token] = []
        for i, n in enumerate(w.names):
            if i:
                names.append(self.list_sep() if self.zh else self.punct(","))
            names.append(self.name(n))
        return [_Line(0, [self.kw("waive"), *names], _known(w.span)),
                _Line(1, [self.kw("when"), *self.cond(w.when)], _known(w.when.span)),
                *self.source_line(1, w.source, w.span)]

    def item_Reduction(self, r: ast.Reduction) -> list[_Line]:
        fraction = (_NUM, f"{_decimal(r.numerator)}/{_decimal(r.denominator)}")
        if self.zh:  # 学分要求按 hired_on 之前每年递减1/5
            tokens = [*self.kws("credit requirements", "by"), self.name(r.attribute), self.kw("per year before"),
                      fraction]
        else:
            tokens = [*self.kws("reduce", "credit requirements", "by"), fraction, self.kw("per year before"),
                      self.name(r.attribute)]
        return [_Line(0, tokens, _known(r.span)), *self.source_line(1, r.source, r.span)]

    # ---- grades, excellence, penalties, ranks
    def program_of(self, what: str, program: str) -> list[Token]:
        if self.zh:  # 项目 "P" 考核
            return [self.kw("program"), self.string(program), self.kw(what)]
        return [*self.kws(what, "in", "program"), self.string(program)]

    def item_GradeFromAssessment(self, g: ast.GradeFromAssessment) -> list[_Line]:
        tokens = [*self.kws("grade", "from"), *self.program_of("assessment", g.program)]
        return [_Line(0, tokens, _known(g.span)), *self.source_line(1, g.source, g.span)]

    def item_GradeFromScore(self, g: ast.GradeFromScore) -> list[_Line]:
        tokens = [*self.kws("grade", "from"), *self.program_of("score", g.program), self.punct(":")]
        for t in g.thresholds:
            tokens += [self.name(t.grade), self.kw("at"), self.number(t.minimum), self.punct(",")]
        tokens += [self.kw("else"), self.name(g.otherwise)]
        return [_Line(0, tokens, _known(g.span)), *self.source_line(1, g.source, g.span)]

    def item_Excellent(self, e: ast.Excellent) -> list[_Line]:
        return [_Line(0, [*self.kws("excellent", "when"), *self.cond(e.when)], _known(e.span)),
                *self.source_line(1, e.source, e.span)]

    def item_Penalty(self, p: ast.Penalty) -> list[_Line]:
        find = self.layout.find
        lines = [_Line(0, self.head("penalty", p.name), _known(p.span))]
        lines += self.source_line(1, p.source, p.span)
        if p.on is not None:
            lines.append(_Line(1, self.on(p.on), _known(p.on.span)))
        if p.where is not None:
            lines.append(_Line(1, [self.kw("where"), *self.cond(p.where)], find(("where",), p.span)))
        if p.void_credits:
            lines.append(_Line(1, [self.kw("no credits")], find(("void_credits",), p.span)))
        if p.not_excellent:
            lines.append(_Line(1, [self.kw("not excellent")], find(("not_excellent",), p.span)))
        return lines

    def item_Rank(self, r: ast.Rank) -> list[_Line]:
        find = self.layout.find
        lines = [_Line(0, self.head("rank", r.name), _known(r.span))]
        lines += self.source_line(1, r.source, r.span)
        if r.program is not None:
            tokens = [self.kw("by"), *self.program_of("score", r.program)]
            lines.append(_Line(1, tokens, find(("rank_by",), r.span)))
        if r.among is not None:
            lines.append(_Line(1, [self.kw("among"), *self.cond(r.among)], find(("among",), r.span)))
        for top in r.tops:
            tokens = [self.kw("top"), self.number(top.count), *([(_KW, "名")] if self.zh else [])]
            if top.mode != "overall":
                assert top.field is not None
                joiner = self.kw("per" if top.mode == "per" else "across")
                tokens += [(_KW_OPENS, joiner[1]) if self.zh else joiner, self.name(top.field), self.kw("in"),
                           *self.values(top.values)]
            lines.append(_Line(1, tokens, _known(top.span)))
        return lines

    # ---- tests and invariants
    def item_Test(self, t: ast.Test) -> list[_Line]:
        lines = [_Line(0, [self.kw("test"), self.string(t.name), self.punct(":")], _known(t.span))]
        for clause in t.clauses:
            lines.append(self.test_clause(clause))
        return lines

    def test_clause(self, clause: ast.TestClause) -> _Line:
        if isinstance(clause, ast.TestAsOf):
            return _Line(1, [self.kw("as of"), self.date(clause.date)], _known(clause.span))
        if isinstance(clause, ast.TestTeacher | ast.TestEvent):
            who = clause.teacher_id if isinstance(clause, ast.TestTeacher) else clause.event_id
            tokens = [self.kw("teacher" if isinstance(clause, ast.TestTeacher) else "event"), self.ident(who)]
            for a in clause.attributes:
                tokens += [self.name(a.name), (_WORD, "="), self.value(a.value)]
            return _Line(1, tokens, _known(clause.span))
        # expectations fill the line, then continue on lines indented four
        line = _Line(1, [self.kw("expect"), self.ident(clause.teacher_id)], _known(clause.span))
        current, indent, empty = line.tokens, 2, True
        for i, check in enumerate(clause.checks):
            piece = self.expectation(check)
            if i < len(clause.checks) - 1:
                piece.append(self.punct(","))
            if not empty and indent + _width(_join([*current, *piece], self.lang)) > WIDTH:
                current, indent = [], 4
                line.continuation.append(current)
            current += piece
            empty = False
        return line

    def expectation(self, e: ast.Expectation) -> list[Token]:
        if isinstance(e, ast.ExpectField):
            return [self.name(e.field), (_WORD, e.op), self.value(e.value)]
        if isinstance(e, ast.ExpectRequirement):
            return [self.kw("requirement"), self.name(e.requirement), self.kw(e.state)]
        if isinstance(e, ast.ExpectRequired):
            return [self.kw("requirement"), self.name(e.requirement), self.kw("required"), self.value(e.value)]
        if isinstance(e, ast.ExpectActual):
            return [self.kw("requirement"), self.name(e.requirement), self.kw("actual"), self.value(e.value)]
        if isinstance(e, ast.ExpectPeriod):
            return [self.kw("period"), self.date(e.start), self.kw(".."), self.date(e.end)]
        if isinstance(e, ast.ExpectRule):
            return [self.kw("rule"), self.name(e.rule), self.name(e.field), (_WORD, e.op), self.value(e.value)]
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
            text = operand if isinstance(operand, str) else _decimal(operand)
            if i and side.ops[i - 1] == "/" and not isinstance(operand, str) \
                    and not isinstance(side.operands[i - 1], str):
                out[-1] = (_WORD, f"{out[-1][1]}/{text}")  # a fraction reads as one: 4/5
                continue
            if i:
                out.append((_WORD, side.ops[i - 1]))
            out.append((_WORD, text))
        return out

    def typed_atom(self, cond: ast.ArithCompare | ast.Has) -> list[Token]:
        if isinstance(cond, ast.Has):
            return [self.field(cond.field), self.kw("has"), self.value(cond.value)]
        return [*self.arith(cond.left), (_WORD, cond.op), *self.arith(cond.right)]

    def item_Columns(self, c: ast.Columns) -> list[_Line]:
        lines = [_Line(0, [self.kw("columns"), self.punct(":")], _known(c.span))]
        for i, decl in enumerate(c.columns):
            tokens = [self.name(decl.name), self.kw(f"type {decl.type}")]
            if decl.teacher:
                tokens.append(self.kw("of teacher"))
            if i + 1 < len(c.columns):
                tokens.append(self.list_sep())
            last = lines[-1]
            if i and _width(_join([*last.tokens, *tokens], self.lang)) + 2 * last.indent > WIDTH:
                lines.append(_Line(1, tokens, None))  # a long list continues on the next line
            else:
                last.tokens.extend(tokens)
        return [*lines, *self.source_line(1, c.source, c.span)]

    def item_Vocabulary(self, v: ast.Vocabulary) -> list[_Line]:
        field = self.kw(f"vocabulary {v.field}") if f"vocabulary {v.field}" in KEYWORDS else self.name(v.field)
        tokens: list[Token] = [self.kw("vocabulary"), field, self.punct(":")]
        for i, value in enumerate(v.values):
            if i:
                tokens.append(self.list_sep())
            tokens.append(self.name(value))
        return [_Line(0, tokens, _known(v.span)), *self.source_line(1, v.source, v.span)]

    def item_Invariant(self, i: ast.Invariant) -> list[_Line]:
        head, cond = self.head("invariant", i.name), self.cond(i.cond)
        if _width(_join([*head, *cond], self.lang)) <= WIDTH:
            lines = [_Line(0, [*head, *cond], _known(i.span))]
        else:  # a long condition goes on its own line
            lines = [_Line(0, head, _known(i.span)), _Line(1, cond, _known(i.cond.span))]
        return [*lines, *self.source_line(1, i.source, i.span)]


# ------------------------------------------------------------------ comments
def _starts(tree: ast.Policy) -> set[tuple[int, int]]:
    """Where every node and clause starts: code on a comment's line before it makes it trailing."""
    found = {(s.line, s.col) for _, s in tree.clause_spans if _known(s)}

    def walk(node: object) -> None:
        if isinstance(node, tuple):
            for x in node:
                walk(x)
        elif attrs.has(type(node)) and not isinstance(node, ast.Comment):
            span = getattr(node, "span", None)
            start = _known(span) if isinstance(span, Span) else None
            if start:
                found.add(start)
            for name in attrs.fields_dict(type(node)):  # type: ignore[arg-type]
                if name not in ("span", "comments", "clause_spans"):
                    walk(getattr(node, name))

    walk(tree.header)
    walk(tree.items)
    return found


def _place_comments(blocks: list[list[_Line]], tree: ast.Policy, comments: Sequence[ast.Comment]) -> list[ast.Comment]:
    lines = [line for block in blocks for line in block]
    placed = [line for line in lines if line.origin is not None]
    starts = _starts(tree)
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
def _render(blocks: list[list[_Line]], at_end: list[ast.Comment], lang: Lang) -> str:
    out: list[str] = []
    for b, block in enumerate(blocks):
        if b:
            out.append("")
        for i, line in enumerate(block):
            pad = _INDENT * line.indent
            previous: int | None = None
            for comment in line.before:
                if i == 0 and previous is not None and comment.span.line > previous + 1:
                    out.append("")  # keep one blank line between comment paragraphs above a statement
                out.append(pad + comment.text)
                previous = comment.span.line
            if i == 0 and previous is not None and line.origin is not None and line.origin[0] > previous + 1:
                out.append("")
            text = pad + _join(line.tokens, lang)
            for extra in line.continuation:
                out.append(text)
                text = pad + _INDENT + _join(extra, lang)
            out.append(_with_comments(text, line.after))
    if at_end:
        out.append("")
        previous = None
        for comment in at_end:
            if previous is not None and comment.span.line > previous + 1:
                out.append("")
            out.append(comment.text)
            previous = comment.span.line
    return "\n".join(out) + "\n"


def _with_comments(text: str, comments: list[str]) -> str:
    return "  ".join([text, *comments]) if comments else text


def _join(tokens: Sequence[Token], lang: Lang) -> str:
    out = ""
    previous: Token | None = None
    for token in tokens:
        if previous is not None and _space(previous, token, lang):
            out += " "
        out += token[1]
        previous = token
    return out


def _space(left: Token, right: Token, lang: Lang) -> bool:
    if right[0] == _CLOSE or left[0] == _OPEN:
        return False
    if lang == "zh":
        if left[0] in (_CLOSE, _OPEN) or right[0] == _OPEN:
            return False  # full-width punctuation carries its own space
        if right[0] in (_KW_OPENS, _KW_JOINS) or left[0] == _KW_JOINS:
            return True
        if {left[0], right[0]} <= {_KW, _KW_OPENS, _NUM} and not left[0] == right[0] == _NUM:
            return False  # Chinese keywords and numbers run together: 至少36学分, 计入级别, 每学年
    return True


def _cjk(char: str) -> bool:
    return "\u3000" <= char <= "\u9fff" or "\uff00" <= char <= "\uffef"


def _width(text: str) -> int:
    """Display width: a Chinese character takes two columns."""
    return sum(2 if _cjk(c) else 1 for c in text)


def _decimal(value: Decimal | int) -> str:
    return format(Decimal(value), "f")  # never an exponent: 1E+1 does not lex


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
