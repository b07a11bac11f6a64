"""Can two conditions hold at once? A small, sound-for-disjointness reasoner.

Conditions are expanded into alternatives (a bounded DNF); each alternative keeps, per
text field, the set of values it allows and the set it forbids. Two conditions are
*disjoint* only when every pair of alternatives contradicts on some field. Anything the
reasoner does not model (numbers, dates, facts) is assumed satisfiable, so "disjoint"
is always right and "may overlap" is the cautious answer.
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from credit_rules import ir

#: Stands for "the event has no value here" (e.g. ``without category``).
MISSING = object()
_LIMIT = 64  # alternatives kept before giving up precision (then: may overlap)


@attrs.frozen
class FieldConstraint:
    allowed: frozenset[object] | None = None  # None: anything, including missing
    forbidden: frozenset[object] = frozenset()

    def meet(self, other: FieldConstraint) -> FieldConstraint:
        if self.allowed is None:
            allowed = other.allowed
        elif other.allowed is None:
            allowed = self.allowed
        else:
            allowed = self.allowed & other.allowed
        return FieldConstraint(allowed, self.forbidden | other.forbidden)

    @property
    def satisfiable(self) -> bool:
        return self.allowed is None or bool(self.allowed - self.forbidden)


Alternative = dict[str, FieldConstraint]


def _meet(a: Alternative, b: Alternative) -> Alternative | None:
    out = dict(a)
    for field, constraint in b.items():
        merged = out[field].meet(constraint) if field in out else constraint
        if not merged.satisfiable:
            return None
        out[field] = merged
    return out


def _atom(field: str, constraint: FieldConstraint) -> list[Alternative]:
    return [{field: constraint}] if constraint.satisfiable else []


def alternatives(cond: ir.Cond | None, negate: bool = False) -> list[Alternative]:
    """The satisfiable alternatives of ``cond`` (``[{}]`` means: always satisfiable)."""
    if cond is None:
        return [{}] if not negate else []
    match cond:
        case ir.And(items) if not negate:
            return _conjoin(alternatives(i) for i in items)
        case ir.Or(items) if negate:
            return _conjoin(alternatives(i, True) for i in items)
        case ir.And(items) | ir.Or(items):
            out: list[Alternative] = []
            for item in items:
                out.extend(alternatives(item, negate))
            return out[:_LIMIT] if len(out) <= _LIMIT else [{}]
        case ir.Not(item):
            return alternatives(item, not negate)
        case ir.Compare(field, _, "=", value) if isinstance(value, str):
            return _atom(field, FieldConstraint(forbidden=frozenset({value})) if negate
                         else FieldConstraint(allowed=frozenset({value})))
        case ir.Compare(field, _, "!=", value) if isinstance(value, str):
            return _atom(field, FieldConstraint(allowed=frozenset({value})) if negate
                         else FieldConstraint(forbidden=frozenset({value})))
        case ir.Member(field, _, values, negated) if all(isinstance(v, str) for v in values):
            if negated != negate:
                return _atom(field, FieldConstraint(forbidden=frozenset(values)))
            return _atom(field, FieldConstraint(allowed=frozenset(values)))
        case ir.HasRole(role):
            # Roles are a set: `role a` and `role b` can both hold; only `role a` and `not role a` clash.
            return _atom(f"role:{role}", FieldConstraint(allowed=frozenset({not negate})))
        case ir.Relative(attribute, count, unit):
            # One window is true or false for an event: only it and its negation clash.
            return _atom(f"relative:{attribute}:{count}:{unit}", FieldConstraint(allowed=frozenset({not negate})))
    return [{}]


def _conjoin(parts: Iterable[list[Alternative]]) -> list[Alternative]:
    result: list[Alternative] = [{}]
    for part in parts:
        combined: list[Alternative] = []
        for left in result:
            for right in part:
                merged = _meet(left, right)
                if merged is not None:
                    combined.append(merged)
        if len(combined) > _LIMIT:
            return [{}]
        result = combined
        if not result:
            return []
    return result


def satisfiable(cond: ir.Cond | None, fixed: Alternative | None = None) -> bool:
    """Can ``cond`` hold (given the ``fixed`` constraints)?"""
    alts = alternatives(cond)
    if fixed is None:
        return bool(alts)
    return any(_meet(fixed, alt) is not None for alt in alts)


def may_overlap(a: ir.Cond | None, b: ir.Cond | None, fixed_a: Alternative | None = None,
                fixed_b: Alternative | None = None) -> bool:
    """Can ``a`` (with ``fixed_a``) and ``b`` (with ``fixed_b``) hold for the same thing?"""
    return overlaps(constrained(a, fixed_a), constrained(b, fixed_b))


def constrained(cond: ir.Cond | None, fixed: Alternative | None = None) -> list[Alternative]:
    """The satisfiable alternatives of ``cond`` given ``fixed`` (computed once per rule
    when many pairs are compared)."""
    return [m for alt in alternatives(cond) if (m := _meet(fixed or {}, alt)) is not None]


def overlaps(left: list[Alternative], right: list[Alternative]) -> bool:
    """Can one of the ``left`` alternatives and one of the ``right`` hold together?"""
    return any(_meet(x, y) is not None for x in left for y in right)


def equals(field: str, value: object) -> Alternative:
    return {field: FieldConstraint(allowed=frozenset({value}))}
