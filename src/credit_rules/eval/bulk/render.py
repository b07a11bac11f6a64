"""Canonical text of ledger values, built as Polars expressions (SPEC §5).

One job: the bytes of a ledger cell. Decimals are rendered from fixed-point integers as
:func:`credit_rules.values.canonical` writes them (``"7.2"``, ``"36"``: SPEC §5, "decimal
string, canonical"), and the nested keys as the compact JSON text
``json.dumps(value, ensure_ascii=False, separators=(",", ":"))``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import polars as pl


def render(expr: pl.Expr, digits: int) -> pl.Expr:
    """Canonical decimal text (values.canonical) of an integer at scale 10^digits."""
    scale = 10**digits
    magnitude = expr.abs()
    whole = (magnitude // scale).cast(pl.String)
    frac = magnitude % scale
    frac_text = frac.cast(pl.String).str.pad_start(digits, "0").str.strip_chars_end("0")
    sign = pl.when(expr < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    body = pl.when(frac > 0).then(pl.concat_str([whole, pl.lit("."), frac_text])).otherwise(whole)
    return pl.when(expr == 0).then(pl.lit("0")).otherwise(pl.concat_str([sign, body]))


def json_text(expr: pl.Expr) -> pl.Expr:
    """A JSON string literal of text, as ``json.dumps(..., ensure_ascii=False)`` writes it."""
    specials = ['\\', '"', "\n", "\r", "\t", "\b", "\f"]
    replaced = ["\\\\", '\\"', "\\n", "\\r", "\\t", "\\b", "\\f"]
    for code in range(32):
        char = chr(code)
        if char not in specials:
            specials.append(char)
            replaced.append(f"\\u{code:04x}")
    escaped = pl.when(expr.str.contains(r'[\\"\x00-\x1f]')).then(
        expr.str.replace_many(specials, replaced)).otherwise(expr)
    return pl.concat_str([pl.lit('"'), escaped, pl.lit('"')])


def dumps(value: Any) -> str:
    """Compact JSON of a Python value (for the literal parts of a cell)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def bool_text(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr).then(pl.lit("true")).otherwise(pl.lit("false"))


def object_text(parts: Sequence[pl.Expr], open_: str, close: str) -> pl.Expr:
    """``open_`` + the non-null ``parts`` joined by commas + ``close``."""
    if not parts:
        return pl.lit(open_ + close)
    inner = pl.concat_str(list(parts), separator=",", ignore_nulls=True).fill_null("")
    return pl.concat_str([pl.lit(open_), inner, pl.lit(close)])
