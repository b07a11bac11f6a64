"""The installed wheel must work, not only a checkout: it carries the grammar and the policies."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_grammar_policies_and_type_marker(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
                   check=True, capture_output=True)
    (wheel,) = tmp_path.glob("credit_rules-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        grammar = archive.read("credit_rules/grammar/policy.lark").decode("utf-8")
    assert grammar == (ROOT / "grammar" / "policy.lark").read_text(encoding="utf-8")
    assert "credit_rules/py.typed" in names
    shipped = {p.name for p in (ROOT / "policies").glob("*.policy")}
    assert {n.rsplit("/", 1)[-1] for n in names if n.startswith("credit_rules/policies/")} == shipped
    assert len(shipped) == 6
