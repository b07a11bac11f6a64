"""Why a teacher got each credit: the interpreter's decisions, rule by rule, with citations.

:func:`explain` returns plain data (one :class:`Explanation` per period); the CLI renders
it for a terminal, or as JSON with :meth:`Explanation.to_json`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from credit_rules import core, ir
from credit_rules.core.from_ir import date_window
from credit_rules.eval.conditions import TeacherFacts, event_holds, teacher_holds
from credit_rules.eval.explained import (
    AwardExplained,
    CapExplained,
    CarryExplained,
    Explanation,
    OutcomeExplained,
    RequirementExplained,
    RuleExplained,
)
from credit_rules.eval.interpreter import (
    QUALIFYING_GRADES,
    TeacherPeriod,
    best_group,
    evaluate_detailed,
    latest_assessment,
    outcome_facts,
    ranked_sets,
    selected,
    teacher_facts,
)
from credit_rules.eval.messages import Lang, amount, grade_name, message, words
from credit_rules.eval.windows import bind_teacher
from credit_rules.records import Event, RequirementResult, Teacher
from credit_rules.span import Span
from credit_rules.values import canonical, exact_div, is_finite_decimal_fraction, relative_window


def _layer(policy: ir.Policy, span: Span) -> str | None:
    """``city_y (examples/layers/city_y.policy:18)``: the layer a statement comes from."""
    layer = policy.layer_of(span)
    return f"{layer.name} ({layer.file}:{span.line})" if layer is not None else None


class _Source:
    """The policy text, to quote the clause a span covers (a layered policy: each layer's own
    file; only the files of the policy's layers are ever read)."""

    def __init__(self, policy: ir.Policy, text: str | None):
        self.lines = (text if text is not None else _read(policy.file)).splitlines()
        self.file = policy.file
        self.layers = {layer.file for layer in policy.layers}
        self.others: dict[str, list[str]] = {}

    def _lines(self, file: str) -> list[str]:
        if file == self.file or file not in self.layers:
            return self.lines
        if file not in self.others:
            self.others[file] = _read(file).splitlines()
        return self.others[file]

    def quote(self, span: Span) -> str:
        lines = self._lines(span.file)
        if not lines or not 1 <= span.line <= len(lines):
            return ""
        if span.line == span.end_line:
            return lines[span.line - 1][span.col - 1: span.end_col - 1].strip()
        first = lines[span.line - 1][span.col - 1:].strip()
        return " ".join([first, *(ln.strip() for ln in lines[span.line: span.end_line])])


def _read(file: str) -> str:
    try:
        return Path(file).read_text(encoding="utf-8")
    except OSError:
        return ""


def explain(
    policy: ir.Policy,
    events: Iterable[Event],
    teachers: Mapping[str, Teacher] | None,
    teacher_id: str,
    *,
    as_of: dt.date | None = None,
    policy_text: str | None = None,
    lang: Lang = "en",
) -> list[Explanation]:
    """Explain ``teacher_id``'s ledger rows, in English or Chinese (``lang``). Ranks need
    every teacher, so all are evaluated."""
    source = _Source(policy, policy_text)
    everyone = evaluate_detailed(policy, events, teachers, as_of=as_of)
    ranked = ranked_sets(policy, everyone) if policy.ranks else [frozenset[str]()] * len(everyone)
    return [explain_period(policy, tp, source, lang=lang, ranked=chosen)
            for tp, chosen in zip(everyone, ranked, strict=True) if tp.teacher.teacher_id == teacher_id]


def _exact_text(value: Fraction | None) -> str | None:
    """An exact rational as text: its decimal when finite, else ``p/q``."""
    if value is None:
        return None
    if is_finite_decimal_fraction(Decimal(value.numerator), Decimal(value.denominator)):
        return canonical(exact_div(Decimal(value.numerator), Decimal(value.denominator)))
    return f"{value.numerator}/{value.denominator}"


def _rounding_text(rounding: core.Rounding | None, value: Fraction | None) -> str | None:
    """How an award's rounding went: ``4/3 rounded down to 1`` (per event) or
    ``running total 7/12 rounded half up to 1`` (pooled)."""
    if rounding is None or value is None:
        return None
    rounded = canonical(rounding.apply(value))
    if rounding.pooled:
        return f"running total {_exact_text(value)} rounded {rounding.mode} to {rounded}"
    return f"{_exact_text(value)} rounded {rounding.mode} to {rounded}"


def _amount_of(value: Decimal, unit: str) -> str:
    """``1 hour``, ``40 minutes``."""
    return f"{canonical(value)} {unit[:-1] if value == 1 else unit}"


def _converted_text(policy: ir.Policy, event: Event, source: _Source) -> str | None:
    """``90 minutes = 2.25 hours by `40 minutes = 1 hour` (source)`` for an event whose
    hours come from its minutes or days."""
    for unit in policy.units:
        value = event.minutes if unit.unit == "minutes" else event.days
        if value is not None and event.hours is not None:
            cited = f", {unit.source}" if unit.source else ""
            rule = f"{_amount_of(unit.amount, unit.unit)} = {_amount_of(unit.hours, 'hours')}"
            rounded = f" rounded {unit.rounding[0]} per {'period' if unit.rounding[1] else 'event'}" \
                if unit.rounding else ""
            return (f"{canonical(value)} {unit.unit} = {canonical(event.hours)} hours by "
                    f"`{rule}{rounded}` (line {unit.span.line}{cited})")
    return None


def _deciding_text(program: str, deciding: Event, lang: Lang) -> str:
    grade = deciding.grade if lang == "en" else grade_name(deciding.grade, lang)
    return message("why.deciding_grade", lang, program=program, event=deciding.event_id,
                   day=deciding.day.isoformat(), grade=grade or grade_name(None, lang))


def _why_nothing(award: core.Award, tp: TeacherPeriod, source: _Source, lang: Lang = "en",
                 policy: ir.Policy | None = None) -> str:
    if not teacher_holds(award.when, teacher_facts(tp.teacher, tp.events)):
        assert award.when is not None
        return message("why.not_applicable", lang, cond=source.quote(award.when.span))
    program = award.select.program
    if award.pick == "deciding":
        candidates = selected(award.select, tp.events)
        if not candidates:
            return message("why.no_assessment", lang, program=program)
        deciding = max(candidates, key=lambda e: e.order_key)
        if deciding.grade not in QUALIFYING_GRADES:
            return _deciding_text(str(program), deciding, lang)
    elif not any(e.kind == award.select.kind for e in tp.events):
        return message("why.no_events", lang, kind=award.select.kind)
    if any(p.void_credits for p, _ in tp.penalties):
        return message("why.voided", lang)
    if award.select.where is not None:
        return _typed_miss(award, tp, source, lang, policy) or message("why.no_match", lang)
    return message("why.earned_nothing", lang)


def _typed_miss(award: core.Award, tp: TeacherPeriod, source: _Source, lang: Lang,
                policy: ir.Policy | None) -> str | None:
    """issue 9 (C): the first event of the rule's kind that a typed comparison (arithmetic
    on columns, `has`) turned away, with the clause, the values it compared and the
    `source` of the `columns` block that declared them."""
    atoms = [n for n in ir.walk(award.select.where) if isinstance(n, ir.Linear | ir.Has)]
    for event in tp.events:
        if event.kind != award.select.kind or award.select.program not in (None, event.program):
            continue
        for atom in atoms:
            if event_holds(atom, event):
                continue
            names = list(dict.fromkeys(
                [name for name, _ in atom.terms] if isinstance(atom, ir.Linear) else [atom.field]))
            values = message("list.sep", lang).join(
                message("value.column", lang, name=n, value=event.get(n)) if event.get(n) is not None
                else message("value.column.missing", lang, name=n) for n in names)
            declared = [c for c in (policy.columns if policy else ()) if c.name in names and c.source]
            fields = {"event": event.event_id, "cond": source.quote(atom.span), "values": values}
            if declared:
                return message("why.typed_miss.cited", lang, **fields, source=declared[0].source)
            return message("why.typed_miss", lang, **fields)
    return None


_ZH_GRAINS = {"school year": "每学年", "semester": "每学期", "year": "每年", "day": "每日", "event": "每次"}


def _cap_grains(cap: ir.Cap) -> tuple[str, ...]:
    """issue 9 (B): a cap's grains, language-neutral: a period unit, ``event``, a column."""
    grains = [cap.per.value] if cap.per is not None else []
    if cap.per_event:
        grains.append("event")
    if cap.per_column is not None:
        grains.append(cap.per_column)
    return tuple(grains)


def cap_text(cap: CapExplained, lang: Lang = "en") -> str:
    """issue 9 (B): what a cap limits, in ``lang``: ``at most 50 hours per year of format online``
    / ``至多50学时 每年 限 format online``."""
    zh = lang == "zh"
    parts = [("至多" if zh else "at most ") + amount(cap.amount, cap.unit, lang)]
    for grain in cap.grains:
        parts.append(_ZH_GRAINS.get(grain, f"每 {grain}") if zh else f"per {grain}")
    if cap.of:
        parts.append(("限 " if zh else "of ") + cap.of)
    return " ".join(parts)


# ---------------------------------------------------------------------- why not excellent
#: facts whose values are figures with a unit
_FACT_UNITS = {"credits": "credits", "hours": "hours", "leave_days": "days"}


def _value_text(field: str, value: Any, lang: Lang) -> str:
    if value is None:
        return message("value.missing", lang, field=field)
    if isinstance(value, bool):
        shown = message("true" if value else "false", lang)
    elif isinstance(value, Decimal | int) and field in _FACT_UNITS:
        shown = amount(value, _FACT_UNITS[field], lang)
    elif isinstance(value, Decimal):
        shown = canonical(value)
    elif isinstance(value, dt.date):
        shown = value.isoformat()
    elif field == "grade":
        shown = grade_name(str(value), lang)
    else:
        shown = str(value)
    return message("value.is", lang, field=field, value=shown)


def _failing(cond: ir.Cond, facts: TeacherFacts) -> ir.Cond:
    """The part of a false condition to blame: the first false item of an ``and``, else the
    condition itself (every alternative of an ``or`` failed; a negation held inside)."""
    if isinstance(cond, ir.And):
        for item in cond.items:
            if not teacher_holds(item, facts):
                return _failing(item, facts)
    return cond


def _actual(cond: ir.Cond, tp: TeacherPeriod, facts: TeacherFacts, lang: Lang) -> str | None:
    """What this teacher actually has for a failed atom (None when nothing more can be said)."""
    match cond:
        case ir.Not(item):
            return _actual(item, tp, facts, lang)
        case ir.Compare(field, scope, _, _) | ir.Member(field, scope, _, _):
            value = facts.facts.get(field) if scope is ir.Scope.FACT else tp.teacher.get(field)
            return _value_text(field, value, lang)
        case ir.HasRole():
            roles = sorted(tp.teacher.roles)
            return message("value.roles", lang, roles=words(roles, lang)) if roles else message("value.no_roles", lang)
        case ir.Qualified(program):
            deciding = latest_assessment(tp.events, program)
            if deciding is None:
                return message("why.no_assessment", lang, program=program)
            return _deciding_text(program, deciding, lang)
        case ir.EventsExist(kind, exists):
            found = [e.event_id for e in tp.events if e.kind == kind]
            if exists or not found:
                return message("why.no_events", lang, kind=kind) if not found else None
            return message("value.events_of_kind", lang, kind=kind, events=words(found, lang))
        case ir.Ranked(rank):
            return message("value.not_ranked_any", lang) if rank is None else message("value.not_ranked", lang,
                                                                                         rank=rank)
    return None


def _not_excellent(lowered: core.Policy, tp: TeacherPeriod, ranked: frozenset[str], source: _Source,
                   lang: Lang) -> str | None:
    """Why this teacher-period is not excellent-eligible: the part of ``excellent when``
    that failed, with the teacher's actual value, and every penalty that rules it out."""
    if tp.row.excellent_eligible:
        return None
    reasons: list[str] = []
    if lowered.excellent is None:
        reasons.append(message("excellent.no_rule", lang))
    else:
        facts = outcome_facts(tp, ranked)
        if not teacher_holds(lowered.excellent, facts):
            blamed = _failing(lowered.excellent, facts)
            text = source.quote(blamed.span) or source.quote(lowered.excellent.span)
            actual = _actual(blamed, tp, facts, lang)
            reasons.append(message("excellent.failed", lang, cond=text, actual=actual) if actual is not None
                           else message("excellent.failed_bare", lang, cond=text))
    reasons.extend(message("excellent.penalty", lang, penalty=p.name, event=e.event_id)
                   for p, e in tp.penalties if p.not_excellent)
    return "; ".join(reasons) if lang == "en" else "；".join(reasons)


# ---------------------------------------------------------------------- events a requirement counted
def _requirement_events(tp: TeacherPeriod) -> dict[str, list[str]]:
    """Event id -> the requirements whose applying line counted it (``at least 2 reflections``
    counts reflections; ``qualified in program`` reads the deciding assessment)."""
    counted: dict[str, list[str]] = {}
    for decision in tp.decisions:
        match decision.line.measure:
            case core.CountOf(select):
                found = selected(select, tp.events)
            case core.QualifiedIn(program):
                deciding = latest_assessment(tp.events, program)
                found = [deciding] if deciding is not None else []
            case core.BestOf(_, groups):  # a best-of count reads the events of every group
                found = [e for _, g in groups if isinstance(g, core.CountOf) for e in selected(g.select, tp.events)]
            case _:
                found = []
        for event in found:
            counted.setdefault(event.event_id, []).append(decision.requirement.name)
    return counted


def _unit(measure: core.Measure) -> tuple[str | None, str | None]:
    match measure:
        case core.CreditedOf():
            return "credits", None
        case core.HoursOf():
            return "hours", None
        case core.CountOf(select):
            return "count", select.kind
        case core.QualifiedIn():
            return "qualified", None
        case core.BestOf(_, groups) if groups:  # the groups measure like the line's base
            return _unit(groups[0][1])
    return None, None


def explain_period(policy: ir.Policy, tp: TeacherPeriod, source: _Source | None = None, *,
                   lang: Lang = "en", ranked: frozenset[str] = frozenset()) -> Explanation:
    """Explain one teacher-period computed by :func:`~credit_rules.eval.interpreter.evaluate_detailed`.

    ``ranked``: the ranks that selected the teacher in this period (from
    :func:`~credit_rules.eval.interpreter.ranked_sets`), to say why ``excellent when ranked``
    failed; ``lang``: the language of every reason."""
    source = source or _Source(policy, None)
    row = tp.row
    # the award clause, then the rule's own rate and rounding (issue 9 A), each quoted
    clauses = {r.name: [r.award.span, *(c.span for c in (r.rate, r.rounding) if c is not None)]
               for r in policy.rules}
    layers = {r.name: _layer(policy, r.span) for r in policy.rules}
    hours_caps = {c.name for c in policy.caps if c.measure == "hours"}  # issue 9 (B)
    rules: list[RuleExplained] = []
    for rule in bind_teacher(core.lower(policy), tp.teacher).awards:
        awards = [a for a in tp.awards if a.rule.name == rule.name]
        credited = sum((a.credited for a in awards), Decimal(0))
        hours = sum((a.hours for a in awards), Decimal(0))
        why = None if (credited or hours) else _why_nothing(rule, tp, source, lang, policy)
        rules.append(RuleExplained(
            rule.name, rule.source, "; ".join(source.quote(span) for span in clauses[rule.name]), credited, hours,
            tuple(AwardExplained(a.event.event_id, a.event.day, a.event.kind, a.hours, a.credits, a.credited,
                                 a.cut_by, a.credited_hours if hours_caps.intersection(a.cut_by) else None,
                                 unrounded=_rounding_text(rule.rounding, a.unrounded),
                                 converted=_converted_text(policy, a.event, source))
                  for a in awards),
            why, layer=layers[rule.name],
        ))
    caps = tuple(
        CapExplained(cap.name, cap.source, cap.amount,
                     tuple(a.event.event_id for a in tp.awards if cap.name in a.cut_by),
                     layer=_layer(policy, cap.span), unit=cap.measure,
                     grains=_cap_grains(cap), of=source.quote(cap.of.span) if cap.of is not None else "",
                     dated=tuple((d.since, d.amount, d.source) for d in cap.dated))
        for cap in sorted(policy.caps, key=lambda c: c.name)
    )
    requirements: list[RequirementExplained] = []
    decided = {d.requirement.name: d for d in tp.decisions}
    for result in row.requirements:
        decision = decided[result.name.partition("/")[0]]  # NAME/YEAR: issue 9 (B)
        line = decision.line
        unit, kind = _unit(line.measure)
        requirements.append(RequirementExplained(
            result.name, line.source or decision.requirement.source, source.quote(line.span), result.required,
            result.actual, result.met, result.waived, max(result.required - result.actual, Decimal(0)),
            layer=_layer(policy, decision.requirement.span), unit=unit, kind=kind,
            detail=_line_detail(line.measure, tp, row.requirements, lang),
        ))
    carried: list[CarryExplained] = []
    traced = {t.rule: t for t in row.trace}
    for requirement in core.lower(policy).requirements:
        entry = traced.get(requirement.carry_trace_rule)
        if requirement.carry is not None and entry is not None:
            carried_amount = entry.credits if requirement.carry.unit == "credits" else entry.hours
            cap = requirement.carry
            carried.append(CarryExplained(
                requirement.name, entry.source, f"carry forward at most {canonical(cap.amount)} {cap.unit}",
                carried_amount, cap.unit, cap.amount))
    counted = {a.event.event_id for a in tp.awards} | {e.event_id for e in tp.leave_events}
    counted |= {e.event_id for _, e in tp.penalties}
    by_requirement = _requirement_events(tp)
    grade_event = tp.score_event.event_id if tp.score_event is not None else None
    kinds = {e.event_id: e.kind for e in tp.events}
    lowered = core.lower(policy)
    return Explanation(
        teacher_id=row.teacher_id, period_start=row.period_start, period_end=row.period_end,
        credits=row.credits, hours=row.hours, leave_days=row.leave_days,
        leave_events=tuple(e.event_id for e in tp.leave_events), grade=row.grade,
        excellent_eligible=row.excellent_eligible,
        penalties=tuple((p.name, p.source, e.event_id) for p, e in tp.penalties),
        rules=tuple(rules), caps=caps, requirements=tuple(requirements), met=row.met,
        unused_events=tuple((e.event_id, e.kind) for e in tp.events
                            if e.event_id not in counted and e.event_id not in by_requirement
                            and e.event_id != grade_event),
        excellent_reason=_not_excellent(lowered, tp, ranked, source, lang),
        requirement_events=tuple((event_id, kinds[event_id], tuple(names))
                                 for event_id, names in by_requirement.items() if event_id not in counted),
        grade_event=grade_event,
        excellent_source=policy.excellent.source if policy.excellent is not None else None,
        lang=lang,
        outcomes=_outcomes(policy, tp, source, lang),
        not_counted=tuple((e.event_id, e.kind, e.day, e.get("status")) for e in tp.not_counted),
        count_only=_count_only(policy, source),
        relative_windows=_relative_windows(policy, tp.teacher, source),
        carried=tuple(carried),
    )


def _line_detail(what: core.Measure, tp: TeacherPeriod, results: Sequence[RequirementResult],
                 lang: Lang = "en") -> str | None:
    """Which group of a best-of line counted (each group's amount), or which requirements
    satisfied a choice."""
    if isinstance(what, core.BestOf):
        amounts = best_group(what, tp.awards, tp.events, teacher_facts(tp.teacher, tp.events))
        if not amounts:
            return None
        unit, kind = _unit(what)

        def shown(value: Decimal) -> str:
            return amount(value, unit, lang, kind=kind) if unit is not None else canonical(value)

        label, best = max(amounts, key=lambda item: item[1])  # the first of equal groups
        others = words((message("detail.group", lang, group=lab, amount=shown(value))
                        for lab, value in amounts if lab != label), lang)
        return message("detail.best", lang, field=what.field, group=label, amount=shown(best)) + (
            message("detail.best_others", lang, groups=others) if others else "")
    if isinstance(what, core.ChoiceOf):
        by_name = {r.name: r for r in results}
        states = []
        for name in what.names:
            found = by_name.get(name)
            state = "detail.does_not_apply" if found is None else "state.met" if found.met else "state.not met"
            states.append(message("detail.group", lang, group=name, amount=message(state, lang)))
        return message("detail.choice", lang, states=words(states, lang))
    return None


def _described(cond: ir.Cond, lang: Lang = "en") -> str:
    """A condition in words, when the policy text is not at hand to quote."""
    match cond:
        case ir.RequirementMet(name):
            return message("detail.requirement_met", lang, requirement=name)
        case ir.Not(item):
            return message("detail.not", lang, cond=_described(item, lang))
        case ir.And(items) | ir.Or(items):
            joiner = message("detail.and" if isinstance(cond, ir.And) else "detail.or", lang)
            return "(" + joiner.join(_described(i, lang) for i in items) + ")"
        case ir.Compare(field, _, op, value):
            shown = str(value).lower() if isinstance(value, bool) else str(value)
            return f"{field} {op} {shown}"
    return type(cond).__name__


def _outcomes(policy: ir.Policy, tp: TeacherPeriod, source: _Source,
              lang: Lang = "en") -> tuple[OutcomeExplained, ...]:
    """Each outcome with its value from the ledger row, and the truth of each part of its
    condition (the items of its top `and`/`or`) over the finished row."""
    lowered = core.lower(policy)
    if not lowered.outcomes:
        return ()
    facts = outcome_facts(tp)
    out: list[OutcomeExplained] = []
    for outcome in lowered.outcomes:
        cond = outcome.cond
        items = cond.items if isinstance(cond, ir.And | ir.Or) else (cond,)
        parts = tuple((source.quote(item.span) or _described(item, lang), teacher_holds(item, facts))
                      for item in items)
        out.append(OutcomeExplained(outcome.name, outcome.source, source.quote(outcome.cond.span),
                                    bool(tp.row.outcomes.get(outcome.name)), parts))
    return tuple(out)


# ---------------------------------------------------------------------- issue 9 (D)


def _count_only(policy: ir.Policy, source: _Source) -> str | None:
    """The ``count only status …`` clause as written (None without one)."""
    if policy.count_only is None:
        return None
    return source.quote(policy.count_only.span) or \
        f"count only status in ({', '.join(sorted(policy.count_only.values))})"


def _relative_windows(policy: ir.Policy, teacher: Teacher, source: _Source,
                      ) -> tuple[tuple[str, str, dt.date | None, dt.date | None, dt.date | None], ...]:
    """Each period relative to the teacher (once per clause), with this teacher's dates."""
    out: dict[str, tuple[str, str, dt.date | None, dt.date | None, dt.date | None]] = {}
    for node in ir.walk(policy):
        if not isinstance(node, ir.Relative):
            continue
        clause = source.quote(node.span) or f"{node.unit} of {node.attribute}"
        window = date_window(node)
        day = teacher.get(node.attribute)
        if not isinstance(day, dt.date):
            out[clause] = (clause, node.attribute, None, None, None)
            continue
        bounds = relative_window(day, window.anchor, window.months, window.days, window.periods)
        out[clause] = (clause, node.attribute, day, bounds.start if bounds else None, bounds.end if bounds else None)
    return tuple(out.values())


def d_lines(e: Explanation, lang: Lang = "en") -> list[str]:
    """The lines of issue 9 (D) in an explanation: each relative period with the teacher's
    dates, and each event ``count only status …`` left out, with its status and the clause."""
    lines: list[str] = []
    for clause, attribute, day, start, end in e.relative_windows:
        if day is None:
            dates = message("relative.no_date", lang, attribute=attribute)
        elif start is None or end is None:
            dates = message("relative.beyond", lang, attribute=attribute, date=day.isoformat())
        else:
            dates = message("relative.dates", lang, attribute=attribute, date=day.isoformat(),
                            start=start.isoformat(), end=end.isoformat())
        lines.append(message("explain.relative_window", lang, clause=clause, dates=dates))
    for event_id, kind, day, status in e.not_counted:
        fields = {"kind": kind, "day": day.isoformat(), "clause": e.count_only or ""}
        why = (message("not_counted.status", lang, status=status, **fields) if status is not None
               else message("not_counted.no_status", lang, **fields))
        lines.append(message("explain.not_counted", lang, event=event_id, why=why))
    return lines
