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

import datetime as dt
import functools
import itertools
import operator
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
from credit_rules.io.scalars import (
    WHITESPACE,
    read_at,
    read_choice,
    read_date,
    read_number,
    read_plain_at,
    read_plain_ats,
)
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
_TEXT_TYPES = frozenset((str, type(None)))
_INT_OR_TEXT = frozenset((str, type(None), int))


@attrs.frozen
class SmallRows:
    """The events of a small input: ``values`` holds every validated column per input row
    (``EVENT_FRAME``, the attributes, ``source``, ``row``, and ``Event.at`` in ``__at``:
    aware, or naive local times when ``naive_at``); ``order`` the input rows of the valid
    events in frame order; and the rejected rows (``source, row, event_id, reason``, raw
    columns). The :class:`~credit_rules.records.Event` records are built when asked for,
    and only those of the days asked for (:meth:`events`)."""

    values: Mapping[str, Sequence[Any]]
    order: tuple[int, ...]
    reject_rows: tuple[dict[str, Any], ...]
    reject_columns: tuple[str, ...]
    extras: tuple[str, ...]
    zone: zoneinfo.ZoneInfo
    naive_at: bool = False

    def events(self, positions: Sequence[int] | None = None) -> list[Event]:
        """The valid events in frame order; with ``positions`` (in that order), only those
        (an evaluator that ignores the others: ``eval.period_events.events_read``)."""
        order: Sequence[int] = self.order if positions is None else list(map(self.order.__getitem__, positions))
        return _events(self.values, order, self.extras, self.zone if self.naive_at else None)

    def column(self, name: str) -> Sequence[Any]:
        """A column of the valid events, in frame order."""
        return _gather(self.order)(self.values[name])

    def teacher_ids(self) -> list[str]:
        """The distinct teacher ids of the valid events, sorted."""
        ids = self.values["teacher_id"]
        return sorted({ids[i] for i in self.order})

    def frame(self, attribute_columns: Sequence[str]) -> pl.DataFrame:
        """:attr:`EventTable.frame` of these rows."""
        schema: dict[str, Any] = {**EVENT_FRAME, **dict.fromkeys(attribute_columns, pl.String),
                                  "source": pl.String, "row": pl.Int64}
        return pl.DataFrame({c: [self.values[c][i] for i in self.order] for c in schema}, schema=schema)

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
            and (set(map(type, source)) == {dict} or all(isinstance(r, Mapping) for r in source)))


#: A small input as (columns, the raw text of each column, row count, ``at`` stored as numbers).
RawColumns = tuple[list[str], dict[str, list[str | None]], int, str | None]


def raw_rows(source: Any, required: Sequence[str] = REQUIRED_EVENT_COLUMNS, dates: Sequence[str] = (),
             ) -> RawColumns | None:
    """A small input as (columns, the raw text of each column, the row count, ``at`` stored
    as numbers: "an integer", "a number" or None), each cell the text it has in the Polars
    loader (``dates``: columns whose datetimes are read as dates); None when the columns
    are unusual (the Polars loader reads it and says what is wrong)."""
    at_numeric: str | None = None
    texts: dict[str, list[str | None]] = {}
    if isinstance(source, pl.DataFrame):
        schema = source.schema
        dtype = schema.get("at")
        if dtype is not None and dtype.is_integer():
            at_numeric = "an integer"
        elif dtype is not None and (dtype.is_float() or isinstance(dtype, pl.Decimal)):
            at_numeric = "a number"
        columns = source.columns
        n = source.height
        # Text and integer columns are taken as they are (an integer's text is its repr,
        # as Polars casts it); only the other types go through textify.
        others = [c for c, d in schema.items() if d != pl.String and not d.is_integer()]
        typed = textify(as_dates(source.select(others), dates), SOURCE_NAME) if others else source
        for column, dtype in schema.items():
            cells = (typed if column in others else source).get_column(column).to_list()
            texts[column] = cells if dtype == pl.String or column in others else _int_texts(cells)
    else:
        columns = list(source[0])
        n = len(source)
        rows = _same_keys(source, columns)
        if rows is not None:  # one set of keys: transposed at C speed
            raw = dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True))
        else:  # rows with other keys: the union of the keys, first seen first
            columns = list(dict.fromkeys(key for record in source for key in record))
            raw = {c: [r.get(c) for r in source] for c in columns}
        for column, cells in raw.items():
            kinds = set(map(type, cells))  # of every cell: 1, 1.0 and True are one value in a set
            if kinds <= _TEXT_TYPES:
                texts[column] = cells
            elif kinds <= _INT_OR_TEXT:  # an int is written as its repr, as record_cell does
                written = {v: repr(v) if type(v) is int else v for v in set(cells)}
                texts[column] = list(map(written.__getitem__, cells))
            else:
                texts[column] = [record_cell(v) for v in cells]
    if not _usual_columns(tuple(columns)) or not all(map(columns.__contains__, required)):
        return None
    return columns, texts, n, at_numeric


