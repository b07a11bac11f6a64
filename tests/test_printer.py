"""The formatter and the Chinese keywords: round trips, idempotence, comments, zh == en.

Golden files: each tests/golden/fmt/<case>.policy has <case>.expected, the exact output of
`credit-rules fmt` (`--lang zh` for cases named *_zh). Regenerate with
`pytest --update-golden` and review the diff.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lark import Lark, logger

from conftest import POLICIES, ROOT, GoldenCheck, examples
from credit_rules.compile import compile_source
from credit_rules.errors import PolicyError
from credit_rules.syntax import ast
from credit_rules.syntax.parser import grammar_text, parse
from credit_rules.syntax.printer import print_policy
from credit_rules.testing.strategies import conditions, policy_asts

SHIPPED = sorted(POLICIES.glob("*.policy"))
GOLDEN = Path(__file__).parent / "golden" / "fmt"
CASES = sorted(GOLDEN.glob("*.policy"))
ZH_EXAMPLE = ROOT / "examples" / "shandong_remote_2017_zh.policy"
HEADER = "policy p\n"
PROPERTY = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Generated trees per property: QUICK in the default run, SOAK behind `pytest -m slow`.
QUICK, SOAK = 25, 1000


def fmt(text: str, lang: str = "en") -> str:
    return print_policy(parse(text), lang=lang)  # type: ignore[arg-type]


# ------------------------------------------------------------------ shipped policies
@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_shipped_policies_round_trip(path: Path, lang: str) -> None:
    """Printing a shipped policy in either language and parsing it back gives the same AST."""
    tree = parse(path.read_text(encoding="utf-8"), str(path))
    assert parse(print_policy(tree, lang=lang)) == tree  # type: ignore[arg-type]


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_policies_are_canonical(path: Path) -> None:
    """The shipped policies are already formatted (run `credit-rules fmt --write policies/*.policy`)."""
    text = path.read_text(encoding="utf-8")
    assert fmt(text) == text


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_formatting_keeps_every_comment_and_citation(path: Path) -> None:
    """No comment and no `source` citation of a shipped policy is lost, in English or Chinese."""
    text = path.read_text(encoding="utf-8")
    tree = parse(text)
    for lang in ("en", "zh"):
        printed = print_policy(tree, lang=lang)  # type: ignore[arg-type]
        for comment in tree.comments:
            assert comment.text in printed
        assert printed.count('"') == text.count('"')


def test_chinese_example_compiles_to_the_shipped_policy() -> None:
    """examples/shandong_remote_2017_zh.policy, all in Chinese keywords, is the shipped policy's IR."""
    zh = compile_source(ZH_EXAMPLE.read_text(encoding="utf-8"), str(ZH_EXAMPLE))
    en = compile_source((POLICIES / "shandong_remote_2017.policy").read_text(encoding="utf-8"), "en")
    assert attrs.evolve(zh, file="en") == en, (
        "regenerate: credit-rules fmt --lang zh policies/shandong_remote_2017.policy > examples/…_zh.policy")


def test_chinese_example_is_canonical_chinese() -> None:
    """The Chinese example is exactly what `credit-rules fmt --lang zh` prints: Chinese keywords only."""
    text = ZH_EXAMPLE.read_text(encoding="utf-8")
    assert fmt(text, "zh") == text


# ------------------------------------------------------------------ golden files
@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_formatted_output_matches_golden(case: Path, golden: GoldenCheck) -> None:
    """Each golden input formats to exactly the reviewed text, and that text is a fixed point."""
    lang = "zh" if case.stem.endswith("_zh") else "en"
    source = case.read_text(encoding="utf-8")
    actual = fmt(source, lang)
    golden(case.with_suffix(".expected"), actual)
    assert fmt(actual, lang) == actual
    assert parse(actual) == parse(source)


# ------------------------------------------------------------------ properties
@examples(quick=QUICK, soak=SOAK)
def test_generated_trees_round_trip_in_both_languages(examples: int) -> None:
    """parse(print(ast)) == ast for generated ASTs, with English and with Chinese keywords."""

    @settings(PROPERTY, max_examples=examples)
    @given(policy_asts())
    def check(tree: ast.Policy) -> None:
        for lang in ("en", "zh"):
            assert parse(print_policy(tree, lang=lang)) == tree  # type: ignore[arg-type]

    check()


