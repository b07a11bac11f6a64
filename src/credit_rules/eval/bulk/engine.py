"""The bulk evaluator: a checked policy compiled to Polars queries over an event table.

Read it beside :mod:`credit_rules.eval.interpreter` (the definition of truth); each step
below names the interpreter function it reproduces.

Numbers are fixed-point Int64 at one scale per plan, ``10^digits`` (``digits`` >= 6, the
micro-units of the event table): every constant of the policy (rate, amounts, caps,
requirements times the reduction fraction) is an exact integer at that scale, so every
sum, product, block division and comparison is exact integer arithmetic, and canonical
decimal strings are rendered from the integers in Polars. With ``10 hours = 1 credit``
the scale is 10^7, so values up to ~9.2 * 10^11 credits are exact; a plan that would
need more than 10^10 falls back to the interpreter (``plan.fallbacks``).

Output: one frame, one row per teacher and period, columns named and ordered like
:data:`credit_rules.io.ledger.LEDGER_KEYS`. Decimals are canonical strings; the nested
keys (``by_category``, ``by_level``, ``requirements``, ``trace``) are compact JSON text,
byte-equal to ``json.dumps(row.to_json()[key], ensure_ascii=False, separators=(",", ":"))``
(the layout :func:`credit_rules.io.ledger.write_ledger` uses for Parquet).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
import numpy as np
import polars as pl

from credit_rules import ir
from credit_rules.eval.bulk.conditions import CondCompiler, Field, FieldKind, Unsupported, walk
from credit_rules.records import Event, LedgerRow, RequirementResult, Teacher, TraceEntry
from credit_rules.schema import (
    EVENT_COLUMNS,
    EVENT_FRAME,
    LEDGER_COLUMNS,
    MICRO_DIGITS,
    ROSTER_DATE_COLUMNS,
    ROSTER_FRAME,
    ROSTER_TEXT_COLUMNS,
)
from credit_rules.values import Period, PeriodKind, exact_div, period_of, periods_within, today

TP = ["teacher_id", "pstart"]
K = "__k"  # integer key of a teacher-period: its row in the sorted teacher-period frame
ROW = "__row"  # an event's row in the sorted event frame (time order within a teacher)
QUALIFYING = ["qualified", "excellent"]
MAX_DIGITS = 10
ROSTER_SCHEMA = ROSTER_FRAME
EVENT_SCHEMA = EVENT_FRAME
_TEXT_EVENT_FIELDS = ("event_id", "teacher_id", "kind", "category", "level", "format",
                      "program", "grade")
_TEACHER_TEXT = ROSTER_TEXT_COLUMNS
_TEACHER_DATES = ROSTER_DATE_COLUMNS


_PROFILE = bool(os.environ.get("CREDIT_RULES_BULK_PROFILE"))
_clock = [time.perf_counter()]


def _stage(name: str) -> None:
    """With ``CREDIT_RULES_BULK_PROFILE=1``, print the seconds since the previous stage."""
    if _PROFILE:
        now = time.perf_counter()
        print(f"[bulk] {name:28} {now - _clock[0]:7.3f} s", file=sys.stderr)
        _clock[0] = now


# ----------------------------------------------------------------------------- the plan
def places(value: Decimal) -> int:
    """Decimal places of ``value`` once trailing zeros are dropped."""
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(-exponent, 0)


@attrs.frozen
class BulkPlan:
    """A policy ready for :func:`run`: its fixed-point scale and what cannot be vectorised.

    ``fallbacks`` lists ``(construct, reason)``; when it is not empty :func:`run`
    evaluates the policy with the interpreter (same results, no speed) and says so here.
    """

    policy: ir.Policy
    digits: int
    fallbacks: tuple[tuple[str, str], ...] = ()

    @property
    def scale(self) -> int:
        return int(10**self.digits)

    def fixed(self, value: Decimal) -> int:
        """``value`` as an exact integer at the plan's scale."""
        x = Fraction(value) * self.scale
        if x.denominator != 1:
            raise AssertionError(f"{value} is not exact at 10^-{self.digits}")
        return int(x)


def _digits(policy: ir.Policy) -> int:
    need = [MICRO_DIGITS]
    rate = policy.rate
    if rate is not None:
        need.append(MICRO_DIGITS + places(rate))
    for rule in policy.rules:
        award = rule.award
        if isinstance(award, ir.Fixed | ir.IfQualified):
            need.append(places(award.amount))
            if award.unit == "hours" and rate is not None:
                need.append(places(award.amount * rate))
        elif isinstance(award, ir.Block):
            need += [places(award.credits), places(award.hours)]
            if award.pro_rata:
                need.append(MICRO_DIGITS + places(exact_div(award.credits, award.hours)))
    for cap in policy.caps:
        need.append(places(cap.amount))
    fraction = places(policy.reduction.fraction) if policy.reduction else 0
    for requirement in policy.requirements:
        for line in requirement.lines:
            extra = fraction if isinstance(line.measure, ir.MeasureCredits) else 0
            need.append(places(line.amount) + extra)
    return max(need)


def compile_plan(policy: ir.Policy) -> BulkPlan:
    """Check that every construct of ``policy`` compiles, and fix the arithmetic scale."""
    fallbacks: list[tuple[str, str]] = []
    try:
        digits = _digits(policy)
    except (ValueError, ArithmeticError) as exc:
        return BulkPlan(policy, MICRO_DIGITS, (("exact arithmetic", str(exc)),))
    if digits > MAX_DIGITS:
        fallbacks.append((
            "exact arithmetic",
            f"amounts need 10^-{digits} precision; Int64 fixed point stops at 10^-{MAX_DIGITS}",
        ))
    for rule in policy.rules:
        if isinstance(rule.award, ir.Block) and rule.award.hours <= 0:
            fallbacks.append((f"rule {rule.name}", "a block of zero hours"))
    plan = BulkPlan(policy, min(digits, MAX_DIGITS), tuple(fallbacks))
    try:
        _dry_compile(plan)
    except Unsupported as exc:
        fallbacks.append(("condition", str(exc)))
    return BulkPlan(policy, plan.digits, tuple(fallbacks))


def _dry_compile(plan: BulkPlan) -> None:
    """Compile every condition once against placeholder columns (raises Unsupported)."""
    policy = plan.policy
    event = _event_compiler(plan, ("extra",), view=False)
    view = _event_compiler(plan, ("extra",), view=True)
    teacher = _teacher_compiler(plan, _Facts.placeholder(), outcome=True)
    for rule in policy.rules:
        event(rule.where)
        teacher(rule.when)
    for cap in policy.caps:
        view(cap.of)
    for penalty in policy.penalties:
        event(penalty.where)
    for requirement in policy.requirements:
        for line in requirement.lines:
            teacher(line.when)
            measure = line.measure
            if isinstance(measure, ir.MeasureCredits | ir.MeasureHours):
                view(measure.of)
            elif isinstance(measure, ir.MeasureCount):
                event(measure.where)
    for waiver in policy.waivers:
        teacher(waiver.when)
    if policy.excellent:
        teacher(policy.excellent.when)
    for rank in policy.ranks:
        teacher(rank.among)


# ------------------------------------------------------------------------- conditions
def _event_fields(plan: BulkPlan, columns: Iterable[str], *, view: bool) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for name in columns:
        if name not in EVENT_SCHEMA and name not in ("source", "row", "pstart", "pend"):
            fields[name] = Field(pl.col(name), "text")  # an attribute column
    for name in _TEXT_EVENT_FIELDS:
        fields[name] = Field(pl.col(name), "text")
    if view:
        fields["category"] = Field(pl.col("v_category"), "text")
        fields["level"] = Field(pl.col("v_level"), "text")
    fields["hours"] = Field(pl.col("hours_u"), MICRO_DIGITS)
    fields["credits"] = Field(pl.col("credits_u"), MICRO_DIGITS)
    fields["score"] = Field(pl.col("score_u"), MICRO_DIGITS)
    fields["count"] = Field(pl.col("count"), 0)
    fields["words"] = Field(pl.col("words"), 0)
    fields["day"] = Field(pl.col("day"), "date")
    fields["at"] = Field(pl.col("day"), "date")
    return fields


def _event_compiler(plan: BulkPlan, columns: Iterable[str], *, view: bool) -> CondCompiler:
    return CondCompiler(_event_fields(plan, columns, view=view), day=pl.col("day"))


@attrs.frozen
class _Facts:
    """Column names of the per teacher-period facts conditions may ask about."""

    programs: Mapping[str, str]
    kinds: Mapping[str, str]
    ranks: Mapping[str, str]

    @staticmethod
    def placeholder() -> _Facts:
        class Any_(dict[str, str]):
            def __missing__(self, key: str) -> str:
                return "placeholder"

        return _Facts(Any_(), Any_(), Any_())