@functools.lru_cache(maxsize=1024)
def _usual_columns(columns: tuple[Any, ...]) -> bool:
    """Whether no column name is unusual: each a trimmed, non-empty text, neither internal nor reserved."""
    return not any(not isinstance(column, str) or column != column.strip().lstrip("\ufeff").strip()
                   or not column or column.startswith(INTERNAL_PREFIX) or column in RESERVED_COLUMNS
                   for column in columns)


def _int_texts(cells: list[int | None]) -> list[str | None]:
    """An integer column's cells as text, each distinct value written once."""
    written = {v: None if v is None else repr(v) for v in set(cells)}
    return list(map(written.__getitem__, cells))


def _same_keys(rows: Sequence[Mapping[str, Any]], columns: list[str]) -> list[tuple[Any, ...]] | None:
    """Each row's values of ``columns`` (in that order) when every row has exactly those
    keys, else None: as many keys as ``columns`` and each of them found."""
    width = len(columns)
    if width < 2 or set(map(len, rows)) != {width}:
        return None
    try:
        return list(map(operator.itemgetter(*columns), rows))
    except KeyError:
        return None


def small_events(source: Any, timezone: str, inputs: core.Inputs | None = None) -> EventTable | None:
    """:func:`credit_rules.io.events.load_events` of a small input (see :func:`is_small`),
    read column by column; None when the Polars loader must read it (:func:`raw_rows`)."""
    read = raw_rows(source)
    if read is None:
        return None
    columns, texts, n, at_numeric = read
    return _Reading(columns, texts, n, timezone).table(at_numeric, inputs)


Reader = Callable[[str], tuple[Any, str | None]]


