"""Layered policies: ``policy county_x extends city_y`` resolved into one policy AST.

A child layer names its parent in its header. The parent is read from the child's own
folder tree only: by name (``extends city_y``) the file ``city_y.policy`` in the child's
folder, else the one such file in its subfolders (hidden folders are not searched; two or
more is ambiguous); by a quoted
path (``extends "shared/city_y.policy"``) relative to the child's folder. An absolute path,
``..``, or a symbolic link resolving outside the folder is refused: policies never read
arbitrary files. The parent may itself extend a policy in its own folder tree; a cycle is
an error.

The merge happens on the ASTs, before names are resolved, so the IR and both engines see
one ordinary policy:

* header: each clause the child states (title, source, timezone, window or cycle,
  evaluate, conversion, …) replaces the parent's; the rest is inherited; the name is the
  child's;
* ``replace rule|cap|requirement NAME: …`` takes the inherited item's place;
  ``drop rule|cap|requirement NAME`` removes it; either naming nothing inherited is an error
  (with a did-you-mean), and so is a plain ``rule NAME:`` whose name is inherited;
* a ``reduce``, ``grade`` or ``excellent`` statement of the child replaces the parent's
  (a policy has at most one of each); every other statement is added;
* a dropped requirement leaves the inherited ``waive`` statements that named it;
* the parent's ``test`` blocks stay with the parent (they test it, not the child).

Every inherited node keeps the span of its own file, so a diagnostic about it points at
the parent's line, and ``explain`` can cite the layer each rule came from.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import attrs

from credit_rules import ir
from credit_rules.errors import Diagnostic, PolicyError, did_you_mean
from credit_rules.span import Span
from credit_rules.syntax import ast
from credit_rules.syntax.limits import MAX_ITEMS
from credit_rules.syntax.parser import parse

__all__ = ["MAX_LAYERS", "has_layers", "locate_parent", "merge", "note_layers", "resolve_layers"]

#: The most policy files in one chain of ``extends`` (the policy itself included).
MAX_LAYERS = 8

_SINGLETONS: tuple[tuple[type[Any], ...], ...] = (
    (ast.Reduction,), (ast.GradeFromAssessment, ast.GradeFromScore), (ast.Excellent,),
)
_KIND_WORD = {"rule": "rule", "cap": "cap", "requirement": "requirement"}


def has_layers(tree: ast.Policy) -> bool:
    """Whether ``tree`` extends a parent or overrides anything (and so needs resolving)."""
    return tree.header.extends is not None or any(isinstance(i, ast.Replace | ast.Drop) for i in tree.items)


def resolve_layers(tree: ast.Policy, file: str) -> tuple[ast.Policy | None, list[Diagnostic], tuple[ir.Layer, ...]]:
    """The child ``tree`` merged with its chain of parents: (merged AST or None on error,
    diagnostics, layers from the child to the root)."""
    return _resolve(tree, file, ())


def _resolve(tree: ast.Policy, file: str, seen: tuple[tuple[Path, str], ...],
             ) -> tuple[ast.Policy | None, list[Diagnostic], tuple[ir.Layer, ...]]:
    layer = ir.Layer(tree.header.name, file)
    extends = tree.header.extends
    if extends is None:
        overrides = [i for i in tree.items if isinstance(i, ast.Replace | ast.Drop)]
        diagnostics = [Diagnostic(
            "E190", f"`{_verb(i)} {_kind(i)} {_name(i)}` needs a parent policy to override", i.span,
            "add `extends PARENT` to the header (`policy NAME extends PARENT`), or write the item without "
            f"`{_verb(i)}`",
        ) for i in overrides]
        return (None if diagnostics else tree), diagnostics, (layer,)
    found = locate_parent(extends, file)
    if isinstance(found, Diagnostic):
        return None, [found], (layer,)
    here = _real(Path(file))
    chain = (*seen, (here, tree.header.name))
    if any(path == found for path, _ in chain):
        names = [name for _, name in chain] + [_stem_name(found, chain)]
        return None, [Diagnostic(
            "E195", f"the policies extend each other in a cycle: {' → '.join(names)}", extends.span,
            "a parent must not extend its child; remove one `extends`",
        )], (layer,)
    if len(chain) >= MAX_LAYERS:
        return None, [Diagnostic(
            "E196", f"the chain of parents is longer than {MAX_LAYERS - 1} layers", extends.span,
            "merge some of the layers into one policy",
        )], (layer,)
    parent_file = _display(Path(file).parent, found)
    try:
        text = found.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [Diagnostic(
            "E196", f"cannot read the parent policy `{parent_file}` ({exc})", extends.span,
            "check the file's permissions and that it is UTF-8 text",
        )], (layer,)
    try:
        parent_tree = parse(text, parent_file)
    except PolicyError as exc:
        return None, _reached(exc.diagnostics, parent_file, extends), (layer,)
    parent, diagnostics, parent_layers = _resolve(parent_tree, parent_file, chain)
    diagnostics = _reached(diagnostics, parent_file, extends)
    parent_layers = (attrs.evolve(parent_layers[0], via=extends.span), *parent_layers[1:])
    if parent is None:
        return None, diagnostics, (layer, *parent_layers)
    merged, found_here = merge(parent, tree)
    if len(merged.items) > MAX_ITEMS:
        found_here.append(Diagnostic(
            "E009", f"with its parents the policy has {len(merged.items):,} items, at most {MAX_ITEMS:,}",
            tree.header.span, "split the policy, or drop what the layers no longer need",
        ))
        return None, diagnostics + found_here, (layer, *parent_layers)
    return merged, diagnostics + found_here, (layer, *parent_layers)


def _reached(diagnostics: Sequence[Diagnostic], parent_file: str, extends: ast.Extends) -> list[Diagnostic]:
    """Each diagnostic about the parent's file with a note naming the ``extends`` that read it."""
    return [_noted(d, parent_file, extends.span) if d.span.file == parent_file else d for d in diagnostics]


