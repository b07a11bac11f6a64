"""Small inputs read row by row: one teacher's events without a Polars query (issue 10).

A training platform evaluates one teacher at a time; building and running the vectorised
validation of :mod:`credit_rules.io.events` costs ~10 ms whatever the row count. Below
:data:`SMALL_ROWS` rows, a list of dicts or a Polars frame is read here instead, with
the readers of :mod:`credit_rules.io.scalars`, giving the same :class:`EventTable`: the
same accepted events, the same rejects (row and reason), the same duplicates and
conflicts (SPEC §2), and the same accounting. ``tests/test_io_small.py`` checks both
loaders against each other on generated hostile rows.

Anything unusual about the input as a whole (a column name that needs trimming, a
reserved or missing column, an Arrow table, several sources) is left to the Polars
loader, which is the definition and says what is wrong (:func:`small_events` returns
None). The frames of the table (:attr:`EventTable.frame`, :attr:`EventTable.rejects`) are
built only when asked for.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.io.columns import INTERNAL_PREFIX, RESERVED_COLUMNS
from credit_rules.io.contract import COLUMN_MAXIMUM, EVENT_VOCABULARY_FIELDS
from credit_rules.io.events import EventTable, instant_datetime
from credit_rules.io.parse import LIMITS
from credit_rules.io.repeats import STATUS_STAGES
from credit_rules.io.report import LoadReport
from credit_rules.io.scalars import clean, read_at, read_choice, read_date, read_number
from credit_rules.io.sources import as_dates, record_cell, textify
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

#: Inputs of at most this many rows are read row by row (one teacher has a few hundred).
SMALL_ROWS = 2_000
#: The name a frame or a list of dicts has as a source (as :mod:`~credit_rules.io.sources`).
SOURCE_NAME = "<dataframe>"
_KNOWN = frozenset((*EVENT_COLUMNS, *UNIT_EVENT_COLUMNS))
_STUDY_UNITS = ("hours", *UNIT_EVENT_COLUMNS)
_ONE_UNIT = "more than one of hours, minutes, days: state the study time in one unit"
#: The content of a validated row, as compared for repeats (``EVENT_FRAME`` order).
_CONTENT = tuple(EVENT_FRAME)


@attrs.frozen
class SmallRows:
    """The valid events of a small input (sorted like :attr:`EventTable.frame`), their
    frame rows, and the rejected rows (``source, row, event_id, reason``, raw columns)."""

    events: tuple[Event, ...]
    rows: tuple[dict[str, Any], ...]
    reject_rows: tuple[dict[str, Any], ...]
    reject_columns: tuple[str, ...]

    def frame(self, attribute_columns: Sequence[str]) -> pl.DataFrame:
        """:attr:`EventTable.frame` of these rows."""
        schema: dict[str, Any] = {**EVENT_FRAME, **dict.fromkeys(attribute_columns, pl.String),
                                  "source": pl.String, "row": pl.Int64}
        return pl.DataFrame({c: [r.get(c) for r in self.rows] for c in schema}, schema=schema)

    def rejects_frame(self) -> pl.DataFrame:
        """:attr:`EventTable.rejects` of these rows."""
        schema = {c: (pl.Int64 if c == "row" else pl.String) for c in self.reject_columns}
        return pl.DataFrame({c: [r.get(c) for r in self.reject_rows] for c in schema}, schema=schema)


def is_small(source: Any) -> bool:
    """Whether ``source`` is a list of dicts or a Polars frame of at most :data:`SMALL_ROWS`
    rows (and at least one)."""
    if isinstance(source, pl.DataFrame):
        return 0 < source.height <= SMALL_ROWS
    return (isinstance(source, list | tuple) and 0 < len(source) <= SMALL_ROWS
            and all(isinstance(r, Mapping) for r in source))


def raw_rows(source: Any, required: Sequence[str] = REQUIRED_EVENT_COLUMNS, dates: Sequence[str] = (),
             ) -> tuple[list[str], list[tuple[str | None, ...]], str | None] | None:
    """A small input as (columns, rows of raw text, ``at`` stored as numbers: "an integer",
    "a number" or None), the text each cell has in the Polars loader (``dates``: columns
    whose datetimes are read as dates); None when the columns are unusual (the Polars
    loader reads it and says what is wrong)."""
    at_numeric: str | None = None
    if isinstance(source, pl.DataFrame):
        dtype = source.schema.get("at")
        if dtype is not None and dtype.is_integer():
            at_numeric = "an integer"
        elif dtype is not None and (dtype.is_float() or isinstance(dtype, pl.Decimal)):
            at_numeric = "a number"
        frame = textify(as_dates(source, dates), SOURCE_NAME)
        columns = frame.columns
        rows: list[tuple[str | None, ...]] = frame.rows()
    else:
        columns = list(dict.fromkeys(key for record in source for key in record))
        rows = [tuple(record_cell(r.get(c)) for c in columns) for r in source]
    for column in columns:
        if (not isinstance(column, str) or column != column.strip().lstrip("\ufeff").strip()
                or not column or column.startswith(INTERNAL_PREFIX) or column in RESERVED_COLUMNS):
            return None
    if any(c not in columns for c in required):
        return None
    return columns, rows, at_numeric


def small_events(source: Any, timezone: str, inputs: core.Inputs | None = None) -> EventTable | None:
    """:func:`credit_rules.io.events.load_events` of a small input (see :func:`is_small`),
    read row by row; None when the Polars loader must read it (:func:`raw_rows`)."""
    read = raw_rows(source)
    if read is None:
        return None
    columns, rows, at_numeric = read
    return _validate(columns, rows, at_numeric, timezone, inputs)


def _validate(columns: list[str], rows: list[tuple[str | None, ...]], at_numeric: str | None,
              timezone: str, inputs: core.Inputs | None) -> EventTable:
    zone = zoneinfo.ZoneInfo(timezone)
    index = {c: i for i, c in enumerate(columns)}
    extras = tuple(sorted(c for c in columns if c not in _KNOWN))
    levels = (inputs.allowed("level") if inputs is not None else None) or LEVELS
    contract = contract_checks(inputs, ir.Scope.EVENT, {*EVENT_FRAME, *extras}, EVENT_VOCABULARY_FIELDS)
    valid: list[dict[str, Any]] = []
    rejected: list[tuple[int, str]] = []  # (index of the row, reason)
    seen: set[str] = set()
    for number, raw in enumerate(rows):
        cells = {c: clean(raw[i]) for c, i in index.items()}
        teacher = cells.get("teacher_id")
        if teacher is not None:
            seen.add(teacher)
        row, reasons = _read_row(cells, timezone, zone, at_numeric, levels, extras)
        if not reasons and contract:
            reasons = [r for r in (check(cells) for check in contract) if r is not None]
        if reasons:
            rejected.append((number, "; ".join(reasons)))
            continue
        row["row"], row["__key"], row["source"] = number + 1, number, SOURCE_NAME
        valid.append(row)
    content = (*_CONTENT, *extras)
    kept, superseded = _supersede(valid, content) if "status" in extras else (valid, [])
    used, duplicates, conflicts = split_repeats(kept, content)
    rejected += conflicts
    rejected.sort()
    used.sort(key=lambda r: (r["teacher_id"], r["at_us"], r["event_id"]))
    for row in used:
        del row["__key"]
    reject_columns = ("source", "row", "event_id", "reason", *(c for c in _raw_order(columns) if c != "event_id"))
    reject_rows = tuple(
        {"source": SOURCE_NAME, "row": i + 1, "reason": reason, **dict(zip(columns, rows[i], strict=True))}
        for i, reason in rejected
    )
    events = tuple(_event(row, zone, extras) for row in used)
    report = LoadReport(rows_read=len(rows), rows_used=len(used),
                        duplicates=len(duplicates) + len(superseded), rejected=len(reject_rows))
    small = SmallRows(events, tuple(used), reject_rows, reject_columns)
    return EventTable(None, None, report, extras, timezone, seen_teacher_ids=tuple(sorted(seen)), small=small)


def _raw_order(columns: Sequence[str]) -> list[str]:
    """The raw columns in the order the Polars loader keeps them: required ones first."""
    return [*REQUIRED_EVENT_COLUMNS, *(c for c in columns if c not in REQUIRED_EVENT_COLUMNS)]


def _read_row(cells: dict[str, str | None], timezone: str, zone: zoneinfo.ZoneInfo,
              at_numeric: str | None, levels: Sequence[str],
              extras: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """One row's validated values and its reasons, in the order of ``_general_pass``."""
    get = cells.get
    reasons = [f"missing {c}" for c in REQUIRED_EVENT_COLUMNS if get(c) is None]
    row: dict[str, Any] = {c: get(c) for c in ("event_id", "teacher_id", "kind", "category", "format",
                                               "program", "level", "grade", *extras)}
    at = get("at")
    row["at_us"] = row["day"] = None
    if at is not None:
        row["at_us"], row["day"], reason = read_at(at, timezone, zone, numeric=at_numeric)
        if reason is not None:
            reasons.append(reason)
    for name, target in DECIMAL_EVENT_COLUMNS.items():
        row[target] = _number(get(name), name, reasons)
    grade, level = get("grade"), get("level")
    if grade is not None and (reason := read_choice("grade", grade, GRADES)) is not None:
        reasons.append(reason)
    if level is not None and (reason := read_choice("level", level, levels)) is not None:
        reasons.append(reason)
    count = _number(get("count"), "count", reasons, integer=True)
    row["count"] = 1 if count is None else count
    row["words"] = _number(get("words"), "words", reasons, integer=True)
    if sum(get(c) is not None for c in _STUDY_UNITS) > 1:
        reasons.append(_ONE_UNIT)
    return row, reasons


