"""Cold start (issue 10): reading a policy imports nothing heavy, and the public face of
``credit_rules`` re-exports lazily (PEP 562) the same names it always did."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import attrs
import pytest
from lark import Tree
from lark.exceptions import UnexpectedInput

import credit_rules
from credit_rules.compile import compile_source
from credit_rules.syntax import grammar as grammar_module
from credit_rules.syntax import parser as parser_module
from credit_rules.syntax.lalr import LalrParser, NeedsLark, tables_from_lark

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
HEAVY = ("polars", "pyarrow", "numpy")


def run_python(code: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    return done.stdout.strip()


#: Besides HEAVY, what check and fmt of a clean policy leave unimported (rich prints only
#: what plain text cannot, pendulum is needed only to evaluate).
LAZY = (*HEAVY, "rich", "pendulum")
FIVE_YEAR = ROOT / "policies" / "five_year_cycle.policy"


# The tests reading it run on one xdist worker, so the interpreter starts once.
FRESH_PROCESS = pytest.mark.xdist_group("fresh-process")


@pytest.fixture(scope="module")
def fresh_process() -> dict[str, str]:
    """One fresh interpreter for the import checks below (each line a step, keyed by its first
    word): a Python start with credit_rules compiled costs more than all three checks, and
    each step only adds imports, so each check sees what its own fresh process would."""
    out = run_python(
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from credit_rules.cli import main\n"
        f"fmt = CliRunner().invoke(main, ['fmt', '--check', {str(FIVE_YEAR)!r}]).exit_code\n"
        "print('fmt', fmt in (0, 1), 'credit_rules.compile' in sys.modules, 'credit_rules.ir' in sys.modules)\n"
        f"check = CliRunner().invoke(main, ['check', {str(FIVE_YEAR)!r}]).exit_code\n"
        f"print('check', check, sorted(m for m in {LAZY!r} if m in sys.modules))\n"
        "import credit_rules.compile, credit_rules.core, credit_rules.ir, credit_rules.syntax.printer\n"
        f"print('compile', sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
        "import credit_rules, credit_rules.recompute\n"
        "from credit_rules import recompute\n"
        "print('recompute', type(credit_rules.recompute).__name__, type(recompute).__name__)\n")
    return {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in out.splitlines()}


@FRESH_PROCESS
def test_the_check_path_imports_no_polars(fresh_process: dict[str, str]) -> None:
    assert fresh_process["compile"] == "[]"


@FRESH_PROCESS
def test_check_and_fmt_import_no_polars_rich_or_pendulum(fresh_process: dict[str, str]) -> None:
    assert fresh_process["fmt"] == "True False False"  # fmt: no IR
    assert fresh_process["check"] == "0 []"


@pytest.mark.parametrize("name", credit_rules.__all__)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(credit_rules, name)
    assert getattr(credit_rules, name) is value
    assert name in dir(credit_rules)


@FRESH_PROCESS
def test_recompute_stays_the_function_after_its_module_is_imported(fresh_process: dict[str, str]) -> None:
    assert fresh_process["recompute"] == "function function"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        credit_rules.no_such_name  # type: ignore[attr-defined]  # noqa: B018


# ---------------------------------------------------------------------- the grammar cache
SHIPPED = sorted((Path(__file__).resolve().parents[1] / "policies").glob("*.policy"))


# The tests sharing this fixture run on one xdist worker, so the parsers are built once.
GRAMMAR_CACHE = pytest.mark.xdist_group("grammar-cache")


@pytest.fixture(scope="module")
def parsers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any, Path]:
    folder = tmp_path_factory.mktemp("grammar-cache")
    fresh = parser_module.build_parser(None)
    parser_module.build_parser(folder)  # builds and saves
    cached = parser_module.build_parser(folder)  # loads
    return fresh, cached, folder


@GRAMMAR_CACHE
def test_the_cache_is_one_file_named_after_the_grammar(parsers: tuple[Any, Any, Path]) -> None:
    files = [p.name for p in parsers[2].iterdir() if not p.name.startswith("policy-tables-")]
    assert len(files) == 1 and files[0].startswith("policy-grammar-"), files


@GRAMMAR_CACHE
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_cached_and_fresh_parsers_give_the_same_ast(path: Path, parsers: tuple[Any, Any, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fresh, cached, _ = parsers
    text = path.read_text(encoding="utf-8")
    assert cached.parse(text) == fresh.parse(text)
    monkeypatch.setattr(parser_module, "_fast", lambda: None)  # Lark parses
    monkeypatch.setattr(parser_module, "_lark", lambda: fresh)
    expected = parser_module.parse(text, str(path))
    monkeypatch.setattr(parser_module, "_lark", lambda: cached)
    assert parser_module.parse(text, str(path)) == expected
    monkeypatch.undo()  # the lean run over the cached tables
    assert parser_module.parse(text, str(path)) == expected


@GRAMMAR_CACHE
def test_a_changed_grammar_never_reads_the_old_cache(parsers: tuple[Any, Any, Path],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    folder = parsers[2]
    original = parser_module.grammar_text()
    changed = original + '\nflag_word: "ZZZ_NEW_KEYWORD"\n'
    monkeypatch.setattr(grammar_module, "grammar_text", lambda: changed)
    rebuilt = parser_module.build_parser(folder)
    assert len(list(folder.glob("policy-grammar-*"))) == 2  # a second file, keyed on the new text
    assert "ZZZ_NEW_KEYWORD" in rebuilt.source_grammar
    assert "ZZZ_NEW_KEYWORD" in parser_module.build_parser(folder).source_grammar


@GRAMMAR_CACHE
def test_a_corrupt_cache_file_is_rebuilt(parsers: tuple[Any, Any, Path], tmp_path: Path) -> None:
    fresh, _, folder = parsers
    name = f"policy-grammar-{grammar_module._cache_key(grammar_module.grammar_text())}.lark"
    assert (folder / name).is_file()  # the name build_parser saved under
    cache = tmp_path / name  # the file the next start would read, broken
    cache.write_bytes(b"not a parser")
    text = SHIPPED[0].read_text(encoding="utf-8")
    assert parser_module.build_parser(tmp_path).parse(text) == fresh.parse(text)


def test_an_unwritable_cache_folder_builds_without_a_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    built = parser_module.build_parser(blocker / "credit-rules")  # a folder under a file
    assert built.parse(SHIPPED[0].read_text(encoding="utf-8"))
    assert not (blocker.parent / "credit-rules").exists()


def test_the_cache_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert parser_module.grammar_cache_dir() == tmp_path / "credit-rules"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert parser_module.grammar_cache_dir() == Path.home() / ".cache" / "credit-rules"


# ---------------------------------------------------------------------- the lean LALR run
EVERY_POLICY = sorted({*ROOT.glob("policies/*.policy"), *ROOT.glob("examples/**/*.policy"),
                       *ROOT.glob("tests/**/*.policy")})


def _shape(node: Any) -> Any:
    """A tree with every position Lark gives: each token's, each node's meta."""
    if isinstance(node, Tree):
        return (node.data, sorted(vars(node.meta).items()), [_shape(c) for c in node.children])
    return (node.type, str(node), node.start_pos, node.line, node.column, node.end_line, node.end_column,
            node.end_pos)


def test_the_lean_run_gives_lark_s_tree_or_hands_errors_to_lark() -> None:
    lark_parser, lean = parser_module._lark(), parser_module._fast()
    assert lean is not None
    same = errors = 0
    assert len(EVERY_POLICY) > 50
    for path in EVERY_POLICY:
        text = path.read_text(encoding="utf-8")
        # the whole file and, for the shipped ones, the file cut short (a syntax error)
        for variant in (text, text[: len(text) * 2 // 3]) if path in SHIPPED else (text,):
            try:
                expected = _shape(lark_parser.parse(variant))
            except UnexpectedInput:
                with pytest.raises(NeedsLark):
                    lean.parse(variant)
                errors += 1
                continue
            assert _shape(lean.parse(variant)) == expected, path
            same += 1
    assert same > 50 and errors > 5  # both paths were exercised


@GRAMMAR_CACHE
def test_the_tables_are_cached_and_a_bad_file_is_rebuilt(parsers: tuple[Any, Any, Path]) -> None:
    folder = parsers[2]
    saved = grammar_module.tables_path(folder)
    saved.write_bytes(b"not tables")  # unreadable: built from Lark's cache and saved over it
    rebuilt = grammar_module.parse_tables(folder)
    assert marshal.loads(saved.read_bytes()) == rebuilt
    written = saved.stat().st_mtime_ns
    assert grammar_module.parse_tables(folder) == rebuilt  # and read back next time, not rewritten
    assert saved.stat().st_mtime_ns == written
    text = SHIPPED[0].read_text(encoding="utf-8")
    assert _shape(LalrParser(rebuilt).parse(text)) == _shape(parsers[1].parse(text))
    with pytest.raises(NeedsLark):  # a Lark whose insides moved: parse_tree falls back to Lark
        tables_from_lark(object())  # type: ignore[arg-type]


# ---------------------------------------------------------------------- the lazy console
@pytest.mark.parametrize("text", [
    "policies/five_year_cycle.policy: ok", "0 file(s) would be reformatted, 1 already canonical",
    "would reformat 政策/五年.policy", "trailing spaces   ", "",
    # these go through rich, which changes them: an emoji code (even in a line number),
    # a tab, a control code, several lines
    "x.policy:100:5: error", "a :smile: b", "tab\there", "bell\x07", "two\nlines",
])
def test_the_lazy_console_prints_what_rich_prints(text: str, capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    from credit_rules.console import LazyConsole

    Console(highlight=False, soft_wrap=True).print(text, markup=False)
    LazyConsole(stderr=True, highlight=False, soft_wrap=True).print(text, markup=False)
    printed = capsys.readouterr()
    assert printed.err == printed.out


# ---------------------------------------------------------------------- the shared repr
def _nodes(value: Any) -> Any:
    if isinstance(value, tuple | list | frozenset):
        for item in value:
            yield from _nodes(item)
    elif attrs.has(type(value)):
        yield value
        for field in attrs.fields(type(value)):
            yield from _nodes(getattr(value, field.name))


def test_the_shared_repr_is_the_one_attrs_would_generate() -> None:
    text = (ROOT / "policies" / "five_year_cycle.policy").read_text(encoding="utf-8")
    tree = parser_module.parse(text)
    policy = compile_source(text)
    twins: dict[type, Any] = {}
    seen = set()
    for node in (*_nodes(tree), *_nodes(policy)):
        kind = type(node)
        if kind not in twins:  # the same fields, with attrs' own generated repr
            fields = {a.name: attrs.field(repr=a.repr) for a in attrs.fields(kind)}
            twins[kind] = attrs.make_class(kind.__name__, fields, frozen=True, repr=True)
        twin = twins[kind](**{a.name: getattr(node, a.name) for a in attrs.fields(kind)})
        assert repr(node) == repr(twin)
        seen.add(kind.__module__)
    assert seen >= {"credit_rules.syntax.ast", "credit_rules.ir"}
