"""What each name in a condition reads in the bulk frames (SPEC §2, §3).

One job: map the fields, attributes and derived facts a policy's conditions name to the
columns of the event frame (``where``, caps' and measures' ``of``) and of the
teacher-period frame (``when``, waivers, excellence, ranks), for
:class:`~credit_rules.eval.bulk.conditions.CondCompiler`. Decimal event columns are
micro-units (``MICRO_DIGITS``); teacher-period outcomes are at the plan's scale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.eval.bulk.conditions import CondCompiler, Field, teacher_date_field
from credit_rules.schema import (
    EVENT_FRAME,
    MICRO,
    MICRO_DIGITS,
    PROVENANCE_COLUMNS,
    ROSTER_DATE_COLUMNS,
    ROSTER_TEXT_COLUMNS,
)

#: Text columns of the event frame a condition may name directly.
TEXT_EVENT_FIELDS = ("event_id", "teacher_id", "kind", "category", "level", "format",
                     "program", "grade")
#: The event frame columns of SPEC §2 fields that are stored under another name.
FIELD_COLUMNS = {"hours": "hours_u", "credits": "credits_u", "score": "score_u", "at": "day"}


def typed_column(name: str, type_: core.ColumnType) -> Field:
    """A declared column read from its (validated) text, with the meaning of
    :func:`credit_rules.core.scalars.number_value` / ``day_value`` / ``list_items``:
    numbers as Int64 micro-units, dates as dates, lists as ``;``-separated text."""
    text = pl.col(name).cast(pl.String).str.strip_chars()
    if type_ in ("number", "decimal"):
        parts = text.str.extract_groups(r"^([+-]?)([0-9]*)(?:\.([0-9]*))?$")
        sign, raw_whole, raw_fraction = (parts.struct.field(str(i)) for i in (1, 2, 3))
        whole = raw_whole.str.strip_chars_start("0")
        fraction = raw_fraction.fill_null("").str.strip_chars_end("0")
        ok = (raw_whole.str.len_bytes() + raw_fraction.fill_null("").str.len_bytes() > 0) \
            & (whole.str.len_bytes() <= 12) & (fraction.str.len_bytes() <= 6)
        magnitude = (
            pl.when(whole.str.len_bytes() == 0).then(pl.lit(0, pl.Int64))
            .otherwise(whole.str.to_integer(strict=False).cast(pl.Int64)) * MICRO
            + fraction.str.pad_end(6, "0").str.to_integer(strict=False).cast(pl.Int64)
        )
        value = pl.when(sign == "-").then(-magnitude).otherwise(magnitude)
        return Field(pl.when(ok.fill_null(False)).then(value).otherwise(None), MICRO_DIGITS)
    if type_ == "date":
        shaped = text.str.contains(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").fill_null(False)
        return Field(pl.when(shaped).then(text.str.to_date("%Y-%m-%d", strict=False)), "date")
    if type_ == "list":
        return Field(pl.col(name).cast(pl.String), "list")
    return Field(pl.col(name), "text")


def event_compiler(attributes: Iterable[str], *, view: bool,
                   inputs: core.Inputs | None = None) -> CondCompiler:
    """Conditions on one event (or one award: ``view`` reads the category and level the
    rule credits into, ``v_category`` / ``v_level``). ``inputs``: the declared columns
    (issue 9 C), read with their types."""
    fields: dict[str, Field] = {}
    for name in attributes:
        if name not in EVENT_FRAME and name not in (*PROVENANCE_COLUMNS, "pstart", "pend"):
            fields[name] = Field(pl.col(name), "text")  # an attribute column
            declared = inputs.column(name, ir.Scope.EVENT) if inputs is not None else None
            if declared is not None:
                fields[name] = typed_column(name, declared.type)
    for name in TEXT_EVENT_FIELDS:
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
    for name in ROSTER_DATE_COLUMNS:  # periods relative to the teacher (issue 9, D)
        fields[teacher_date_field(name)] = Field(pl.col(f"__t_{name}"), "date")
    return CondCompiler(fields, day=pl.col("day"))


def teacher_dates(policy: core.Policy) -> list[str]:
    """The roster dates the policy's event filters read through periods relative to the
    teacher (``within 1 year of hired_on``): the load stage joins them to the events."""
    names: set[str] = set()
    for cond, _ in event_conds(policy):
        names.update(n.attribute for n in ir.walk(cond) if isinstance(n, ir.DateWindow))
    return sorted(names)


@attrs.frozen
class Facts:
    """Column names of the per teacher-period facts conditions may ask about."""

    programs: Mapping[str, str]
    kinds: Mapping[str, str]
    ranks: Mapping[str, str]
    #: requirement name -> its column: applies and met (or waived), for `requirement X met`
    requirements: Mapping[str, str] = attrs.field(factory=dict)

    @staticmethod
    def placeholder() -> Facts:
        """Facts that name one column for anything (to compile conditions before any frame)."""

        class Any_(dict[str, str]):
            def __missing__(self, key: str) -> str:
                return "placeholder"

        return Facts(Any_(), Any_(), Any_(), Any_())


def teacher_compiler(digits: int, facts: Facts, *, outcome: bool,
                     inputs: core.Inputs | None = None) -> CondCompiler:
    """Conditions on one teacher-period: roster fields and facts, and with ``outcome`` the
    ledger values (``credits``, ``met``, ``ranked`` ...) at scale 10^``digits``.
    ``inputs``: the declared roster columns (issue 9 C; the frame must carry them)."""
    fields: dict[str, Field] = {n: Field(pl.col(n), "text") for n in ROSTER_TEXT_COLUMNS}
    fields.update({n: Field(pl.col(n), "date") for n in ROSTER_DATE_COLUMNS})
    for column in inputs.of(ir.Scope.TEACHER) if inputs is not None else ():
        fields[column.name] = typed_column(column.name, column.type)
    if outcome:
        fields["credits"] = Field(pl.col("credits_k"), digits)
        fields["hours"] = Field(pl.col("hours_k"), digits)
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
        requirement_met=(lambda n: pl.col(facts.requirements[n]) if n in facts.requirements else pl.lit(False))
        if outcome else None,
    )


def teacher_conds(policy: core.Policy) -> list[ir.Cond | None]:
    """Every condition evaluated once per teacher-period."""
    conds: list[ir.Cond | None] = [a.when for a in policy.awards] + [lv.when for lv in policy.leave]
    for requirement in policy.requirements:
        conds += [line.when for line in requirement.lines]
        conds += list(requirement.waived_when)
    conds += [policy.excellent] + [r.among for r in policy.ranks]
    conds += [o.cond for o in policy.outcomes]
    return conds


def event_conds(policy: core.Policy) -> list[tuple[ir.Cond | None, bool]]:
    """Every condition evaluated once per event (False) or per award (True: it sees the
    award's credited category and level)."""
    conds: list[tuple[ir.Cond | None, bool]] = [(s.where, False) for s in selects(policy)]
    conds += [(c.of, True) for c in policy.caps]
    for measure in measure_names(policy):
        if isinstance(measure, core.CreditedOf | core.HoursOf):
            conds.append((measure.of, True))
    return conds


def selects(policy: core.Policy) -> list[core.Select]:
    """Every event selection of the policy: awards, leave, penalties, counted measures."""
    out = [a.select for a in policy.awards] + [lv.select for lv in policy.leave]
    out += [p.select for p in policy.penalties]
    out += [m.select for m in measure_names(policy) if isinstance(m, core.CountOf)]
    return out


def needed_facts(policy: core.Policy) -> Facts:
    """The facts the policy's teacher conditions and requirements ask about."""
    programs: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for cond in teacher_conds(policy):
        for node in ir.walk(cond):
            if isinstance(node, ir.Qualified):
                programs.setdefault(node.program, f"__q{len(programs)}")
            elif isinstance(node, ir.EventsExist):
                kinds.setdefault(node.kind, f"__k{len(kinds)}")
    for measure in measure_names(policy):
        if isinstance(measure, core.QualifiedIn):
            programs.setdefault(measure.program, f"__q{len(programs)}")
    ranks = {r.name: f"__r{i}" for i, r in enumerate(policy.ranks)}
    requirements = {r.name: f"__rm{i}" for i, r in enumerate(policy.requirements)}
    return Facts(programs, kinds, ranks, requirements)


def measure_names(policy: core.Policy) -> dict[core.Measure, str]:
    """A column name for each distinct requirement measure."""
    measures: dict[core.Measure, str] = {}
    for requirement in policy.requirements:
        for line in requirement.lines:
            if isinstance(line.measure, core.BestOf):  # each group is a measure of its own
                for _, group in line.measure.groups:
                    measures.setdefault(group, f"__m{len(measures)}")
            measures.setdefault(line.measure, f"__m{len(measures)}")
    return measures
