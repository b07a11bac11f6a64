"""Golden diagnostics: each tests/golden/check/<case>.policy has <case>.error with the exact
text `credit-rules check` prints. Regenerate with `pytest --update-golden` and review the diff."""

from __future__ import annotations

from pathlib import Path

import pytest

from credit_rules.compile import check_source

GOLDEN = Path(__file__).parent / "golden" / "check"
CASES = sorted(GOLDEN.glob("*.policy"))


def render(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    name = f"tests/golden/check/{path.name}"
    _, diagnostics = check_source(text, name)
    return "\n\n".join(d.render(text) for d in diagnostics) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_diagnostics_match_golden(case: Path, update_golden: bool) -> None:
    """The rendered diagnostics of each broken policy are exactly the reviewed ones."""
    expected_file = case.with_suffix(".error")
    actual = render(case)
    if update_golden or not expected_file.exists():
        expected_file.write_text(actual, encoding="utf-8")
    assert actual == expected_file.read_text(encoding="utf-8")
    assert actual.strip(), "every golden case must produce at least one diagnostic"
