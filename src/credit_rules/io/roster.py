"""Loading and validating the roster (SPEC §3), with the same machinery as events.

``roles`` is a list: a Parquet/Arrow list column, a JSON array, or text separated by
``;`` (CSV). Roles are trimmed, de-duplicated and sorted. A teacher_id repeated with
identical content is a duplicate; repeated with different content, every copy is
rejected. ``hired_on``/``retired_on`` are ``YYYY-MM-DD`` text, dates, or datetimes (their
date), in the years 1900..2199 (:mod:`credit_rules.io.parse`).

A rejected row is in :attr:`Roster.rejects` with its reason, and its teacher in
:attr:`Roster.rejected_teacher_ids`: such a teacher's attributes are unknown, not empty,
and a caller must not evaluate them as a teacher without a roster row.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.io.columns import BAD, INTERNAL_PREFIX, KEY, REASON, ROW, SOURCE
from credit_rules.io.contract import column_reasons
from credit_rules.io.loaded import LoadedFrames
from credit_rules.io.parse import (
    Plan,
    ascii_columns,
    clean,
    combine_reasons,
    missing_reason,
    parse_choice,
    parse_date,
)
from credit_rules.io.rejects import reject_frame
from credit_rules.io.repeats import split_repeats
from credit_rules.io.report import LoadReport
from credit_rules.io.sources import read_raw
from credit_rules.records import Teacher
from credit_rules.schema import ROLES, ROSTER_COLUMNS, ROSTER_FRAME, STAGES, TITLES

if TYPE_CHECKING:
    from credit_rules.io.small_roster import SmallRoster


@attrs.frozen
class Roster(LoadedFrames):
    """Valid, de-duplicated roster rows sorted by ``teacher_id``.

    ``rejected_teacher_ids``: the sorted, distinct (trimmed) ``teacher_id`` of every
    rejected row (invalid or conflicting) that names one. A teacher in it may still have
    a valid row in :attr:`frame` (another copy); :meth:`unresolved_teacher_ids` are those
    that have none, whose attributes are unknown.
    """

    _frame: pl.DataFrame | None
    _rejects: pl.DataFrame | None
    report: LoadReport
    attribute_columns: tuple[str, ...]
    rejected_teacher_ids: tuple[str, ...] = ()
    #: A small roster read row by row (:mod:`credit_rules.io.small_roster`): its teachers as
    #: records, and ``frame``/``rejects`` built from them on first use.
    small: SmallRoster | None = attrs.field(default=None, kw_only=True)
    _built: dict[str, pl.DataFrame] = attrs.field(factory=dict, init=False, eq=False, repr=False)

    def __len__(self) -> int:
        return len(self.small.teachers) if self.small is not None else self.frame.height

    def unresolved_teacher_ids(self) -> tuple[str, ...]:
        """Teachers whose every roster row was rejected: their attributes are unknown."""
        valid = set(self.small.teachers) if self.small is not None else set(
            self.frame.get_column("teacher_id").to_list())
        return tuple(t for t in self.rejected_teacher_ids if t not in valid)

    def teachers(self) -> dict[str, Teacher]:
        """Every roster teacher as a :class:`credit_rules.records.Teacher`, by id."""
        if self.small is not None:
            return dict(self.small.teachers)
        out: dict[str, Teacher] = {}
        for r in self.frame.iter_rows(named=True):
            hired: dt.date | None = r["hired_on"]
            retired: dt.date | None = r["retired_on"]
            out[r["teacher_id"]] = Teacher(
                teacher_id=r["teacher_id"],
                title=r["title"],
                roles=frozenset(r["roles"] or ()),
                stage=r["stage"],
                hired_on=hired,
                retired_on=retired,
                school=r["school"],
                county=r["county"],
                city=r["city"],
                workshop=r["workshop"],
                attributes={
                    c: r[c] for c in self.attribute_columns if r[c] is not None
                },
            )
        return out

    @classmethod
    def empty(cls) -> Roster:
        frame = pl.DataFrame(schema={**ROSTER_FRAME, "source": pl.String, "row": pl.Int64})
        rejects = pl.DataFrame(
            schema={"source": pl.String, "row": pl.Int64, "teacher_id": pl.String,
                    "reason": pl.String}
        )
        return cls(frame, rejects, LoadReport(0, 0, 0, 0, label="roster"), ())


def load_roster(source: Any, *, inputs: core.Inputs | None = None) -> Roster:
    """Load and validate a roster: a path, a list of paths, a DataFrame or an Arrow table.

    ``inputs``: a policy's input contract (:mod:`credit_rules.io.contract`): declared titles
    and roles replace the SPEC's lists, and declared roster columns must parse."""
    raw = read_raw(
        source, what="roster", required=("teacher_id",), allow_stdin=False,
        dates=("hired_on", "retired_on"),
    )
    frame = raw.frame
    for column in ROSTER_COLUMNS:
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.String).alias(column))
    extras = tuple(sorted(c for c in raw.columns if c not in ROSTER_COLUMNS))
    many = len(raw.source_names) > 1

    plan = Plan(ascii_columns=ascii_columns(frame, ("hired_on", "retired_on")))
    titles = (inputs.allowed("title") if inputs is not None else None) or TITLES
    roles = (inputs.allowed("role") if inputs is not None else None) or ROLES
    title = parse_choice("title", titles)
    stage = parse_choice("stage", STAGES)
    hired = parse_date(plan, "hired_on")
    retired = parse_date(plan, "retired_on")
    roles_col = f"{INTERNAL_PREFIX}roles"
    plan.add(
        0,
        pl.col("roles").str.split(";")
        .list.eval(pl.element().str.strip_chars().filter(pl.element().str.len_bytes() > 0))
        .list.unique().list.sort()
        .fill_null(pl.lit([], pl.List(pl.String)))
        .alias(roles_col),
    )
    unknown = pl.col(roles_col).list.eval(
        pl.element().filter(~pl.element().is_in(list(roles)))
    )
    roles_reason = (
        pl.when(unknown.list.len() > 0)
        .then(pl.format(
            "roles: unknown role(s) {}; allowed roles: {}",
            unknown.list.join(", "), pl.lit(", ".join(roles)),
        ))
        .otherwise(None)
    )
    reasons = [
        pl.col(BAD), *missing_reason(("teacher_id",)),
        title.reason, stage.reason, hired.reason, retired.reason, roles_reason,
        *(column_reasons(plan, inputs, ir.Scope.TEACHER, list(extras)) if inputs is not None else ()),
    ]
    cleaned = frame.lazy().select(
        pl.col(KEY), pl.col(SOURCE), pl.col(ROW), pl.col(BAD),
        *[clean(c).alias(c) for c in [*ROSTER_COLUMNS, *extras]],
    )
    checked = plan.apply(cleaned).select(
        pl.col(KEY), pl.col(SOURCE), pl.col(ROW),
        pl.col("teacher_id"),
        title.value.alias("title"),
        pl.col(roles_col).alias("roles"),
        stage.value.alias("stage"),
        hired.value.alias("hired_on"),
        retired.value.alias("retired_on"),
        *[pl.col(c) for c in ("school", "county", "city", "workshop", *extras)],
        combine_reasons(reasons).alias(REASON),
    ).collect()
    valid = checked.filter(pl.col(REASON).is_null())
    invalid = checked.filter(pl.col(REASON).is_not_null())
    content = [*ROSTER_FRAME, *extras]
    used, duplicates, conflicts = split_repeats(
        valid, key="teacher_id", content=content, many_sources=many
    )
    rejected = pl.concat([invalid.select(KEY, REASON), conflicts.select(KEY, REASON)])
    rejects = reject_frame(raw.frame, rejected, "teacher_id", raw.columns)
    out = (
        used.sort("teacher_id")
        .select(*content, pl.col(SOURCE).alias("source"), pl.col(ROW).alias("row"))
        .cast(ROSTER_FRAME)  # type: ignore[arg-type]
    )
    report = LoadReport(
        rows_read=frame.height,
        rows_used=out.height,
        duplicates=duplicates.height,
        rejected=rejects.height,
        label="roster",
    )
    rejected_ids = (
        checked.join(rejected.select(KEY), on=KEY, how="semi")
        .get_column("teacher_id").drop_nulls().unique().sort().to_list()
    )
    return Roster(out, rejects, report, extras, tuple(rejected_ids))
