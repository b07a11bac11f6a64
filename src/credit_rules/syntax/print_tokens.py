"""The words of printed policy text: the keyword tables (English, 中文) and the tokens they make.

A printed line is a list of tokens, each a (kind, text) pair; the kind, not the text,
decides the spacing when :mod:`credit_rules.syntax.print_lines` joins them. This module
holds every keyword pair and :class:`TokenWriter`, which turns keywords, names, numbers,
strings, dates and values into tokens in one language.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from credit_rules.syntax import ast

Lang = Literal["en", "zh"]

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


# Token kinds decide the spacing: Chinese keywords, numbers and full-width punctuation
# sit side by side (至少36学分), anything else is separated by one space.
KW, NUM, WORD, PUNCT, OPEN, CLOSE = "kw", "num", "word", "punct", "open", "close"
# Chinese keywords that open a phrase get a space before them (至多7学分 限级别 municipal),
# and the connectives a space on both sides (… 或 met = 否).
KW_OPENS, KW_JOINS = "kw-opens", "kw-joins"
ZH_OPENS = frozenset({"限", "其中", "适用于", "优先于"})
ZH_JOINS = frozenset({"且", "或"})
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
PUNCTUATION = {":": "：", ",": "，", "(": "（", ")": "）"}
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
ZH_UNITS = {"years": "年", "months": "个月", "days": "天"}



class TokenWriter:
    """Makes the tokens of one language; the printer builds its statements from these."""

    def __init__(self, lang: Lang):
        self.lang = lang
        self.zh = lang == "zh"

    # ---- tokens
    def kw(self, key: str) -> Token:
        text = KEYWORDS[key][1 if self.zh else 0]
        return (KW_OPENS if text in ZH_OPENS else KW_JOINS if text in ZH_JOINS else KW, text)

    def kws(self, *keys: str) -> list[Token]:
        return [self.kw(k) for k in keys]

    def punct(self, char: str) -> Token:
        kind = OPEN if char == "(" else CLOSE if char in "),:" else PUNCT
        return (kind, PUNCTUATION[char] if self.zh else char)

    def list_sep(self) -> Token:
        return (CLOSE, "、" if self.zh else ",")

    @staticmethod
    def name(text: str) -> Token:
        return (WORD, text)

    @staticmethod
    def number(value: Decimal | int) -> Token:
        return (NUM, decimal_text(value))

    @staticmethod
    def string(text: str) -> Token:
        return (WORD, quote(text))

    @staticmethod
    def date(value: dt.date) -> Token:
        return (WORD, value.isoformat())

    def unit(self, unit: str, amount: Decimal | int) -> Token:
        singular = amount == 1
        if unit == "credits":
            return self.kw("credit" if singular else "credits")
        return self.kw("hour" if singular else "hours")

    def ident(self, text: str) -> Token:
        """A teacher or event id in a test: a bare name when it reads as one, else quoted."""
        if NAME.match(text):  # where an id is expected a keyword is read as a name
            return self.name(text)
        return self.string(text)

    def value(self, value: ast.Value) -> Token:
        if isinstance(value, ast.Word):
            return self.name(value.text)
        if isinstance(value, ast.Text):
            return self.string(value.text)
        if isinstance(value, ast.Number):
            return (WORD, decimal_text(value.value))  # a compared value stands apart: credits = 0 且 …
        if isinstance(value, ast.DateValue):
            return self.date(value.value)
        return (WORD, KEYWORDS["true" if value.value else "false"][1 if self.zh else 0])

    def values(self, values: Sequence[ast.Value]) -> list[Token]:
        out: list[Token] = [self.punct("(")]
        for i, v in enumerate(values):
            if i:
                out.append(self.list_sep())
            out.append(self.value(v))
        out.append(self.punct(")"))
        return out


def decimal_text(value: Decimal | int) -> str:
    return format(Decimal(value), "f")  # never an exponent: 1E+1 does not lex


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