def _teacher_compiler(plan: BulkPlan, facts: _Facts, *, outcome: bool) -> CondCompiler:
    fields: dict[str, Field] = {n: Field(pl.col(n), "text") for n in _TEACHER_TEXT}
    fields.update({n: Field(pl.col(n), "date") for n in _TEACHER_DATES})
    if outcome:
        fields["credits"] = Field(pl.col("credits_k"), plan.digits)
        fields["hours"] = Field(pl.col("hours_k"), plan.digits)
        fields["leave_days"] = Field(pl.col("leave_days"), 0)
        fields["grade"] = Field(pl.col("grade"), "text")
        fields["met"] = Field(pl.col("met"), "bool")
        fields["excellent_eligible"] = Field(pl.lit(False), "bool")

    def ranked(name: str | None) -> pl.Expr:
        if name is None:
            cols = [pl.col(c) for c in facts.ranks.values()]
            return pl.any_horizontal(cols) if cols else pl.lit(False)
        return pl.col(facts.ranks[name]) if name in facts.ranks else pl.lit(False)

    return CondCompiler(
        fields,
        roles=pl.col("roles"),
        qualified=lambda p: pl.col(facts.programs[p]),
        has_kind=lambda k: pl.col(facts.kinds[k]),
        ranked=ranked if outcome else None,
    )


def _teacher_conds(policy: ir.Policy) -> list[ir.Cond | None]:
    conds: list[ir.Cond | None] = [r.when for r in policy.rules]
    conds += [line.when for req in policy.requirements for line in req.lines]
    conds += [w.when for w in policy.waivers]
    conds += [policy.excellent.when if policy.excellent else None]
    conds += [r.among for r in policy.ranks]
    return conds


def _needed_facts(policy: ir.Policy) -> _Facts:
    programs: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for cond in _teacher_conds(policy):
        for node in walk(cond):
            if isinstance(node, ir.Qualified):
                programs.setdefault(node.program, f"__q{len(programs)}")
            elif isinstance(node, ir.EventsExist):
                kinds.setdefault(node.kind, f"__k{len(kinds)}")
    for req in policy.requirements:
        for line in req.lines:
            if isinstance(line.measure, ir.MeasureQualified):
                programs.setdefault(line.measure.program, f"__q{len(programs)}")
    ranks = {r.name: f"__r{i}" for i, r in enumerate(policy.ranks)}
    return _Facts(programs, kinds, ranks)


