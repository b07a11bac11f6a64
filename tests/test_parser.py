"""The surface syntax: the design's literal phrases, spans, comments and error translation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from credit_rules.errors import PolicyError
from credit_rules.syntax import ast
from credit_rules.syntax.parser import extract_comments, parse

HEADER = "policy p\n  window 2017-09-01 .. 2018-08-31\n"


def only_rule(text: str) -> ast.Rule:
    (rule,) = parse(HEADER + text).items
    assert isinstance(rule, ast.Rule)
    return rule


def test_the_four_phrases_of_the_design_parse_literally() -> None:
    """`18 credits if qualified`, `3 credits per 30 hours`, `absent task = one day leave`,
    `10 hours = 1 credit` are the language, word for word."""
    assert only_rule('rule a: program "x" 18 credits if qualified').award == ast.IfQualified(Decimal(18), "credits")
    assert only_rule("rule b: on training 3 credits per 30 hours").award == ast.Block(Decimal(3), Decimal(30))
    assert only_rule("rule c: on task_missed absent task = one day leave").award == ast.Leave()
    tree = parse("policy p window 2021-01-01 .. 2025-12-31 10 hours = 1 credit")
    assert tree.header.conversion == ast.Conversion(Decimal(10), Decimal(1))


def test_pro_rata_blocks() -> None:
    assert only_rule("rule b: on training 1 credit per 10 hours pro rata").award == ast.Block(
        Decimal(1), Decimal(10), pro_rata=True)


def test_every_node_keeps_its_span() -> None:
    tree = parse(HEADER + "rule a:\n  on training\n  where category ethics\n  count hours\n", "x.policy")
    rule = tree.items[0]
    assert isinstance(rule, ast.Rule)
    assert (rule.span.file, rule.span.line, rule.span.col) == ("x.policy", 3, 1)
    assert rule.where is not None
    assert (rule.where.span.line, rule.where.span.col) == (5, 9)
    assert rule.on is not None and rule.on.span.line == 4


def test_equality_ignores_spans() -> None:
    a = parse(HEADER + "rule a: on training count hours")
    b = parse(HEADER + "\n\n\nrule   a:\n on training\n\n count hours")
    assert a == b
    assert a.items[0].span != b.items[0].span


def test_conditions_build_and_or_not() -> None:
    rule = only_rule("rule a: on training where (category ethics or level school) and not format lecture count hours")
    assert rule.where == ast.And((
        ast.Or((ast.Compare("category", "=", ast.Word("ethics")), ast.Compare("level", "=", ast.Word("school")))),
        ast.Not(ast.Compare("format", "=", ast.Word("lecture"))),
    ))


def test_clauses_may_come_in_any_order_but_not_twice() -> None:
    a = only_rule("rule a: count hours on training")
    b = only_rule("rule a: on training count hours")
    assert a == b
    with pytest.raises(PolicyError) as error:
        parse(HEADER + "rule a: on training on assessment count hours")
    assert error.value.diagnostics[0].code == "E005"


def test_a_rule_without_award_is_reported() -> None:
    with pytest.raises(PolicyError) as error:
        parse(HEADER + "rule a: on training")
    assert error.value.diagnostics[0].code == "E006"


def test_comments_are_kept_but_not_inside_text() -> None:
    text = 'policy p # the header\n  source "clause #3"\n# a whole line\n'
    comments = extract_comments(text)
    assert [c.text for c in comments] == ["# the header", "# a whole line"]
    assert [c.span.line for c in comments] == [1, 3]
    assert parse(text).comments == comments


def test_syntax_errors_point_at_the_token() -> None:
    with pytest.raises(PolicyError) as error:
        parse(HEADER + "rule a: on training count houses", "bad.policy")
    (diagnostic,) = error.value.diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.col) == ("E003", 3, 27)
    assert "bad.policy:3:27" in error.value.render()


def test_keywords_may_still_be_column_names_in_test_events() -> None:
    """`at`, `count`, `program`, `grade` are keywords elsewhere but columns in a test event."""
    tree = parse(HEADER + 'test "t": event e1 teacher_id = t kind = assessment at = 2018-01-01 '
                 'program = "x" grade = qualified count = 2')
    (test,) = tree.items
    assert isinstance(test, ast.Test)
    event = test.clauses[0]
    assert isinstance(event, ast.TestEvent)
    assert [a.name for a in event.attributes] == ["teacher_id", "kind", "at", "program", "grade", "count"]