def _number(text: str | None, name: str, reasons: list[str], *, integer: bool = False) -> int | None:
    if text is None:
        return None
    low, high = LIMITS[name]
    value, reason = read_number(name, text, minimum=low, maximum=high, integer=integer)
    if reason is not None:
        reasons.append(reason)
    return value


def contract_checks(inputs: core.Inputs | None, scope: ir.Scope, present: Collection[str],
                    vocabulary: Sequence[str] = ()) -> list[Callable[[Mapping[str, str | None]], str | None]]:
    """The checks of :mod:`credit_rules.io.contract` (``enforce_events``, ``column_reasons``),
    one function of a row's cleaned cells each: the declared columns of ``scope`` that are
    ``present``, then the declared vocabularies of the ``vocabulary`` fields."""
    if not inputs:
        return []
    checks: list[Callable[[Mapping[str, str | None]], str | None]] = []
    for column in inputs.of(scope):
        if column.name not in present:
            continue
        if column.type in ("number", "decimal"):
            checks.append(_number_check(column.name, column.type == "number"))
        elif column.type == "date":
            checks.append(_date_check(column.name))
    for field in vocabulary:
        allowed = inputs.allowed(field)
        if allowed is not None:
            checks.append(_choice_check(field, allowed))
    return checks


def _number_check(name: str, integer: bool) -> Callable[[Mapping[str, str | None]], str | None]:
    def check(cells: Mapping[str, str | None]) -> str | None:
        text = cells.get(name)
        return None if text is None else read_number(
            name, text, minimum=0, maximum=COLUMN_MAXIMUM, integer=integer)[1]
    return check


