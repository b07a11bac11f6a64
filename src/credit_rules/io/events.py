"""Loading and validating activity events (SPEC §2): the event table every engine reads.

One loader feeds every engine: the interpreter takes :meth:`EventTable.events` or
:meth:`EventTable.by_teacher`, the bulk engine takes :attr:`EventTable.frame`; both see
exactly the same valid, de-duplicated events.

Pipeline (each step in its module):

1. every source is read with every column as text (:mod:`credit_rules.io.sources`);
2. values are trimmed, and an empty value is a missing one;
3. each column is parsed and checked with Polars expressions (no per-row Python), giving
   typed values and a rejection reason per row (:mod:`credit_rules.io.parse`, which also
   says how ``at`` and the decimals are read). A fast pass reads the plainly valid rows;
   the rest go through the general pass, which gives every reason;
4. among the valid rows, repeats of an ``event_id`` are duplicates when identical in every
   column and conflicts otherwise (:mod:`credit_rules.io.repeats`); rejected rows and
   conflicts are reported (:mod:`credit_rules.io.rejects`);
5. the valid rows are sorted by ``teacher_id``, ``at``, ``event_id``.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
import time
import zoneinfo
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import polars as pl

from credit_rules import core
from credit_rules.io.columns import BAD, INTERNAL_PREFIX, KEY, REASON, ROW, SOURCE
from credit_rules.io.contract import enforce_events
from credit_rules.io.loaded import LoadedFrames
from credit_rules.io.parse import (
    LIMITS,
    Parsed,
    Plan,
    ascii_columns,
    check_timezone,
    clean,
    combine_reasons,
    fast_at,
    fast_micro,
    missing_reason,
    needs_cleaning,
    parse_choice,
    parse_decimal,
    parse_instant,
)
from credit_rules.io.rejects import reject_frame
from credit_rules.io.repeats import repeat_mask, supersede_statuses
from credit_rules.io.report import LoadReport
from credit_rules.io.sources import RawInput, as_text, read_raw, reads_directly, textify
from credit_rules.order import TIME_ORDER, time_order, time_order_index
from credit_rules.records import Event
from credit_rules.schema import (
    DECIMAL_EVENT_COLUMNS,
    EVENT_COLUMNS,
    EVENT_FRAME,
    GRADES,
    LEVELS,
    REQUIRED_EVENT_COLUMNS,
    UNIT_EVENT_COLUMNS,
)
from credit_rules.values import DEFAULT_TIMEZONE

if TYPE_CHECKING:
    from credit_rules.io.small import SmallRows

#: The columns the validation parses (the others are text, only trimmed).
TYPED_EVENT_COLUMNS = ("at", "hours", "credits", "score", "count", "words", *UNIT_EVENT_COLUMNS)
_SLOW = "__cr_slow"
_USED = "__cr_used"
#: Rows looked at to tell a vocabulary column (few distinct values) from an id column.
_VOCABULARY_SAMPLE = 10_000
Timings = dict[str, float]


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def instant_datetime(instant_us: int, zone: dt.tzinfo) -> dt.datetime:
    """The aware datetime in ``zone`` of UTC epoch microseconds (what ``Event.at`` holds)."""
    return (_EPOCH + dt.timedelta(microseconds=instant_us)).astimezone(zone)


def _decimal_or_none(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-6)


@attrs.frozen
class EventTable(LoadedFrames):
    """Valid, de-duplicated events sorted by (``teacher_id``, ``at_us``, ``event_id``).

    :attr:`seen_teacher_ids` are the sorted, distinct (trimmed) ``teacher_id`` of every
    input row that names one: valid, duplicate, rejected or conflicting. SPEC §5: each of
    them gets ledger rows, even one with no valid event (:meth:`teacher_ids` has only those
    with valid events).
    """

    _frame: pl.DataFrame | None
    _rejects: pl.DataFrame | None
    report: LoadReport
    attribute_columns: tuple[str, ...]
    timezone: str = DEFAULT_TIMEZONE
    #: The teachers named by input rows that are not in the frame (rejected, duplicate,
    #: conflicting), perhaps more: with the frame's, every teacher the input names.
    named_teacher_ids: tuple[str, ...] = attrs.field(kw_only=True)
    #: Which rows of the given frame are the table's (None: all). A large input is
    #: validated without copying its rows: :attr:`frame` copies the used ones on first
    #: use, :meth:`lazy_frame` hands the bulk engine the mask to apply with its own filter.
    used: pl.Series | None = attrs.field(default=None, kw_only=True, eq=False, repr=False)
    #: False for a table loaded for the bulk engine only (``time_ordered=False``): its
    #: frame is in input order, and :meth:`events` puts the events in time order.
    in_time_order: bool = attrs.field(default=True, kw_only=True)
    #: A small input read row by row (:mod:`credit_rules.io.small`): its rows, from which
    #: ``frame``/``rejects`` and the records are built on first use (None: they are given).
    small: SmallRows | None = attrs.field(default=None, kw_only=True)
    _built: dict[str, pl.DataFrame] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def __len__(self) -> int:
        if self.small is not None:
            return len(self.small.order)
        return self.frame.height if self.used is None else int(self.used.sum())

    @property
    def frame(self) -> pl.DataFrame:
        """The valid rows in the :data:`~credit_rules.schema.EVENT_FRAME` layout, then the
        attribute columns, ``source`` and ``row``."""
        if self.used is None or self._frame is None:
            return super().frame
        if "frame" not in self._built:
            self._built["frame"] = self._frame.filter(self.used)
        return self._built["frame"]

    def _masked(self) -> tuple[pl.DataFrame, pl.Series] | None:
        """(the given frame, :attr:`used`) while the used rows are only marked in it; None
        once :attr:`frame` has copied them, or when every row is used."""
        if self._frame is None or self.used is None or "frame" in self._built:
            return None
        return self._frame, self.used

    def lazy_frame(self) -> pl.LazyFrame:
        """:attr:`frame`, lazily: a query reading a few columns filters only those."""
        masked = self._masked()
        if masked is None:
            return self.frame.lazy()
        frame, used = masked
        return frame.with_columns(used.alias(_USED)).lazy().filter(pl.col(_USED)).drop(_USED)

    def columns_with_values(self) -> set[str]:
        """The columns of :attr:`frame` with a value in at least one row (a mask is
        applied column by column: no copy of the rows)."""
        masked = self._masked()
        if masked is None:
            frame = self.frame
            return {c for c in frame.columns if frame.get_column(c).null_count() < frame.height}
        frame, used = masked
        return {c for c in frame.columns
                if frame.get_column(c).null_count() < frame.height
                and bool((frame.get_column(c).is_not_null() & used).any())}

    @property
    def seen_teacher_ids(self) -> tuple[str, ...]:
        """Every (trimmed) teacher id the input rows name, sorted (see the class docstring)."""
        return tuple(sorted({*self.named_teacher_ids, *self.teacher_ids()}))

    def _records(self, frame: pl.DataFrame) -> list[Event]:
        zone = zoneinfo.ZoneInfo(self.timezone)
        attrs_cols = self.attribute_columns
        out: list[Event] = []
        for r in frame.iter_rows(named=True):
            at = instant_datetime(r["at_us"], zone)
            out.append(
                Event(
                    event_id=r["event_id"],
                    teacher_id=r["teacher_id"],
                    at=at,
                    day=r["day"],
                    instant_us=r["at_us"],
                    kind=r["kind"],
                    hours=_decimal_or_none(r["hours_u"]),
                    credits=_decimal_or_none(r["credits_u"]),
                    category=r["category"],
                    level=r["level"],
                    format=r["format"],
                    program=r["program"],
                    grade=r["grade"],
                    score=_decimal_or_none(r["score_u"]),
                    count=r["count"],
                    words=r["words"],
                    attributes={c: r[c] for c in attrs_cols if r[c] is not None},
                    row=r["row"],
                    minutes=_decimal_or_none(r["minutes_u"]),
                    days=_decimal_or_none(r["days_u"]),
                )
            )
        return out

    def events(self) -> list[Event]:
        """Every event as a :class:`credit_rules.records.Event`, in time order."""
        if self.small is not None:
            return self.small.events()
        return self._records(self.frame if self.in_time_order else time_order(self.frame))

    def by_teacher(self) -> dict[str, list[Event]]:
        """Events per teacher, each list in time order (``at``, ties by ``event_id``)."""
        out: dict[str, list[Event]] = {}
        for event in self.events():
            out.setdefault(event.teacher_id, []).append(event)
        return out

    def with_valid_events(self, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` that have a valid event: for a few ids, much cheaper than
        :meth:`teacher_ids` on a large table (a membership test instead of a hash of every
        row's id)."""
        if self.small is not None:  # a small input: no frame built to answer
            return set(ids) & set(self.small.teacher_ids())
        masked = self._masked()
        if masked is None:
            return teachers_with_events(self.frame, ids)
        frame, used = masked
        return teachers_with_events(frame, ids, used)

    def teacher_ids(self) -> list[str]:
        """The distinct teacher ids of the valid events, sorted."""
        if self.small is not None:
            return self.small.teacher_ids()
        return self.frame.get_column("teacher_id").unique().sort().to_list()


