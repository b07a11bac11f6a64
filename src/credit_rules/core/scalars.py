"""What a comparison means on one value: the definition both engines share.

After lowering, every atom is one of ``=, <, <=, >, >=`` or ``in`` (``!=`` and ``not in``
are negations of them), so the two-valued rule of SPEC §4 is one sentence: **an atom on
a missing value, or on a value that cannot be read as the literal's type, is false**.
``category != class_teacher`` is ``not (category = class_teacher)``, true for an event
without a category.

The bulk engine compiles these atoms natively where it can and calls :func:`compare`
once per distinct value where it cannot, so the two never disagree.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from credit_rules import ir


def coerce(actual: Any, expected: ir.Scalar) -> Any:
    """``actual`` read as the type of the literal it is compared with; None when it cannot be."""
    if actual is None:
        return None
    if isinstance(expected, bool):
        return bool(actual)
    if isinstance(expected, Decimal):
        if isinstance(actual, Decimal):
            return actual
        if isinstance(actual, int):
            return Decimal(actual)
        try:
            return Decimal(str(actual).strip())
        except InvalidOperation:
            return None
    if isinstance(expected, dt.date):
        if isinstance(actual, dt.datetime):
            return actual.date()
        if isinstance(actual, dt.date):
            return actual
        try:
            return dt.date.fromisoformat(str(actual))
        except ValueError:
            return None
    return str(actual)


def compare(actual: Any, op: str, expected: ir.Scalar) -> bool:
    """One comparison atom (``op`` is never ``!=`` after lowering; it is accepted anyway)."""
    if op == "!=":
        return not compare(actual, "=", expected)
    value = coerce(actual, expected)
    if value is None:
        return False
    match op:
        case "=":
            return bool(value == expected)
        case "<":
            return bool(value < expected)
        case "<=":
            return bool(value <= expected)
        case ">":
            return bool(value > expected)
        case ">=":
            return bool(value >= expected)
    raise AssertionError(op)  # pragma: no cover


def member(actual: Any, values: frozenset[ir.Scalar]) -> bool:
    """One ``in`` atom: false on a missing value."""
    if actual is None:
        return False
    return any(coerce(actual, v) == v for v in values)