@examples(quick=QUICK, soak=SOAK)
def test_formatting_is_idempotent(examples: int) -> None:
    """fmt(fmt(x)) == fmt(x)."""

    @settings(PROPERTY, max_examples=examples)
    @given(policy_asts(), st.sampled_from(["en", "zh"]))
    def check(tree: ast.Policy, lang: str) -> None:
        once = print_policy(tree, lang=lang)  # type: ignore[arg-type]
        assert fmt(once, lang) == once

    check()


@examples(quick=QUICK, soak=SOAK)
def test_chinese_and_english_text_parse_to_the_same_tree(examples: int) -> None:
    """`fmt --lang zh` and `fmt --lang en` of one policy are two spellings of one AST."""

    @settings(PROPERTY, max_examples=examples)
    @given(policy_asts())
    def check(tree: ast.Policy) -> None:
        assert parse(print_policy(tree, lang="zh")) == parse(print_policy(tree, lang="en"))

    check()


# Built once: a recursive strategy rebuilt inside every draw made this test take minutes.
SMALL_TREES = policy_asts(max_statements=4)


@st.composite
def commented_texts(draw: st.DrawFn) -> tuple[str, str]:
    """A printed policy with comments sprinkled on their own lines and after code."""
    lang = draw(st.sampled_from(["en", "zh"]))
    lines = print_policy(draw(SMALL_TREES), lang=lang).splitlines()  # type: ignore[arg-type]
    out: list[str] = []
    for n, line in enumerate(lines):
        if draw(st.integers(0, 3)) == 0:
            out.append(" " * draw(st.integers(0, 6)) + f"# own {n} 注释")
        if line.strip() and draw(st.integers(0, 3)) == 0:
            line += f"  # trailing {n}"
        out.append(line)
    if draw(st.booleans()):
        out.append("# the end")
    return lang, "\n".join(out) + "\n"


@examples(quick=QUICK, soak=SOAK)
def test_every_comment_survives_formatting(examples: int) -> None:
    """Every comment's text is in the output, trailing ones still after code, and fmt stays idempotent."""

    @settings(PROPERTY, max_examples=examples)
    @given(commented_texts())
    def check(case: tuple[str, str]) -> None:
        lang, text = case
        tree = parse(text)
        once = print_policy(tree, lang=lang)  # type: ignore[arg-type]
        printed = once.splitlines()
        for comment in tree.comments:
            assert comment.text in once
            if comment.text.startswith("# trailing"):
                # still after code (two trailing comments of one printed line are joined at its end)
                assert any(comment.text in line and not line.lstrip().startswith("#") for line in printed)
        assert parse(once) == tree
        assert fmt(once, lang) == once

    check()


def _paren_pairs(text: str) -> list[tuple[int, int]]:
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for i, char in enumerate(text):
        if char == "(":
            stack.append(i)
        elif char == ")":
            pairs.append((stack.pop(), i))
    return pairs


@examples(quick=2 * QUICK, soak=SOAK)
def test_conditions_print_with_only_the_parentheses_they_need(examples: int) -> None:
    """Conditions read back as the same tree, and dropping any pair of grouping parentheses would
    change it, except the ones kept around an `and` inside an `or` for the reader."""

    @settings(PROPERTY, max_examples=examples)
    @given(conditions())
    def check(cond: ast.Cond) -> None:
        _check_minimal_parentheses(cond)

    check()


def _check_minimal_parentheses(cond: ast.Cond) -> None:
    tree = ast.Policy(ast.Header("p"), (ast.Invariant("i", cond),))
    printed = print_policy(tree)
    assert parse(printed) == tree
    assume('"' not in printed)  # quoted text may hold parentheses of its own
    for start, end in _paren_pairs(printed):
        if printed[:start].endswith("in "):
            continue  # a value list, not a group
        dropped = printed[:start] + " " + printed[start + 1:end] + " " + printed[end + 1:]
        try:
            same = parse(dropped) == tree
        except PolicyError:
            same = False
        if same:
            inner = printed[start + 1:end]
            assert " and " in inner and (printed[:start].endswith("or ") or printed[end + 1:].startswith(" or"))