def teachers_with_events(frame: pl.DataFrame, ids: Iterable[str], used: pl.Series | None = None) -> set[str]:
    """Those of ``ids`` with a row in ``frame`` (events in the :attr:`EventTable.frame`
    layout; ``used``: only the rows it marks): a membership test of each row against the
    few ids, not a hash of every row's id."""
    wanted = sorted(set(ids))
    if not wanted:
        return set()
    teacher = frame.get_column("teacher_id")
    found = teacher.is_in(pl.Series(wanted, dtype=pl.String).implode())
    return set(teacher.filter(found if used is None else found & used).unique())


def _general_pass(
    frame: pl.DataFrame, extras: Sequence[str], timezone: str, *, at_numeric: str | None = None,
    levels: Sequence[str] = LEVELS,
) -> pl.DataFrame:
    """The definition of validation: every column parsed from its text, with reasons.

    ``frame`` holds text columns (plus the internal ones); returns one row per input row
    with the typed event columns and ``__cr_reason`` (null when the row is valid).
    ``at_numeric`` says the ``at`` column was stored as numbers (see
    :func:`~credit_rules.io.parse.parse_instant`).
    """
    plan = Plan(ascii_columns=ascii_columns(frame, TYPED_EVENT_COLUMNS))

    def number(name: str, integer: bool = False) -> Parsed:
        low, high = LIMITS[name]
        return parse_decimal(plan, name, minimum=low, maximum=high, integer=integer)

    parsed = {name: number(name) for name in DECIMAL_EVENT_COLUMNS}
    count = number("count", integer=True)
    words = number("words", integer=True)
    grade = parse_choice("grade", GRADES)
    level = parse_choice("level", levels)
    at_us, day, at_reason = parse_instant(plan, "at", timezone, numeric=at_numeric)

    reasons = [
        pl.col(BAD),
        *missing_reason(REQUIRED_EVENT_COLUMNS),
        at_reason,
        *(p.reason for p in parsed.values()),
        grade.reason, level.reason, count.reason, words.reason,
        _one_study_unit(),
    ]
    cleaned = frame.lazy().select(
        pl.col(KEY), pl.col(SOURCE), pl.col(ROW), pl.col(BAD),
        *[clean(c).alias(c) for c in [*EVENT_COLUMNS, *UNIT_EVENT_COLUMNS, *extras]],
    )
    return plan.apply(cleaned).select(
        pl.col(KEY), pl.col(SOURCE), pl.col(ROW),
        pl.col("event_id"),
        pl.col("teacher_id"),
        at_us.alias("at_us"),
        day.alias("day"),
        pl.col("kind"),
        parsed["hours"].value.alias("hours_u"),
        parsed["credits"].value.alias("credits_u"),
        pl.col("category"),
        level.value.alias("level"),
        pl.col("format"),
        pl.col("program"),
        grade.value.alias("grade"),
        parsed["score"].value.alias("score_u"),
        count.value.fill_null(1).alias("count"),
        words.value.alias("words"),
        parsed["minutes"].value.alias("minutes_u"),
        parsed["days"].value.alias("days_u"),
        *[pl.col(c) for c in extras],
        combine_reasons(reasons).alias(REASON),
    ).collect()


