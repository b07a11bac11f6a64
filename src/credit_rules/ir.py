"""The checked intermediate form every evaluator consumes.

Produced by :mod:`credit_rules.compile.from_syntax`: names are resolved (a field is
known to be an event column, a roster attribute or a derived fact), units are
attached, percentages are turned into amounts, plural kind names are singular, and
the exact conversion rate is computed. Nodes keep the span of the text they come
from so evaluators can cite it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from enum import StrEnum
from typing import Literal, TypeAlias, TypeVar

import attrs

from credit_rules.span import Span, share_repr, span_field
from credit_rules.values import Period, PeriodKind, period_of, periods_within

_N = TypeVar("_N")



class Scope(StrEnum):
    """Where a field's value comes from."""

    EVENT = "event"      # a column or attribute of the event (or of the award made on it)
    TEACHER = "teacher"  # a roster attribute
    FACT = "fact"        # derived for the teacher in the period: credits, hours, leave_days, grade…


Scalar: TypeAlias = str | Decimal | dt.date | bool
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]


@attrs.frozen(repr=False)
class Compare:
    """Two-valued: a missing value makes ``!=`` true and every other comparison false."""

    field: str
    scope: Scope
    op: CompareOp
    value: Scalar
    span: Span = span_field()


@attrs.frozen(repr=False)
class Member:
    field: str
    scope: Scope
    values: frozenset[Scalar]
    negated: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class HasRole:
    role: str
    span: Span = span_field()


@attrs.frozen(repr=False)
class DateBound:
    op: Literal["<=", ">="]
    date: dt.date
    span: Span = span_field()


@attrs.frozen(repr=False)
class Qualified:
    program: str
    span: Span = span_field()


@attrs.frozen(repr=False)
class EventsExist:
    kind: str
    exists: bool
    span: Span = span_field()


@attrs.frozen(repr=False)
class Ranked:
    rank: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class RequirementMet:
    """The requirement applies to the teacher and is met (or waived): a result (outcome context)."""

    requirement: str
    span: Span = span_field()


@attrs.frozen(repr=False)
class Relative:
    """An event filter on the event's day relative to the teacher's roster date
    ``attribute`` (issue 9, D): ``within COUNT years|months|days of ATTR`` or ``in the
    first COUNT school years|semesters after ATTR``. The lowering turns it into a
    :class:`DateWindow`, the form the engines evaluate."""

    attribute: str
    count: int
    unit: Literal["years", "months", "days", "school year", "semester"]
    span: Span = span_field()


@attrs.frozen(repr=False)
class DateWindow:
    """The core form of :class:`Relative` (made by the lowering, never by the compiler):
    the event's day lies in :func:`credit_rules.values.relative_window` of the teacher's
    ``attribute`` date; false when the teacher has no such date."""

    attribute: str
    anchor: PeriodKind | None  # None: the window starts on the date itself
    months: int
    days: int
    periods: int
    span: Span = span_field()


@attrs.frozen(repr=False)
class And:
    items: tuple[Cond, ...]
    span: Span = span_field()


@attrs.frozen(repr=False)
class Or:
    items: tuple[Cond, ...]
    span: Span = span_field()


@attrs.frozen(repr=False)
class Not:
    item: Cond
    span: Span = span_field()


# ------------------------------------------------------------------ issue 9 (C): typed columns
@attrs.frozen(repr=False)
class Linear:
    """``attended_hours >= 4/5 * planned_hours`` in exact integer form:
    ``sum(coef * value(column)) + constant  OP  0``, where ``value`` is a number column in
    micro-units (value x 10^6) or, when ``dates``, a date column as its day number
    (``date.toordinal()``). The coefficients and the constant are integers: the checker
    scaled the rational form (division by a constant included) by a positive integer, which
    keeps every comparison with 0. An atom with a missing or unreadable operand is false.
    """

    terms: tuple[tuple[str, int], ...]
    scope: Scope
    constant: int
    op: CompareOp
    dates: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class Has:
    """``tags has mentor``: the `list of text` column ``field`` holds ``value``."""

    field: str
    scope: Scope
    value: str
    span: Span = span_field()