def test_parentheses_are_minimal_except_and_inside_or() -> None:
    """`and` binds tighter than `or`, `not` tighter than both; `a or (b and c)` keeps its parentheses."""
    def cond(text: str) -> str:
        return fmt(f"{HEADER}invariant i: {text}").split(": ", 1)[1].strip()

    assert cond("((a = 1) and (b = 2))") == "a = 1 and b = 2"
    assert cond("(a = 1 or b = 2) and c = 3") == "(a = 1 or b = 2) and c = 3"
    assert cond("a = 1 or (b = 2 and c = 3)") == "a = 1 or (b = 2 and c = 3)"
    assert cond("not (a = 1 and b = 2)") == "not (a = 1 and b = 2)"
    assert cond("not (category = ethics)") == "not category ethics"


# ------------------------------------------------------------------ Chinese keywords
SPELLINGS = [
    ('rule r: program "remote-2017" 18 credits if qualified', '规则 r：项目 "remote-2017" 合格计18学分'),
    ('rule r: program "remote-2017" 18 credits if qualified', '规则 r: 项目 "remote-2017" 18 学分 若 合格'),
    ("rule r: on training 3 credits per 30 hours", "规则 r：事件 training 每30学时计3学分"),
    ("rule r: on training 1 credit per 10 hours pro rata", "规则 r：事件 training 每10学时按比例计1学分"),
    ("rule r: on first probation_training 12 credits without category as level school",
     "规则 r：首次 probation_training 计12学分 不计类别 计入级别 school"),
    ("rule r: on task_missed absent task = one day leave", "规则 r：事件 task_missed 未完成任务视为请假一天"),
    ("rule r: on training where category != class_teacher count hours exception to q",
     "规则 r：事件 training 其中类别 != class_teacher 计学时 优先于 q"),
    ("cap c: at most 2 credits per school year of category practice", "上限 c：至多2学分每学年限类别 practice"),
    ("cap c: at most 10% of practice of category practice and format lecture",
     "上限 c：不超过 practice 的10% 限类别 practice 且形式 lecture"),
    ("require t: at least 36 credits when title = senior", "要求 t：至少36学分适用于 title = senior"),
    ("require t: at least 36 credits", "要求 t：不少于36学分"),
    ("require e: at least 12 credits of category in (ethics, literacy)", "要求 e：至少12学分限类别属于（ethics、literacy）"),
    ("require e: at least 12 credits of category not in (ethics, literacy)", "要求 e：至少12学分限类别不属于（ethics，literacy）"),
    ('require q: qualified in program "ed-tech" when hired_on <= 2022-03-01',
     '要求 q：项目 "ed-tech" 合格 适用于 hired_on <= 2022-03-01'),
    ("require r: at least 1 reflection where words >= 1000 and on or before 2023-04-30",
     "要求 r：至少1 reflection 其中 words >= 1000 且不晚于 2023-04-30"),
    ("waive a, b when retired_on <= 2025-12-31", "免修 a、b 适用于 retired_on <= 2025-12-31"),
    ("reduce credit requirements by 1/5 per year before hired_on", "学分要求按 hired_on 之前每年递减1/5"),
    ('grade from assessment in program "p"', '等级取自项目 "p" 考核'),
    ('grade from score in program "p": excellent at 90, qualified at 60, else unqualified',
     '等级取自项目 "p" 成绩：excellent 达90，qualified 达60，否则 unqualified'),
    ('excellent when qualified in program "p" and leave_days = 0 and no reprimand',
     '优秀适用于项目 "p" 合格且 leave_days = 0 且无 reprimand'),
    ("penalty p: on reprimand no credits not excellent", "处罚 p：事件 reprimand 不计学分 不得评优"),
    ('rank r: by score in program "p" among grade in (excellent, qualified) and not role leader '
     "top 2 per workshop in (a, b) top 2 across workshop in (c, d) top 1",
     '评选 r：按项目 "p" 成绩 范围 grade 属于（excellent、qualified）且非角色 leader '
     "前2名每 workshop 属于（a、b） 前2名合计 workshop 属于（c、d） 前1名"),
    ("excellent when ranked or any reflection or role dean or on or after 2020-01-01",
     "优秀适用于入选或有 reflection 或角色 dean 或不早于 2020-01-01"),
    ("invariant i: met = false or (credits >= 7.2 and not ranked x)", "恒成立 i：met = 否 或（credits >= 7.2 且 非入选 x）"),
    ('test "t": as of 2025-12-31 teacher t1 title = senior event e1 kind = training hours = 10 '
     "expect t1 credits = 1, requirement total met, requirement a not met, requirement b absent, "
     "requirement c waived, requirement d required 36, requirement d actual 1, period 2021-01-01 .. 2025-12-31, "
     "rule r credits = 1, rule r events (e1)",
     '测试 "t"：截至 2025-12-31 教师 t1 title = senior 记录 e1 kind = training hours = 10 '
     "预期 t1 credits = 1，要求项 total 达标，要求项 a 未达标，要求项 b 不适用，"
     "要求项 c 已免修，要求项 d 应达 36，要求项 d 实际 1，期间 2021-01-01 至 2025-12-31，"
     "规则 r credits = 1，规则 r 记录（e1）"),
]


