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
import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
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


# --------------------------------------------------------------------------- issue 9 (C)
# Typed custom columns. The loader checks every declared column (a row whose value does
# not parse is rejected), so in an engine a value that cannot be read is only possible for
# records built by hand: such an operand is missing, and the atom is false.
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
#: How a `list of text` column separates its items in text (as the roster's ``roles``).
LIST_SEPARATOR = ";"


#: The text of a number column: digits with an optional fraction and sign, no exponent.
NUMBER_TEXT = re.compile(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?$")
#: The text of a date column: ``YYYY-MM-DD``.
DATE_TEXT = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def number_value(actual: Any) -> Fraction | None:
    """A number column's value, exactly (None: missing or not a number). Text is read as
    the loader accepts it: at most 12 digits before the point and 6 significant after it."""
    if actual is None or isinstance(actual, bool):
        return None
    if isinstance(actual, Decimal | int):
        return Fraction(actual)
    match = NUMBER_TEXT.match(str(actual).strip())
    if match is None:
        return None
    sign, whole, fraction = match.group(1), match.group(2).lstrip("0"), (match.group(3) or "").rstrip("0")
    if not (match.group(2) or match.group(3)) or len(whole) > 12 or len(fraction) > 6:
        return None
    value = Fraction(int(whole or "0") * 10**6 + int(fraction.ljust(6, "0")), 10**6)
    return -value if sign == "-" else value


def day_value(actual: Any) -> int | None:
    """A date column's value as its day number since 1970-01-01 (None: missing or not a date)."""
    if isinstance(actual, str):
        text = actual.strip()
        if not DATE_TEXT.match(text):
            return None
        try:
            actual = dt.date.fromisoformat(text)
        except ValueError:
            return None
    if isinstance(actual, dt.datetime):
        actual = actual.date()
    if not isinstance(actual, dt.date):
        return None
    return actual.toordinal() - _EPOCH_ORDINAL


def linear_holds(values: list[Any], terms: tuple[tuple[str, int], ...], constant: int, op: str,
                 dates: bool) -> bool:
    """``sum(k * value) + constant OP 0`` (see :class:`credit_rules.ir.Linear`): number
    values in micro-units, exactly; false when an operand is missing."""
    total = Fraction(constant)
    for value, (_, k) in zip(values, terms, strict=True):
        read: Fraction | int | None = day_value(value) if dates else number_value(value)
        if read is None:
            return False
        total += k * (read if dates else read * 1_000_000)
    return compare(Decimal(0) if total == 0 else Decimal(1 if total > 0 else -1), op, Decimal(0))


def list_items(actual: Any) -> tuple[str, ...]:
    """The items of a `list of text` value: text split at ``;`` and trimmed, or a list."""
    if actual is None:
        return ()
    if isinstance(actual, list | tuple | frozenset | set):
        return tuple(str(x).strip() for x in actual)
    return tuple(x.strip() for x in str(actual).split(LIST_SEPARATOR) if x.strip())


def has(actual: Any, value: str) -> bool:
    """``tags has mentor``: false on a missing value."""
    return value in list_items(actual)