def _one_study_unit(schema: pl.Schema | None = None) -> pl.Expr:
    """The reason for a row that states its study time in more than one unit (issue 9 A):
    which one counts would be a guess. ``schema``: the columns' types where some are read
    directly (not text)."""
    present = [
        (clean(c) if schema is None or schema[c] == pl.String else pl.col(c)).is_not_null().cast(pl.Int32)
        for c in ("hours", *UNIT_EVENT_COLUMNS)
    ]
    return pl.when(pl.sum_horizontal(present) > 1).then(
        pl.lit("more than one of hours, minutes, days: state the study time in one unit")
    ).otherwise(None)


def _clean_series(series: pl.Series) -> pl.Series:
    """:func:`clean` for one column, returning the column itself when nothing needs it."""
    if series.dtype != pl.String:
        series = as_text(series, "<events>")
    dirty = needs_cleaning(series.name)
    # A vocabulary column (kind, level, …) holds a few distinct values: checking those is
    # cheaper than checking every row. An id column is checked row by row.
    sample = series.head(_VOCABULARY_SAMPLE)
    few = sample.n_unique() * 4 < max(sample.len(), 1)
    values = series.unique().to_frame() if few else series.to_frame()
    if not values.select(dirty.any()).item():
        return series
    return series.to_frame().select(clean(series.name)).to_series()


