"""The core: a checked policy with every semantic decision turned into data.

:func:`credit_rules.core.from_ir.lower` builds it once from the IR; the interpreter and
the bulk engine evaluate only this form, so neither re-decides anything the lowering
decided. What the lowering decides, and so what no engine decides again:

- **what an award is worth**: a rate per study hour (``count hours`` at the policy's
  rate, ``pro rata`` blocks at their own rate, 0 where the policy converts nothing), the
  event's stated credits, a fixed (credits, hours) pair with hours already converted, or
  whole blocks;
- **which events an award sees**: kind, program and filter; ``first``; the deciding
  assessment of ``if qualified``; the events of its exceptions it must not see;
- **where an award lands**: the category and level it is credited to;
- **conditions**: ``!=`` and ``not in`` are rewritten as negations, so every atom is
  false on a missing value (the two-valued rule of SPEC §4 stated once: see
  :mod:`credit_rules.core.scalars`);
- **requirements**: sorted by name; each line knows whether the new-teacher reduction
  applies to it; the waivers that can excuse it; the reduction as a factor per calendar
  year of ``hired_on``;
- **periods**: the ledger periods of a windowed policy, listed; the period grain of the
  rest; the grade table; which grades qualify;
- **rates, rounding, units** (issue 9 A): a rule's own rate is its amount (the engines
  never see the rate itself); a rate that is no finite decimal is :class:`Prorated` and
  always rounded; each award's :class:`Rounding`; how ``minutes`` / ``days`` become study
  hours (:class:`StudyUnit`);
- **choices and outcomes**: a best-of line as its groups, each the line's measure narrowed
  to one value; a choice as the requirements it counts; which requirements are
  alternatives (they count for ``met`` only through their choice); the named outcomes;
- **periods relative to the teacher** (``within 1 year of hired_on``): an
  ``ir.DateWindow`` of (roster date, anchor, months, days, periods) whose bounds are
  :func:`credit_rules.values.relative_window`;
- **evidence states** (``count only status approved``): ``counted``, the one condition an
  event must meet to count for anything;
- **caps at every grain** (issue 9 B): each cap's register key (period, event, column
  value: :meth:`Cap.key`) and measure (credits or study hours), and how an hours cut
  reaches an award's credits (:func:`hours_rate`);
- **requirements per year** (issue 9 B): which lines are checked per calendar year, and
  their share of a partly employed year (:func:`year_shares`, :func:`prorated`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Literal, TypeAlias

import attrs

from credit_rules import ir
from credit_rules.span import Span, span_field
from credit_rules.values import Period, PeriodKind, period_of

Cond: TypeAlias = ir.Cond



@attrs.frozen
class Select:
    """The events of one teacher-period a clause looks at: ``kind`` (and ``program``) and ``where``."""

    kind: str
    program: str | None = None
    where: Cond | None = None


# --------------------------------------------------------------------------- amounts
@attrs.frozen
class PerHour:
    """``credits_per_hour`` x the event's hours; the hours count as study hours."""

    credits_per_hour: Decimal


@attrs.frozen
class Stated:
    """The event's own ``credits`` column; its hours count as study hours."""


@attrs.frozen
class Fixed:
    """A fixed amount per award: ``credits`` (already converted) and ``hours`` (study hours)."""

    credits: Decimal
    hours: Decimal


@attrs.frozen
class Blocks:
    """``credits`` for each complete block of ``hours``, the event's hours pooled over the
    period in time order; the award lands on the event that completes a block."""

    credits: Decimal
    hours: Decimal


@attrs.frozen
class Prorated:
    """``credits`` for each ``hours`` of the event's hours, pro rata, where that rate is no
    finite decimal (``at 6 hours = 1 credit``): the exact rational is only ever the input
    of the award's :class:`Rounding` (the lowering guarantees there is one), so every
    award is still an exact decimal. The hours count as study hours."""

    credits: Decimal
    hours: Decimal


Amount: TypeAlias = PerHour | Stated | Fixed | Blocks | Prorated
Pick = Literal["each", "first", "deciding"]


@attrs.frozen
class Landing:
    """Where an award is credited in a breakdown: a fixed ``value``, the event's own
    value (``from_event``), or nowhere (neither)."""

    value: str | None
    from_event: bool


@attrs.frozen
class Award:
    """One rule that credits events.

    ``pick``: ``each`` matching event, the ``first`` one, or the ``deciding`` one (the
    latest assessment of ``select.program``, awarded only when its grade qualifies).
    ``excluded_by``: awards (exceptions to this one) whose events this award does not see.
    """

    name: str
    when: Cond | None
    select: Select
    pick: Pick
    amount: Amount
    category: Landing
    level: Landing
    excluded_by: tuple[str, ...]
    is_exception: bool
    source: str | None
    span: Span = span_field()
    #: the rule's declared rounding of its credits, applied before the register (None: exact)
    rounding: Rounding | None = None


