"""The policy grammar and the LALR parser built from it, cached between starts.

The grammar lives in ``grammar/policy.lark`` at the top of the repository and is
shipped inside the wheel as ``credit_rules/grammar/policy.lark``.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import lark
from lark import Lark


def grammar_text() -> str:
    """The grammar, from the installed package or, in a checkout, from ``grammar/``."""
    packaged = resources.files("credit_rules").joinpath("grammar/policy.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[3] / "grammar" / "policy.lark"
    return checkout.read_text(encoding="utf-8")


#: How the grammar is built; part of the cache key.
_OPTIONS: dict[str, Any] = {"parser": "lalr", "propagate_positions": True, "maybe_placeholders": False}


def grammar_cache_dir() -> Path:
    """Where the built parser is cached: ``$XDG_CACHE_HOME/credit-rules``, else
    ``~/.cache/credit-rules``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "credit-rules"


def _cache_key(text: str, *extra: str) -> str:
    """A SHA-256 of everything a cached parser depends on (24 hex digits)."""
    key = "\0".join([text, lark.__version__, "{}.{}".format(*sys.version_info[:2]), repr(sorted(_OPTIONS.items())),
                     *extra])
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def build_parser(cache_dir: Path | None) -> Lark:
    """The LALR parser of the policy grammar, loaded from ``cache_dir`` when a parser built
    from the same grammar, Lark version, Python version and options is there, else built
    (0.3 s or more) and saved there for the next start. ``None``, or a folder that cannot be
    created or written, builds without a cache.

    The cache file is named after a SHA-256 of all of those, so a changed grammar or a new
    Lark never reads a stale parser (Lark also checks its own hash of the grammar and options
    inside the file, and rebuilds on a mismatch or an unreadable file). A new file is written
    under a temporary name and renamed into place, so a concurrent start never reads half
    of one.
    """
    text = grammar_text()
    if cache_dir is None:
        return Lark(text, **_OPTIONS)
    path = cache_dir / f"policy-grammar-{_cache_key(text)}.lark"
    if path.is_file():
        return Lark(text, cache=str(path), **_OPTIONS)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_dir, prefix=".policy-grammar-", suffix=".tmp")
        os.close(handle)
        os.unlink(temporary)  # Lark writes the cache only when the file is absent or stale
    except OSError:
        return Lark(text, **_OPTIONS)
    try:
        built = Lark(text, cache=temporary, **_OPTIONS)
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        return Lark(text, **_OPTIONS)
    return built


def tables_path(cache_dir: Path) -> Path:
    """Where :func:`parse_tables` keeps the tables of this grammar, Lark and Python."""
    from credit_rules.syntax.lalr import TABLES_FORMAT

    return cache_dir / f"policy-tables-{_cache_key(grammar_text(), f'tables {TABLES_FORMAT}')}.marshal"


def parse_tables(cache_dir: Path | None) -> dict[str, Any]:
    """The plain-data tables of :mod:`credit_rules.syntax.lalr`, loaded with :mod:`marshal`
    from ``cache_dir`` (a few milliseconds, where loading Lark's own cache takes 0.1 s),
    else taken from the Lark parser (:func:`build_parser`) and saved there for the next
    start, under a name keyed like Lark's cache plus the tables' format. An unreadable or
    foreign file is rebuilt; a folder that cannot be written only costs the saving.
    """
    from credit_rules.syntax.lalr import TABLES_FORMAT, tables_from_lark

    if cache_dir is None:
        return tables_from_lark(build_parser(None))
    path = tables_path(cache_dir)
    try:
        loaded = marshal.loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        loaded = None
    if isinstance(loaded, dict) and loaded.get("format") == TABLES_FORMAT:
        return loaded
    tables = tables_from_lark(build_parser(cache_dir))
    data = marshal.dumps(tables)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_dir, prefix=".policy-tables-", suffix=".tmp")
    except OSError:
        return tables
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)  # whole or not at all, for a concurrent start
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    return tables