def _fast_pass(frame: pl.DataFrame, extras: Sequence[str], timezone: str,
               levels: Sequence[str] = LEVELS) -> tuple[pl.DataFrame, pl.Series]:
    """The fast pass: the checked layout of :func:`_general_pass` for the plainly valid rows,
    and a mask marking every other row (those go through :func:`_general_pass`).

    A row is plainly valid when every required value is present, ``at``, the decimals and
    integers have their common shapes, and grade and level are allowed values. The fast
    reading of such a row equals the general one (the tests check it on generated values);
    a row it cannot vouch for is left to the general path. Each column is computed on its
    own (a query over all the text columns at once would copy them).
    """
    schema = frame.schema
    columns: dict[str, pl.Series] = {c: frame.get_column(c) for c in (KEY, SOURCE, ROW)}
    for column in ("event_id", "teacher_id", "kind", "category", "level", "format", "program",
                   "grade", *extras):
        columns[column] = _clean_series(frame.get_column(column))
    times = fast_at(frame, "at", timezone)
    columns["at_us"], columns["day"] = times.get_column("at_us"), times.get_column("day")
    numbers = {
        "hours_u": ("hours", False), "credits_u": ("credits", False), "score_u": ("score", False),
        "count": ("count", True), "words": ("words", True),
        "minutes_u": ("minutes", False), "days_u": ("days", False),
    }
    flags: list[pl.Series] = []
    for name, (source, integer) in numbers.items():
        low, high = LIMITS[source]
        pair = frame.select(
            fast_micro(source, schema[source], minimum=low, maximum=high, integer=integer)
            .alias(name),
            pl.col(source).is_not_null().alias("present"),
        )
        value = pair.get_column(name)
        flags.append((value.is_null() & pair.get_column("present")).alias(f"bad_{name}"))
        columns[name] = value.fill_null(1) if name == "count" else value
    # The columns come in different chunks (the text as read, one chunk per row group; the
    # parsed ones as computed): they are put side by side and combined as Series, never in
    # a query over all of them, which would first copy every column into one chunk.
    grade, level = columns["grade"], columns["level"]
    checks = [
        frame.get_column(BAD).is_not_null(),
        *[columns[c].is_null() for c in ("event_id", "teacher_id", "kind", "at_us")],
        *flags,
        ~(grade.is_null() | grade.is_in(pl.Series(GRADES).implode())),
        ~(level.is_null() | level.is_in(pl.Series(list(levels), dtype=pl.String).implode())),
        frame.select(_one_study_unit(schema).is_not_null()).to_series(),
    ]
    slow = functools.reduce(operator.or_, checks).alias(_SLOW)
    columns[REASON] = pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias(REASON)
    checked = pl.DataFrame([columns[c] for c in [KEY, SOURCE, ROW, *EVENT_FRAME, *extras, REASON]])
    return checked, slow