@attrs.frozen
class Leave:
    """Each selected event adds one leave day (SPEC §4)."""

    name: str
    when: Cond | None
    select: Select
    source: str | None
    span: Span = span_field()


@attrs.frozen
class Penalty:
    name: str
    select: Select
    void_credits: bool
    not_excellent: bool
    source: str | None
    span: Span = span_field()


@attrs.frozen
class Cap:
    """A register of the credit register: at most ``amount`` per ``grain`` (None: per
    ledger period) over the awards whose view satisfies ``of``.

    issue 9 (B), the grains and the measure:

    - ``per_event``: one register per event (an event's awards under every rule share it);
    - ``per_column``: one register per value of that event column (the event's own value,
      compared as text), within the period grain when there is one; an event without a
      value is not under the cap (as a condition on a missing value is false, SPEC §4);
    - ``measure`` ``hours``: a register of study hours. An award is admitted the least of
      its hours and what is free under every hours cap it falls under. A per-hour award
      (:class:`PerHour`) then earns its rate times the admitted hours; any other award is
      whole: admitted in full or not at all (0 hours, 0 credits). Credit caps then cut the
      credits as before. An award cut to 0 credits (having had some) takes nothing from
      any register, hours or credits (SPEC §4: an event cut to 0 by one cap uses up none
      of the others). The admitted hours are the award's ``credited_hours``.
    """

    name: str
    amount: Decimal
    grain: PeriodKind | None
    of: Cond | None
    source: str | None
    per_event: bool = False
    per_column: str | None = None
    measure: Literal["credits", "hours"] = "credits"
    span: Span = span_field()

    def key(self, day: dt.date, event_id: str, value: object) -> tuple[object, ...] | None:
        """Which register of this cap an award lands in: its period, and its event or
        column value (``value``: the event's value of ``per_column``; None: no register)."""
        period = period_of(self.grain, day) if self.grain is not None else None
        if self.per_column is not None and value is None:
            return None
        if self.per_event:
            return (self.name, period, "event", event_id)
        if self.per_column is not None:
            return (self.name, period, "value", str(value))
        return (self.name, period)


def award_hours_rate(award: Award) -> Decimal | None:
    """:func:`hours_rate` of an award; issue 9 (A): None for a rounded award, so that an
    hours cap admits it whole or not at all (a part of it would not be a multiple of the
    rule's rounding step)."""
    return None if award.rounding is not None else hours_rate(award.amount)


def hours_rate(amount: Amount) -> Decimal | None:
    """issue 9 (B): the credits an admitted study hour earns when an hours cap cuts an award
    of ``amount``; None for an award that is whole (admitted in full or not at all)."""
    return amount.credits_per_hour if isinstance(amount, PerHour) else None


# ---------------------------------------------------------------------- requirements
@attrs.frozen
class CreditedOf:
    of: Cond | None = None


@attrs.frozen
class HoursOf:
    of: Cond | None = None


@attrs.frozen
class CountOf:
    """The sum of ``count`` over the selected events."""

    select: Select


@attrs.frozen
class QualifiedIn:
    """1 when the teacher's deciding assessment of ``program`` qualifies, else 0."""

    program: str


@attrs.frozen
class BestOf:
    """The largest of ``groups`` (label, measure): ``in any one of FIELD (a, b)``, each
    group the base measure narrowed to ``FIELD = value``. Ties: the first group listed."""

    field: str
    groups: tuple[tuple[str, CreditedOf | HoursOf | CountOf], ...]


@attrs.frozen
class ChoiceOf:
    """The number of ``names`` (requirements, none a choice) that apply to the teacher and
    are met or waived; the line asks for 1. Engines settle it after the other requirements."""

    names: tuple[str, ...]


Measure: TypeAlias = CreditedOf | HoursOf | CountOf | QualifiedIn | BestOf | ChoiceOf


@attrs.frozen
class Line:
    """One line of a requirement: the first line whose ``when`` holds applies."""

    index: int
    when: Cond | None
    amount: Decimal
    measure: Measure
    reducible: bool
    source: str | None
    #: issue 9 (B): checked in each calendar year of the ledger period, as its own entry
    #: ``NAME/YEAR``, the amount pro rata by whole months employed (:func:`year_shares`)
    per_year: bool = False
    span: Span = span_field()
    #: ``from DATE:`` (issue 9, E2): the line applies only in ledger periods that start on or
    #: after this day (a period that straddles the date keeps the earlier line)
    since: dt.date | None = None

    def applies_in(self, period_start: dt.date) -> bool:
        """Whether the line's date allows it in the period starting ``period_start``."""
        return self.since is None or period_start >= self.since