class _Reading:
    """One small input, column by column. Each distinct text of a column is read once
    (a teacher's rows repeat their kinds, levels and hours); the reasons of a row are
    collected in the order of ``events._general_pass``."""

    def __init__(self, columns: list[str], raw: dict[str, list[str | None]], n: int, timezone: str) -> None:
        self.columns, self.raw, self.timezone = columns, raw, timezone
        self.zone = zoneinfo.ZoneInfo(timezone)
        self.n = n
        self.cells: dict[str, list[str | None]] = {}
        #: the distinct cleaned texts of each column (missing ones left out): each is read once
        self.distinct: dict[str, set[str]] = {}
        #: the columns with a missing cell (None, or only whitespace), known from the distinct texts
        self.missing: set[str] = set()
        for column, texts in raw.items():
            distinct = set(texts)
            if None in distinct:
                self.missing.add(column)
                distinct.discard(None)
            if "" not in distinct and all(map(str.__eq__, map(str.strip, distinct), distinct)):  # type: ignore[arg-type]
                self.cells[column] = texts  # nothing to trim (str.strip trims more than WHITESPACE)
                self.distinct[column] = distinct  # type: ignore[assignment]
                continue
            cleaned = {t: None if t is None else (t.strip(WHITESPACE) or None) for t in distinct}
            if None in cleaned.values():
                self.missing.add(column)
            cleaned[None] = None
            self.cells[column] = list(map(cleaned.__getitem__, texts))
            self.distinct[column] = {t for t in cleaned.values() if t is not None}
        self.reasons: list[list[str] | None] = [None] * self.n

    def text(self, column: str) -> list[str | None]:
        return self.cells.get(column) or [None] * self.n

    def refuse(self, index: int, reason: str) -> None:
        found = self.reasons[index]
        if found is None:
            self.reasons[index] = [reason]
        else:
            found.append(reason)

    def read(self, column: str, reader: Reader, indices: Sequence[int] | None = None, missing: Any = None,
             ) -> list[Any]:
        """The values of ``column`` (``missing`` where missing, None where refused), refusing bad rows."""
        if column not in self.cells:
            return [missing] * self.n
        texts = self.cells[column]
        known = {t: reader(t) for t in self.distinct[column]}
        if not known:
            return [missing] * self.n  # every cell missing
        value_of: dict[str | None, Any] = {t: read[0] for t, read in known.items()}
        value_of[None] = missing
        values = list(map(value_of.__getitem__, texts))
        if any(reason is not None for _, reason in known.values()):
            for i in range(self.n) if indices is None else indices:
                t = texts[i]
                if t is not None and (reason := known[t][1]) is not None:
                    self.refuse(i, reason)
        return values

    def check(self, column: str, reason_of: Callable[[str], str | None], indices: Sequence[int] | None = None,
              ) -> None:
        """Refuse the rows whose ``column`` has a reason (each distinct text judged once)."""
        if column not in self.cells:
            return
        texts = self.cells[column]
        reasons = {t: r for t in self.distinct[column] if (r := reason_of(t)) is not None}
        if reasons:
            for i in range(self.n) if indices is None else indices:
                if (reason := reasons.get(texts[i])) is not None:  # type: ignore[arg-type]
                    self.refuse(i, reason)

    def table(self, at_numeric: str | None, inputs: core.Inputs | None) -> EventTable:
        n, zone, timezone = self.n, self.zone, self.timezone
        extras = tuple(sorted(c for c in self.columns if c not in _KNOWN))
        values: dict[str, list[Any]] = {c: self.text(c) for c in (
            "event_id", "teacher_id", "kind", "category", "format", "program", "level", "grade", *extras)}
        for column in REQUIRED_EVENT_COLUMNS:
            cells = values[column] if column != "at" else self.text("at")
            if column in self.missing or column not in self.cells:  # no scan of a column without a gap
                for i, t in enumerate(cells):
                    if t is None:
                        self.refuse(i, f"missing {column}")
        plain = read_plain_ats(self.text("at"), timezone) if at_numeric is None else None
        if plain is not None:  # the common case: every at a plain local time on a day without a clock change
            values["at_us"], values["day"], values["__at"] = plain
        else:
            ats = self.read("at", lambda t: _at(t, timezone, zone, at_numeric))
            values["at_us"] = [None if a is None else a[0] for a in ats]
            values["day"] = [None if a is None else a[1] for a in ats]
            values["__at"] = [None if a is None else a[2] for a in ats]
        for name, target in DECIMAL_EVENT_COLUMNS.items():
            values[target] = self.read(name, _number_reader(name))
        levels = (inputs.allowed("level") if inputs is not None else None) or LEVELS
        self.check("grade", functools.partial(read_choice, "grade", allowed=GRADES))
        self.check("level", functools.partial(read_choice, "level", allowed=levels))
        values["count"] = self.read("count", _number_reader("count", integer=True), missing=1)
        values["words"] = self.read("words", _number_reader("words", integer=True))
        units = [self.text(c) for c in _STUDY_UNITS if c in self.cells]
        if len(units) > 1:
            for i, present in enumerate(zip(*units, strict=True)):
                if sum(t is not None for t in present) > 1:
                    self.refuse(i, _ONE_UNIT)
        clean_rows = self.reasons.count(None) == n  # the common case: no row refused
        valid = list(range(n)) if clean_rows else [i for i in range(n) if self.reasons[i] is None]
        for column, reader in contract_checks(inputs, ir.Scope.EVENT, {*EVENT_FRAME, *extras},
                                              EVENT_VOCABULARY_FIELDS):
            self.check(column, reader, valid)
        if not clean_rows or self.reasons.count(None) != n:
            valid = [i for i in valid if self.reasons[i] is None]
        values["row"] = list(range(1, n + 1))
        values["source"] = [SOURCE_NAME] * n
        content = (*_CONTENT, *extras)
        used, repeated, rejected = _repeats(values, valid, content, "status" in extras)
        if self.reasons.count(None) != n:
            rejected += [(i, "; ".join(r)) for i, r in enumerate(self.reasons) if r is not None]
        rejected.sort()
        order = list(zip(values["teacher_id"], values["at_us"], values["event_id"], strict=True))
        used.sort(key=order.__getitem__)  # teacher_id, at, event_id: as the frame is sorted
        raw_columns = [*REQUIRED_EVENT_COLUMNS, *(c for c in self.columns if c not in REQUIRED_EVENT_COLUMNS)]
        reject_columns = ("source", "row", "event_id", "reason", *raw_columns[1:])
        reject_rows = tuple({"source": SOURCE_NAME, "row": i + 1, "reason": reason,
                             **{c: self.raw[c][i] for c in self.columns}} for i, reason in rejected)
        report = LoadReport(rows_read=n, rows_used=len(used), duplicates=repeated, rejected=len(reject_rows))
        seen = tuple(sorted(set(values["teacher_id"]) - {None}))
        small = SmallRows(values, tuple(used), reject_rows, reject_columns, extras, zone, naive_at=plain is not None)
        return EventTable(None, None, report, extras, timezone, named_teacher_ids=seen, small=small)


def _at(text: str, timezone: str, zone: zoneinfo.ZoneInfo, numeric: str | None
        ) -> tuple[tuple[int, Any, dt.datetime] | None, str | None]:
    """(UTC epoch microseconds, local date, the aware datetime ``Event.at``) or the reason."""
    plain = read_plain_at(text, timezone) if numeric is None else None
    if plain is not None:  # no clock change that day: the local time is the event's own
        return (plain[0], plain[1], plain[2].replace(tzinfo=zone)), None
    at_us, day, reason = read_at(text, timezone, zone, numeric=numeric)
    if at_us is None:
        return None, reason
    return (at_us, day, instant_datetime(at_us, zone)), reason