def _date_check(name: str) -> Callable[[Mapping[str, str | None]], str | None]:
    def check(cells: Mapping[str, str | None]) -> str | None:
        text = cells.get(name)
        return None if text is None else read_date(name, text)[1]
    return check


def _choice_check(name: str, allowed: Sequence[str]) -> Callable[[Mapping[str, str | None]], str | None]:
    def check(cells: Mapping[str, str | None]) -> str | None:
        text = cells.get(name)
        return None if text is None else read_choice(name, text, allowed)
    return check


def _groups(rows: list[dict[str, Any]], key: str = "event_id") -> dict[str, list[dict[str, Any]]]:
    """Rows whose ``key`` repeats, by ``key`` (each list in input order)."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_id.setdefault(row[key], []).append(row)
    return {k: v for k, v in by_id.items() if len(v) > 1}


def _supersede(valid: list[dict[str, Any]], content: Sequence[str]
               ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """:func:`credit_rules.io.repeats.supersede_statuses` on rows: (kept, superseded)."""
    others = [c for c in content if c not in ("event_id", "status")]
    dropped: set[int] = set()
    for copies in _groups(valid).values():
        stages = [STATUS_STAGES.get(r["status"]) if r["status"] is not None else None for r in copies]
        if (len({tuple(r[c] for c in others) for r in copies}) != 1
                or len({r["status"] for r in copies}) < 2 or None in stages):
            continue
        latest = max(s for s in stages if s is not None)
        dropped |= {r["__key"] for r, s in zip(copies, stages, strict=True) if s != latest}
    kept = [r for r in valid if r["__key"] not in dropped]
    return kept, [r for r in valid if r["__key"] in dropped]


def split_repeats(valid: list[dict[str, Any]], content: Sequence[str], key: str = "event_id",
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[tuple[int, str]]]:
    """:func:`credit_rules.io.repeats.split_repeats` on rows (in input order, each with its
    index ``__key`` and ``row`` number): (used, duplicates, conflicts as (index, reason))."""
    dropped: set[int] = set()
    duplicates: list[dict[str, Any]] = []
    conflicts: list[tuple[int, str]] = []
    for value, copies in _groups(valid, key).items():
        if len({tuple(r[c] for c in content) for r in copies}) > 1:
            rows = ", ".join(str(r["row"]) for r in copies)
            conflicts += [(r["__key"], f"conflicting copies of {key} {value} (rows {rows})")
                          for r in copies]
            dropped |= {r["__key"] for r in copies}
        else:
            duplicates += copies[1:]
            dropped |= {r["__key"] for r in copies[1:]}
    used = [r for r in valid if r["__key"] not in dropped] if dropped else list(valid)
    return used, duplicates, conflicts


def _decimal(micro: int | None) -> Decimal | None:
    return None if micro is None else Decimal(micro).scaleb(-6)


def _event(row: dict[str, Any], zone: zoneinfo.ZoneInfo, extras: Sequence[str]) -> Event:
    """The record of one valid row (as :meth:`EventTable.events` builds it from the frame)."""
    return Event(
        event_id=row["event_id"], teacher_id=row["teacher_id"],
        at=instant_datetime(row["at_us"], zone), day=row["day"], instant_us=row["at_us"],
        kind=row["kind"], hours=_decimal(row["hours_u"]), credits=_decimal(row["credits_u"]),
        category=row["category"], level=row["level"], format=row["format"], program=row["program"],
        grade=row["grade"], score=_decimal(row["score_u"]), count=row["count"], words=row["words"],
        attributes={c: row[c] for c in extras if row[c] is not None}, row=row["row"],
        minutes=_decimal(row["minutes_u"]), days=_decimal(row["days_u"]),
    )
