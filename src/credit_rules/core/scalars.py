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
import operator
import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from credit_rules import ir


def coerce(actual: Any, expected: ir.Scalar) -> Any:
    """``actual`` read as the type of the literal it is compared with; None when it cannot be."""
    return coercer(expected)(actual)


def coercer(expected: ir.Scalar) -> Callable[[Any], Any]:
    """:func:`coerce` against ``expected``, as a function of ``actual``: the literal's type
    is looked at once (an engine compares one literal with many values)."""
    if isinstance(expected, bool):
        return _as_bool
    if isinstance(expected, Decimal):
        return _as_decimal
    if isinstance(expected, dt.date):
        return _as_date
    return _as_text


def _as_bool(actual: Any) -> Any:
    return None if actual is None else bool(actual)


def _as_decimal(actual: Any) -> Any:
    if actual is None or isinstance(actual, Decimal):
        return actual
    if isinstance(actual, int):
        return Decimal(actual)
    try:
        return Decimal(str(actual).strip())
    except InvalidOperation:
        return None


def _as_date(actual: Any) -> Any:
    if actual is None:
        return None
    if isinstance(actual, dt.datetime):
        return actual.date()
    if isinstance(actual, dt.date):
        return actual
    try:
        return dt.date.fromisoformat(str(actual))
    except ValueError:
        return None


def _as_text(actual: Any) -> Any:
    return None if actual is None else str(actual)


_OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}


def compare(actual: Any, op: str, expected: ir.Scalar) -> bool:
    """One comparison atom (``op`` is never ``!=`` after lowering; it is accepted anyway)."""
    return comparison(op, expected)(actual)


def comparison(op: str, expected: ir.Scalar, of: Callable[[Any], Any] | None = None) -> Callable[[Any], bool]:
    """:func:`compare` with ``op`` and ``expected`` fixed, as a function of ``actual``; with
    ``of``, as a function of what ``of`` reads ``actual`` from (an event: one call, not two)."""
    if op == "!=":
        equal = comparison("=", expected, of)
        return lambda actual: not equal(actual)
    read, test = coercer(expected), _OPERATORS[op]
    if read is _as_text and op == "=":  # the common atom (`category = ethics`), without the two calls
        if of is not None:
            return lambda item: (actual := of(item)) is not None and str(actual) == expected
        return lambda actual: actual is not None and str(actual) == expected

    def holds(actual: Any) -> bool:
        value = read(actual if of is None else of(actual))
        return value is not None and bool(test(value, expected))

    return holds


def member(actual: Any, values: frozenset[ir.Scalar]) -> bool:
    """One ``in`` atom: false on a missing value."""
    return membership(values)(actual)


def membership(values: frozenset[ir.Scalar], of: Callable[[Any], Any] | None = None) -> Callable[[Any], bool]:
    """:func:`member` of ``values``, as a function of ``actual`` (with ``of``: as :func:`comparison`)."""
    readers = [(coercer(v), v) for v in values]
    if all(read is _as_text for read, _ in readers):  # text literals: one set lookup, the same test
        texts = frozenset(values)
        if of is not None:
            return lambda item: (actual := of(item)) is not None and str(actual) in texts
        return lambda actual: actual is not None and str(actual) in texts

    def holds(item: Any) -> bool:
        actual = item if of is None else of(item)
        return actual is not None and any(read(actual) == v for read, v in readers)

    return holds


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