# ---------------------------------------------------------------------------- periods
def _period_exprs(kind: PeriodKind, day: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Start and end of the school year / semester holding ``day`` (values.period_of)."""
    y, m = day.dt.year(), day.dt.month()
    if kind is PeriodKind.SCHOOL_YEAR:
        first = pl.when(m >= 9).then(y).otherwise(y - 1)
        return pl.date(first, 9, 1), pl.date(first + 1, 8, 31)
    if kind is PeriodKind.SEMESTER:
        start = (pl.when(m >= 9).then(pl.date(y, 9, 1))
                 .when(m == 1).then(pl.date(y - 1, 9, 1)).otherwise(pl.date(y, 2, 1)))
        end = (pl.when(m >= 9).then(pl.date(y + 1, 1, 31))
               .when(m == 1).then(pl.date(y, 1, 31)).otherwise(pl.date(y, 8, 31)))
        return start, end
    raise ValueError("a window is not a recurring period")


def _assign_periods(policy: ir.Policy, events: pl.LazyFrame) -> pl.LazyFrame:
    """Each event's ledger period (``pstart``, ``pend``); events outside every period go."""
    window = policy.window
    day = pl.col("day")
    if policy.evaluate is PeriodKind.WINDOW:
        assert window is not None
        return events.filter(day.is_between(window.start, window.end)).with_columns(
            pl.lit(window.start, pl.Date).alias("pstart"), pl.lit(window.end, pl.Date).alias("pend"))
    start, end = _period_exprs(policy.evaluate, day)
    if window is None:
        return events.with_columns(start.alias("pstart"), end.alias("pend"))
    return events.filter(day.is_between(window.start, window.end)).with_columns(
        pl.max_horizontal(start, pl.lit(window.start, pl.Date)).alias("pstart"),
        pl.min_horizontal(end, pl.lit(window.end, pl.Date)).alias("pend"),
    )


def _found_query(policy: ir.Policy, all_events: pl.LazyFrame) -> pl.LazyFrame:
    """The teachers (window policies) or teacher-periods (no window) the events hold."""
    if policy.window is not None:
        return all_events.select("teacher_id").unique()
    start, end = _period_exprs(policy.evaluate, pl.col("day"))
    return all_events.select("teacher_id", start.alias("pstart"), end.alias("pend")).unique()


def _teacher_periods(
    policy: ir.Policy, found: pl.DataFrame, roster: pl.DataFrame, as_of: dt.date,
) -> pl.DataFrame:
    """Every (teacher, period) that gets a ledger row (interpreter.ledger_periods), sorted,
    numbered by the integer key ``__k`` every later stage groups by."""
    window = policy.window
    if window is not None:
        ids = pl.concat([found.select("teacher_id"), roster.select("teacher_id")]).unique()
        whole = policy.evaluate is PeriodKind.WINDOW
        periods = [window] if whole else periods_within(policy.evaluate, window)
        frame = pl.DataFrame({
            "pstart": [p.start for p in periods], "pend": [p.end for p in periods],
        }, schema={"pstart": pl.Date, "pend": pl.Date})
        tps = ids.join(frame, how="cross")
    else:
        now = period_of(policy.evaluate, as_of)
        current = roster.select("teacher_id").with_columns(
            pl.lit(now.start, pl.Date).alias("pstart"), pl.lit(now.end, pl.Date).alias("pend"))
        tps = pl.concat([found.select("teacher_id", "pstart", "pend"), current]).unique()
    tps = tps.sort(TP)
    return tps.with_columns(pl.int_range(tps.height, dtype=pl.Int64).alias(K).set_sorted())


# ----------------------------------------------------------------------------- helpers
def _json_text(expr: pl.Expr) -> pl.Expr:
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


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _bool_text(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr).then(pl.lit("true")).otherwise(pl.lit("false"))


def _scaled(column: str, plan: BulkPlan) -> pl.Expr:
    return pl.col(column).fill_null(0) * pl.lit(10 ** (plan.digits - MICRO_DIGITS), pl.Int64)


def _rate_times(column: str, plan: BulkPlan, rate: Decimal) -> pl.Expr:
    """``column`` (micro-units) times an exact decimal ``rate``, at the plan's scale."""
    numerator = Fraction(rate) * 10 ** places(rate)
    assert numerator.denominator == 1
    shift = plan.digits - MICRO_DIGITS - places(rate)
    assert shift >= 0, "the plan's scale covers the rate"
    return pl.col(column).fill_null(0) * pl.lit(int(numerator) * 10**shift, pl.Int64)


def _join_flags(
    frame: pl.DataFrame, flags: pl.DataFrame, fill: Any = False, on: str | list[str] = K,
) -> pl.DataFrame:
    keys = [on] if isinstance(on, str) else on
    names = [c for c in flags.columns if c not in keys]
    return frame.join(flags, on=on, how="left", maintain_order="left").with_columns(
        [pl.col(c).fill_null(fill) for c in names])


def _by_key(tp: pl.DataFrame, column: str) -> pl.Expr:
    """``tp[column]`` looked up for each row of a frame keyed by ``__k`` (tp row = key)."""
    return pl.lit(tp[column]).gather(pl.col(K))


# ------------------------------------------------------------------------ what to read
_FIELD_COLUMNS = {"hours": "hours_u", "credits": "credits_u", "score": "score_u", "at": "day"}


def _event_conds(policy: ir.Policy) -> list[ir.Cond | None]:
    conds: list[ir.Cond | None] = [r.where for r in policy.rules]
    conds += [c.of for c in policy.caps] + [p.where for p in policy.penalties]
    for requirement in policy.requirements:
        for line in requirement.lines:
            measure = line.measure
            if isinstance(measure, ir.MeasureCredits | ir.MeasureHours):
                conds.append(measure.of)
            elif isinstance(measure, ir.MeasureCount):
                conds.append(measure.where)
    return conds


def _needs(
    policy: ir.Policy, facts: _Facts, attributes: Sequence[str],
) -> tuple[list[str] | None, list[str]]:
    """The event kinds (None: all) and the columns the policy reads: everything else is
    left in the file (projection and predicate pushdown into the scan)."""
    kinds: set[str] | None = set()
    columns = {"teacher_id", "event_id", "at_us", "day", "kind"}
    assessment = bool(facts.programs) or policy.grade is not None or bool(policy.ranks)
    for rule in policy.rules:
        award = rule.award
        if isinstance(award, ir.IfQualified):
            assessment = True
            columns |= {"program", "grade"}
        elif rule.kind is not None and kinds is not None:
            kinds.add(rule.kind)
        else:
            kinds = None
        if rule.program is not None:
            columns.add("program")
        if not isinstance(award, ir.Leave):
            columns |= {"category", "level"}
        if isinstance(award, ir.CountHours | ir.CountCredits | ir.Block):
            columns.add("hours_u")
        if isinstance(award, ir.CountCredits):
            columns.add("credits_u")
    extra = [p.kind for p in policy.penalties] + list(facts.kinds)
    for requirement in policy.requirements:
        for line in requirement.lines:
            if isinstance(line.measure, ir.MeasureCount):
                extra.append(line.measure.kind)
                columns.add("count")
    if assessment:
        extra.append("assessment")
        columns.add("program")
    if facts.programs or isinstance(policy.grade, ir.GradeFromAssessment):
        columns.add("grade")
    if isinstance(policy.grade, ir.GradeFromScore) or policy.ranks:
        columns.add("score_u")
    for cond in _event_conds(policy):
        for node in walk(cond):
            if isinstance(node, ir.Compare | ir.Member):
                name = _FIELD_COLUMNS.get(node.field, node.field)
                if name in EVENT_SCHEMA or name in attributes:
                    columns.add(name)
    if kinds is not None:
        kinds.update(extra)
    keep = [c for c in [*EVENT_SCHEMA, *attributes] if c in columns]
    return (sorted(kinds) if kinds is not None else None), keep


# ------------------------------------------------------------------------------- run
def run(
    plan: BulkPlan,
    events: pl.LazyFrame | pl.DataFrame,
    roster: pl.DataFrame | None,
    *,
    as_of: dt.date | None = None,
    trace: bool = True,
    timezone_events: str | None = None,
) -> pl.DataFrame:
    """The ledger of ``plan`` over ``events`` (the :attr:`EventTable.frame` layout) and
    ``roster`` (the :attr:`Roster.frame` layout).

    One row per teacher and period, sorted by ``teacher_id``, ``period_start``; columns
    :data:`LEDGER_COLUMNS` (see the module docstring). ``trace=False`` leaves ``trace``
    as ``"[]"`` (for measuring its cost only: the ledger then differs from the contract).

    ``events`` is read once, lazily: only the columns and event kinds the policy uses are
    materialised. Events sorted by teacher_id, at_us, event_id (the EventTable layout)
    are used as they are; any other order is sorted first.

    Batches: every ledger row depends only on its own teacher's events and roster row,
    except ranks (``rank`` and ``excellent when ranked``), which compare the teachers of a
    period. So a policy without ranks may be run on disjoint batches of teachers (all of
    a teacher's events in one batch) and the frames concatenated; a policy with ranks
    (``plan.policy.ranks``) must see all teachers of a period in one call.
    """
    policy = plan.policy
    as_of_day = as_of or today(policy.timezone)
    lazy = events.lazy() if isinstance(events, pl.DataFrame) else events
    roster_frame = _roster_or_empty(roster)
    if plan.fallbacks:
        return _run_interpreter(plan, lazy.collect(), roster_frame, as_of_day)
    batch = _evaluate_batch(plan, lazy, roster_frame, as_of_day, trace=trace)
    return finish(plan, batch)


def _roster_or_empty(roster: pl.DataFrame | None) -> pl.DataFrame:
    if roster is None:
        return pl.DataFrame(schema=ROSTER_SCHEMA)
    missing = [pl.lit(None, t).alias(c) for c, t in ROSTER_SCHEMA.items() if c not in roster.columns]
    return roster.with_columns(missing).select(list(ROSTER_SCHEMA)).cast(ROSTER_SCHEMA)  # type: ignore[arg-type]


def _in_order(ev: pl.DataFrame) -> bool:
    """Whether ``ev`` is sorted by teacher_id, at_us, event_id (strictly)."""
    if ev.height < 2:
        return True
    tid, at, eid = pl.col("teacher_id"), pl.col("at_us"), pl.col("event_id")
    step = (tid > tid.shift()) | ((tid == tid.shift()) & (
        (at > at.shift()) | ((at == at.shift()) & (eid > eid.shift()))))
    return bool(ev.select(step.slice(1).all()).item())


def _load(
    plan: BulkPlan, lazy: pl.LazyFrame, roster: pl.DataFrame, as_of: dt.date,
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """The events the policy reads, keyed by teacher-period, and the teacher-periods."""
    policy = plan.policy
    schema = lazy.collect_schema()
    columns = list(schema.names())
    missing = [pl.lit(None, t).alias(c) for c, t in EVENT_SCHEMA.items() if c not in columns]
    if missing:
        lazy = lazy.with_columns(missing)
        columns = [*columns, *(c for c in EVENT_SCHEMA if c not in columns)]
    attributes = [c for c in columns if c not in EVENT_SCHEMA and c not in ("source", "row")]
    kinds, keep = _needs(policy, _needed_facts(policy), attributes)
    used = lazy if kinds is None else lazy.filter(pl.col("kind").is_in(kinds))
    query = _assign_periods(policy, used.select(keep))
    ev, found = pl.collect_all([query, _found_query(policy, lazy)], engine="streaming")
    _stage("load: scan")
    if not _in_order(ev):
        ev = ev.sort(["teacher_id", "at_us", "event_id"])
        _stage("load: sort")
    tp = _teacher_periods(policy, found, roster, as_of)
    _stage("load: teacher-periods")
    # Each event's teacher-period key: runs of (teacher_id, pstart) in the sorted events,
    # looked up once per run.
    tid, pstart = pl.col("teacher_id"), pl.col("pstart")
    new = ((tid != tid.shift()) | (pstart != pstart.shift())).fill_null(True)
    ev = ev.with_columns(new.alias("__new"))
    runs = ev.select(*TP, "__new").filter(pl.col("__new")).select(TP)
    run_key = _keys_of(runs, tp)
    first = ev["__new"].to_numpy()
    run_ix = np.cumsum(first, dtype=np.int64) - 1
    ev = ev.drop("__new", "pend").with_columns(
        pl.Series(K, run_key[run_ix], dtype=pl.Int64).set_sorted(),
        pl.Series(ROW, np.arange(ev.height, dtype=np.int64)))
    tp = tp.join(roster, on="teacher_id", how="left", maintain_order="left")
    return ev, tp, attributes


def _keys_of(runs: pl.DataFrame, tp: pl.DataFrame) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The row in ``tp`` (sorted by teacher_id, pstart; every run is in it) of each
    (teacher_id, pstart) in ``runs``: binary searches, no hash join."""
    first = tp.select((pl.col("teacher_id") != pl.col("teacher_id").shift()).fill_null(True)
                      ).to_series().to_numpy()
    starts = np.flatnonzero(first)  # each teacher's first row in tp
    teachers = tp["teacher_id"].gather(pl.Series(starts))
    teacher = teachers.search_sorted(runs["teacher_id"], side="left").to_numpy().astype(np.int64)
    days = tp["pstart"].cast(pl.Int32).to_numpy().astype(np.int64)
    span = int(days.max() - days.min()) + 1 if len(days) else 1
    rank = np.cumsum(first, dtype=np.int64) - 1
    code = rank * span + (days - (days.min() if len(days) else 0))
    wanted = teacher * span + (runs["pstart"].cast(pl.Int32).to_numpy().astype(np.int64)
                               - (days.min() if len(days) else 0))
    found: np.ndarray[Any, np.dtype[np.int64]] = np.searchsorted(code, wanted).astype(np.int64)
    assert len(found) == 0 or (code[np.minimum(found, len(code) - 1)] == wanted).all()
    return found


def _evaluate_batch(
    plan: BulkPlan, lazy: pl.LazyFrame, roster: pl.DataFrame, as_of: dt.date, *, trace: bool,
) -> pl.DataFrame:
    """Everything up to ranks and excellence, for the teachers in ``lazy`` and ``roster``.

    Returns one row per teacher-period with the rendered ledger columns plus what
    :func:`finish` needs (facts, roster attributes, scores, penalties).
    """
    policy = plan.policy
    facts = _needed_facts(policy)
    ev, tp, attributes = _load(plan, lazy, roster, as_of)
    _stage("load")

    event_cond = _event_compiler(plan, attributes, view=False)
    view_cond = _event_compiler(plan, attributes, view=True)

    # ---- per teacher-period facts: qualified(program), any KIND
    fact_frames: list[pl.DataFrame] = []
    if facts.programs:
        assessments = ev.filter(pl.col("kind") == "assessment")
        for program, name in facts.programs.items():
            fact_frames.append(
                assessments.filter(pl.col("program") == program)
                .group_by(K, maintain_order=True).agg(pl.col("grade").last())
                .select(K, pl.col("grade").is_in(QUALIFYING).fill_null(False).alias(name)))
    for kind, name in facts.kinds.items():
        fact_frames.append(
            ev.filter(pl.col("kind") == kind).select(K).unique()
            .with_columns(pl.lit(True).alias(name)))
    for frame in fact_frames:
        tp = _join_flags(tp, frame)
    teacher_cond = _teacher_compiler(plan, facts, outcome=False)

    # ---- rules' `when`, once per teacher-period
    rules = sorted(policy.rules, key=lambda r: r.name)
    when_cols = {}
    for index, rule in enumerate(rules):
        if rule.when is not None:
            when_cols[rule.name] = f"__w{index}"
    if when_cols:
        tp = tp.with_columns([
            teacher_cond(rule.when).alias(when_cols[rule.name]) for rule in rules
            if rule.name in when_cols
        ])

    def applies(frame: pl.DataFrame, rule: ir.Rule) -> pl.DataFrame:
        if rule.name not in when_cols:
            return frame
        return frame.filter(_by_key(tp, when_cols[rule.name]))

    # what the register and the requirements ask of each award, computed on the award
    # while its event's columns are at hand
    views: list[tuple[str, pl.Expr]] = []
    for j, cap in enumerate(policy.caps):
        views.append((f"__c{j}", view_cond(cap.of)))
        if cap.per is not None:
            views.append((f"__ck{j}", _period_exprs(cap.per, pl.col("day"))[0].cast(pl.Int32)))
    measures = _measure_names(policy)
    for measure, name in measures.items():
        if isinstance(measure, ir.MeasureCredits | ir.MeasureHours):
            views.append((f"__v{name}", view_cond(measure.of)))

    # ---- awards (interpreter._rule_awards), leave days, penalties
    award_frames: list[pl.DataFrame] = []
    leave_frames: list[pl.DataFrame] = []
    # `exception to`: where an exception fires on an event, its target does not see it.
    computed: dict[str, pl.DataFrame] = {}
    excluded: dict[str, list[pl.DataFrame]] = {}
    for index, rule in enumerate(rules):
        if rule.exception_to is not None and not isinstance(rule.award, ir.Leave):
            computed[rule.name] = _rule_awards(plan, rule, index, ev, event_cond, applies, views)
            excluded.setdefault(rule.exception_to, []).append(computed[rule.name].select(ROW))
    for index, rule in enumerate(rules):
        if rule.name in computed:
            award_frame = computed[rule.name]
        elif rule.name in excluded and not isinstance(rule.award, ir.Leave):
            seen = pl.concat(excluded[rule.name])[ROW].unique()
            kept = ev.filter(~pl.col(ROW).is_in(seen.implode()))
            award_frame = _rule_awards(plan, rule, index, kept, event_cond, applies, views)
        else:
            award_frame = _rule_awards(plan, rule, index, ev, event_cond, applies, views)
        if isinstance(rule.award, ir.Leave):
            leave_frames.append(award_frame)
        elif award_frame.height:
            award_frames.append(award_frame)
    awards = _concat_awards(award_frames, views)
    _stage("awards")

    if leave_frames:
        leave = (pl.concat([f.select(K, ROW) for f in leave_frames]).unique()
                 .group_by(K).agg(pl.len().cast(pl.Int64).alias("leave_days")))
        tp = _join_flags(tp, leave, 0)
    else:
        tp = tp.with_columns(pl.lit(0, pl.Int64).alias("leave_days"))

    void_parts = [p for p in policy.penalties if p.void_credits]
    noexc_parts = [p for p in policy.penalties if p.not_excellent]
    for name, group in (("__void", void_parts), ("__noexc", noexc_parts)):
        if group:
            cond = pl.lit(False)
            for penalty in group:
                cond = cond | ((pl.col("kind") == penalty.kind) & event_cond(penalty.where))
            hit = ev.filter(cond).select(K).unique().with_columns(pl.lit(True).alias(name))
            tp = _join_flags(tp, hit)
            _stage("penalties")
        else:
            tp = tp.with_columns(pl.lit(False).alias(name))

    # ---- the credit register (interpreter._register)
    awards = _register(plan, awards, tp)
    _stage("register")

    # ---- totals, breakdowns, trace, the awards' requirement measures
    tp = _aggregate(plan, tp, awards, ev, rules, measures, trace=trace)
    _stage("aggregate+trace")

    # ---- grade, scores for ranks
    tp = _grades_and_scores(plan, tp, ev)
    _stage("grades")

    # ---- requirements (interpreter._requirements)
    tp = _requirements(plan, tp, ev, teacher_cond, event_cond, measures)
    _stage("requirements")
    return tp


def _rule_awards(
    plan: BulkPlan, rule: ir.Rule, index: int, ev: pl.DataFrame, event_cond: CondCompiler,
    applies: Any, views: Sequence[tuple[str, pl.Expr]],
) -> pl.DataFrame:
    award = rule.award
    where = event_cond(rule.where)
    if isinstance(award, ir.IfQualified):
        base = ev.filter((pl.col("kind") == "assessment") & (pl.col("program") == (rule.program or ""))
                         & where)
        base = applies(base, rule)
        base = base.group_by(K, maintain_order=True).agg(pl.all().last()).select(base.columns)
        base = base.filter(pl.col("grade").is_in(QUALIFYING).fill_null(False))
    else:
        cond = pl.col("kind") == rule.kind
        if rule.program is not None:
            cond = cond & (pl.col("program") == rule.program).fill_null(False)
        base = applies(ev.filter(cond & where), rule)
        if rule.first:
            base = base.unique(subset=K, keep="first", maintain_order=True)
    if isinstance(award, ir.Leave):
        leave: pl.DataFrame = base.select(K, ROW)
        return leave
    rate = plan.policy.rate
    hours: pl.Expr
    credits: pl.Expr
    match award:
        case ir.CountHours():
            hours = _scaled("hours_u", plan)
            credits = _rate_times("hours_u", plan, rate) if rate is not None else pl.lit(0)
        case ir.CountCredits():
            hours = _scaled("hours_u", plan)
            credits = _scaled("credits_u", plan)
        case ir.Fixed(amount, unit) | ir.IfQualified(amount, unit):
            if unit == "credits":
                credits, hours = pl.lit(plan.fixed(amount)), pl.lit(0)
            else:
                converted = amount * rate if rate is not None else Decimal(0)
                credits, hours = pl.lit(plan.fixed(converted)), pl.lit(plan.fixed(amount))
        case ir.Block(block_credits, block_hours, pro_rata):
            hours = _scaled("hours_u", plan)
            if pro_rata:
                credits = _rate_times("hours_u", plan, exact_div(block_credits, block_hours))
            else:
                size = plan.fixed(block_hours)
                after = hours.cum_sum().over(K)
                before = after - hours
                credits = (after // size - before // size) * plan.fixed(block_credits)
        case _:  # pragma: no cover
            raise AssertionError(award)
    category = (pl.lit(None, pl.String) if rule.without_category
                else pl.lit(rule.as_category, pl.String) if rule.as_category
                else pl.col("category"))
    level = pl.lit(rule.as_level, pl.String) if rule.as_level else pl.col("level")
    out: pl.DataFrame = base.with_columns(
        credits.cast(pl.Int64).alias("credits_k"),
        hours.cast(pl.Int64).alias("hours_k"),
        category.cast(pl.String).alias("v_category"),
        level.cast(pl.String).alias("v_level"),
        pl.lit(index, pl.Int32).alias("rule_ix"),
    )
    return out.select(ROW, K, "rule_ix", "credits_k", "hours_k", "v_category", "v_level",
                      *(expr.alias(name) for name, expr in views))


_AWARD_SCHEMA: dict[str, Any] = {
    ROW: pl.Int64, K: pl.Int64, "rule_ix": pl.Int32, "credits_k": pl.Int64,
    "hours_k": pl.Int64, "v_category": pl.String, "v_level": pl.String,
}


def _concat_awards(
    frames: list[pl.DataFrame], views: Sequence[tuple[str, pl.Expr]],
) -> pl.DataFrame:
    """All awards, rule after rule (each rule's awards in time order)."""
    schema = {**_AWARD_SCHEMA, **{n: (pl.Int32 if n.startswith("__ck") else pl.Boolean)
                                  for n, _ in views}}
    if frames:
        return pl.concat([f.cast(schema) for f in frames], how="vertical")  # type: ignore[arg-type]
    return pl.DataFrame(schema=schema)


# --------------------------------------------------------------------------- register
def _register(plan: BulkPlan, awards: pl.DataFrame, tp: pl.DataFrame) -> pl.DataFrame:
    """``credited`` for every award: the register of SPEC §4.

    A cap whose raw total in a teacher-period (and cap period) stays within its amount
    never cuts anything, so only *binding* caps matter; awards under no binding cap are
    credited in full. Where a teacher-period's binding caps share no award, each is a
    clipped running sum (vectorised); the remaining teacher-periods go through one
    ordered pass, vectorised across them: step ``n`` credits every teacher-period's
    ``n``-th such award at once (numpy), so the Python loop runs once per position.
    Group totals and running sums are exact Int64 numpy (``np.add.at``, ``cumsum``) over
    dense group codes; no window expressions, no sort of the frame.
    """
    policy = plan.policy
    void = _by_key(tp, "__void")
    awards = awards.with_columns(void.alias("__void"))
    full = pl.when(pl.col("__void")).then(0).otherwise(pl.col("credits_k"))
    if not policy.caps or awards.height == 0:
        return awards.with_columns(full.alias("credited"))
    binding: list[str] = []
    keys: list[list[str]] = []
    tp_key = awards[K].to_numpy()
    raw_credits = awards["credits_k"].to_numpy()
    not_void = ~awards["__void"].fill_null(False).to_numpy()
    flag_arrays: dict[str, np.ndarray[Any, np.dtype[np.bool_]]] = {}
    groups: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    for j, cap in enumerate(policy.caps):
        group = [K, f"__ck{j}"] if cap.per is not None else [K]
        inside = awards[f"__c{j}"].fill_null(False).to_numpy() & not_void
        flag, code = _over_cap(inside, tp_key, tp.height, raw_credits,
                               awards[group[1]] if cap.per is not None else None,
                               plan.fixed(cap.amount))
        flag_arrays[f"__b{j}"] = flag
        groups.append(code)
        binding.append(f"__b{j}")
        keys.append(group)
    _stage("register: binding caps")
    count = np.zeros(awards.height, dtype=np.int8)
    for flag in flag_arrays.values():
        count += flag
    credited = np.where(not_void, raw_credits, 0).astype(np.int64)
    if count.any():
        # awards under a binding cap, in time order (each rule's block already is: a
        # stable sort merges the blocks)
        aid = np.flatnonzero(count)
        row = awards[ROW].to_numpy()[aid]
        rule_ix = awards["rule_ix"].to_numpy()[aid].astype(np.int64)
        aid = aid[np.argsort(row * (int(rule_ix.max()) + 1) + rule_ix, kind="stable")]
        _stage("register: sort")
        coupled = np.zeros(max(tp.height, 1), dtype=np.bool_)
        coupled[tp_key[aid[count[aid] > 1]]] = True
        is_linked = coupled[tp_key[aid]]
        alone = aid[~is_linked]
        if alone.size:
            for j, cap in enumerate(policy.caps):
                hit = flag_arrays[binding[j]][alone]
                if not hit.any():
                    continue
                value = np.where(hit, raw_credits[alone], 0)
                after = _running_sums(groups[j][alone], value)
                amount = plan.fixed(cap.amount)
                got = np.minimum(after, amount) - np.minimum(after - value, amount)
                credited[alone[hit]] = got[hit]
            _stage("register: clipped sums")
        linked_ids = aid[is_linked]
        if linked_ids.size:
            credited[linked_ids] = _ordered_pass(
                raw_credits[linked_ids], tp_key[linked_ids],
                [flag_arrays[b][linked_ids] for b in binding],
                [g[linked_ids] for g in groups],
                [plan.fixed(cap.amount) for cap in policy.caps])
            _stage("register: ordered pass")
    return awards.with_columns(pl.Series("credited", credited, dtype=pl.Int64))


def _running_sums(group: np.ndarray[Any, Any], value: np.ndarray[Any, Any],
                  ) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The running sum of ``value`` within each ``group``, in the given order (exact:
    Int64 wrap-around cancels in the differences)."""
    order = np.argsort(group, kind="stable")
    ordered = value[order]
    total = np.cumsum(ordered, dtype=np.int64)
    g = group[order]
    first = np.empty(len(g), dtype=np.bool_)
    first[:1] = True
    first[1:] = g[1:] != g[:-1]
    base = (total - ordered)[first]
    out = np.empty(len(g), dtype=np.int64)
    out[order] = total - base[np.cumsum(first) - 1]
    return out


def _over_cap(
    inside: np.ndarray[Any, np.dtype[np.bool_]], tp_key: np.ndarray[Any, np.dtype[np.int64]],
    n_tp: int, credits: np.ndarray[Any, np.dtype[np.int64]], period: pl.Series | None,
    amount: int,
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], np.ndarray[Any, np.dtype[np.int64]]]:
    """The awards inside a cap whose group (teacher-period, cap period) totals more than
    ``amount``: exact Int64 sums per group with ``np.add.at`` over a dense group code."""
    group = tp_key
    n_groups = n_tp
    if period is not None:
        values = np.sort(period.unique().drop_nulls().to_numpy().astype(np.int64))
        code = np.searchsorted(values, period.to_numpy().astype(np.int64))
        group = tp_key * max(len(values), 1) + code
        n_groups = n_tp * max(len(values), 1)
    total = np.zeros(max(n_groups, 1), dtype=np.int64)
    np.add.at(total, group[inside], credits[inside])
    out: np.ndarray[Any, np.dtype[np.bool_]] = inside & (total[group] > amount)
    return out, group


def _ordered_pass(
    credits: np.ndarray[Any, np.dtype[np.int64]], tp_code: np.ndarray[Any, np.dtype[np.int64]],
    flags: Sequence[np.ndarray[Any, np.dtype[np.bool_]]],
    groups: Sequence[np.ndarray[Any, np.dtype[np.int64]]], amounts: Sequence[int],
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The register, award by award in time order, for teacher-periods whose binding caps
    share awards (the arrays are in time order; ``groups[j]`` is a dense code of cap
    ``j``'s group, ``flags[j]`` whether it binds the award): the credited amounts."""
    n = len(credits)
    # each award's position in its teacher-period (sorted, so runs of keys)
    starts = np.flatnonzero(np.diff(tp_code, prepend=-1))
    pos = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    order = np.argsort(pos, kind="stable")
    sorted_pos = pos[order]
    bounds = np.searchsorted(sorted_pos, np.arange(int(sorted_pos[-1]) + 2))
    # laid out step after step, so each step reads contiguous slices
    credits_o = credits[order]
    cap_keys: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    used: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    for flag, group in zip(flags, groups, strict=True):
        hit = flag[order]
        cap_keys.append(np.where(hit, group[order], -1))
        used.append(np.zeros(int(group.max()) + 1 if n else 1, dtype=np.int64))
    out_o = np.zeros(n, dtype=np.int64)
    for step in range(len(bounds) - 1):
        lo, hi = int(bounds[step]), int(bounds[step + 1])
        if lo == hi:
            continue
        grant = credits_o[lo:hi].copy()
        masks = []
        for j in range(len(cap_keys)):
            k = cap_keys[j][lo:hi]
            m = k >= 0
            km = k[m]
            masks.append((m, km))
            if km.size:
                free = np.maximum(amounts[j] - used[j][km], 0)
                grant[m] = np.minimum(grant[m], free)
        for j, (m, km) in enumerate(masks):
            if km.size:
                used[j][km] += grant[m]
        out_o[lo:hi] = grant
    out = np.empty(n, dtype=np.int64)
    out[order] = out_o
    return out


# -------------------------------------------------------------------------- aggregate
_MANY = 32  # more distinct categories / levels than this: a grouped breakdown instead


def _measure_names(policy: ir.Policy) -> dict[ir.Measure, str]:
    measures: dict[ir.Measure, str] = {}
    for requirement in policy.requirements:
        for line in requirement.lines:
            measures.setdefault(line.measure, f"__m{len(measures)}")
    return measures


def _object_text(parts: Sequence[pl.Expr], open_: str, close: str) -> pl.Expr:
    if not parts:
        return pl.lit(open_ + close)
    inner = pl.concat_str(list(parts), separator=",", ignore_nulls=True).fill_null("")
    return pl.concat_str([pl.lit(open_), inner, pl.lit(close)])


def _aggregate(
    plan: BulkPlan, tp: pl.DataFrame, awards: pl.DataFrame, ev: pl.DataFrame,
    rules: Sequence[ir.Rule], measures: Mapping[ir.Measure, str], *, trace: bool,
) -> pl.DataFrame:
    """One grouped pass over the awards: totals, by_category / by_level, the credits and
    hours requirements measure; one more (per teacher-period and rule) for the trace."""
    digits = plan.digits
    # Exact Int64 sums per teacher-period (tp row = key) with np.add.at: no group_by.
    n_tp = tp.height
    key = awards[K].to_numpy()
    credited = awards["credited"].to_numpy()
    hours = awards["hours_k"].to_numpy()

    def per_key(values: np.ndarray[Any, Any], mask: Any = None) -> pl.Series:
        out = np.zeros(n_tp, dtype=np.int64)
        if mask is None:
            np.add.at(out, key, values)
        else:
            np.add.at(out, key, np.where(mask, values, 0))
        return pl.Series(out, dtype=pl.Int64)

    sums: dict[str, pl.Series] = {"credits_k": per_key(credited), "hours_k": per_key(hours)}
    for measure, name in measures.items():
        if isinstance(measure, ir.MeasureCredits | ir.MeasureHours):
            value = credited if isinstance(measure, ir.MeasureCredits) else hours
            sums[name] = per_key(value, awards[f"__v{name}"].fill_null(False).to_numpy())
    texts: dict[str, list[pl.Expr]] = {}
    grouped: list[tuple[str, str]] = []
    for name, column in (("by_category", "v_category"), ("by_level", "v_level")):
        values = sorted(awards[column].drop_nulls().unique().to_list())
        if len(values) > _MANY:
            grouped.append((name, column))
            continue
        texts[name] = []
        if values:
            code = (awards[column].replace_strict(values, list(range(len(values))), default=-1,
                                                  return_dtype=pl.Int64).to_numpy())
            hit = code >= 0
            cell = key[hit] * len(values) + code[hit]
            flat = np.zeros(n_tp * len(values), dtype=np.int64)
            np.add.at(flat, cell, credited[hit])
            by_value: np.ndarray[Any, Any] = flat.reshape(n_tp, -1)
            counts: np.ndarray[Any, Any] = (
                np.bincount(cell, minlength=n_tp * len(values)).astype(np.int64).reshape(n_tp, -1))
        for i, value in enumerate(values):
            alias = f"__{column}{i}"
            sums[alias] = pl.Series(np.ascontiguousarray(by_value[:, i]), dtype=pl.Int64)
            sums[alias + "_n"] = pl.Series(np.ascontiguousarray(counts[:, i]), dtype=pl.Int64)
            texts[name].append(pl.when(pl.col(alias + "_n") > 0).then(pl.concat_str([
                pl.lit(_dumps(value) + ':"'), render(pl.col(alias), digits), pl.lit('"')])))
    tp = tp.with_columns(series.alias(name) for name, series in sums.items())
    tp = tp.with_columns(_object_text(parts, "{", "}").alias(name) for name, parts in texts.items())
    _stage("aggregate: totals")
    for name, column in grouped:
        parts = (
            awards.filter(pl.col(column).is_not_null())
            .group_by([K, column]).agg(pl.col("credited").sum())
            .sort([K, column])
            .with_columns(pl.concat_str([_json_text(pl.col(column)), pl.lit(':"'),
                                         render(pl.col("credited"), digits), pl.lit('"')]).alias("__j"))
            .group_by(K, maintain_order=True).agg(pl.col("__j").str.join(","))
            .select(K, pl.concat_str([pl.lit("{"), pl.col("__j"), pl.lit("}")]).alias(name))
        )
        tp = _join_flags(tp, parts, "{}")
    if not trace or awards.height == 0:
        return tp.with_columns(pl.lit("[]").alias("trace"))
    return _trace(plan, tp, awards, ev, rules)


def _trace(
    plan: BulkPlan, tp: pl.DataFrame, awards: pl.DataFrame, ev: pl.DataFrame,
    rules: Sequence[ir.Rule],
) -> pl.DataFrame:
    """``trace``: per rule (by name) its credited and hours and its events' ids, in order.

    The awards are rule after rule, each rule's in event order, so each (rule,
    teacher-period) is one contiguous run: its sums are differences of a cumulative sum
    and its ids' text one slice of a string buffer (:func:`_join_runs`), no group_by.
    JSON escaping of ids runs only if some id needs it.
    """
    digits = plan.digits
    n = awards.height
    key = awards[K].to_numpy()
    rule_ix = awards["rule_ix"].to_numpy().astype(np.int64)
    row = awards[ROW].to_numpy()
    step = np.diff(rule_ix)
    if not bool(np.all((step > 0) | ((step == 0) & (np.diff(row) > 0)))):  # pragma: no cover
        order = np.lexsort((row, rule_ix))
        awards = awards[order]
        key, rule_ix = key[order], rule_ix[order]
    change = np.empty(n, dtype=np.bool_)
    change[0] = True
    change[1:] = (key[1:] != key[:-1]) | (rule_ix[1:] != rule_ix[:-1])
    starts = np.flatnonzero(change)
    bounds = np.append(starts, n)

    def run_sums(column: str) -> np.ndarray[Any, np.dtype[np.int64]]:
        total = np.concatenate([[0], np.cumsum(awards[column].to_numpy(), dtype=np.int64)])
        out: np.ndarray[Any, np.dtype[np.int64]] = total[bounds[1:]] - total[bounds[:-1]]
        return out  # int64 wrap-around cancels in the difference: exact per run

    heads = {}
    for index, rule in enumerate(rules):
        heads[index] = f'{{"rule":{_dumps(rule.name)},"source":{_dumps(rule.source)},"credits":"'
    entries = pl.DataFrame({
        K: key[starts], "rule_ix": rule_ix[starts],
        "credited": run_sums("credited"), "hours_k": run_sums("hours_k"),
        "__ids": _id_lists(ev["event_id"], awards[ROW].to_numpy(), bounds),
    }).select(K, pl.concat_str([
        pl.col("rule_ix").replace_strict(heads, return_dtype=pl.String),
        render(pl.col("credited"), digits), pl.lit('","hours":"'),
        render(pl.col("hours_k"), digits), pl.lit('","events":['), pl.col("__ids"), pl.lit("]}"),
    ]).alias("__t")).sort(K, maintain_order=True)  # stable: rules stay in name order
    # each entry carries its list's punctuation: "[" if first, "]" if last, else ","
    entries = entries.select(K, pl.concat_str([
        pl.when(pl.col(K) != pl.col(K).shift().fill_null(-1)).then(pl.lit("[")).otherwise(pl.lit("")),
        pl.col("__t"),
        pl.when(pl.col(K) != pl.col(K).shift(-1).fill_null(-1)).then(pl.lit("]")).otherwise(pl.lit(",")),
    ]).alias("__t"))
    _stage("trace: runs")
    per_tp = np.searchsorted(entries[K].to_numpy(), np.arange(tp.height + 1))
    offsets, data = _arrow_text(entries["__t"])
    joined = _runs(offsets, data, per_tp, 0)
    return tp.with_columns(
        pl.when(pl.lit(joined).str.len_bytes() == 0).then(pl.lit("[]")).otherwise(pl.lit(joined))
        .alias("trace"))


_NEEDS_ESCAPE = np.zeros(256, dtype=np.bool_)
_NEEDS_ESCAPE[:32] = True
_NEEDS_ESCAPE[[ord('"'), ord("\\")]] = True


def _arrow_text(texts: pl.Series) -> tuple[np.ndarray[Any, np.dtype[np.int64]], Any]:
    """The Int64 offsets and the data buffer of ``texts`` as one Arrow large_string array."""
    import pyarrow as pa

    array = texts.to_arrow(compat_level=pl.CompatLevel.oldest())
    if isinstance(array, pa.ChunkedArray):  # pragma: no cover
        array = array.combine_chunks()
    array = array.cast(pa.large_string())
    buffers = array.buffers()
    n = len(array)
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[array.offset:array.offset + n + 1]
    return offsets, buffers[2]


def _runs(offsets: np.ndarray[Any, Any], data: Any, bounds: np.ndarray[Any, Any],
          sep_len: int) -> pl.Series:
    """Run ``i`` is elements ``bounds[i]:bounds[i + 1]`` of the texts (``offsets`` into
    ``data``), each ending with a separator of ``sep_len`` bytes: the run's text is one
    slice of ``data``, less the last separator. Built as an Arrow array alternating runs
    and the dropped separators (so only offsets are new), of which every other is kept."""
    import pyarrow as pa

    bounds = np.asarray(bounds, dtype=np.int64)
    start = offsets[bounds[:-1]]
    stop = offsets[bounds[1:]]
    end = np.where(stop > start, stop - sep_len, start)
    new = np.empty(2 * len(start) + 1, dtype=np.int64)
    new[0:-1:2] = start
    new[1::2] = end
    new[-1] = offsets[-1] if len(offsets) else 0
    if len(start):
        new[-1] = max(new[-1], end[-1])
    both = pa.LargeStringArray.from_buffers(len(new) - 1, pa.py_buffer(new), data)
    out = pl.Series(both)
    assert isinstance(out, pl.Series)
    return out.cast(pl.String).gather_every(2)


def _id_lists(event_id: pl.Series, rows: np.ndarray[Any, Any], bounds: np.ndarray[Any, Any],
              ) -> pl.Series:
    """Per run, the JSON list body ``"a","b"`` of the ids ``event_id[rows]``.

    Ids of one width (the usual case) are laid out as a byte matrix in numpy; otherwise
    each id is quoted (JSON-escaped only if some id needs it) in Polars."""
    offsets, data = _arrow_text(event_id)
    n = len(offsets) - 1
    widths = np.diff(offsets)
    if n and bool((widths == widths[0]).all()) and widths[0] > 0:
        width = int(widths[0])
        raw = np.frombuffer(data, dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(n, width)
        picked = raw[rows]
        clean = not any(_NEEDS_ESCAPE[picked[i:i + (1 << 22)]].any()
                        for i in range(0, len(picked), 1 << 22))
        if clean:
            cell = width + 3
            out = np.empty((len(picked), cell), dtype=np.uint8)
            out[:, 0] = ord('"')
            out[:, 1:width + 1] = picked
            out[:, width + 1] = ord('"')
            out[:, width + 2] = ord(",")
            del picked
            import pyarrow as pa

            return _runs(np.arange(len(out) + 1, dtype=np.int64) * cell,
                         pa.py_buffer(out.reshape(-1)), bounds, 1)
    ids = event_id.gather(rows)
    if ids.str.contains(r'[\\"\x00-\x1f]').any():
        text = pl.select(pl.concat_str([_json_text(pl.lit(ids)), pl.lit(",")])).to_series()
    else:
        text = pl.select(pl.concat_str([pl.lit('"'), pl.lit(ids), pl.lit('",')])).to_series()
    offsets, data = _arrow_text(text)
    return _runs(offsets, data, bounds, 1)


def _grades_and_scores(plan: BulkPlan, tp: pl.DataFrame, ev: pl.DataFrame) -> pl.DataFrame:
    policy = plan.policy
    rule = policy.grade
    if rule is None and not policy.ranks:
        return tp.with_columns(pl.lit(None, pl.String).alias("grade"))
    assessments = ev.filter(pl.col("kind") == "assessment")
    if rule is None:
        tp = tp.with_columns(pl.lit(None, pl.String).alias("grade"))
    elif isinstance(rule, ir.GradeFromAssessment):
        graded = (assessments.filter(pl.col("program") == rule.program)
                  .group_by(K, maintain_order=True).agg(pl.col("grade").last()))
        tp = tp.join(graded, on=K, how="left", maintain_order="left")
    else:
        scored = (assessments.filter((pl.col("program") == rule.program) & pl.col("score_u").is_not_null())
                  .group_by(K, maintain_order=True).agg(pl.col("score_u").last().alias("__s")))
        grade: Any = None
        for name, minimum in rule.thresholds:
            test = pl.col("__s") >= plan_micro(minimum)
            grade = pl.when(test).then(pl.lit(name)) if grade is None else grade.when(test).then(pl.lit(name))
        result = (grade.otherwise(pl.lit(rule.otherwise)) if grade is not None
                  else pl.lit(rule.otherwise))
        scored = scored.select(K, result.cast(pl.String).alias("grade"))
        tp = tp.join(scored, on=K, how="left", maintain_order="left")
    for index, rank in enumerate(policy.ranks):
        best = (assessments.filter((pl.col("program") == rank.program) & pl.col("score_u").is_not_null())
                .group_by(K, maintain_order=True)
                .agg(pl.col("score_u").last().alias(f"__rs{index}"),
                     pl.col("at_us").last().alias(f"__ra{index}")))
        tp = tp.join(best, on=K, how="left", maintain_order="left")
    return tp


def plan_micro(value: Decimal) -> int:
    """A score threshold in micro-units, rounded so that ``score_u >= it`` is exact."""
    x = Fraction(value) * 10**MICRO_DIGITS
    return int(-((-x.numerator) // x.denominator))  # ceil


# ------------------------------------------------------------------------ requirements
def _requirements(
    plan: BulkPlan, tp: pl.DataFrame, ev: pl.DataFrame,
    teacher_cond: CondCompiler, event_cond: CondCompiler, measures: Mapping[ir.Measure, str],
) -> pl.DataFrame:
    policy = plan.policy
    scale = plan.scale
    facts = _needed_facts(policy)
    event_sums: list[pl.Expr] = []
    for measure, name in measures.items():
        match measure:
            case ir.MeasureCount(kind, where):
                event_sums.append(
                    pl.when((pl.col("kind") == kind) & event_cond(where)).then(pl.col("count"))
                    .otherwise(0).sum().mul(scale).alias(name))
            case ir.MeasureQualified(program):
                tp = tp.with_columns(
                    pl.when(pl.col(facts.programs[program])).then(scale).otherwise(0)
                    .cast(pl.Int64).alias(name))
            case _:
                if name not in tp.columns:  # no award at all
                    tp = tp.with_columns(pl.lit(0, pl.Int64).alias(name))
    if event_sums:
        kinds = sorted({m.kind for m in measures if isinstance(m, ir.MeasureCount)})
        tp = _join_flags(
            tp, ev.lazy().filter(pl.col("kind").is_in(kinds)).group_by(K).agg(event_sums)
            .collect(engine="streaming"), 0)
    factor_digits = 0
    factor: pl.Expr = pl.lit(1, pl.Int64)
    reduction, window = policy.reduction, policy.window
    if reduction is not None and window is not None and reduction.attribute in _TEACHER_DATES:
        factor_digits = places(reduction.fraction)
        unit = 10**factor_digits
        step = int(Fraction(reduction.fraction) * unit)
        day = pl.col(reduction.attribute)
        years = day.dt.year().cast(pl.Int64) - window.start.year
        factor = (pl.when(day.is_between(window.start, window.end))
                  .then(pl.max_horizontal(pl.lit(unit, pl.Int64) - years * step, pl.lit(0, pl.Int64)))
                  .otherwise(unit))
    waived_by: dict[str, list[ir.Waiver]] = {}
    for waiver in policy.waivers:
        for name in waiver.names:
            waived_by.setdefault(name, []).append(waiver)
    pieces: list[pl.Expr] = []
    met_all: pl.Expr = pl.lit(True)
    extra: list[pl.Expr] = []
    for index, requirement in enumerate(sorted(policy.requirements, key=lambda r: r.name)):
        chosen: Any = None
        required_chain: Any = None
        for line in requirement.lines:
            holds = teacher_cond(line.when)
            amount = plan.fixed(line.amount)
            if isinstance(line.measure, ir.MeasureCredits):
                required = (pl.lit(amount, pl.Int64) * factor) // (10**factor_digits)
            else:
                required = pl.lit(amount, pl.Int64)
            actual = pl.col(measures[line.measure])
            if chosen is None:
                chosen = pl.when(holds).then(actual)
                required_chain = pl.when(holds).then(required)
            else:
                chosen = chosen.when(holds).then(actual)
                required_chain = required_chain.when(holds).then(required)
        if chosen is None:
            continue
        actual_col, required_col = f"__a{index}", f"__req{index}"
        waived = pl.lit(False)
        for waiver in waived_by.get(requirement.name, []):
            waived = waived | teacher_cond(waiver.when)
        extra += [chosen.otherwise(None).alias(actual_col),
                  required_chain.otherwise(None).alias(required_col),
                  waived.alias(f"__wv{index}")]
        present = pl.col(required_col).is_not_null()
        met = pl.col(f"__wv{index}") | (pl.col(actual_col) >= pl.col(required_col))
        text = pl.concat_str([
            pl.lit('{"name":' + _dumps(requirement.name) + ',"required":"'),
            render(pl.col(required_col), plan.digits), pl.lit('","actual":"'),
            render(pl.col(actual_col), plan.digits), pl.lit('","met":'), _bool_text(met),
            pl.when(pl.col(f"__wv{index}")).then(pl.lit(',"waived":true')).otherwise(pl.lit("")),
            pl.lit("}"),
        ])
        pieces.append(pl.when(present).then(text).otherwise(None))
        met_all = met_all & (~present | met)
    if extra:
        tp = tp.with_columns(extra)
    joined = (pl.concat_str(pieces, separator=",", ignore_nulls=True).fill_null("")
              if pieces else pl.lit(""))
    return tp.with_columns(
        pl.concat_str([pl.lit("["), joined, pl.lit("]")]).alias("requirements"),
        met_all.alias("met"),
    )


# ------------------------------------------------------------------ ranks and output
def finish(plan: BulkPlan, tp: pl.DataFrame) -> pl.DataFrame:
    """Ranks and excellence across teachers (interpreter._rank_and_finish), then output."""
    policy = plan.policy
    facts = _needed_facts(policy)
    outcome = _teacher_compiler(plan, facts, outcome=True)
    for index, rank in enumerate(policy.ranks):
        flag = facts.ranks[rank.name]
        score, at = f"__rs{index}", f"__ra{index}"
        candidates = (tp.filter(pl.col(score).is_not_null() & outcome(rank.among))
                      .sort(["pstart", score, at, "teacher_id"], descending=[False, True, False, False]))
        chosen: list[pl.DataFrame] = []
        for top in rank.tops:
            if top.mode == "overall":
                pool = candidates
                group = ["pstart"]
            else:
                assert top.field is not None
                column = top.field if top.field in _TEACHER_TEXT else None
                if column is None:
                    continue
                pool = candidates.filter(pl.col(column).is_in(list(top.values)))
                group = ["pstart", column] if top.mode == "per" else ["pstart"]
            chosen.append(pool.filter(pl.int_range(pl.len()).over(group) < top.count).select(TP))
        picked = (pl.concat(chosen).unique() if chosen else tp.clear().select(TP))
        tp = _join_flags(tp, picked.with_columns(pl.lit(True).alias(flag)), on=TP)
    excellent = (outcome(policy.excellent.when) & ~pl.col("__noexc") if policy.excellent is not None
                 else pl.lit(False))
    return tp.select(  # tp is in teacher_id, pstart order (every join keeps it)
        pl.col("teacher_id"),
        pl.col("pstart").alias("period_start"),
        pl.col("pend").alias("period_end"),
        render(pl.col("credits_k"), plan.digits).alias("credits"),
        render(pl.col("hours_k"), plan.digits).alias("hours"),
        pl.col("leave_days").cast(pl.Int64),
        pl.col("grade").cast(pl.String),
        excellent.alias("excellent_eligible"),
        pl.col("by_category"), pl.col("by_level"), pl.col("requirements"),
        pl.col("met"), pl.col("trace"),
    )


# ------------------------------------------------------------------- records <-> frames
def events_to_frame(events: Sequence[Event]) -> pl.DataFrame:
    """Events as an :attr:`EventTable.frame` (sorted); raises ValueError if a decimal
    does not fit micro-units exactly."""

    def micro(value: Decimal | None) -> int | None:
        if value is None:
            return None
        x = Fraction(value) * 10**MICRO_DIGITS
        if x.denominator != 1:
            raise ValueError(f"{value} has more than 6 decimal places")
        return int(x)

    attributes = sorted({a for e in events for a in e.attributes})
    data: dict[str, list[Any]] = {c: [] for c in [*EVENT_SCHEMA, *attributes]}
    for e in events:
        data["event_id"].append(e.event_id)
        data["teacher_id"].append(e.teacher_id)
        data["at_us"].append(e.instant_us)
        data["day"].append(e.day)
        data["kind"].append(e.kind)
        data["hours_u"].append(micro(e.hours))
        data["credits_u"].append(micro(e.credits))
        for name in ("category", "level", "format", "program", "grade"):
            data[name].append(getattr(e, name))
        data["score_u"].append(micro(e.score))
        data["count"].append(e.count)
        data["words"].append(e.words)
        for a in attributes:
            data[a].append(e.attributes.get(a))
    schema = {**EVENT_SCHEMA, **{a: pl.String for a in attributes}}
    return pl.DataFrame(data, schema=schema).sort(["teacher_id", "at_us", "event_id"])


def teachers_to_frame(teachers: Mapping[str, Teacher]) -> pl.DataFrame:
    """Teachers as a :attr:`Roster.frame` (attributes beyond SPEC §3 are not kept:
    policies can only name SPEC §3 roster fields)."""
    rows = [{
        "teacher_id": t.teacher_id, "title": t.title, "roles": sorted(t.roles), "stage": t.stage,
        "hired_on": t.hired_on, "retired_on": t.retired_on, "school": t.school,
        "county": t.county, "city": t.city, "workshop": t.workshop,
    } for t in teachers.values()]
    return pl.DataFrame(rows, schema=ROSTER_SCHEMA).sort("teacher_id")


def frame_to_teachers(roster: pl.DataFrame) -> dict[str, Teacher]:
    out: dict[str, Teacher] = {}
    for r in roster.iter_rows(named=True):
        out[r["teacher_id"]] = Teacher(
            teacher_id=r["teacher_id"], title=r["title"], roles=frozenset(r["roles"] or ()),
            stage=r["stage"], hired_on=r["hired_on"], retired_on=r["retired_on"],
            school=r["school"], county=r["county"], city=r["city"], workshop=r["workshop"])
    return out


def rows_from_frame(frame: pl.DataFrame) -> list[LedgerRow]:
    """Ledger rows back from the output frame of :func:`run`."""
    out: list[LedgerRow] = []
    for r in frame.iter_rows(named=True):
        requirements = tuple(
            RequirementResult(q["name"], Decimal(q["required"]), Decimal(q["actual"]), q["met"],
                              bool(q.get("waived", False)))
            for q in json.loads(r["requirements"]))
        trace = tuple(
            TraceEntry(t["rule"], t["source"], Decimal(t["credits"]), Decimal(t["hours"]),
                       tuple(t["events"]))
            for t in json.loads(r["trace"]))
        out.append(LedgerRow(
            teacher_id=r["teacher_id"], period_start=r["period_start"], period_end=r["period_end"],
            credits=Decimal(r["credits"]), hours=Decimal(r["hours"]), leave_days=r["leave_days"],
            grade=r["grade"], excellent_eligible=r["excellent_eligible"],
            by_category={k: Decimal(v) for k, v in json.loads(r["by_category"]).items()},
            by_level={k: Decimal(v) for k, v in json.loads(r["by_level"]).items()},
            requirements=requirements, met=r["met"], trace=trace,
        ))
    return out


def rows_to_frame(rows: Sequence[LedgerRow]) -> pl.DataFrame:
    """Ledger rows as the output frame of :func:`run` (used by the interpreter fallback)."""
    records = []
    for row in rows:
        j = row.to_json()
        records.append({
            "teacher_id": j["teacher_id"], "period_start": row.period_start,
            "period_end": row.period_end, "credits": j["credits"], "hours": j["hours"],
            "leave_days": j["leave_days"], "grade": j["grade"],
            "excellent_eligible": j["excellent_eligible"],
            **{k: _dumps(j[k]) for k in ("by_category", "by_level", "requirements", "trace")},
            "met": j["met"],
        })
    schema = {
        "teacher_id": pl.String, "period_start": pl.Date, "period_end": pl.Date,
        "credits": pl.String, "hours": pl.String, "leave_days": pl.Int64, "grade": pl.String,
        "excellent_eligible": pl.Boolean, "by_category": pl.String, "by_level": pl.String,
        "requirements": pl.String, "met": pl.Boolean, "trace": pl.String,
    }
    return pl.DataFrame(records, schema=schema).select(list(LEDGER_COLUMNS))


def frame_to_events(frame: pl.DataFrame, timezone: str) -> list[Event]:
    import zoneinfo

    zone = zoneinfo.ZoneInfo(timezone)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    attributes = [c for c in frame.columns if c not in EVENT_SCHEMA and c not in ("source", "row")]

    def dec(v: int | None) -> Decimal | None:
        return None if v is None else Decimal(v).scaleb(-MICRO_DIGITS)

    out = []
    for r in frame.iter_rows(named=True):
        out.append(Event(
            event_id=r["event_id"], teacher_id=r["teacher_id"],
            at=(epoch + dt.timedelta(microseconds=r["at_us"])).astimezone(zone), day=r["day"],
            instant_us=r["at_us"], kind=r["kind"], hours=dec(r["hours_u"]),
            credits=dec(r["credits_u"]), category=r["category"], level=r["level"],
            format=r["format"], program=r["program"], grade=r["grade"], score=dec(r["score_u"]),
            count=r["count"] if r["count"] is not None else 1, words=r["words"],
            attributes={a: r[a] for a in attributes if r[a] is not None},
        ))
    return out


def _run_interpreter(
    plan: BulkPlan, events: pl.DataFrame, roster: pl.DataFrame, as_of: dt.date,
) -> pl.DataFrame:
    from credit_rules.eval import interpreter

    rows = interpreter.evaluate(plan.policy, frame_to_events(events, plan.policy.timezone),
                                frame_to_teachers(roster), as_of=as_of)
    return rows_to_frame(rows)


_ = (EVENT_COLUMNS, Period, FieldKind)
