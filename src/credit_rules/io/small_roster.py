"""A small roster read row by row (issue 10): the one teacher a training platform asks about.

:func:`small_roster` gives the :class:`~credit_rules.io.roster.Roster` that
:func:`~credit_rules.io.roster.load_roster` gives for a list of dicts or a frame of at most
:data:`~credit_rules.io.small.SMALL_ROWS` rows, with the readers of
:mod:`credit_rules.io.scalars` instead of a Polars query; ``tests/test_io_small.py``
checks the two on generated rosters. Unusual columns are left to ``load_roster``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.io.report import LoadReport
from credit_rules.io.roster import Roster
from credit_rules.io.scalars import WHITESPACE, clean, read_choice, read_date
from credit_rules.io.small import SOURCE_NAME, contract_checks, raw_rows, split_repeats
from credit_rules.records import Teacher
from credit_rules.schema import ROLES, ROSTER_COLUMNS, ROSTER_DATE_COLUMNS, ROSTER_FRAME, STAGES, TITLES

_CONTENT = tuple(ROSTER_FRAME)


@attrs.frozen
class SmallRoster:
    """The valid roster rows of a small input (by ``teacher_id``), as records and frame
    rows, and the rejected rows (``source, row, teacher_id, reason``, raw columns)."""

    teachers: Mapping[str, Teacher]
    rows: tuple[dict[str, Any], ...]
    reject_rows: tuple[dict[str, Any], ...]
    reject_columns: tuple[str, ...]

    def frame(self, attribute_columns: Sequence[str]) -> pl.DataFrame:
        """:attr:`Roster.frame` of these rows."""
        schema: dict[str, Any] = {**ROSTER_FRAME, **dict.fromkeys(attribute_columns, pl.String),
                                  "source": pl.String, "row": pl.Int64}
        return pl.DataFrame({c: [r.get(c) for r in self.rows] for c in schema}, schema=schema)

    def rejects_frame(self) -> pl.DataFrame:
        """:attr:`Roster.rejects` of these rows."""
        schema = {c: (pl.Int64 if c == "row" else pl.String) for c in self.reject_columns}
        return pl.DataFrame({c: [r.get(c) for r in self.reject_rows] for c in schema}, schema=schema)


def roles_of(text: str | None) -> list[str]:
    """The roles of a cleaned ``roles`` cell: split at ``;``, trimmed, de-duplicated, sorted."""
    if text is None:
        return []
    return sorted({item for part in text.split(";") if (item := part.strip(WHITESPACE))})


def small_roster(source: Any, inputs: core.Inputs | None = None) -> Roster | None:
    """:func:`~credit_rules.io.roster.load_roster` of a small list of dicts or frame, read row
    by row; None when ``load_roster`` must read it (unusual columns)."""
    read = raw_rows(source, required=("teacher_id",), dates=ROSTER_DATE_COLUMNS)
    if read is None:
        return None
    columns, texts, n, _ = read
    extras = tuple(sorted(c for c in columns if c not in ROSTER_COLUMNS))
    titles = (inputs.allowed("title") if inputs is not None else None) or TITLES
    allowed_roles = (inputs.allowed("role") if inputs is not None else None) or ROLES
    contract = contract_checks(inputs, ir.Scope.TEACHER, extras)
    valid: list[dict[str, Any]] = []
    rejected: list[tuple[int, str]] = []
    for number in range(n):
        cells = {c: clean(texts[c][number]) for c in columns}
        get = cells.get
        reasons = ["missing teacher_id"] if get("teacher_id") is None else []
        title, stage = get("title"), get("stage")
        if title is not None and (reason := read_choice("title", title, titles)) is not None:
            reasons.append(reason)
        if stage is not None and (reason := read_choice("stage", stage, STAGES)) is not None:
            reasons.append(reason)
        row: dict[str, Any] = {c: get(c) for c in ("teacher_id", "title", "stage", "school", "county", "city",
                                                   "workshop", *extras)}
        for column in ROSTER_DATE_COLUMNS:
            row[column] = _date(get(column), column, reasons)
        row["roles"] = roles = roles_of(get("roles"))
        row["__roles"] = tuple(roles)
        unknown = [r for r in roles if r not in allowed_roles]
        if unknown:
            reasons.append(f"roles: unknown role(s) {', '.join(unknown)}; allowed roles: {', '.join(allowed_roles)}")
        reasons += [r for column, read in contract if (text := get(column)) is not None
                    and (r := read(text)) is not None]
        row["row"], row["__key"], row["source"] = number + 1, number, SOURCE_NAME
        if reasons:
            rejected.append((number, "; ".join(reasons)))
        else:
            valid.append(row)
    content = (*_CONTENT, *extras)
    used, duplicates, conflicts = split_repeats(valid, [_hashable(c) for c in content], key="teacher_id")
    rejected = sorted(rejected + conflicts)
    used.sort(key=lambda r: r["teacher_id"])
    order = ["teacher_id", *(c for c in columns if c != "teacher_id")]
    reject_rows = tuple({"source": SOURCE_NAME, "row": i + 1, "reason": reason,
                         **{c: texts[c][i] for c in columns}} for i, reason in rejected)
    rejected_ids = sorted({t for i, _ in rejected if (t := clean(texts["teacher_id"][i])) is not None})
    teachers = {r["teacher_id"]: _teacher(r, extras) for r in used}
    report = LoadReport(rows_read=n, rows_used=len(used), duplicates=len(duplicates),
                        rejected=len(reject_rows), label="roster")
    small = SmallRoster(teachers, tuple(used), reject_rows, ("source", "row", "teacher_id", "reason", *order[1:]))
    return Roster(None, None, report, extras, tuple(rejected_ids), small=small)


def _hashable(column: str) -> str:
    """The name under which a row holds ``column`` comparably (roles as a tuple)."""
    return "__roles" if column == "roles" else column


def _date(text: str | None, column: str, reasons: list[str]) -> dt.date | None:
    if text is None:
        return None
    value, reason = read_date(column, text)
    if reason is not None:
        reasons.append(reason)
    return value


def _teacher(row: dict[str, Any], extras: Sequence[str]) -> Teacher:
    return Teacher(
        teacher_id=row["teacher_id"], title=row["title"], roles=frozenset(row["roles"]), stage=row["stage"],
        hired_on=row["hired_on"], retired_on=row["retired_on"], school=row["school"], county=row["county"],
        city=row["city"], workshop=row["workshop"],
        attributes={c: row[c] for c in extras if row[c] is not None},
    )