@attrs.frozen
class Carry:
    """``carry forward at most AMOUNT`` (issue 9, E2). Ledger periods are taken in order for
    each teacher; in each, ``carried in`` is added to the requirement's actual amount, and
    ``min(amount, max(0, actual - required))`` (actual with the carry) is carried into the
    next period. The first period, and a period following one where the requirement did not
    apply, has nothing carried in. Carried amounts count only towards this requirement: never
    to ``credits`` or ``hours``. ``unit`` names the trace field the carried amount shows in."""

    amount: Decimal
    unit: Literal["credits", "hours"]
    source: str | None
    span: Span = span_field()


@attrs.frozen
class Requirement:
    name: str
    lines: tuple[Line, ...]
    waived_when: tuple[Cond, ...]
    source: str | None
    span: Span = span_field()
    #: named by a choice (`either requirement …`): it counts for the row's ``met`` only
    #: through that choice; it is still listed in ``requirements``
    alternative: bool = False
    carry: Carry | None = None  # issue 9 (E2)

    @property
    def carry_trace_rule(self) -> str:
        """The ``rule`` of the trace entry that shows the amount carried into this requirement."""
        return f"carry_forward:{self.name}"


@attrs.frozen
class Outcome:
    """A named result: ``cond`` over the finished row (after excellence); the ledger's
    ``outcomes[name]``. ``requirement X met`` in it reads the row's requirement entry."""

    name: str
    cond: Cond
    source: str | None
    span: Span = span_field()


@attrs.frozen
class Reduction:
    """Reducible requirement amounts are multiplied by ``factors[year]`` when the
    teacher's ``attribute`` date lies in ``start .. end``; 1 otherwise."""

    attribute: str
    start: dt.date
    end: dt.date
    factors: tuple[tuple[int, Decimal], ...]
    source: str | None
    span: Span = span_field()

    def factor(self, day: object) -> Decimal:
        """The factor for one teacher's date (not a date, or outside the range: 1)."""
        if not isinstance(day, dt.date) or not self.start <= day <= self.end:
            return Decimal(1)
        return dict(self.factors)[day.year]


def whole_months(start: dt.date, end: dt.date) -> int:
    """issue 9 (B): the calendar months lying wholly inside ``start .. end`` (inclusive)."""
    first = start.year * 12 + start.month - 1 + (0 if start.day == 1 else 1)
    following = end + dt.timedelta(days=1)
    last = end.year * 12 + end.month - 1 - (0 if following.day == 1 else 1)
    return max(last - first + 1, 0)


def year_shares(period: Period, hired_on: object, retired_on: object) -> list[tuple[int, int]]:
    """issue 9 (B): for each calendar year the ledger ``period`` touches, the whole months
    of that year inside the period in which the teacher was employed (on or after
    ``hired_on``, on or before ``retired_on``; a missing date does not limit)."""
    out: list[tuple[int, int]] = []
    for year in range(period.start.year, period.end.year + 1):
        start = max(period.start, dt.date(year, 1, 1))
        end = min(period.end, dt.date(year, 12, 31))
        if isinstance(hired_on, dt.date):
            start = max(start, hired_on)
        if isinstance(retired_on, dt.date):
            end = min(end, retired_on)
        out.append((year, whole_months(start, end) if start <= end else 0))
    return out


def share_places(amount: Decimal) -> int:
    """issue 9 (B): the decimal places a partial year's share of ``amount`` is rounded down
    to: 2 (0.01), or the amount's own places when it has more. Both engines read it."""
    exponent = amount.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(2, -exponent)


