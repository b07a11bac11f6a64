"""The README's policy examples are real: every fenced block that starts a policy compiles."""

from __future__ import annotations

import re
from pathlib import Path

from credit_rules.compile import check_source

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_policy_in_the_readme_compiles_without_diagnostics() -> None:
    blocks: list[str] = []
    current: list[str] | None = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    policies = [b for b in blocks if re.search(r"^\s*(#.*\n)*\s*(policy|政策) ", b)]
    assert policies, "the README shows at least one complete policy"
    for block in policies:
        policy, diagnostics = check_source(block, "README.md")
        assert policy is not None and not diagnostics, [d.one_line() for d in diagnostics]
