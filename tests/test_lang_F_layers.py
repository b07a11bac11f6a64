"""Issue 9, construct 12: layered policies (`extends`, `replace`, `drop`, folder-tree confinement).

Golden diagnostics: each tests/golden/layers/<case>.policy has <case>.error, the exact text
`credit-rules check` prints (parents live in tests/golden/layers/parents/). Regenerate with
`pytest --update-golden` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, GoldenCheck
from credit_rules import ir
from credit_rules.api import evaluate
from credit_rules.cli import main
from credit_rules.compile import check_source, compile_source, layer_sources, load_policy
from credit_rules.errors import PolicyError
from credit_rules.eval import bulk
from credit_rules.eval.explain import explain
from credit_rules.syntax import ast
from credit_rules.syntax.parser import parse
from credit_rules.syntax.printer import print_policy
from credit_rules.testing.blocks import load
from credit_rules.testing.builders import make_event, make_teacher

LAYERS = ROOT / "examples" / "layers"
CITY, COUNTY = LAYERS / "city_y.policy", LAYERS / "county_x.policy"
GOLDEN = ROOT / "tests" / "golden" / "layers"
CASES = sorted(GOLDEN.glob("*.policy"))

BASE = """policy base
  title "the base"
  window 2024-01-01 .. 2024-12-31
  evaluate over window
  10 hours = 1 credit

rule training_hours:
  on training
  count hours

cap municipal_at_most: at most 4 credits of level municipal

require total: at least 7.2 credits

excellent when credits >= 20

test "base only":
  teacher t1 title = junior
  expect t1 credits = 0
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def codes(path: Path) -> list[str]:
    _, diagnostics = check_source(path.read_text(encoding="utf-8"), str(path))
    return [d.code for d in diagnostics if d.is_error]


# ---------------------------------------------------------------------- syntax and fmt
def test_english_and_chinese_keywords_give_the_same_ast() -> None:
    en = parse('policy c extends b\nreplace rule r: on training count hours\ndrop cap m source "x"\n'
               "replace requirement t: at least 3 credits\ndrop requirement q\n")
    zh = parse('政策 c 继承 b\n替换规则 r：事件 training 计学时\n删除上限 m 依据 "x"\n'
               "替换要求 t：至少3学分\n删除要求项 q\n")
    assert en == zh
    assert en.header.extends == ast.Extends("b")
    assert [type(i).__name__ for i in en.items] == ["Replace", "Drop", "Replace", "Drop"]
    assert en.items[1] == ast.Drop("cap", "m", "x")
    assert parse('policy c extends "sub/b.policy"').header.extends == ast.Extends("sub/b.policy", is_path=True)
    # `replace require` is accepted as well as `replace requirement`
    assert parse("policy c extends b replace require t: at least 3 credits").items == en.items[2:3]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_fmt_keeps_the_layering_as_written_and_round_trips(lang: str) -> None:
    text = COUNTY.read_text(encoding="utf-8")
    printed = print_policy(parse(text), lang=lang)  # type: ignore[arg-type]
    assert parse(printed) == parse(text)
    assert print_policy(parse(printed), lang=lang) == printed  # type: ignore[arg-type]
    first = printed.splitlines()[4]
    assert first == ("policy county_x extends city_y" if lang == "en" else "政策 county_x 继承 city_y")
    assert ("drop cap municipal_at_most" if lang == "en" else "删除上限 municipal_at_most") in printed
    if lang == "en":
        assert printed == text  # the example is in canonical form
    other = 'policy c extends "shared/b.policy"\n\nreplace cap m: at most 2 credits per school year\n'
    assert print_policy(parse(other)) == other


# ---------------------------------------------------------------------- resolution
def test_load_policy_resolves_the_chain_into_one_policy() -> None:
    county, city = load_policy(COUNTY), load_policy(CITY)
    assert county.name == "county_x" and county.title == "某县中小学教师继续教育学分实施细则"
    # inherited header clauses
    assert (county.window, county.evaluate, county.rate) == (city.window, city.evaluate, Decimal("0.1"))
    assert sorted(r.name for r in county.rules) == [
        "class_teacher_training", "county_lectures", "course_credits", "training_hours"]
    block = next(r for r in county.rules if r.name == "class_teacher_training").award
    assert isinstance(block, ir.Block) and block.hours == 20
    assert county.caps == () and len(city.caps) == 1  # dropped
    assert county.requirement("total").lines[0].amount == 10
    assert county.requirement("class_teacher") == city.requirement("class_teacher")  # inherited as is
    assert county.layers == (ir.Layer("county_x", str(COUNTY)), ir.Layer("city_y", str(CITY)))
    spans = {r.name: r.span.file for r in county.rules}
    assert spans == {"class_teacher_training": str(COUNTY), "county_lectures": str(COUNTY),
                     "course_credits": str(CITY), "training_hours": str(CITY)}
    assert city.layers == ()