def prorated(amount: Decimal, months: int) -> Decimal:
    """issue 9 (B): a yearly amount for ``months`` whole months: ``amount x months / 12``,
    rounded down to :func:`share_places`; exact."""
    digits = share_places(amount)
    share = Fraction(amount) * months * 10**digits / 12
    return Decimal(share.numerator // share.denominator).scaleb(-digits)


# ----------------------------------------------------------------------------- grades
@attrs.frozen
class Grade:
    """The grade: the deciding assessment's own grade (``thresholds`` None) or, from
    the latest *scored* assessment, the first grade whose minimum the score reaches."""

    program: str
    thresholds: tuple[tuple[str, Decimal], ...] | None
    otherwise: str | None
    source: str | None
    span: Span = span_field()

    @property
    def by_score(self) -> bool:
        return self.thresholds is not None

    def of_score(self, score: Decimal) -> str | None:
        assert self.thresholds is not None
        for grade, minimum in self.thresholds:
            if score >= minimum:
                return grade
        return self.otherwise


# ---------------------------------------------------------------------------- periods
@attrs.frozen
class Periods:
    """The ledger periods: ``fixed`` (every teacher gets each of them) or, when None,
    each ``grain`` period holding one of the teacher's events, plus the period holding
    the as-of day for every roster teacher."""

    fixed: tuple[Period, ...] | None
    grain: PeriodKind


# ------------------------------------------------------------------ issue 9 (C): the input contract
ColumnType: TypeAlias = ir.ColumnType


@attrs.frozen
class Column:
    """A declared extra column: ``scope`` EVENT (an event column) or TEACHER (a roster column)."""

    name: str
    type: ColumnType
    scope: ir.Scope


@attrs.frozen
class Inputs:
    """What a policy asks of its input beyond SPEC §2–§3, for the loader to check: the
    declared columns (a row whose declared column does not parse is rejected) and the
    declared vocabularies (``field`` -> allowed values; a row outside one is rejected).
    Empty: the SPEC's columns and lists (the policy-free loader)."""

    columns: tuple[Column, ...] = ()
    vocabularies: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def of(self, scope: ir.Scope) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.scope is scope)

    def column(self, name: str, scope: ir.Scope) -> Column | None:
        return next((c for c in self.columns if c.name == name and c.scope is scope), None)

    def allowed(self, field: str) -> tuple[str, ...] | None:
        """The declared values of ``field`` (None: the SPEC's list applies)."""
        return dict(self.vocabularies).get(field)

    def __bool__(self) -> bool:
        return bool(self.columns or self.vocabularies)


@attrs.frozen
class Policy:
    """A policy in the core form every engine evaluates."""

    name: str
    file: str
    timezone: str
    periods: Periods
    #: events outside this range never count (None: no window)
    window: Period | None
    awards: tuple[Award, ...]
    leave: tuple[Leave, ...]
    penalties: tuple[Penalty, ...]
    caps: tuple[Cap, ...]
    requirements: tuple[Requirement, ...]
    reduction: Reduction | None
    grade: Grade | None
    qualifying_grades: frozenset[str]
    excellent: Cond | None
    ranks: tuple[ir.Rank, ...]
    #: the IR it came from, for explanations and citations
    source_ir: ir.Policy = attrs.field(eq=False, repr=False)
    #: issue 9 (C): declared columns and vocabularies (the loader's input contract)
    inputs: Inputs = attrs.field(factory=Inputs)
    #: named outcomes, by name
    outcomes: tuple[Outcome, ...] = ()
    #: ``count only status …`` (issue 9, D): the events that count for anything at all
    #: (awards, leave, penalties, counts, assessments, ``any KIND``); the others are as if
    #: absent except that they still give the teacher a ledger row. None: every event.
    counted: Cond | None = None
    #: how an event's ``minutes`` / ``days`` become its study hours (issue 9 A)
    units: tuple[StudyUnit, ...] = ()

    def unit(self, name: str) -> StudyUnit | None:
        return next((u for u in self.units if u.unit == name), None)

    def award(self, name: str) -> Award:
        return next(a for a in self.awards if a.name == name)


# ------------------------------------------------------- issue 9 (A): rounding, units other than hours
@attrs.frozen
class Rounding:
    """Credits rounded ``mode`` (``down`` or ``half up``) to a multiple of ``step``.

    Per event (``pooled`` False) each award is rounded. Pooled, an award on an event gets
    ``round(T_after) - round(T_before)`` where T is the rule's running total of unrounded
    credits over the teacher-period in time order, so every award still lands on an event
    (SPEC §4) and the rule's period total is ``round(total)``, as with blocks.
    """

    mode: Literal["down", "half up"]
    step: Decimal
    pooled: bool

    def apply(self, value: Decimal | Fraction) -> Decimal:
        """``value`` rounded to a multiple of ``step``, exactly."""
        return round_to(value, self.step, self.mode)


def round_to(value: Decimal | Fraction, step: Decimal, mode: Literal["down", "half up"]) -> Decimal:
    """``value`` rounded ``mode`` to a multiple of ``step`` (exact rational arithmetic)."""
    ratio = Fraction(value) / Fraction(step)
    whole = ratio.numerator // ratio.denominator
    if mode == "half up" and (ratio - whole) * 2 >= 1:
        whole += 1
    return step * whole


@attrs.frozen
class StudyUnit:
    """An event's ``minutes`` or ``days`` as study hours: ``value * hours / amount``;
    ``rounding`` (mode, pooled) to whole hours, per event or pooled over the teacher-period's
    events carrying that unit (telescoping, like :class:`Rounding`), or None (then the
    quotient is an exact decimal: checked)."""

    unit: Literal["minutes", "days"]
    amount: Decimal
    hours: Decimal
    rounding: tuple[Literal["down", "half up"], bool] | None
    source: str | None
