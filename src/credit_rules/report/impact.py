"""The impact of a policy change, as plain data: who gains or loses ``met``, each
requirement's pass rate before and after, the credit distribution, the same counts by
city / county / school, the rules whose credits moved, and the affected teachers.

:func:`impact` computes it from the two ledger frames (OLD and NEW over the same inputs,
:mod:`credit_rules.report.ledgers`) with Polars, so a province of any size costs a few
joins; only the affected teacher-periods become Python objects. Teacher-periods are
matched by ``(teacher_id, period_start, period_end)``; rows found under one policy only
(a changed period) are counted apart, never dropped. Every amount is an exact
:class:`~decimal.Decimal`; :meth:`Impact.to_json` is the report's JSON twin.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Literal

import attrs
import polars as pl

from credit_rules import ir
from credit_rules.eval.explained import Explanation
from credit_rules.values import canonical

KEY = ["teacher_id", "period_start", "period_end"]
#: Roster columns the counts are broken down by, when the roster has them.
GROUP_COLUMNS = ("city", "county", "school")

Change = Literal["lose", "gain", "credits", "only_old", "only_new"]
#: The order of the affected list: who lost ``met`` first, then who gained it, then the
#: largest credit changes, then rows found under one policy only.
CHANGE_ORDER: tuple[Change, ...] = ("lose", "gain", "credits", "only_old", "only_new")


@attrs.frozen
class MetCounts:
    """Matched teacher-periods by their ``met`` before and after."""

    matched: int
    gain: int  # not met before, met after
    lose: int  # met before, not met after
    unchanged_met: int
    unchanged_not_met: int
    credits_changed: int
    only_old: int  # rows OLD has and NEW does not (a period that changed)
    only_new: int
    met_before: int
    met_after: int


@attrs.frozen
class RequirementRate:
    """One requirement (matched by name) before and after: rows it applies to, rows that
    pass it, and among matched rows how many newly fail or pass it."""

    name: str
    status: Literal["both", "added", "removed"]
    applies_before: int
    passed_before: int
    applies_after: int
    passed_after: int
    newly_failed: int
    newly_passed: int

    @property
    def rate_before(self) -> float | None:
        return self.passed_before / self.applies_before if self.applies_before else None

    @property
    def rate_after(self) -> float | None:
        return self.passed_after / self.applies_after if self.applies_after else None


@attrs.frozen
class Histogram:
    """Credits of every ledger row before and after, in bins ``[edges[i], edges[i+1])``
    (the last bin includes its upper edge)."""

    edges: tuple[Decimal, ...]
    before: tuple[int, ...]
    after: tuple[int, ...]


@attrs.frozen
class GroupCounts:
    """The met counts of the teacher-periods of one city, county or school."""

    column: str
    value: str | None  # None: teachers without that column (or without a roster row)
    matched: int
    gain: int
    lose: int
    credits_changed: int
    met_before: int
    met_after: int


@attrs.frozen
class RuleMove:
    """A rule (or trace entry) whose credits changed: for how many teachers and
    teacher-periods, and the credits it gave more or less in total."""

    rule: str
    status: Literal["both", "added", "removed"]
    teachers: int
    rows: int
    credits_up: Decimal
    credits_down: Decimal  # <= 0

    @property
    def net(self) -> Decimal:
        return self.credits_up + self.credits_down


@attrs.frozen
class CapMove:
    """A cap that cut differently for the explained teachers: under how many of their
    teacher-periods its cut events changed, and how many events it cut before and after."""

    cap: str
    status: Literal["both", "added", "removed"]
    rows: int
    cut_before: int
    cut_after: int


@attrs.frozen
class AffectedRow:
    """One teacher-period whose ``met`` or credits changed (or that one policy lacks)."""

    teacher_id: str
    period_start: dt.date
    period_end: dt.date
    change: Change
    credits_before: Decimal | None
    credits_after: Decimal | None
    met_before: bool | None
    met_after: bool | None
    rules: tuple[tuple[str, Decimal, Decimal], ...]  # (rule, before, after) whose credits differ
    failed: tuple[str, ...]  # requirements met before and not after
    passed: tuple[str, ...]  # requirements met after and not before


@attrs.frozen
class Impact:
    """The whole impact report as data (see the module docstring)."""

    old_policy: str
    new_policy: str
    old_file: str
    new_file: str
    counts: MetCounts
    requirements: tuple[RequirementRate, ...]
    histogram: Histogram
    groups: tuple[GroupCounts, ...]
    rules: tuple[RuleMove, ...]
    affected: tuple[AffectedRow, ...]
    caps: tuple[CapMove, ...] = ()
    #: NEW's explanation of the first affected teachers (teacher id -> each period), and
    #: how many affected teachers were not explained
    explained: dict[str, tuple[Explanation, ...]] = attrs.field(factory=dict, eq=False)
    not_explained: int = 0
    meta: dict[str, Any] = attrs.field(factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The report for machines: every figure of the HTML, and every affected row."""
        def dec(value: Decimal | None) -> str | None:
            return canonical(value) if value is not None else None

        return {
            "old_policy": {"name": self.old_policy, "file": self.old_file},
            "new_policy": {"name": self.new_policy, "file": self.new_file},
            **self.meta,
            "counts": attrs.asdict(self.counts),
            "requirements": [{**attrs.asdict(r), "rate_before": r.rate_before, "rate_after": r.rate_after}
                             for r in self.requirements],
            "histogram": {"edges": [canonical(e) for e in self.histogram.edges],
                          "before": list(self.histogram.before), "after": list(self.histogram.after)},
            "groups": [attrs.asdict(g) for g in self.groups],
            "rules": [{"rule": r.rule, "status": r.status, "teachers": r.teachers, "rows": r.rows,
                       "credits_up": dec(r.credits_up), "credits_down": dec(r.credits_down),
                       "net": dec(r.net)} for r in self.rules],
            "caps": [attrs.asdict(c) for c in self.caps],
            "affected": [{
                "teacher_id": a.teacher_id, "period_start": a.period_start.isoformat(),
                "period_end": a.period_end.isoformat(), "change": a.change,
                "credits_before": dec(a.credits_before), "credits_after": dec(a.credits_after),
                "met_before": a.met_before, "met_after": a.met_after,
                "rules": [{"rule": r, "before": dec(b), "after": dec(n)} for r, b, n in a.rules],
                "requirements_failed": list(a.failed), "requirements_passed": list(a.passed),
            } for a in self.affected],
            "explained": {t: [e.to_json() for e in items] for t, items in self.explained.items()},
            "not_explained": self.not_explained,
        }