def _noted(diagnostic: Diagnostic, parent_file: str, via: Span) -> Diagnostic:
    note = f"{parent_file} is read as the parent named at {via}"
    if any(text == note for text, _ in diagnostic.notes):
        return diagnostic
    return dataclasses.replace(diagnostic, notes=(*diagnostic.notes, (note, via)))


def note_layers(diagnostics: Sequence[Diagnostic], layers: Sequence[ir.Layer]) -> list[Diagnostic]:
    """The diagnostics of a merged policy, each one about a parent's line noting the ``extends``
    that read that parent (checking the child reports problems in files it names)."""
    via = {layer.file: layer.via for layer in layers if layer.via is not None}
    return [_noted(d, d.span.file, via[d.span.file]) if d.span.file in via else d for d in diagnostics]


# ------------------------------------------------------------------ finding the parent
def locate_parent(extends: ast.Extends, file: str) -> Path | Diagnostic:
    """The parent's file (its real path), or the diagnostic saying why it cannot be read.

    ``file`` is the child's path; it need not exist (``compile_source(text, file)``), its folder must.
    """
    child = Path(file)
    # the text of a file (which need not be saved yet): its folder must exist; `<input>` has none
    if file.startswith("<") or child.is_dir() or not child.parent.is_dir():
        return Diagnostic(
            "E191", f"`extends {extends.parent}` needs the policy's file: the parent is looked up in its "
            "folder", extends.span,
            "load the policy from its file (`load_policy(path)`, `credit-rules check PATH`), or pass the file's "
            "path as `file`",
        )
    folder = child.parent
    root = _real(folder)
    if extends.is_path:
        return _by_path(extends, folder, root)
    return _by_name(extends, folder, root)


