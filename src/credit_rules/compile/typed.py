"""Typed custom columns and open vocabularies (issue 9, part C): the checks and the exact
linear form of arithmetic in conditions.

``columns: attended_hours decimal, district text of teacher`` declares extra columns;
``vocabulary levels: county, school`` replaces the SPEC's list of one field's values.
A comparison with arithmetic (``attended_hours >= 4/5 * planned_hours``) becomes
:class:`credit_rules.ir.Linear`: the difference of its two sides as a sum of integer
coefficients times micro-unit column values plus an integer constant, compared with 0.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import attrs

from credit_rules.schema import CATEGORIES, KNOWN_KINDS, LEVELS, ROLES, TITLES

#: The words a vocabulary may name, singular and plural, and the field each stands for.
VOCABULARY_FIELDS: dict[str, str] = {
    "roles": "role", "role": "role", "titles": "title", "title": "title",
    "kinds": "kind", "kind": "kind", "categories": "category", "category": "category",
    "levels": "level", "level": "level", "formats": "format", "format": "format",
}
#: The SPEC's list of each field's values (formats have none: any format is accepted).
DEFAULT_VOCABULARIES: dict[str, tuple[str, ...] | None] = {
    "role": ROLES, "title": TITLES, "kind": KNOWN_KINDS, "category": CATEGORIES,
    "level": LEVELS, "format": None,
}
#: Most columns one comparison may name, and the largest integer coefficient and constant
#: of its exact form: with values below 10^15 micro-units the sum stays inside Int128.
MAX_TERMS = 8
MAX_COEFFICIENT = 10**18
MAX_CONSTANT = 10**30
#: The micro-units every number column is compared in (value x 10^6).
MICRO = 10**6


class ArithError(Exception):
    """A misuse of arithmetic; ``code`` and ``hint`` for the diagnostic."""

    def __init__(self, code: str, message: str, hint: str):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


@attrs.frozen
class Form:
    """``sum(coefs[c] * c) + constant`` with exact rational coefficients."""

    coefs: dict[str, Fraction] = attrs.field(factory=dict)
    constant: Fraction = Fraction(0)

    @staticmethod
    def column(name: str) -> Form:
        return Form({name: Fraction(1)})

    @staticmethod
    def number(value: Decimal) -> Form:
        return Form({}, Fraction(value))

    @property
    def is_constant(self) -> bool:
        return not any(self.coefs.values())

    def plus(self, other: Form, sign: int = 1) -> Form:
        coefs = dict(self.coefs)
        for name, k in other.coefs.items():
            coefs[name] = coefs.get(name, Fraction(0)) + sign * k
        return Form({n: k for n, k in coefs.items() if k}, self.constant + sign * other.constant)

    def scaled(self, factor: Fraction) -> Form:
        return Form({n: k * factor for n, k in self.coefs.items() if k * factor},
                    self.constant * factor)

    def times(self, other: Form) -> Form:
        if not self.is_constant and not other.is_constant:
            raise ArithError("E273", "a column times a column is not simple arithmetic",
                             "multiply a column by a number, e.g. `4/5 * planned_hours`")
        return other.scaled(self.constant) if self.is_constant else self.scaled(other.constant)

    def divided(self, other: Form) -> Form:
        if not other.is_constant:
            raise ArithError("E273", "only division by a number is allowed",
                             "divide by a number, e.g. `planned_hours / 2`")
        if other.constant == 0:
            raise ArithError("E273", "division by zero", "divide by a number other than 0")
        return self.scaled(1 / other.constant)


def evaluate(operands: tuple[str | Decimal, ...], ops: tuple[str, ...]) -> Form:
    """The linear form of ``operands`` joined by ``ops`` (``*`` and ``/`` bind tighter)."""
    def operand(x: str | Decimal) -> Form:
        return Form.column(x) if isinstance(x, str) else Form.number(x)

    total = Form()
    sign = 1
    term = operand(operands[0])
    for op, x in zip(ops, operands[1:], strict=True):
        if op == "*":
            term = term.times(operand(x))
        elif op == "/":
            term = term.divided(operand(x))
        else:
            total = total.plus(term, sign)
            sign = 1 if op == "+" else -1
            term = operand(x)
    return total.plus(term, sign)


def integer_form(form: Form, *, dates: bool) -> tuple[tuple[tuple[str, int], ...], int]:
    """Integer coefficients over micro-units (day numbers for ``dates``) and an integer
    constant, scaled by a positive integer (so every comparison with 0 is unchanged)."""
    unit = 1 if dates else MICRO
    coefs = {n: k / unit for n, k in form.coefs.items()}
    scale = math.lcm(*(k.denominator for k in coefs.values()), form.constant.denominator)
    terms = tuple(sorted((n, int(k * scale)) for n, k in coefs.items()))
    constant = int(form.constant * scale)
    if len(terms) > MAX_TERMS:
        raise ArithError("E274", f"a comparison may name at most {MAX_TERMS} columns",
                         "split it into several conditions joined by `and`")
    if any(abs(k) > MAX_COEFFICIENT for _, k in terms) or abs(constant) > MAX_CONSTANT:
        raise ArithError("E274", "the numbers of this comparison are too large or too fine to "
                         "compute exactly", "use numbers with fewer digits")
    return terms, constant