def validate_events(
    raw: RawInput, timezone: str, *, timings: Timings | None = None, fast: bool = True,
    inputs: core.Inputs | None = None, time_ordered: bool = True,
) -> EventTable:
    """Vectorised validation of raw rows into an :class:`EventTable`.

    A fast pass reads the plainly valid rows (see :func:`_fast_pass`); the rest go
    through :func:`_general_pass`, which gives every reason. Repeats of an ``event_id``
    are looked for among valid rows only, and only where a hash of ``event_id`` repeats.
    ``timings`` (if given) receives the seconds each stage took; ``fast=False`` sends every
    row through the general path (for tests: both must give the same table).
    ``inputs``: a policy's input contract (:mod:`credit_rules.io.contract`): declared levels
    replace the SPEC's, and rows breaking a declared column or vocabulary are rejected.
    ``time_ordered=False`` leaves the valid rows in input order (the bulk engine orders
    the rows it reads itself; sorting them all here would be wasted).
    """
    clock = _Clock(timings)
    frame = raw.frame
    for column in (*EVENT_COLUMNS, *UNIT_EVENT_COLUMNS):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    extras = tuple(sorted(c for c in raw.columns if c not in EVENT_COLUMNS and c not in UNIT_EVENT_COLUMNS))
    many = len(raw.source_names) > 1
    at_dtype = frame.schema["at"]
    at_numeric = (
        "an integer" if at_dtype.is_integer()
        else "a number" if at_dtype.is_float() or isinstance(at_dtype, pl.Decimal)
        else None
    )
    # Columns that are not read directly (e.g. a typed extra column) are text from here.
    frame = frame.with_columns([
        as_text(frame[c], "<events>").alias(c) for c in frame.columns
        if frame[c].dtype != pl.String and not c.startswith(INTERNAL_PREFIX)
        and not (c in TYPED_EVENT_COLUMNS and reads_directly(frame[c].dtype))
    ])

    levels = (inputs.allowed("level") if inputs is not None else None) or LEVELS
    fast_frame, slow = _fast_pass(frame, extras, timezone, levels)
    if not fast:
        slow = pl.repeat(True, frame.height, eager=True)
    clock("fast pass")
    # Rows are copied once, when the used ones are taken: until then the fast rows, the
    # rows the general pass read and the masks of the valid ones are only put side by side.
    if slow.any():
        slow_rows = textify(frame.filter(slow), "<events>")
        checked_slow = _general_pass(slow_rows, extras, timezone, at_numeric=at_numeric, levels=levels)
        checked_slow = checked_slow.cast(fast_frame.schema)
    else:
        checked_slow = fast_frame.clear()
    checked = pl.concat([fast_frame, checked_slow], rechunk=False)
    is_valid = pl.concat([~slow, checked_slow.get_column(REASON).is_null()])
    invalid = checked_slow.filter(pl.col(REASON).is_not_null())
    clock("general pass")
    content = [*EVENT_FRAME, *extras]
    among: pl.Series | None = is_valid
    valid, unused = checked, [checked_slow.get_column("teacher_id")]
    if inputs or "status" in checked.columns:
        valid, among = checked.filter(is_valid), None
    if inputs:
        valid, refused = enforce_events(valid, inputs)
        invalid = pl.concat([invalid.select(KEY, REASON), refused.select(KEY, REASON)])
        unused.append(refused.get_column("teacher_id"))
    # A status change of one event (approved, then revoked) is its latest state (issue 9, D).
    valid, superseded = supersede_statuses(valid, key="event_id", content=content)
    used, duplicates, conflicts = repeat_mask(
        valid, key="event_id", content=content, many_sources=many, among=among
    )
    if superseded.height:
        duplicates = pl.concat([duplicates, superseded.select(duplicates.columns)])
    clock("repeats")
    rejected = pl.concat(
        [invalid.select(KEY, REASON), conflicts.select(KEY, REASON)]
    )
    rejects = reject_frame(
        raw.frame if rejected.height else raw.frame.clear(), rejected, "event_id", raw.columns
    )
    clock("rejects")
    # The teachers of the rows left out (a fast row the general pass read is among them):
    # with the used rows', every teacher the input names, without a hash of every row.
    teacher = valid.get_column("teacher_id")
    unused += [teacher.filter(~used) if used is not None else teacher.clear(),
               superseded.get_column("teacher_id"), fast_frame.get_column("teacher_id").filter(slow)]
    named = pl.concat(unused).drop_nulls().unique().sort().to_list()
    # Column by column, for the reason given in _fast_pass.
    out = pl.DataFrame([
        *(valid.get_column(c).cast(EVENT_FRAME[c]) if c in EVENT_FRAME else valid.get_column(c) for c in content),
        valid.get_column(SOURCE).alias("source"), valid.get_column(ROW).alias("row"),
    ])
    if used is not None and bool(used.all()):
        used = None
    if time_ordered:
        out, used = _time_ordered(out, used), None
    clock("sort")
    report = LoadReport(
        rows_read=frame.height,
        rows_used=out.height if used is None else int(used.sum()),
        duplicates=duplicates.height,
        rejected=rejects.height,
        label="events",
    )
    return EventTable(out, rejects, report, extras, timezone, named_teacher_ids=tuple(named),
                      in_time_order=time_ordered, used=used)


