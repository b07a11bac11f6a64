"""Cold start (issue 10): reading a policy imports nothing heavy, and the public face of
``credit_rules`` re-exports lazily (PEP 562) the same names it always did."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import credit_rules

SRC = Path(__file__).resolve().parents[1] / "src"
HEAVY = ("polars", "pyarrow", "numpy")


def run_python(code: str) -> str:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), env.get("PYTHONPATH", "")) if p)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, timeout=120)
    return done.stdout.strip()


def test_the_check_path_imports_no_polars() -> None:
    loaded = run_python("import sys; import credit_rules.cli; import credit_rules.compile; "
                        "import credit_rules.core, credit_rules.ir, credit_rules.syntax.printer; "
                        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    assert loaded == "[]"


def test_check_and_fmt_import_no_polars() -> None:
    policy = Path(__file__).resolve().parents[1] / "policies" / "five_year_cycle.policy"
    loaded = run_python(
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from credit_rules.cli import main\n"
        f"assert CliRunner().invoke(main, ['check', {str(policy)!r}]).exit_code == 0\n"
        f"assert CliRunner().invoke(main, ['fmt', '--check', {str(policy)!r}]).exit_code in (0, 1)\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    assert loaded == "[]"


@pytest.mark.parametrize("name", credit_rules.__all__)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(credit_rules, name)
    assert getattr(credit_rules, name) is value
    assert name in dir(credit_rules)


def test_recompute_stays_the_function_after_its_module_is_imported() -> None:
    kinds = run_python("import credit_rules, credit_rules.recompute, credit_rules.cli; "
                       "from credit_rules import recompute; "
                       "print(type(credit_rules.recompute).__name__, type(recompute).__name__)")
    assert kinds == "function function"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        credit_rules.no_such_name  # type: ignore[attr-defined]  # noqa: B018