def _by_path(extends: ast.Extends, folder: Path, root: Path) -> Path | Diagnostic:
    text = extends.parent
    posix, windows = PurePosixPath(text), PureWindowsPath(text)
    if posix.is_absolute() or windows.is_absolute() or windows.drive or ".." in windows.parts:
        return _outside(extends, text)
    if not text.endswith(".policy"):
        return Diagnostic("E192", f"`{text}` is not a `.policy` file", extends.span,
                          'name the parent\'s file with its extension, e.g. `extends "shared/city_y.policy"`')
    candidate = folder / Path(*windows.parts)
    if not candidate.is_file():
        return Diagnostic("E192", f"no parent policy `{text}` in this policy's folder ({_shown(folder)})",
                          extends.span, _hint_names(extends.parent, folder))
    return _inside(extends, candidate, root)


def _by_name(extends: ast.Extends, folder: Path, root: Path) -> Path | Diagnostic:
    file_name = f"{extends.parent}.policy"
    own = folder / file_name
    if own.is_file():
        return _inside(extends, own, root)
    matches = [Path(base) / file_name for base, _, files in _walk(folder) if file_name in files]
    if not matches:
        return Diagnostic("E192", f"no `{file_name}` in this policy's folder or its subfolders ({_shown(folder)})",
                          extends.span, _hint_names(extends.parent, folder))
    if len(matches) > 1:
        listed = ", ".join(_shown(m.relative_to(folder)) for m in matches)
        return Diagnostic("E193", f"`{extends.parent}` is ambiguous: {listed}", extends.span,
                          f'name the file by its path, e.g. `extends "{_shown(matches[0].relative_to(folder))}"`')
    return _inside(extends, matches[0], root)


def _inside(extends: ast.Extends, candidate: Path, root: Path) -> Path | Diagnostic:
    real = _real(candidate)
    if not real.is_relative_to(root):  # a symbolic link leading out of the folder tree
        return _outside(extends, extends.parent)
    return real


def _outside(extends: ast.Extends, text: str) -> Diagnostic:
    return Diagnostic(
        "E194", f"`{text}` is outside this policy's folder tree; policies never read other files",
        extends.span, "put the parent policy in this policy's folder or a subfolder of it and name it from there",
    )


def _walk(folder: Path) -> list[tuple[str, list[str], list[str]]]:
    """The subfolders of ``folder`` (not following symbolic links, skipping hidden ones such as
    ``.git``), in a stable order."""
    found = []
    for base, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if Path(base) != folder:
            found.append((base, dirs, sorted(files)))
    return found


def _hint_names(name: str, folder: Path) -> str:
    stems = [f.stem for f in folder.glob("*.policy")]
    stems += [Path(f).stem for _, _, files in _walk(folder) for f in files if f.endswith(".policy")]
    return did_you_mean(Path(name).stem, stems) or "put the parent's `.policy` file in this policy's folder"


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _shown(path: Path) -> str:
    return path.as_posix() or "."


def _display(folder: Path, real: Path) -> str:
    """The parent's file as diagnostics and explanations name it: beside the child's path."""
    try:
        return (folder / real.relative_to(_real(folder))).as_posix()
    except ValueError:  # pragma: no cover - _inside refused it already
        return real.as_posix()


def _stem_name(found: Path, chain: Sequence[tuple[Path, str]]) -> str:
    for path, name in chain:
        if path == found:
            return name
    return found.stem  # pragma: no cover