@pytest.mark.parametrize(("english", "chinese"), SPELLINGS, ids=[e.split(":")[0] for e, _ in SPELLINGS])
def test_english_and_chinese_spellings_give_the_same_tree(english: str, chinese: str) -> None:
    """Every construct has a Chinese spelling, in Chinese word order, that builds the English AST."""
    assert parse(HEADER + chinese) == parse(HEADER + english)


def test_headers_in_chinese() -> None:
    """The header clauses, the window and the evaluation period read the same in Chinese."""
    english = ('policy p title "t" source "s" timezone "Asia/Shanghai" cycle 2021-01-01 .. 2025-12-31 '
               "evaluate over cycle 10 hours = 1 credit")
    chinese = '政策 p 标题 "t" 依据 "s" 时区 "Asia/Shanghai" 周期 2021-01-01 至 2025-12-31 按周期核算 10学时折合1学分'
    assert parse(chinese) == parse(english)
    assert parse("政策 p 每学期核算").header.evaluate == "semester"
    assert parse("政策 p 每学年核算").header == parse("policy p evaluate per school year").header


def test_chinese_needs_no_spaces() -> None:
    """Chinese keywords, numbers and units run together: 至少36学分, 18学分, 计入级别."""
    tree = parse("政策 p\n规则 r：事件 training 计18学分 计入级别 school\n要求 t：至少36学分")
    rule, requirement = tree.items
    assert isinstance(rule, ast.Rule) and isinstance(requirement, ast.Requirement)
    assert rule.award == ast.Fixed(Decimal(18), "credits")
    assert requirement.lines[0] == ast.AtLeast(Decimal(36), ast.MeasureCredits())


def test_english_keywords_still_parse_unchanged() -> None:
    """The English spellings the shipped policies use are untouched by the Chinese alternatives."""
    assert parse(HEADER + "rule r: on training 12 credits").items == parse(HEADER + "rule r: on training 12 credit").items
    assert parse(HEADER + "cap c: at most 10% of practice").items[0] == ast.Cap("c", Decimal(10), "practice")


def test_grammar_has_only_its_documented_conflicts() -> None:
    """LALR(1) with no new conflicts: only `source` attaching to the nearest line and `grade` in tests."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    handler, level = Collect(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        Lark(grammar_text(), parser="lalr", debug=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    conflicts = {m.split("terminal ", 1)[1].split(":", 1)[0] for m in messages if "conflict" in m.lower()}
    assert conflicts <= {"SOURCE", "依据", "GRADE"}, conflicts
    assert not any("Reduce/Reduce" in m for m in messages)


def test_print_rejects_an_unknown_language() -> None:
    """Only `en` and `zh` are languages of the printer."""
    with pytest.raises(ValueError, match="lang"):
        print_policy(parse(HEADER), lang="fr")  # type: ignore[arg-type]