def test_the_child_runs_its_own_tests_not_the_parents() -> None:
    put = load(COUNTY)
    assert [t.name.split(":")[0] for t in put.tests] == ["county", "county", "county"]


def test_header_singletons_and_parent_tests(tmp_path: Path) -> None:
    write(tmp_path, "base.policy", BASE)
    child = write(tmp_path, "child.policy", "policy child extends base\n  cycle 2021-01-01 .. 2025-12-31\n\n"
                  "excellent when credits >= 5\n\nreduce credit requirements by 1/5 per year before hired_on\n")
    policy = load_policy(child)
    assert policy.title == "the base"  # not restated: inherited
    assert policy.window is not None and policy.window.start == dt.date(2021, 1, 1)  # restated: the child's
    assert policy.excellent is not None and policy.excellent.span.file == str(child)  # replaced, not doubled
    assert policy.reduction is not None
    assert load(child).tests == ()


def test_a_chain_through_subfolders_and_explain_cites_each_layer(tmp_path: Path) -> None:
    write(tmp_path, "region/base.policy", BASE)
    write(tmp_path, "region/mid.policy", "policy mid extends base\n\nrule course_credits:\n  on credit_award\n"
          "  count credits\n")
    top = write(tmp_path, "top.policy", 'policy top extends "region/mid.policy"\n\n'
                "replace requirement total:\n  at least 1 credit\n")
    policy = load_policy(top)
    assert [layer.name for layer in policy.layers] == ["top", "mid", "base"]
    events = [make_event("e1", "t1", "2024-03-01", kind="training", hours="15"),
              make_event("e2", "t1", "2024-04-01", kind="credit_award", credits="2")]
    [period] = explain(policy, events, {"t1": make_teacher("t1")}, "t1")
    layers = {r.rule: r.layer for r in period.rules}
    assert layers["training_hours"] == f"base ({tmp_path / 'region' / 'base.policy'}:7)"
    assert layers["course_credits"] == f"mid ({tmp_path / 'region' / 'mid.policy'}:3)"
    assert period.requirements[0].layer == f"top ({top}:3)"
    assert period.caps[0].layer is not None and period.caps[0].layer.startswith("base (")
    assert period.credits == Decimal("3.5")
    assert json.loads(json.dumps(period.to_json()))["rules"][0]["layer"].startswith(("base", "mid"))


def test_an_unlayered_policy_explains_as_before(shipped: object) -> None:
    policy = load_policy(ROOT / "policies" / "annual_training.policy")
    [period] = explain(policy, [make_event("e1", "t1", "2024-03-01", kind="training", hours="5")],
                       {"t1": make_teacher("t1")}, "t1")
    assert all(r.layer is None for r in period.rules)
    assert all("layer" not in r for r in period.to_json()["rules"])


def test_lookup_order_own_folder_then_one_subfolder(tmp_path: Path) -> None:
    write(tmp_path, "sub/base.policy", BASE)
    child = write(tmp_path, "child.policy", "policy child extends base\n")
    assert load_policy(child).layers[1].file == str(tmp_path / "sub" / "base.policy")
    write(tmp_path, "other/base.policy", BASE)
    assert codes(child) == ["E193"]  # two subfolders hold one: ambiguous
    write(tmp_path, "base.policy", BASE.replace('"the base"', '"own folder"'))
    assert load_policy(child).title == "own folder"  # the child's own folder comes first


@pytest.mark.parametrize(("parent", "code"), [
    ('"../outside.policy"', "E194"), ('"/etc/passwd"', "E194"), ('"sub/../../outside.policy"', "E194"),
    ('"sub/base.txt"', "E192"), ("nowhere", "E192"), ('"sub/none.policy"', "E192"), ("child", "E195"),
])
def test_only_files_inside_the_folder_tree_can_be_named(tmp_path: Path, parent: str, code: str) -> None:
    write(tmp_path, "outside.policy", BASE)
    write(tmp_path, "inner/sub/base.txt", BASE)
    child = write(tmp_path, "inner/child.policy", f"policy child extends {parent}\n")
    assert codes(child) == [code]