Cond: TypeAlias = (
    Compare | Member | HasRole | DateBound | Qualified | EventsExist | Ranked | And | Or | Not
    | Linear | Has
    | RequirementMet
    | Relative | DateWindow
)


ColumnType = Literal["number", "decimal", "date", "text", "list"]


@attrs.frozen(repr=False)
class ColumnDecl:
    """A declared extra column: on events (scope EVENT) or on the roster (scope TEACHER)."""

    name: str
    type: ColumnType
    scope: Scope
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Vocabulary:
    """The values a field may take (``role``, ``title``, ``kind``, ``category``, ``level``,
    ``format``), declared by the policy in place of the SPEC's list."""

    field: str
    values: tuple[str, ...]
    source: str | None = None
    span: Span = span_field()


# ------------------------------------------------------------------ awards
@attrs.frozen(repr=False)
class CountHours:
    """The event's hours count as study hours and convert to credits at the policy rate."""

    span: Span = span_field()


@attrs.frozen(repr=False)
class CountCredits:
    span: Span = span_field()


@attrs.frozen(repr=False)
class Fixed:
    amount: Decimal
    unit: Literal["credits", "hours"]
    span: Span = span_field()


@attrs.frozen(repr=False)
class IfQualified:
    amount: Decimal
    unit: Literal["credits", "hours"]
    span: Span = span_field()


@attrs.frozen(repr=False)
class Block:
    credits: Decimal
    hours: Decimal
    pro_rata: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class Leave:
    span: Span = span_field()


Award: TypeAlias = CountHours | CountCredits | Fixed | IfQualified | Block | Leave


@attrs.frozen(repr=False)
class Rule:
    """An award rule. ``kind`` is None only for ``if qualified`` rules (they land on assessments)."""

    name: str
    award: Award
    kind: str | None
    first: bool
    program: str | None
    where: Cond | None
    when: Cond | None
    as_level: str | None
    as_category: str | None
    source: str | None
    without_category: bool = False
    exception_to: str | None = None  # where this rule fires on an event, that rule does not
    rate: RuleRate | None = None  # the rule's own conversion (None: the policy's)
    rounding: Rounding | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class CapFrom:
    """``cap NAME from SINCE: at most AMOUNT credits`` (issue 9, E2)."""

    since: dt.date
    amount: Decimal
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Cap:
    """A credit register: at most ``amount`` credited per ``per`` period (or per ledger period)."""

    name: str
    amount: Decimal
    per: PeriodKind | None
    of: Cond | None
    source: str | None
    #: issue 9 (B): one register per event, or per value of an event column; a register
    #: of credits or of study hours
    per_event: bool = False
    per_column: str | None = None
    measure: Literal["credits", "hours"] = "credits"
    span: Span = span_field()
    #: dated amounts (issue 9, E2), by date: each replaces ``amount`` in the cap's periods
    #: (its ``per`` periods, else the ledger periods) that start on or after its date
    dated: tuple[CapFrom, ...] = ()


# ------------------------------------------------------------------ requirements
@attrs.frozen(repr=False)
class MeasureCredits:
    of: Cond | None = None


@attrs.frozen(repr=False)
class MeasureHours:
    of: Cond | None = None


@attrs.frozen(repr=False)
class MeasureCount:
    kind: str
    where: Cond | None = None


@attrs.frozen(repr=False)
class MeasureQualified:
    program: str


@attrs.frozen(repr=False)
class MeasureBest:
    """``base`` in each group of events whose ``field`` equals one of ``values``; the best group counts."""

    base: MeasureCredits | MeasureHours | MeasureCount
    field: str
    values: tuple[Scalar, ...]


@attrs.frozen(repr=False)
class MeasureChoice:
    """Met when one of the requirements ``names`` (none of them a choice) is met."""

    names: tuple[str, ...]


Measure: TypeAlias = (
    MeasureCredits | MeasureHours | MeasureCount | MeasureQualified | MeasureBest | MeasureChoice
)


