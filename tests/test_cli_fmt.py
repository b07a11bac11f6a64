"""`credit-rules fmt [--check|--write] [--lang en|zh] POLICY...` as a policy author runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import POLICIES
from credit_rules.cli import main
from credit_rules.syntax.parser import parse

MESSY = 'policy p rule r: count hours on training source "篇1"  # why\n'
CANONICAL = 'policy p\n\nrule r:\n  source "篇1"  # why\n  on training\n  count hours\n'


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    path = tmp_path / "messy.policy"
    path.write_text(MESSY, encoding="utf-8")
    return path


def test_fmt_prints_the_canonical_text(messy: Path) -> None:
    """Without flags, fmt prints the canonical text and leaves the file alone."""
    code, out, _ = invoke("fmt", str(messy))
    assert (code, out) == (0, CANONICAL)
    assert messy.read_text(encoding="utf-8") == MESSY


def test_fmt_check_exits_1_listing_files_that_would_change(messy: Path, tmp_path: Path) -> None:
    """--check changes nothing, lists the files that are not canonical and exits 1."""
    clean = tmp_path / "clean.policy"
    clean.write_text(CANONICAL, encoding="utf-8")
    code, out, err = invoke("fmt", "--check", str(messy), str(clean))
    assert code == 1
    assert f"would reformat {messy}" in out and str(clean) not in out
    assert "1 file(s) would be reformatted, 1 already canonical" in err
    assert messy.read_text(encoding="utf-8") == MESSY


def test_fmt_check_passes_on_the_shipped_policies() -> None:
    """The shipped policies are canonical: `fmt --check policies/*.policy` exits 0."""
    code, out, err = invoke("fmt", "--check", *map(str, sorted(POLICIES.glob("*.policy"))))
    assert code == 0, out + err
    assert out == ""


def test_fmt_write_rewrites_in_place_then_check_passes(messy: Path) -> None:
    """--write replaces the file with its canonical text; a second --check finds nothing to do."""
    code, _, err = invoke("fmt", "--write", str(messy))
    assert code == 0
    assert f"reformatted {messy}" in err
    assert messy.read_text(encoding="utf-8") == CANONICAL
    assert not list(messy.parent.glob(".messy.policy.*"))  # no temporary file left behind
    assert invoke("fmt", "--check", str(messy))[0] == 0


def test_fmt_write_leaves_canonical_files_untouched(tmp_path: Path) -> None:
    """--write does not rewrite (or touch the modification time of) a file that is already canonical."""
    clean = tmp_path / "clean.policy"
    clean.write_text(CANONICAL, encoding="utf-8")
    before = clean.stat().st_mtime_ns
    code, _, err = invoke("fmt", "--write", str(clean))
    assert code == 0 and "reformatted" not in err
    assert clean.stat().st_mtime_ns == before


def test_fmt_lang_zh_writes_chinese_keywords_that_parse_to_the_same_tree(messy: Path) -> None:
    """--lang zh renders the Chinese keywords; the result is the same policy."""
    code, out, _ = invoke("fmt", "--lang", "zh", str(messy))
    assert code == 0
    assert "规则 r：" in out and '依据 "篇1"  # why' in out and "计学时" in out
    assert parse(out) == parse(MESSY)


def test_fmt_reports_a_syntax_error_as_a_diagnostic(tmp_path: Path, messy: Path) -> None:
    """A broken file gets the usual diagnostic (no traceback), exit 1, and the other files are still done."""
    bad = tmp_path / "bad.policy"
    bad.write_text("policy bad\nrule r: on training count houses\n", encoding="utf-8")
    code, out, err = invoke("fmt", str(bad), str(messy))
    assert code == 1
    assert f"{bad}:2:27: error[E003]: unexpected `houses`" in err
    assert "Traceback" not in err
    assert out == CANONICAL


def test_fmt_check_and_write_together_are_a_usage_error(messy: Path) -> None:
    """--check and --write contradict each other: exit 2 with a message."""
    code, _, err = invoke("fmt", "--check", "--write", str(messy))
    assert code == 2
    assert "--check and --write" in err


def test_fmt_missing_file_is_an_input_error(tmp_path: Path) -> None:
    """An unreadable path is reported in one line with exit 2."""
    code, _, err = invoke("fmt", str(tmp_path / "nope.policy"))
    assert code == 2
    assert "cannot read the policy" in err