# ------------------------------------------------------------------ merging
def merge(parent: ast.Policy, child: ast.Policy) -> tuple[ast.Policy, list[Diagnostic]]:
    """The child layer over its (already merged) parent, and the override diagnostics."""
    diagnostics: list[Diagnostic] = []
    header = _merge_header(parent.header, child.header)
    items: list[ast.Item | None] = [i for i in parent.items if not isinstance(i, ast.Test)]
    index: dict[tuple[str, str], int] = {}
    for position, item in enumerate(items):
        if isinstance(item, ast.Rule | ast.Cap | ast.Requirement):
            index[(ast.layer_kind(item), item.name)] = position
    touched: dict[tuple[str, str], Span] = {}
    parent_name = parent.header.name
    for item in child.items:
        if isinstance(item, ast.Replace | ast.Drop):
            key = (item.kind, _name(item))
            if key not in index:
                known = [name for kind, name in index if kind == item.kind]
                diagnostics.append(Diagnostic(
                    "E197", f"`{_verb(item)} {item.kind} {key[1]}`: `{parent_name}` and the layers it extends "
                    f"have no {item.kind} `{key[1]}`", item.span,
                    did_you_mean(key[1], known) or (
                        f"remove `{_verb(item)}` to add a new {item.kind}" if isinstance(item, ast.Replace)
                        else f"the {item.kind}s it can drop: {', '.join(sorted(known)) or 'none'}"),
                ))
                continue
            if key in touched:
                diagnostics.append(Diagnostic(
                    "E199", f"{item.kind} `{key[1]}` is replaced or dropped twice", item.span,
                    "keep one", notes=(("first here", touched[key]),),
                ))
                continue
            touched[key] = item.span
            items[index[key]] = item.item if isinstance(item, ast.Replace) else None
        elif isinstance(item, ast.Rule | ast.Cap | ast.Requirement) and (ast.layer_kind(item), item.name) in index:
            kind = ast.layer_kind(item)
            inherited = items[index[(kind, item.name)]]
            notes = ((f"inherited from {inherited.span}", inherited.span),) if inherited is not None else ()
            diagnostics.append(Diagnostic(
                "E198", f"{kind} `{item.name}` is already inherited from `{parent_name}`", item.span,
                f"write `replace {kind} {item.name}:` to restate it, or give it another name", notes=notes,
            ))
        elif isinstance(item, ast.Test):
            items.append(item)
        else:
            group = next((g for g in _SINGLETONS if isinstance(item, g)), None)
            if group is not None:
                items = [None if isinstance(i, group) else i for i in items]
            if isinstance(item, ast.Vocabulary):  # issue 9 (C): a child's vocabulary replaces the parent's
                items = [None if isinstance(i, ast.Vocabulary) and i.field == item.field else i for i in items]
            items.append(item)
    dropped = {name for (kind, name), span in touched.items()
               if kind == "requirement" and items[index[(kind, name)]] is None}
    kept = (_without_waived(i, dropped) for i in items if i is not None)
    merged = ast.Policy(header, tuple(i for i in kept if i is not None),
                        child.comments, span=child.span, clause_spans=child.clause_spans)
    return merged, diagnostics


def _without_waived(item: ast.Item, dropped: set[str]) -> ast.Item | None:
    """An inherited ``waive`` without the requirements the child dropped (nothing is left to
    waive there); a waiver that named only dropped requirements goes too."""
    if not isinstance(item, ast.Waiver) or not dropped.intersection(item.names):
        return item
    names = tuple(n for n in item.names if n not in dropped)
    return attrs.evolve(item, names=names) if names else None


def _merge_header(parent: ast.Header, child: ast.Header) -> ast.Header:
    """Each header clause the child states, else the parent's; the child's name."""
    changes: dict[str, Any] = {}
    for field in attrs.fields(ast.Header):
        if field.name in ("name", "span", "extends"):
            continue
        default: Any = field.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = default.factory()
        if getattr(child, field.name) == default:
            changes[field.name] = getattr(parent, field.name)
    return attrs.evolve(child, extends=None, **changes)


def _verb(item: ast.Replace | ast.Drop) -> str:
    return "replace" if isinstance(item, ast.Replace) else "drop"


def _kind(item: ast.Replace | ast.Drop) -> str:
    return _KIND_WORD[item.kind]


def _name(item: ast.Replace | ast.Drop) -> str:
    return item.item.name if isinstance(item, ast.Replace) else item.name
