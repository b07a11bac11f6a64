"""Surface AST of a ``.policy`` file.

Every node is frozen, carries the :class:`~credit_rules.span.Span` it was parsed
from, and compares equal regardless of that span (so ``parse(print(ast)) == ast``).
English and Chinese keywords build the same nodes.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, TypeAlias

import attrs

from credit_rules.span import Span, share_repr, span_field


# ------------------------------------------------------------------ values
@attrs.frozen(repr=False)
class Word:
    """A bare word: ``ethics``, ``senior``, ``municipal``."""

    text: str
    span: Span = span_field()


@attrs.frozen(repr=False)
class Text:
    """A quoted string: ``"remote-2017"``."""

    text: str
    span: Span = span_field()


@attrs.frozen(repr=False)
class Number:
    value: Decimal
    span: Span = span_field()


@attrs.frozen(repr=False)
class DateValue:
    value: dt.date
    span: Span = span_field()


@attrs.frozen(repr=False)
class Bool:
    value: bool
    span: Span = span_field()


Value: TypeAlias = Word | Text | Number | DateValue | Bool


# ------------------------------------------------------------------ conditions
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]


@attrs.frozen(repr=False)
class Compare:
    """``field OP value``; ``category ethics`` is shorthand for ``category = ethics``."""

    field: str
    op: CompareOp
    value: Value
    span: Span = span_field()


@attrs.frozen(repr=False)
class Member:
    """``field in (a, b)`` or, negated, ``field not in (a, b)``."""

    field: str
    values: tuple[Value, ...]
    negated: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class HasRole:
    role: str
    span: Span = span_field()


@attrs.frozen(repr=False)
class DateBound:
    """``on or before DATE`` / ``on or after DATE`` (the event's local date)."""

    op: Literal["<=", ">="]
    date: dt.date
    span: Span = span_field()


@attrs.frozen(repr=False)
class Qualified:
    """``qualified in program "P"``: the latest assessment of P is qualified or excellent."""

    program: str
    span: Span = span_field()


@attrs.frozen(repr=False)
class EventsExist:
    """``any KIND`` (exists=True) or ``no KIND`` (exists=False) in the period."""

    kind: str
    exists: bool
    span: Span = span_field()


@attrs.frozen(repr=False)
class Ranked:
    """``ranked`` (by any rank) or ``ranked NAME``."""

    rank: str | None
    span: Span = span_field()


#: The unit of a period relative to a teacher's date (issue 9, D).
RelativeUnit = Literal["years", "months", "days", "school year", "semester"]


@attrs.frozen(repr=False)
class Relative:
    """A period relative to the teacher's roster date ``attribute``, on the event's day:
    ``within COUNT years|months|days of ATTR`` or ``in the first [COUNT] school
    years|semesters after ATTR`` (the unit says which)."""

    attribute: str
    count: Decimal
    unit: RelativeUnit
    span: Span = span_field()


@attrs.frozen(repr=False)
class RequirementMet:
    """``requirement NAME met``: the requirement applies to the teacher and is met (or
    waived); a result, usable in ``outcome``, ``excellent`` and invariants."""

    requirement: str
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
ArithOp = Literal["+", "-", "*", "/"]


@attrs.frozen(repr=False)
class Arith:
    """``4/5 * planned_hours``: operands (a column name or a number) and the operators
    between them, as written (left to right; ``*`` and ``/`` bind tighter)."""

    operands: tuple[str | Decimal, ...]
    ops: tuple[ArithOp, ...]
    span: Span = span_field()


@attrs.frozen(repr=False)
class ArithCompare:
    """A comparison with arithmetic on one side at least: ``attended_hours >= 4/5 * planned_hours``."""

    left: str | Arith
    op: CompareOp
    right: Arith | Value
    span: Span = span_field()


@attrs.frozen(repr=False)
class Has:
    """``tags has mentor``: a `list of text` column holds the value."""

    field: str
    value: Value
    span: Span = span_field()


Cond: TypeAlias = (
    Compare | Member | HasRole | DateBound | Qualified | EventsExist | Ranked | And | Or | Not
    | ArithCompare | Has
    | RequirementMet
    | Relative
)


# ------------------------------------------------------------------ header
PeriodUnit = Literal["school year", "semester", "year", "day"]


@attrs.frozen(repr=False)
class Window:
    start: dt.date
    end: dt.date
    keyword: Literal["window", "cycle"] = "window"
    span: Span = span_field()


@attrs.frozen(repr=False)
class Conversion:
    """``10 hours = 1 credit``."""

    hours: Decimal
    credits: Decimal
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class CountOnly:
    """``count only status approved`` / ``count only status in (approved, verified)``:
    events whose ``status`` is another value (or missing) count for nothing."""

    values: tuple[Value, ...]
    listed: bool = False  # written as `in (…)` (the formatter keeps the form)
    span: Span = span_field()


@attrs.frozen(repr=False)
class Header:
    name: str
    title: str | None = None
    source: str | None = None
    timezone: str | None = None
    window: Window | None = None
    evaluate: PeriodUnit | Literal["window"] | None = None
    conversion: Conversion | None = None
    minutes: UnitConversion | None = None
    days: UnitConversion | None = None
    extends: Extends | None = None
    span: Span = span_field()
    count_only: CountOnly | None = None


@attrs.frozen(repr=False)
class Extends:
    """``extends city_y`` (the parent layer by name, found in the policy's folder tree) or
    ``extends "shared/city_y.policy"`` (by a path relative to the policy's folder)."""

    parent: str
    is_path: bool = False
    span: Span = span_field()
    count_only: CountOnly | None = None


# ------------------------------------------------------------------ rules and awards
@attrs.frozen(repr=False)
class CountHours:
    """``count hours``: the event's hours count, converted at the policy's rate."""

    span: Span = span_field()


@attrs.frozen(repr=False)
class CountCredits:
    """``count credits``: the credits the event states."""

    span: Span = span_field()


@attrs.frozen(repr=False)
class Fixed:
    """``12 credits`` / ``30 hours`` on each matching event."""

    amount: Decimal
    unit: Literal["credits", "hours"]
    span: Span = span_field()


@attrs.frozen(repr=False)
class IfQualified:
    """``18 credits if qualified``: on the deciding assessment of the rule's program."""

    amount: Decimal
    unit: Literal["credits", "hours"]
    span: Span = span_field()


@attrs.frozen(repr=False)
class Block:
    """``3 credits per 30 hours`` (complete blocks) or ``… pro rata``."""

    credits: Decimal
    hours: Decimal
    pro_rata: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class Leave:
    """``absent task = one day leave``."""

    span: Span = span_field()


Award: TypeAlias = CountHours | CountCredits | Fixed | IfQualified | Block | Leave


@attrs.frozen(repr=False)
class OnKind:
    kind: str
    first: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class Rule:
    name: str
    award: Award | None
    source: str | None = None
    on: OnKind | None = None
    program: str | None = None
    where: Cond | None = None
    when: Cond | None = None
    as_level: str | None = None
    as_category: str | None = None
    without_category: bool = False
    exception_to: str | None = None
    rate: RuleRate | None = None
    rounding: Rounding | None = None
    span: Span = span_field()


# ------------------------------------------------------------------ caps and requirements
@attrs.frozen(repr=False)
class CapGrain:
    """A grain of a cap besides its period (issue 9 B): ``per event`` (``kind`` "event"),
    ``per course`` (``kind`` "column", ``name`` the column), or a second period unit
    (``kind`` "period", a misuse ``check`` reports)."""

    kind: Literal["event", "column", "period"]
    name: str | None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Cap:
    """``at most 2 credits per school year of category practice``; ``at most 10 credits per
    event``, ``at most 2 hours per resource per day`` (issue 9 B)."""

    name: str
    amount: Decimal
    percent_of: str | None = None
    per: PeriodUnit | None = None
    of: Cond | None = None
    source: str | None = None
    grains: tuple[CapGrain, ...] = ()
    measure: Literal["credits", "hours"] = "credits"
    span: Span = span_field()


@attrs.frozen(repr=False)
class MeasureCredits:
    of: Cond | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class MeasureHours:
    of: Cond | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class MeasureCount:
    kind: str
    where: Cond | None = None
    span: Span = span_field()


Measure: TypeAlias = MeasureCredits | MeasureHours | MeasureCount


@attrs.frozen(repr=False)
class AtLeast:
    amount: Decimal
    measure: Measure
    when: Cond | None = None
    source: str | None = None
    #: issue 9 (B): ``per year``: checked in each calendar year of the period
    per: PeriodUnit | None = None
    span: Span = span_field()
    #: ``from 2024-01-01: at least …``: the line is for periods starting on or after it (issue 9, E2)
    since: dt.date | None = None


@attrs.frozen(repr=False)
class RequireQualified:
    program: str
    when: Cond | None = None
    source: str | None = None
    span: Span = span_field()
    since: dt.date | None = None  # as AtLeast.since


@attrs.frozen(repr=False)
class CarryForward:
    """``carry forward at most 10 credits``: a requirement's surplus in one period counts
    towards it in the next, at most ``amount`` (issue 9, E2)."""

    amount: Decimal
    unit: Literal["credits", "hours"]
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class AtLeastBest:
    """``at least 20 hours in any one of topic (a, b)``: the measure in each group of
    events whose ``field`` has one of ``values``; the best group counts."""

    amount: Decimal
    measure: Measure
    field: str
    values: tuple[Value, ...]
    when: Cond | None = None
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Either:
    """``either requirement a or requirement b``: met when one of the named requirements is."""

    names: tuple[str, ...]
    when: Cond | None = None
    source: str | None = None
    span: Span = span_field()


RequirementLine: TypeAlias = AtLeast | RequireQualified | AtLeastBest | Either


@attrs.frozen(repr=False)
class Requirement:
    """A named requirement; its lines are variants, the first whose ``when`` holds applies."""

    name: str
    lines: tuple[RequirementLine, ...]
    source: str | None = None
    span: Span = span_field()
    carry: CarryForward | None = None  # issue 9 (E2)


@attrs.frozen(repr=False)
class Waiver:
    names: tuple[str, ...]
    when: Cond
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Reduction:
    """``reduce credit requirements by 1/5 per year before hired_on``."""

    numerator: Decimal
    denominator: Decimal
    attribute: str
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class GradeFromAssessment:
    program: str
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Threshold:
    grade: str
    minimum: Decimal
    span: Span = span_field()


@attrs.frozen(repr=False)
class GradeFromScore:
    program: str
    thresholds: tuple[Threshold, ...]
    otherwise: str
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Excellent:
    when: Cond
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Penalty:
    name: str
    source: str | None = None
    on: OnKind | None = None
    where: Cond | None = None
    void_credits: bool = False
    not_excellent: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class Top:
    count: int
    mode: Literal["overall", "per", "across"]
    field: str | None = None
    values: tuple[Value, ...] = ()
    span: Span = span_field()


@attrs.frozen(repr=False)
class Rank:
    name: str
    program: str | None = None
    among: Cond | None = None
    tops: tuple[Top, ...] = ()
    source: str | None = None
    span: Span = span_field()


# ------------------------------------------------------------------ tests and invariants
@attrs.frozen(repr=False)
class Assign:
    name: str
    value: Value
    span: Span = span_field()


@attrs.frozen(repr=False)
class TestTeacher:
    teacher_id: str
    attributes: tuple[Assign, ...]
    span: Span = span_field()


@attrs.frozen(repr=False)
class TestEvent:
    event_id: str
    attributes: tuple[Assign, ...]
    span: Span = span_field()


@attrs.frozen(repr=False)
class ExpectField:
    """``credits >= 36``; a dotted field reads a breakdown: ``by_level.municipal = 7``."""

    field: str
    op: CompareOp
    value: Value
    span: Span = span_field()


@attrs.frozen(repr=False)
class ExpectRequirement:
    requirement: str
    state: Literal["met", "not met", "absent", "waived"]
    span: Span = span_field()


@attrs.frozen(repr=False)
class ExpectRequired:
    requirement: str
    value: Value
    span: Span = span_field()


@attrs.frozen(repr=False)
class ExpectActual:
    """``requirement total actual 72``: the amount the teacher reached."""

    requirement: str
    value: Value
    span: Span = span_field()


@attrs.frozen(repr=False)
class ExpectRule:
    """``rule training_hours credits = 9``: the rule's trace entry (credited credits or hours)."""

    rule: str
    field: str
    op: CompareOp
    value: Value
    span: Span = span_field()


@attrs.frozen(repr=False)
class ExpectRuleEvents:
    """``rule remote_credit events (a1)``: the events the rule credited, in time order."""

    rule: str
    events: tuple[str, ...]
    span: Span = span_field()


@attrs.frozen(repr=False)
class ExpectPeriod:
    start: dt.date
    end: dt.date
    span: Span = span_field()


@attrs.frozen(repr=False)
class ExpectOutcome:
    """``outcome probation_passed`` (``holds``) or ``not outcome probation_passed``."""

    outcome: str
    holds: bool
    span: Span = span_field()


Expectation: TypeAlias = (
    ExpectField | ExpectRequirement | ExpectRequired | ExpectActual | ExpectPeriod | ExpectRule
    | ExpectRuleEvents | ExpectOutcome
)


@attrs.frozen(repr=False)
class Expect:
    teacher_id: str
    checks: tuple[Expectation, ...]
    span: Span = span_field()


@attrs.frozen(repr=False)
class TestAsOf:
    date: dt.date
    span: Span = span_field()


TestClause: TypeAlias = TestAsOf | TestTeacher | TestEvent | Expect


@attrs.frozen(repr=False)
class Test:
    name: str
    clauses: tuple[TestClause, ...]
    span: Span = span_field()


@attrs.frozen(repr=False)
class Invariant:
    name: str
    cond: Cond
    source: str | None = None
    span: Span = span_field()


ColumnType = Literal["number", "decimal", "date", "text", "list"]


@attrs.frozen(repr=False)
class ColumnDecl:
    """``attended_hours decimal`` (an event column) or ``district text of teacher`` (a roster column)."""

    name: str
    type: ColumnType
    teacher: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class Columns:
    """``columns: …``: the extra event and roster columns the policy reads, typed."""

    columns: tuple[ColumnDecl, ...]
    source: str | None = None
    span: Span = span_field()


VocabularyField = Literal["roles", "titles", "kinds", "categories", "levels", "formats"]


@attrs.frozen(repr=False)
class Vocabulary:
    """``vocabulary roles: new_teacher, mentor``: the values one field may take.

    ``field`` is as written (``roles``, ``levels``…; None when the word is not one of them,
    for the checker to report)."""

    field: str
    values: tuple[str, ...]
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class Outcome:
    """``outcome NAME: COND``: a named result of the policy, its own entry of the ledger's ``outcomes``."""

    name: str
    cond: Cond
    source: str | None = None
    span: Span = span_field()


# ------------------------------------------------------------------ layers (a child of an `extends`)
LayerKind = Literal["rule", "cap", "requirement"]


@attrs.frozen(repr=False)
class Replace:
    """``replace rule NAME: …``: restates an item inherited from the parent layer."""

    item: Rule | Cap | Requirement
    span: Span = span_field()

    @property
    def kind(self) -> LayerKind:
        return layer_kind(self.item)


@attrs.frozen(repr=False)
class Drop:
    """``drop rule NAME``: removes an item inherited from the parent layer."""

    kind: LayerKind
    name: str
    source: str | None = None
    span: Span = span_field()


@attrs.frozen(repr=False)
class CapFrom:
    """``cap municipal from 2024-01-01: at most 9 credits``: cap ``cap``'s amount in its periods
    that start on or after ``since`` (issue 9, E2)."""

    cap: str
    since: dt.date
    amount: Decimal
    source: str | None = None
    span: Span = span_field()


def layer_kind(item: Rule | Cap | Requirement) -> LayerKind:
    if isinstance(item, Rule):
        return "rule"
    return "cap" if isinstance(item, Cap) else "requirement"


Item: TypeAlias = (
    Rule | Cap | Requirement | Waiver | Reduction | GradeFromAssessment | GradeFromScore
    | Excellent | Penalty | Rank | Test | Invariant | Columns | Vocabulary | Replace | Drop | Outcome
    | CapFrom
)


@attrs.frozen(repr=False)
class Comment:
    """A ``#`` comment, kept so the formatter can put it back."""

    text: str
    span: Span = span_field()


@attrs.frozen(repr=False)
class Policy:
    header: Header
    items: tuple[Item, ...]
    comments: tuple[Comment, ...] = attrs.field(default=(), eq=False, repr=False)
    span: Span = span_field()
    #: Where each grammar production (``source``, ``program``, ``where``, …) sat in the text,
    #: as ``(production, span)``: clauses held as plain strings have no node of their own,
    #: and the formatter needs their lines to put comments back beside them.
    clause_spans: tuple[tuple[str, Span], ...] = attrs.field(default=(), eq=False, repr=False)


# ------------------------------------------------------------------ issue 9 (A): rates, rounding, units
RoundMode = Literal["down", "half up"]


@attrs.frozen(repr=False)
class RuleRate:
    """A rule's own conversion: ``at 6 hours = 1 credit`` (the header's rate stays the default)."""

    hours: Decimal
    credits: Decimal
    span: Span = span_field()


@attrs.frozen(repr=False)
class Rounding:
    """``rounded down to 0.5 credit per event`` (``pooled``: ``per period``, over the
    rule's awards of one teacher-period)."""

    mode: RoundMode
    step: Decimal
    pooled: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class UnitRounding:
    """How hours converted from minutes or days are rounded to whole hours."""

    mode: RoundMode
    pooled: bool = False
    span: Span = span_field()


@attrs.frozen(repr=False)
class UnitConversion:
    """``40 minutes = 1 hour`` / ``1 day = 6 hours``: events may carry ``minutes`` or ``days``."""

    unit: Literal["minutes", "days"]
    amount: Decimal
    hours: Decimal
    rounding: UnitRounding | None = None
    source: str | None = None
    span: Span = span_field()


share_repr(globals())  # after every class: one attrs-style repr for all