def _number_reader(name: str, integer: bool = False) -> Reader:
    low, high = LIMITS[name]
    return functools.partial(read_number, name, minimum=low, maximum=high, integer=integer)  # no Python frame


def _repeats(values: Mapping[str, Sequence[Any]], valid: list[int], content: Sequence[str], statuses: bool,
             ) -> tuple[list[int], int, list[tuple[int, str]]]:
    """The valid rows used, how many are duplicates (superseded ones included), and the
    conflicting ones with their reason (SPEC §2; only rows whose ``event_id`` repeats)."""
    ids = values["event_id"]
    if len(set(ids) if len(valid) == len(ids) else set(map(ids.__getitem__, valid))) == len(valid):
        return list(valid), 0, []  # no event_id repeats (every row valid: its ids as they are)
    rows = [{**{c: values[c][i] for c in (*content, "row")}, "__key": i} for i in valid]
    kept, superseded = _supersede(rows, content) if statuses else (rows, [])
    used, duplicates, conflicts = split_repeats(kept, content)
    return [r["__key"] for r in used], len(duplicates) + len(superseded), conflicts


def contract_checks(inputs: core.Inputs | None, scope: ir.Scope, present: Collection[str],
                    vocabulary: Sequence[str] = ()) -> list[tuple[str, Callable[[str], str | None]]]:
    """The checks of :mod:`credit_rules.io.contract` (``enforce_events``, ``column_reasons``)
    as (column, the reason of a cleaned text): the declared columns of ``scope`` that are
    ``present``, then the declared vocabularies of the ``vocabulary`` fields."""
    if not inputs:
        return []
    checks: list[tuple[str, Callable[[str], str | None]]] = []
    for column in inputs.of(scope):
        if column.name not in present:
            continue
        if column.type in ("number", "decimal"):
            read = _number_check(column.name, column.type == "number")
        elif column.type == "date":
            read = _date_check(column.name)
        else:
            continue
        checks.append((column.name, read))
    for field in vocabulary:
        allowed = inputs.allowed(field)
        if allowed is not None:
            checks.append((field, _choice_check(field, allowed)))
    return checks


def _number_check(name: str, integer: bool) -> Callable[[str], str | None]:
    return lambda text: read_number(name, text, minimum=0, maximum=COLUMN_MAXIMUM, integer=integer)[1]


def _date_check(name: str) -> Callable[[str], str | None]:
    return lambda text: read_date(name, text)[1]


def _choice_check(name: str, allowed: Sequence[str]) -> Callable[[str], str | None]:
    return lambda text: read_choice(name, text, allowed)


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


def _gather(positions: Sequence[int]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """The items of a column at ``positions``, in that order (one C call per column, not
    one call per item: a teacher's columns are gathered some twenty times per evaluation)."""
    if len(positions) < 2:
        return lambda column: [column[i] for i in positions]
    return operator.itemgetter(*positions)


def _events(values: Mapping[str, Sequence[Any]], order: Sequence[int], extras: Sequence[str],
            zone: zoneinfo.ZoneInfo | None) -> list[Event]:
    """The records of the rows ``order`` (as :meth:`EventTable.events` builds them from the
    frame); each distinct micro-unit amount becomes a Decimal once; ``zone``: the ``__at``
    values are naive local times on days without a clock change, made aware here."""
    decimals: dict[int | None, Decimal | None] = {None: None}
    gather = _gather(order)

    def column(name: str) -> Sequence[Any]:
        return gather(values[name])

    def amounts(name: str) -> list[Decimal | None]:
        micros = column(name)
        for micro in set(micros) - decimals.keys():
            assert micro is not None
            decimals[micro] = Decimal(micro).scaleb(-6)
        return list(map(decimals.__getitem__, micros))

    at = column("__at")
    days = column("day")
    if zone is not None:  # combine(), not replace(tzinfo=): five times cheaper, the same value
        at = list(map(dt.datetime.combine, days, map(dt.datetime.time, at), itertools.repeat(zone)))
    attributes = [{c: v for c in extras if (v := values[c][i]) is not None} for i in order] if extras \
        else [{} for _ in order]
    return list(map(
        Event, column("event_id"), column("teacher_id"), at,
        days, column("at_us"), column("kind"), amounts("hours_u"), amounts("credits_u"), column("category"),
        column("level"), column("format"), column("program"), column("grade"), amounts("score_u"),
        column("count"), column("words"), attributes, [i + 1 for i in order], amounts("minutes_u"),
        amounts("days_u"),
    ))
