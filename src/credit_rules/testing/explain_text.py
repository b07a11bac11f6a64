"""A short plain-text explanation of one ledger row, for test failures.

It renders the same :class:`~credit_rules.eval.explain.Explanation` that
``credit-rules explain`` shows as tables, in a few indented lines that fit under a
failed test.

>>> print(explain_row(policy, tp))                                  # doctest: +SKIP
t1, 2021-01-01 .. 2025-12-31: 9 credits, 110 hours, 0 leave days, excellent-eligible: no, met: no
  rule training_hours: 9 credits, 110 hours
    m1 2022-09-10 training 70 hours: 7 credits credited
    m2 2022-10-10 training 20 hours: 0 credits credited of 2 credits (cut by municipal_at_most)
  ...

``explain_row(policy, tp, "zh")`` says the same in Chinese (``9学分，110学时，请假0天``).
"""

from __future__ import annotations

from decimal import Decimal

from credit_rules import ir
from credit_rules.eval.explain import d_lines, explain_period
from credit_rules.eval.explained import AwardExplained, RequirementExplained
from credit_rules.eval.interpreter import TeacherPeriod
from credit_rules.eval.messages import Lang, amount, figure, grade_name, message, state_name, words, yes_no


def _award_line(award: AwardExplained, lang: Lang = "en") -> str:
    parts = [award.event_id, award.day.isoformat(), award.kind]
    if award.hours:
        parts.append(amount(award.hours, "hours", lang))
    text = message("row.award", lang, head=" ".join(parts), credited=amount(award.credited, "credits", lang))
    if award.credited != award.awarded:
        text += message("row.award_of", lang, awarded=amount(award.awarded, "credits", lang))
    if award.cut_by:
        text += message("explain.cut_by", lang, caps=words(award.cut_by, lang))
    elif award.credited != award.awarded:
        text += message("explain.voided", lang)
    return text


def _requirement_figure(r: RequirementExplained, value: Decimal, lang: Lang) -> str:
    return figure(value) if r.unit is None else amount(value, r.unit, lang, kind=r.kind)


def explain_row(policy: ir.Policy, tp: TeacherPeriod, lang: Lang = "en", *,
                ranked: frozenset[str] = frozenset()) -> str:
    """Explain one teacher-period of the interpreter in a few indented lines, in English or
    Chinese (``lang``); ``ranked``: the ranks that selected the teacher in this period."""
    e = explain_period(policy, tp, lang=lang, ranked=ranked)
    head = message("row.head", lang, teacher=e.teacher_id, start=e.period_start.isoformat(),
                   end=e.period_end.isoformat(), credits=amount(e.credits, "credits", lang),
                   hours=amount(e.hours, "hours", lang), leave=amount(e.leave_days, "leave_days", lang))
    if e.grade is not None or policy.grade is not None:
        head += message("row.grade", lang, grade=grade_name(e.grade, lang) if e.grade else message("none", lang))
    head += message("row.tail", lang, excellent=yes_no(e.excellent_eligible, lang), met=yes_no(e.met, lang))
    lines = [head]
    teacher = tp.teacher
    about = [message("row.title", lang, title=teacher.title)] if teacher.title else []
    if teacher.roles:
        about.append(message("row.roles", lang, roles=";".join(sorted(teacher.roles))))
    for name in ("hired_on", "retired_on", "workshop"):
        value = teacher.get(name)
        if value is not None:
            about.append(f"{name} {value}")
    if about:
        lines.append(message("row.teacher", lang, about=words(about, lang)))
    for rule in e.rules:
        if rule.awards:
            lines.append(message("row.rule", lang, rule=rule.rule, credits=amount(rule.credited, "credits", lang),
                                 hours=amount(rule.hours, "hours", lang)))
            lines.extend(f"    {_award_line(a, lang)}" for a in rule.awards)
    silent = [rule.rule for rule in e.rules if not rule.awards]
    if silent:
        lines.append(message("row.silent", lang, rules=words(silent, lang)))
    if e.leave_events:
        lines.append("  " + message("explain.leave", lang, events=words(e.leave_events, lang)))
    effects = {p.name: [message(key, lang) for key, on in (("row.no_credits", p.void_credits),
                                                            ("row.not_excellent", p.not_excellent)) if on]
               for p in policy.penalties}
    for name, _, event_id in e.penalties:
        lines.append(message("row.penalty", lang, penalty=name, event=event_id, effects=words(effects[name], lang)))
    if e.excellent_reason is not None:
        lines.append("  " + message("explain.not_excellent", lang, reason=e.excellent_reason))
    for r in e.requirements:
        shortfall = _requirement_figure(r, r.shortfall, lang)
        state = (state_name("waived", lang) if r.waived else state_name("met", lang) if r.met
                 else message("state.short_by", lang, shortfall=shortfall) if r.unit != "qualified"
                 else state_name("not met", lang))
        lines.append(message("row.requirement", lang, name=r.name, actual=_requirement_figure(r, r.actual, lang),
                             required=_requirement_figure(r, r.required, lang), state=state)
                     + (f" ({r.detail})" if r.detail else ""))
    lines.extend(f"  {c.describe(lang)}" for c in e.carried)  # issue 9 (E2)
    by_requirement: dict[str, list[str]] = {}
    for event_id, _, names in e.requirement_events:
        for name in names:
            by_requirement.setdefault(name, []).append(event_id)
    for name, event_ids in by_requirement.items():
        lines.append("  " + message("explain.counted_by", lang, requirement=name, events=words(event_ids, lang)))
    for o in e.outcomes:
        why = message("list.sep", lang).join(message("explain.outcome_part", lang, part=text, value=yes_no(holds, lang))
                                             for text, holds in o.parts)
        lines.append("  " + message("explain.outcome", lang, name=o.name, value=yes_no(o.holds, lang), why=why))
    if e.unused_events:
        lines.append(message("row.unused", lang, events=words((event_id for event_id, _ in e.unused_events), lang)))
    lines.extend("  " + line for line in d_lines(e, lang))  # issue 9 (D)
    return "\n".join(lines)