def impact(old_policy: ir.Policy, new_policy: ir.Policy, old: pl.DataFrame, new: pl.DataFrame,
           roster: pl.DataFrame | None = None) -> Impact:
    """The impact of replacing ``old_policy`` (ledger frame ``old``) by ``new_policy``
    (ledger ``new``) over the same inputs; ``roster`` (a :attr:`Roster.frame`) gives the
    city / county / school breakdown."""
    joined = _joined(old, new)
    matched = joined.filter(pl.col("in_old") & pl.col("in_new"))
    counts = _counts(joined, matched)
    requirement_rows = _requirement_rows(old, new)
    rules = _rule_moves(old_policy, new_policy, old, new, matched)
    return Impact(
        old_policy=old_policy.name, new_policy=new_policy.name,
        old_file=old_policy.file, new_file=new_policy.file,
        counts=counts,
        requirements=_requirements(old_policy, new_policy, old, new, requirement_rows),
        histogram=_histogram(old["credits"], new["credits"]),
        groups=_groups(matched, roster),
        rules=rules,
        affected=_affected(joined, old, new, requirement_rows),
    )


def _joined(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    def side(frame: pl.DataFrame, tag: str) -> pl.DataFrame:
        return frame.select(*KEY, pl.col("credits").alias(f"credits_{tag}"), pl.col("met").alias(f"met_{tag}"),
                            pl.lit(True).alias(f"in_{tag}"))

    joined = side(old, "old").join(side(new, "new"), on=KEY, how="full", coalesce=True)
    return joined.with_columns(pl.col("in_old").fill_null(False), pl.col("in_new").fill_null(False))


def _counts(joined: pl.DataFrame, matched: pl.DataFrame) -> MetCounts:
    was, now = pl.col("met_old"), pl.col("met_new")
    row = matched.select(
        gain=(~was & now).sum(), lose=(was & ~now).sum(), unchanged_met=(was & now).sum(),
        unchanged_not_met=(~was & ~now).sum(),
        credits_changed=(pl.col("credits_old") != pl.col("credits_new")).sum(),
    ).row(0, named=True)
    return MetCounts(
        matched=matched.height, **{k: int(v or 0) for k, v in row.items()},
        only_old=joined.filter(~pl.col("in_new")).height, only_new=joined.filter(~pl.col("in_old")).height,
        met_before=int(joined["met_old"].sum() or 0), met_after=int(joined["met_new"].sum() or 0),
    )


def _exploded(frame: pl.DataFrame, column: str, fields: Sequence[str]) -> pl.DataFrame:
    """One row per entry of a nested ledger column, beside the teacher-period key."""
    return (frame.select(*KEY, column).explode(column).drop_nulls(column)
            .select(*KEY, *(pl.col(column).struct.field(f) for f in fields)))


def _requirement_rows(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """(key, requirement, met before, met after) of the requirements both rows have."""
    before = _exploded(old, "requirements", ["name", "met"]).rename({"met": "before"})
    after = _exploded(new, "requirements", ["name", "met"]).rename({"met": "after"})
    return before.join(after, on=[*KEY, "name"], how="inner")


def _status(name: str, before: set[str], after: set[str]) -> Literal["both", "added", "removed"]:
    if name not in before:
        return "added"
    return "removed" if name not in after else "both"


def _requirements(old_policy: ir.Policy, new_policy: ir.Policy, old: pl.DataFrame, new: pl.DataFrame,
                  rows: pl.DataFrame) -> tuple[RequirementRate, ...]:
    def rates(frame: pl.DataFrame) -> dict[str, tuple[int, int]]:
        grouped = (_exploded(frame, "requirements", ["name", "met"])
                   .group_by("name").agg(pl.len().alias("applies"), pl.col("met").sum().alias("passed")))
        return {r["name"]: (int(r["applies"]), int(r["passed"])) for r in grouped.iter_rows(named=True)}

    before, after = rates(old), rates(new)
    moves = {r["name"]: (int(r["failed"]), int(r["passed"])) for r in rows.group_by("name").agg(
        (pl.col("before") & ~pl.col("after")).sum().alias("failed"),
        (~pl.col("before") & pl.col("after")).sum().alias("passed")).iter_rows(named=True)}
    old_names = {r.name for r in old_policy.requirements}
    new_names = {r.name for r in new_policy.requirements}
    # the policies' order (OLD's, then what NEW adds), then names found only in the ledgers
    names = list(dict.fromkeys([*(r.name for r in old_policy.requirements),
                                *(r.name for r in new_policy.requirements), *sorted(before), *sorted(after)]))
    return tuple(
        RequirementRate(name, _status(name, old_names | set(before), new_names | set(after)),
                        *before.get(name, (0, 0)), *after.get(name, (0, 0)), *moves.get(name, (0, 0)))
        for name in names)


def _nice_width(span: Decimal) -> Decimal:
    """A bin width of 1, 2 or 5 times a power of ten giving at most 20 bins over ``span``."""
    power = Decimal(1).scaleb(-3)
    while True:
        for step in (1, 2, 5):
            width = power * step
            if span / width <= 20:
                return width
        power *= 10


def _histogram(before: pl.Series, after: pl.Series) -> Histogram:
    def counts(series: pl.Series) -> dict[Decimal, int]:
        # distinct amounts are few: bin them exactly in Python, not as floats
        tally = series.drop_nulls().value_counts()
        return {Decimal(v): int(c) for v, c in tally.iter_rows()}

    old, new = counts(before), counts(after)
    values = [*old, *new]
    if not values:
        return Histogram((Decimal(0), Decimal(1)), (0,), (0,))
    low, high = min(values), max(values)
    width = _nice_width(max(high - low, Decimal(1)))
    start = (low / width).to_integral_value(ROUND_FLOOR) * width
    bins = max(int(((high - start) / width).to_integral_value(ROUND_CEILING)), 1)
    edges = tuple(start + width * i for i in range(bins + 1))

    def binned(tally: dict[Decimal, int]) -> tuple[int, ...]:
        out = [0] * bins
        for value, n in tally.items():
            out[min(int((value - start) / width), bins - 1)] += n
        return tuple(out)

    return Histogram(edges, binned(old), binned(new))


def _groups(matched: pl.DataFrame, roster: pl.DataFrame | None) -> tuple[GroupCounts, ...]:
    if roster is None:
        return ()
    out: list[GroupCounts] = []
    for column in GROUP_COLUMNS:
        if column not in roster.columns or roster[column].null_count() == roster.height:
            continue
        labels = roster.select("teacher_id", pl.col(column).cast(pl.String)).unique("teacher_id")
        was, now = pl.col("met_old"), pl.col("met_new")
        grouped = (matched.join(labels, on="teacher_id", how="left").group_by(column)
                   .agg(pl.len().alias("matched"), (~was & now).sum().alias("gain"),
                        (was & ~now).sum().alias("lose"),
                        (pl.col("credits_old") != pl.col("credits_new")).sum().alias("credits_changed"),
                        was.sum().alias("met_before"), now.sum().alias("met_after"))
                   .sort(column, nulls_last=True))
        out.extend(GroupCounts(column, r[column], *(int(r[k]) for k in (
            "matched", "gain", "lose", "credits_changed", "met_before", "met_after")))
            for r in grouped.iter_rows(named=True))
    return tuple(out)


def _trace_deltas(old: pl.DataFrame, new: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """(key, rule, before, after) of every trace entry whose credits differ, on ``keys``."""
    def side(frame: pl.DataFrame, tag: str) -> pl.DataFrame:
        return (_exploded(frame.join(keys, on=KEY, how="semi"), "trace", ["rule", "credits"])
                .group_by([*KEY, "rule"]).agg(pl.col("credits").sum().alias(tag)))

    zero = pl.lit(0).cast(old.schema["credits"])
    return (side(old, "before").join(side(new, "after"), on=[*KEY, "rule"], how="full", coalesce=True)
            .with_columns(pl.col("before").fill_null(zero), pl.col("after").fill_null(zero))
            .filter(pl.col("before") != pl.col("after")))


def _rule_moves(old_policy: ir.Policy, new_policy: ir.Policy, old: pl.DataFrame, new: pl.DataFrame,
                matched: pl.DataFrame) -> tuple[RuleMove, ...]:
    deltas = _trace_deltas(old, new, matched.select(KEY)).with_columns(
        (pl.col("after") - pl.col("before")).alias("delta"))
    grouped = (deltas.group_by("rule")
               .agg(pl.col("teacher_id").n_unique().alias("teachers"), pl.len().alias("rows"),
                    pl.col("delta").filter(pl.col("delta") > 0).sum().alias("up"),
                    pl.col("delta").filter(pl.col("delta") < 0).sum().alias("down"))
               .sort(["teachers", "rule"], descending=[True, False]))
    before = {r.name for r in old_policy.rules}
    after = {r.name for r in new_policy.rules}
    return tuple(
        # a trace entry that is no rule of either (``carry_forward:NAME``) is neither added nor removed
        RuleMove(r["rule"], _status(r["rule"], before, after) if r["rule"] in before | after else "both",
                 int(r["teachers"]), int(r["rows"]), Decimal(r["up"] or 0), Decimal(r["down"] or 0))
        for r in grouped.iter_rows(named=True))


def _affected(joined: pl.DataFrame, old: pl.DataFrame, new: pl.DataFrame,
              requirement_rows: pl.DataFrame) -> tuple[AffectedRow, ...]:
    was, now = pl.col("met_old"), pl.col("met_new")
    change = (pl.when(~pl.col("in_new")).then(pl.lit("only_old"))
              .when(~pl.col("in_old")).then(pl.lit("only_new"))
              .when(was & ~now).then(pl.lit("lose"))
              .when(~was & now).then(pl.lit("gain"))
              .when(pl.col("credits_old") != pl.col("credits_new")).then(pl.lit("credits"))
              .otherwise(None))
    rank = {c: i for i, c in enumerate(CHANGE_ORDER)}
    rows = (joined.with_columns(change.alias("change")).drop_nulls("change")
            .with_columns(pl.col("change").replace_strict(rank, return_dtype=pl.Int64).alias("order"),
                          (pl.col("credits_new") - pl.col("credits_old")).abs().alias("size"))
            .sort(["order", "size", *KEY], descending=[False, True, False, False, False], nulls_last=True))
    keys = rows.filter(pl.col("in_old") & pl.col("in_new")).select(KEY)
    moved: dict[tuple[Any, ...], list[tuple[str, Decimal, Decimal]]] = {}
    for r in _trace_deltas(old, new, keys).sort([*KEY, "rule"]).iter_rows(named=True):
        moved.setdefault(tuple(r[k] for k in KEY), []).append((r["rule"], r["before"], r["after"]))
    failed: dict[tuple[Any, ...], list[str]] = {}
    passed: dict[tuple[Any, ...], list[str]] = {}
    for r in (requirement_rows.join(keys, on=KEY, how="semi")
              .filter(pl.col("before") != pl.col("after")).sort([*KEY, "name"]).iter_rows(named=True)):
        (failed if r["before"] else passed).setdefault(tuple(r[k] for k in KEY), []).append(r["name"])
    out = []
    for r in rows.iter_rows(named=True):
        key = tuple(r[k] for k in KEY)
        out.append(AffectedRow(
            r["teacher_id"], r["period_start"], r["period_end"], r["change"],
            r["credits_old"], r["credits_new"], r["met_old"], r["met_new"],
            tuple(moved.get(key, ())), tuple(failed.get(key, ())), tuple(passed.get(key, ()))))
    return tuple(out)