def test_a_symbolic_link_leading_out_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "outside/base.policy", BASE)
    (tmp_path / "inner" / "sub").mkdir(parents=True)
    os.symlink(tmp_path / "outside" / "base.policy", tmp_path / "inner" / "base.policy")
    os.symlink(tmp_path / "outside", tmp_path / "inner" / "sub" / "linked_dir")
    child = write(tmp_path, "inner/child.policy", "policy child extends base\n")
    assert codes(child) == ["E194"]
    (tmp_path / "inner" / "base.policy").unlink()  # a linked folder is not searched
    assert codes(child) == ["E192"]
    via_path = write(tmp_path, "inner/child2.policy", 'policy child extends "sub/linked_dir/base.policy"\n')
    assert codes(via_path) == ["E194"]


def test_a_cycle_and_an_unreadable_parent(tmp_path: Path) -> None:
    a = write(tmp_path, "a.policy", "policy a extends b\n")
    write(tmp_path, "b.policy", "policy b extends a\n")
    assert codes(a) == ["E195"]
    (tmp_path / "c.policy").write_bytes(b"policy c \xff\xfe\n")
    assert codes(write(tmp_path, "d.policy", "policy d extends c\n")) == ["E196"]


def test_policy_text_resolves_relative_to_its_file(tmp_path: Path) -> None:
    write(tmp_path, "base.policy", BASE)
    text = "policy child extends base\n"
    with pytest.raises(PolicyError) as caught:
        compile_source(text)
    assert [d.code for d in caught.value.diagnostics] == ["E191"]
    assert compile_source(text, str(tmp_path / "child.policy")).name == "child"  # the file need not exist


def test_a_parents_diagnostic_points_at_the_parents_line(tmp_path: Path) -> None:
    parent = write(tmp_path, "base.policy", BASE.replace("level municipal", "level municipl"))
    child = write(tmp_path, "child.policy", "policy child extends base\n")
    with pytest.raises(PolicyError) as caught:
        load_policy(child)
    [diagnostic] = caught.value.diagnostics
    assert (diagnostic.code, diagnostic.span.file, diagnostic.span.line) == ("E102", str(parent), 11)
    assert "11 | cap municipal_at_most: at most 4 credits of level municipl" in caught.value.render()
    [(note, via)] = diagnostic.notes  # which `extends` read the parent
    assert (via.file, via.line, via.col) == (str(child), 1, 14) and note.startswith(f"{parent} is read as")


def test_overrides_are_checked(tmp_path: Path) -> None:
    write(tmp_path, "base.policy", BASE)
    cases = {
        "replace rule trainig_hours: on training count hours": "E197",
        "drop cap nothing": "E197",
        "replace requirement municipal_at_most: at least 1 credit": "E197",  # a cap, not a requirement
        "rule training_hours: on training count hours": "E198",
        "cap municipal_at_most: at most 1 credit": "E198",
        "drop cap municipal_at_most\ndrop cap municipal_at_most": "E199",
    }
    for body, code in cases.items():
        child = write(tmp_path, "child.policy", f"policy child extends base\n{body}\n")
        assert codes(child) == [code], body
    orphan = write(tmp_path, "orphan.policy", BASE + "\ndrop rule training_hours\n")
    assert codes(orphan) == ["E190"]
    # a name inherited under another kind still collides (the one namespace of a policy)
    clash = write(tmp_path, "clash.policy", "policy child extends base\ncap training_hours: at most 100 credits\n")
    assert codes(clash) == ["E103"]


# ---------------------------------------------------------------------- engines
@pytest.mark.parametrize("engine", ["interpreter", "bulk"])
def test_both_engines_evaluate_the_resolved_policy(engine: str) -> None:
    policy = load_policy(COUNTY)
    assert bulk.compile_plan(policy).fallbacks == ()
    events = [
        make_event("a1", "t1", "2024-03-01", kind="training", hours="72", category="knowledge", level="school"),
        make_event("a2", "t1", "2024-04-01", kind="training", hours="45", category="class_teacher",
                   level="municipal"),
        make_event("b1", "t2", "2024-05-01", kind="credit_award", credits="6", level="municipal"),
        make_event("b2", "t2", "2024-06-01", kind="lesson_given", category="practice"),
    ]
    teachers = {"t1": make_teacher("t1", roles=("teacher", "class_teacher")), "t2": make_teacher("t2")}
    rows = {r.teacher_id: r for r in evaluate(policy, events, teachers, engine=engine).rows}  # type: ignore[arg-type]
    assert rows["t1"].credits == Decimal("13.2")  # 7.2 + two 20-hour blocks of 3 (the county's block)
    assert rows["t2"].credits == 8 and rows["t2"].by_level["municipal"] == 6  # the city's cap of 4 is dropped
    assert {r.name: r.required for r in rows["t1"].requirements} == {"total": 10, "class_teacher": 30}
    city = {r.teacher_id: r for r in evaluate(load_policy(CITY), events, teachers, engine=engine).rows}  # type: ignore[arg-type]
    assert city["t2"].credits == 4 and city["t1"].credits == Decimal("10.2")


