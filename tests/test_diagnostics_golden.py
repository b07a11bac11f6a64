"""Golden diagnostics: each tests/golden/check/<case>.policy has <case>.error with the exact
text `credit-rules check` prints. Regenerate with `pytest --update-golden` and review the diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import GoldenCheck, assert_golden
from credit_rules.compile import check_source

GOLDEN = Path(__file__).parent / "golden" / "check"
CASES = sorted(GOLDEN.glob("*.policy"))


def render(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    name = f"tests/golden/check/{path.name}"
    _, diagnostics = check_source(text, name)
    return "\n\n".join(d.render(text) for d in diagnostics) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_diagnostics_match_golden(case: Path, golden: GoldenCheck) -> None:
    """The rendered diagnostics of each broken policy are exactly the reviewed ones."""
    actual = render(case)
    golden(case.with_suffix(".error"), actual)
    assert actual.strip(), "every golden case must produce at least one diagnostic"


def test_a_missing_golden_file_fails_unless_updating(tmp_path: Path) -> None:
    """Only --update-golden writes a golden file; without it a missing one is a failure that says what to run."""
    expected = tmp_path / "new_case.error"
    with pytest.raises(pytest.fail.Exception, match=r"missing: run `pytest --update-golden`"):
        assert_golden(expected, "error[E001]: x\n", update=False)
    assert not expected.exists()
    assert_golden(expected, "error[E001]: x\n", update=True)
    assert expected.read_text(encoding="utf-8") == "error[E001]: x\n"
    assert_golden(expected, "error[E001]: x\n", update=False)
