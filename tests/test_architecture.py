"""The layers of the package, read from its source with `ast`: imports flow down LAYERS only,
the two engines never import each other, and no module uses another module's private name.

KNOWN_VIOLATIONS is empty since issue 8; a new violation fails, and so would a listed
entry that no longer happens.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "credit_rules"
SOURCE = Path(__file__).resolve().parents[1] / "src" / PACKAGE

#: Lowest first. A module may import only from its own layer or a lower one. Each name is
#: the first part under `credit_rules` (a module or a package); `__init__` is the package's
#: public face, which re-exports.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("span", "errors", "values", "schema", "records", "lazy", "order", "memo"),
    ("syntax",),
    ("ir", "compile"),
    ("core",),
    ("eval",),
    ("io",),
    ("api", "recompute", "spark"),
    ("report",),  # issue 12: the impact report reads ledgers from recompute and explanations from eval
    ("synth", "demo", "testing"),
    ("cli", "console"),
    ("__init__",),
)
OPTIONAL = {"core"}

#: Pairs of packages in one layer that must not import each other: each engine stands alone.
INDEPENDENT: tuple[tuple[str, str], ...] = (
    ("credit_rules.eval.bulk", "credit_rules.eval.interpreter"),
)

#: Today's violations, to be emptied after the issue 8 merge. Do not add to it: fix the import.
KNOWN_VIOLATIONS: frozenset[str] = frozenset()


# ---------------------------------------------------------------------- reading the source
def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(SOURCE.rglob("*.py"))}


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def layer(module: str) -> int:
    """The index in LAYERS of a module of the package."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "__init__"
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{module} is in no layer: add `{top}` to LAYERS in {Path(__file__).name}")


def absolute(module: str, node: ast.ImportFrom) -> str:
    """The module a `from … import` reads from, with relative imports resolved."""
    if not node.level:
        return node.module or ""
    base = module.split(".") if is_package(module) else module.split(".")[:-1]
    base = base[: len(base) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def imports(module: str, tree: ast.Module) -> Iterator[tuple[str, str | None, dict[str, str]]]:
    """(target module, imported name or None, module aliases bound) for every import of the
    package, wherever it is (top level, function bodies, TYPE_CHECKING blocks)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    bound = {alias.asname: alias.name} if alias.asname else {PACKAGE: PACKAGE}
                    yield alias.name, None, bound
        elif isinstance(node, ast.ImportFrom):
            source = absolute(module, node)
            if source.split(".")[0] != PACKAGE:
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in MODULES:  # `from credit_rules.eval import interpreter`
                    yield submodule, None, {alias.asname or alias.name: submodule}
                else:
                    yield source, alias.name, {}


def private_attributes(tree: ast.Module, aliases: dict[str, str]) -> Iterator[str]:
    """`module._name` for every attribute read through a name bound to a module of the package."""
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain: list[str] = []
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            chain.append(current.attr)
            current = current.value
        if not isinstance(current, ast.Name) or current.id not in aliases:
            continue
        target = aliases[current.id]
        for attr in reversed(chain):
            if f"{target}.{attr}" in MODULES:
                target = f"{target}.{attr}"
                continue
            if is_private(attr):
                yield f"{target}.{attr}"
            break


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


@functools.cache
def violations() -> set[str]:
    """Every violation in the package (cached: both tests below compare it with KNOWN_VIOLATIONS)."""
    found: set[str] = set()
    for module, path in MODULES.items():
        found |= module_violations(module, path)
    return found


def module_violations(module: str, path: Path) -> set[str]:
    """The violations of one module (imports resolved against MODULES)."""
    found: set[str] = set()
    tree = parsed(path)
    aliases: dict[str, str] = {}
    for target, name, bound in imports(module, tree):
        aliases.update(bound)
        if target not in MODULES:
            found.add(f"{module} imports {target}, which does not exist")
            continue
        if name is not None and is_private(name) and target != module:
            found.add(f"{module} imports private {target}.{name}")
        if layer(target) > layer(module):
            found.add(f"{module} imports {target} from a higher layer")
        for a, b in INDEPENDENT:
            for mine, theirs in ((a, b), (b, a)):
                if module.startswith(mine) and target.startswith(theirs):
                    found.add(f"{module} imports {target}; the engines are independent")
    for used in private_attributes(tree, aliases):
        owner = used.rsplit(".", 1)[0]
        if owner != module:
            found.add(f"{module} uses private {used}")
    return found


# ---------------------------------------------------------------------- the tests
def test_every_module_is_in_a_layer() -> None:
    """The layer table names every top-level module and package, and each name it lists exists."""
    tops = {m.split(".")[1] if "." in m else "__init__" for m in MODULES}
    listed = {name for names in LAYERS for name in names}
    for module in MODULES:
        layer(module)
    assert not (listed - tops - OPTIONAL), f"LAYERS names modules that do not exist: {listed - tops - OPTIONAL}"


# The two tests reading violations() run on one xdist worker: the package is parsed once.
WHOLE_PACKAGE = pytest.mark.xdist_group("architecture")


@WHOLE_PACKAGE
def test_no_new_layer_or_privacy_violations() -> None:
    """Imports flow down LAYERS, the engines stay apart, and private names stay private."""
    new = sorted(violations() - KNOWN_VIOLATIONS)
    assert not new, "new violations (fix the import; do not list them):\n" + "\n".join(new)


@WHOLE_PACKAGE
def test_known_violations_are_still_there() -> None:
    """KNOWN_VIOLATIONS lists only what still happens, so it can only shrink."""
    fixed = sorted(KNOWN_VIOLATIONS - violations())
    assert not fixed, "fixed, so delete from KNOWN_VIOLATIONS:\n" + "\n".join(fixed)


@pytest.mark.parametrize(("source", "expected"), [
    ("from credit_rules.io.events import _KEY\n", "credit_rules.eval.x imports private credit_rules.io.events._KEY"),
    ("from credit_rules.api import evaluate\n", "credit_rules.eval.x imports credit_rules.api from a higher layer"),
    ("from credit_rules.eval import interpreter\nx = interpreter._teacher_facts\n",
     "credit_rules.eval.x uses private credit_rules.eval.interpreter._teacher_facts"),
    ("import credit_rules.eval.interpreter as i\ni._teacher_facts()\n",
     "credit_rules.eval.x uses private credit_rules.eval.interpreter._teacher_facts"),
])
def test_the_checks_catch_what_they_claim(source: str, expected: str, monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    """A module that breaks a rule is reported (checked on a throwaway module in the eval layer)."""
    fake = tmp_path / "x.py"
    fake.write_text(source, encoding="utf-8")
    monkeypatch.setitem(MODULES, "credit_rules.eval.x", fake)
    # the check violations() runs on every module (the whole package is test_no_new_...'s job)
    assert expected in module_violations("credit_rules.eval.x", fake)