# ---------------------------------------------------------------------- command line
def test_the_command_line_works_on_a_layered_policy(tmp_path: Path) -> None:
    runner = CliRunner()
    events = tmp_path / "events.jsonl"
    events.write_text(json.dumps({"event_id": "a1", "teacher_id": "t1", "at": "2024-03-01", "kind": "training",
                                  "hours": 72, "category": "knowledge", "level": "school"}) + "\n")
    checked = runner.invoke(main, ["check", str(COUNTY)])
    assert checked.exit_code == 0, checked.output
    evaluated = runner.invoke(main, ["eval", str(COUNTY), "--events", str(events), "--format", "json"])
    assert evaluated.exit_code == 0, evaluated.output
    assert '"credits": "7.2"' in evaluated.output
    explained = runner.invoke(main, ["explain", str(COUNTY), "--events", str(events), "--teacher", "t1",
                                     "--format", "json"])
    assert explained.exit_code == 0, explained.output
    rules = {r["rule"]: r for r in json.loads(explained.output)[0]["rules"]}
    assert rules["training_hours"]["layer"] == f"city_y ({CITY}:12)"
    assert rules["training_hours"]["text"] == "count hours"  # quoted from the parent's file
    tested = runner.invoke(main, ["test", str(LAYERS)])
    assert tested.exit_code == 0 and "5 passed, 0 failed" in tested.output, tested.output
    formatted = runner.invoke(main, ["fmt", "--check", str(COUNTY), str(CITY)])
    assert formatted.exit_code == 0, formatted.output


def test_check_renders_a_parents_diagnostic_with_the_parents_line(tmp_path: Path) -> None:
    write(tmp_path, "base.policy", BASE.replace("level municipal", "level municipl"))
    child = write(tmp_path, "child.policy", "policy child extends base\n")
    result = CliRunner().invoke(main, ["check", str(child)])
    assert result.exit_code == 1
    assert "base.policy:11:" in result.output and "| cap municipal_at_most" in result.output


# ---------------------------------------------------------------------- golden diagnostics
def render(path: Path) -> str:
    name = path.relative_to(ROOT).as_posix()
    text = path.read_text(encoding="utf-8")
    _, diagnostics = check_source(text, name)
    sources = layer_sources(diagnostics, {name: text})
    return "\n\n".join(d.render(sources.get(d.span.file)) for d in diagnostics) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_layer_diagnostics_match_golden(case: Path, golden: GoldenCheck, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # file names in the diagnostics are relative to the checkout
    actual = render(case)
    golden(case.with_suffix(".error"), actual)
    assert "error[E1" in actual


def test_coverage_of_a_layered_policy_counts_the_statements_of_its_own_file() -> None:
    from credit_rules.testing.coverage import items

    assert {i.key for i in items(load_policy(COUNTY))} == {
        "requirement total 0", "rule class_teacher_training", "rule class_teacher_training where",
        "rule county_lectures", "rule county_lectures where"}
    assert "cap municipal_at_most" in {i.key for i in items(load_policy(CITY))}


def test_a_dropped_requirement_leaves_the_inherited_waivers(tmp_path: Path) -> None:
    write(tmp_path, "base.policy", BASE + "\nrequire extra: at least 1 credit\n\n"
          "waive total, extra when retired_on <= 2024-12-31\n\nwaive extra when title = senior\n")
    child = write(tmp_path, "child.policy", "policy child extends base\ndrop requirement extra\n")
    policy = load_policy(child)
    assert [w.names for w in policy.waivers] == [("total",)]
    assert [r.name for r in policy.requirements] == ["total"]


def test_a_chain_has_at_most_max_layers(tmp_path: Path) -> None:
    from credit_rules.compile.layers import MAX_LAYERS

    write(tmp_path, "l0.policy", BASE)
    for i in range(1, MAX_LAYERS + 1):
        write(tmp_path, f"l{i}.policy", f"policy l{i} extends l{i - 1}\n")
    assert len(load_policy(tmp_path / f"l{MAX_LAYERS - 1}.policy").layers) == MAX_LAYERS
    assert codes(tmp_path / f"l{MAX_LAYERS}.policy") == ["E196"]
