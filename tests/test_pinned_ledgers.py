"""The ledgers of all six shipped policies on a generated province, pinned by hash.

The hashes were taken before the core-IR redesign (issue 8) and must hold after it on
every engine: a refactor that changes any byte of any ledger fails here. The default
run uses a 300-teacher province; ``pytest -m slow`` adds the 2,000-teacher one.
Regenerate (only for an intended change of meaning) with ``--update-golden``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pytest

from credit_rules.api import ENGINES, evaluate, shipped_policies
from credit_rules.compile import load_policy
from credit_rules.io import load_events, load_roster
from credit_rules.synth import write_province

PINNED = Path(__file__).parent / "golden" / "ledgers" / "pinned.json"
AS_OF = dt.date(2025, 12, 31)
SIZES = [300, pytest.param(2000, marks=pytest.mark.slow)]


@pytest.fixture(scope="module")
def provinces(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    made: dict[int, Path] = {}
    for size in (300, 2000):
        made[size] = tmp_path_factory.mktemp(f"province{size}")
    return made


def _ledger_hash(policy_path: Path, folder: Path, engine: str) -> str:
    policy = load_policy(policy_path)
    table = load_events(folder / "events", timezone=policy.timezone)
    roster = load_roster(sorted(folder.glob("roster.*"))[0])
    ledger = evaluate(policy, table, roster, as_of=AS_OF, engine=engine)  # type: ignore[arg-type]
    rows = ledger.to_json()
    # `outcomes` (issue 9, SPEC §5 addition) came after the pin: it is checked on its own
    # below, and left out of the hash so that every byte pinned before stays pinned.
    assert all(row.pop("outcomes") == {} for row in rows), "no shipped policy declares an outcome"
    for row in rows:  # issue 9 (B): a new field, checked in tests/test_lang_B.py
        del row["credited_hours"]
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("engine", ENGINES)
def test_shipped_ledgers_keep_their_pinned_hashes(
    size: int, engine: str, provinces: dict[int, Path], update_golden: bool
) -> None:
    """Every byte of every shipped policy's ledger is what it was before the redesign."""
    folder = provinces[size]
    if not (folder / "events").exists():
        write_province(folder, size, seed=7, events_per_teacher=60)
    actual = {p.stem: _ledger_hash(p, folder, engine) for p in shipped_policies()}
    pinned = json.loads(PINNED.read_text()) if PINNED.exists() else {}
    key = str(size)
    if update_golden:
        pinned[key] = actual
        PINNED.write_text(json.dumps(pinned, indent=2, sort_keys=True) + "\n")
    assert key in pinned, f"no pinned hashes for {size} teachers; run with --update-golden once"
    assert actual == pinned[key]