@attrs.frozen(repr=False)
class RequirementLine:
    amount: Decimal
    measure: Measure
    when: Cond | None
    source: str | None
    #: issue 9 (B): ``per year``: one entry per calendar year of the ledger period
    per: PeriodKind | None = None
    span: Span = span_field()
    #: ``from DATE:``: the line is for ledger periods that start on or after this day (issue 9, E2)
    since: dt.date | None = None


@attrs.frozen(repr=False)
class CarryForward:
    """``carry forward at most AMOUNT UNIT``: the surplus of a requirement in one ledger
    period (its actual amount, carry included, minus its required amount, when positive)
    counts towards the same requirement in the teacher's next period, at most ``amount``."""

    amount: Decimal
    unit: Literal["credits", "hours"]
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Requirement:
    name: str
    lines: tuple[RequirementLine, ...]
    source: str | None
    span: Span = span_field()
    carry: CarryForward | None = None  # issue 9 (E2)

    @property
    def unit(self) -> Literal["credits", "hours", "count", "qualified", "choice"]:
        measure = self.lines[0].measure
        if isinstance(measure, MeasureBest):
            measure = measure.base
        if isinstance(measure, MeasureChoice):
            return "choice"
        if isinstance(measure, MeasureCredits):
            return "credits"
        if isinstance(measure, MeasureHours):
            return "hours"
        if isinstance(measure, MeasureCount):
            return "count"
        return "qualified"


@attrs.frozen(repr=False)
class Waiver:
    names: tuple[str, ...]
    when: Cond
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Reduction:
    """Credit requirements shrink by ``fraction`` per calendar year of the window before ``attribute``."""

    fraction: Decimal
    attribute: str
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class GradeFromAssessment:
    program: str
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class GradeFromScore:
    program: str
    thresholds: tuple[tuple[str, Decimal], ...]  # highest minimum first
    otherwise: str
    source: str | None
    span: Span = span_field()


GradeRule: TypeAlias = GradeFromAssessment | GradeFromScore


@attrs.frozen(repr=False)
class Excellent:
    when: Cond
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Penalty:
    name: str
    kind: str
    where: Cond | None
    void_credits: bool
    not_excellent: bool
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Top:
    count: int
    mode: Literal["overall", "per", "across"]
    field: str | None
    values: tuple[str, ...]


@attrs.frozen(repr=False)
class Rank:
    """Top teachers by their latest score in ``program``; ties: earlier score, then teacher_id."""

    name: str
    program: str
    among: Cond | None
    tops: tuple[Top, ...]
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Invariant:
    name: str
    cond: Cond
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Outcome:
    """``outcome NAME: COND``: a named result, one entry of the ledger's ``outcomes``."""

    name: str
    cond: Cond
    source: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Layer:
    """One policy file of a layered policy (``policy county_x extends city_y``)."""

    name: str
    file: str
    #: The ``extends`` clause of the child that named this layer (None for the policy itself).
    via: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen(repr=False)
class CountOnly:
    """``count only status approved``: only events whose ``status`` is one of ``values``
    count for anything (issue 9, D)."""

    values: frozenset[str]
    span: Span = span_field()


