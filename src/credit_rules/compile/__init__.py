"""AST → checked IR: name resolution (``from_syntax``) then the static checks (``checks``)."""

from __future__ import annotations

import os
from pathlib import Path

import attrs

from credit_rules import ir
from credit_rules.compile.checks import CHECKS, run_checks
from credit_rules.compile.from_syntax import from_syntax
from credit_rules.compile.layers import has_layers, note_layers, resolve_layers
from credit_rules.errors import Diagnostic, PolicyError, sort_diagnostics
from credit_rules.syntax import ast
from credit_rules.syntax.parser import parse, without_cycle_collection

__all__ = ["CHECKS", "check_source", "compile_ast", "compile_source", "layer_sources", "load_policy"]


def check_source(text: str, file: str = "<input>") -> tuple[ir.Policy | None, list[Diagnostic]]:
    """Parse, resolve and check; return the IR (None on error) and every diagnostic found."""
    try:
        tree = parse(text, file)
    except PolicyError as exc:
        return None, exc.diagnostics
    return compile_ast(tree, file)


def compile_ast(tree: ast.Policy, file: str = "<input>") -> tuple[ir.Policy | None, list[Diagnostic]]:
    """Resolve and check a parsed policy; return the IR (None on error) and every diagnostic."""
    with without_cycle_collection():  # the IR holds no cycles either
        return _compile_ast(tree, file)


def _compile_ast(tree: ast.Policy, file: str) -> tuple[ir.Policy | None, list[Diagnostic]]:
    layers: tuple[ir.Layer, ...] = ()
    if has_layers(tree):  # `extends`: the chain of parents is merged into one AST first
        merged, found, layers = resolve_layers(tree, file)
        if merged is None:
            return None, sort_diagnostics(found)
        tree, layer_diagnostics = merged, found
    else:
        layer_diagnostics = []
    policy, diagnostics = from_syntax(tree, file)
    diagnostics = layer_diagnostics + diagnostics
    if policy is not None and len(layers) > 1:
        policy = attrs.evolve(policy, layers=layers)
    if policy is not None:
        diagnostics = diagnostics + run_checks(policy, tree)
    if len(layers) > 1:  # a problem in a parent's file notes the `extends` that read it
        diagnostics = note_layers(diagnostics, layers)
    diagnostics = sort_diagnostics(diagnostics)
    if any(d.is_error for d in diagnostics):
        return None, diagnostics
    return policy, diagnostics


def compile_source(text: str, file: str = "<input>") -> ir.Policy:
    """Parse and check policy text; raise :class:`PolicyError` on any error."""
    policy, diagnostics = check_source(text, file)
    if policy is None:
        raise PolicyError(diagnostics, layer_sources(diagnostics, {file: text}))
    return policy


def layer_sources(diagnostics: list[Diagnostic], sources: dict[str, str]) -> dict[str, str]:
    """``sources`` plus the text of every other file a diagnostic points into (the parent
    layers of a policy that ``extends`` another), so each renders with its own line."""
    found = dict(sources)
    for diagnostic in diagnostics:
        for span in (diagnostic.span, *(s for _, s in diagnostic.notes)):
            if span.file not in found:
                try:
                    found[span.file] = Path(span.file).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    continue
    return found


def load_policy(path: str | os.PathLike[str]) -> ir.Policy:
    """Read, parse and check a ``.policy`` file; raise :class:`PolicyError` on any error."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        from credit_rules.errors import InputError

        raise InputError(f"{path}: cannot read the policy ({exc.strerror}); check the path") from None
    return compile_source(text, str(path))