def _time_ordered(frame: pl.DataFrame, used: pl.Series | None) -> pl.DataFrame:
    """The ``used`` rows of ``frame`` (all when None) in time order, gathered column by
    column: the order is found on the three columns that define it, and each column is
    copied once, so that at most one column is held twice (a filter and a sort of the
    whole frame would hold it three times)."""
    keys = pl.DataFrame([frame.get_column(c) for c in TIME_ORDER])
    positions = used.arg_true() if used is not None else pl.int_range(frame.height, eager=True)
    kept = keys if used is None else keys.filter(used)
    order = time_order_index(kept) if kept.height > 1 else None
    if order is not None:
        positions = positions.gather(order)
    if used is None and order is None:
        return frame
    return pl.DataFrame([frame.get_column(c).rechunk().gather(positions) for c in frame.columns])


class _Clock:
    """Records the seconds since the previous stage into ``timings`` (if any)."""

    def __init__(self, timings: Timings | None) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


def load_events(
    sources: Any, *, timezone: str = DEFAULT_TIMEZONE, inputs: core.Inputs | None = None,
    time_ordered: bool = True,
) -> EventTable:
    """Load, validate and de-duplicate events (SPEC §2).

    ``sources`` is a path, a list of paths, ``"-"`` (JSON Lines on stdin), a
    ``polars.DataFrame`` or a ``pyarrow.Table``. A file that cannot be read at all raises
    :class:`~credit_rules.errors.InputError`; bad rows are returned in ``rejects``.
    ``inputs``: the input contract of the policy the events are for (see :func:`validate_events`).
    ``time_ordered=False``: the table's frame stays in input order (for the bulk engine).
    """
    check_timezone(timezone)
    raw = read_raw(
        sources, what="events", required=REQUIRED_EVENT_COLUMNS, typed=TYPED_EVENT_COLUMNS
    )
    return validate_events(raw, timezone, inputs=inputs, time_ordered=time_ordered)