@attrs.frozen(repr=False)
class Policy:
    """A checked policy, ready for any evaluator."""

    name: str
    title: str | None
    source: str | None
    timezone: str
    window: Period | None
    evaluate: PeriodKind
    rate: Decimal | None  # credits per hour, exact; None when the policy converts nothing
    rules: tuple[Rule, ...]
    caps: tuple[Cap, ...]
    requirements: tuple[Requirement, ...]
    waivers: tuple[Waiver, ...]
    reduction: Reduction | None
    grade: GradeRule | None
    excellent: Excellent | None
    penalties: tuple[Penalty, ...]
    ranks: tuple[Rank, ...]
    invariants: tuple[Invariant, ...]
    file: str = "<input>"
    units: tuple[UnitConversion, ...] = ()  # minutes / days as study hours (issue 9 A)
    #: The layers of a policy that ``extends`` another, the policy itself first, then its
    #: parent, and so on (empty for a policy without ``extends``). Each statement's span
    #: names the file it was written in; :meth:`layer_of` gives its layer.
    layers: tuple[Layer, ...] = ()
    span: Span = span_field()
    #: issue 9 (C): declared extra columns and vocabularies (empty: SPEC columns and lists)
    columns: tuple[ColumnDecl, ...] = ()
    vocabularies: tuple[Vocabulary, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    count_only: CountOnly | None = None

    def layer_of(self, span: Span) -> Layer | None:
        """The layer a statement written at ``span`` comes from (None without layers)."""
        for layer in self.layers:
            if layer.file == span.file:
                return layer
        return None

    def requirement(self, name: str) -> Requirement:
        for requirement in self.requirements:
            if requirement.name == name:
                return requirement
        raise KeyError(name)


def cap_boundary(policy: Policy, cap: Cap, since: dt.date) -> dt.date | None:
    """The first day of the first of ``cap``'s periods (its ``per`` periods, else the ledger
    periods) that starts on or after ``since``; None when the policy has no such period
    (issue 9, E2: where a dated cap amount takes over)."""
    if cap.per is None and policy.window is not None:
        if policy.evaluate is PeriodKind.WINDOW:
            starts = [policy.window.start]
        else:
            starts = [p.start for p in periods_within(policy.evaluate, policy.window)]
        return next((start for start in starts if start >= since), None)
    grain = cap.per if cap.per is not None else policy.evaluate
    if grain is PeriodKind.WINDOW:  # pragma: no cover - a policy evaluated over its window has one
        return None
    period = period_of(grain, since)
    return period.start if period.start == since else period.end + dt.timedelta(days=1)


# ------------------------------------------------------------------ issue 9 (A): rates, rounding, units
RoundMode = Literal["down", "half up"]


@attrs.frozen(repr=False)
class RuleRate:
    """A rule's own conversion, ``at HOURS hours = CREDITS credits``: ``per_hour`` credits
    per study hour when that is an exact decimal; None when it is not (1/6): then the rule
    rounds its credits, and only the rounded awards are decimals."""

    hours: Decimal
    credits: Decimal
    per_hour: Decimal | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Rounding:
    """A rule's awards rounded ``mode`` to a multiple of ``step`` credits, each award
    (``pooled`` False) or the rule's running total over a teacher-period (``pooled``)."""

    mode: RoundMode
    step: Decimal
    pooled: bool
    span: Span = span_field()


@attrs.frozen(repr=False)
class UnitConversion:
    """``AMOUNT minutes|days = HOURS hours``; ``rounding`` to whole hours (mode, pooled) or None."""

    unit: Literal["minutes", "days"]
    amount: Decimal
    hours: Decimal
    rounding: tuple[RoundMode, bool] | None
    source: str | None
    span: Span = span_field()


def walk(node: object) -> Iterator[object]:
    """Every IR node reachable from ``node`` (itself first), depth first, in field order.

    The one tree walker of the IR: passes that look for a kind of node filter it,
    e.g. ``[n for n in walk(policy) if isinstance(n, Qualified)]``.
    """
    stack: list[object] = [node]
    while stack:
        current = stack.pop()
        yield current
        children: list[object] = []
        if isinstance(current, tuple):
            children = list(current)
        elif attrs.has(type(current)):
            for field in attrs.fields(type(current)):  # type: ignore[arg-type]
                if field.name == "span":
                    continue
                value = getattr(current, field.name)
                if isinstance(value, tuple) or attrs.has(type(value)):
                    children.append(value)
        stack.extend(reversed(children))


def nodes(node: object, kind: type[_N]) -> list[_N]:
    """The nodes of one type under ``node`` (see :func:`walk`)."""
    return [n for n in walk(node) if isinstance(n, kind)]


def cond_nodes(cond: Cond | None) -> list[Cond]:
    """Every node of a condition tree, itself first (see :func:`walk`)."""
    return [n for n in walk(cond) if isinstance(n, _COND_TYPES)]


_COND_TYPES = (Compare, Member, HasRole, DateBound, Qualified, EventsExist, Ranked, And, Or, Not,
               Linear, Has, RequirementMet, Relative, DateWindow)


share_repr(globals())  # after every class: one attrs-style repr for all
