"""Shared fixtures. Every policy test runs once per engine (lark runs its suite per parser)."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from credit_rules.api import ENGINES, evaluate
from credit_rules.compile import load_policy
from credit_rules.ir import Policy
from credit_rules.records import Event, LedgerRow, Teacher

ROOT = Path(__file__).resolve().parents[1]
# Golden inputs are read by their own tests; the policy plugin must not run their test blocks.
collect_ignore_glob = ["golden/*"]
POLICIES = ROOT / "policies"

Run = Callable[..., list[LedgerRow]]


@pytest.fixture(scope="session")
def shipped() -> Callable[[str], Policy]:
    cache: dict[str, Policy] = {}

    def get(name: str) -> Policy:
        if name not in cache:
            cache[name] = load_policy(POLICIES / f"{name}.policy")
        return cache[name]

    return get


def _available_engines() -> list[str]:
    try:
        import credit_rules.eval.bulk  # noqa: F401
    except ImportError:
        return ["interpreter"]
    return list(ENGINES)


@pytest.fixture(params=_available_engines())
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def run(engine: str, shipped: Callable[[str], Policy]) -> Run:
    """Evaluate a shipped policy (by name) or an IR policy with the engine under test."""

    def go(policy: str | Policy, events: Iterable[Event], teachers: Iterable[Teacher] = (),
           as_of: dt.date | None = None) -> list[LedgerRow]:
        checked = shipped(policy) if isinstance(policy, str) else policy
        roster = {t.teacher_id: t for t in teachers}
        ledger = evaluate(checked, list(events), roster, as_of=as_of or dt.date(2025, 12, 31),
                          engine=engine)  # type: ignore[arg-type]
        return list(ledger.rows)

    return go


def examples(quick: int, soak: int) -> pytest.MarkDecorator:
    """Parametrize a property test's ``examples``: ``quick`` in the default run, which keeps the
    suite within its time budget, and ``soak`` behind the ``slow`` marker (``pytest -m slow``)."""
    return pytest.mark.parametrize("examples", [
        pytest.param(quick, id="quick"), pytest.param(soak, id="soak", marks=pytest.mark.slow),
    ])


def only(rows: list[LedgerRow], teacher_id: str) -> LedgerRow:
    found = [r for r in rows if r.teacher_id == teacher_id]
    assert len(found) == 1, found
    return found[0]


def requirement(row: LedgerRow, name: str) -> Any:
    for r in row.requirements:
        if r.name == name:
            return r
    return None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


GoldenCheck = Callable[[Path, str], None]


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def assert_golden(expected_file: Path, actual: str, *, update: bool) -> None:
    """Compare ``actual`` with a reviewed golden file. Only ``update`` (``--update-golden``)
    writes one: without it a missing file fails, so a new case cannot pass unreviewed."""
    if update:
        expected_file.write_text(actual, encoding="utf-8")
    elif not expected_file.exists():
        pytest.fail(f"{_shown(expected_file)} is missing: run `pytest --update-golden` "
                    "and review the new file with `git diff`", pytrace=False)
    assert actual == expected_file.read_text(encoding="utf-8"), (
        f"{_shown(expected_file)} differs; if the change is intended, run `pytest --update-golden` "
        "and review the diff")


@pytest.fixture
def golden(update_golden: bool) -> GoldenCheck:
    """:func:`assert_golden` with the session's ``--update-golden``."""

    def check(expected_file: Path, actual: str) -> None:
        assert_golden(expected_file, actual, update=update_golden)

    return check


@pytest.fixture(autouse=True, scope="session")
def _parser_cache_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never write the Lark parser cache into the user's ~/.cache."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
