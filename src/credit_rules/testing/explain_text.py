"""A short plain-text explanation of one ledger row, for test failures.

It says which rules credited what from which events, which caps cut them, which
penalties applied, and how far each requirement is from being met. The full
``credit-rules explain`` command gives more; this one fits under a failed test.

>>> print(explain_row(policy, tp))                                  # doctest: +SKIP
t1, 2021-01-01 .. 2025-12-31: credits 9, hours 110, leave days 0, met: no
  rule training_hours: 9 credits, 110 hours
    m1 2022-09-10 training 70 h: 7 credited
    m2 2022-10-10 training 20 h: 0 credited of 2 (cut by municipal_at_most)
  ...
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from credit_rules import ir
from credit_rules.eval.interpreter import Award, TeacherPeriod
from credit_rules.values import canonical


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _award_line(award: Award) -> str:
    event = award.event
    parts = [event.event_id, event.day.isoformat(), event.kind]
    if award.hours:
        parts.append(f"{canonical(award.hours)} h")
    view = [v for v in (award.view.category, award.view.level) if v]
    if view:
        parts.append("/".join(view))
    text = " ".join(parts) + f": {canonical(award.credited)} credited"
    if award.credited != award.credits:
        text += f" of {canonical(award.credits)}"
    if award.cut_by:
        text += f" (cut by {', '.join(award.cut_by)})"
    return text


def explain_row(policy: ir.Policy, tp: TeacherPeriod) -> str:
    """Explain one teacher-period of the interpreter in a few indented lines."""
    row = tp.row
    head = (
        f"{row.teacher_id}, {row.period_start.isoformat()} .. {row.period_end.isoformat()}: "
        f"credits {canonical(row.credits)}, hours {canonical(row.hours)}, leave days {row.leave_days}"
    )
    if row.grade is not None or policy.grade is not None:
        head += f", grade {row.grade or 'none'}"
    head += f", excellent-eligible: {_yes(row.excellent_eligible)}, met: {_yes(row.met)}"
    lines = [head]
    teacher = tp.teacher
    about = [f"title {teacher.title}"] if teacher.title else []
    if teacher.roles:
        about.append("roles " + ";".join(sorted(teacher.roles)))
    for name in ("hired_on", "retired_on", "workshop"):
        value = teacher.get(name)
        if value is not None:
            about.append(f"{name} {value}")
    if about:
        lines.append("  teacher: " + ", ".join(about))
    by_rule: dict[str, list[Award]] = defaultdict(list)
    for award in tp.awards:
        by_rule[award.rule.name].append(award)
    for name in sorted(by_rule):
        awards = by_rule[name]
        credited = sum((a.credited for a in awards), Decimal(0))
        hours = sum((a.hours for a in awards), Decimal(0))
        lines.append(f"  rule {name}: {canonical(credited)} credits, {canonical(hours)} hours")
        lines.extend(f"    {_award_line(a)}" for a in awards)
    silent = sorted(r.name for r in policy.rules if r.name not in by_rule and not isinstance(r.award, ir.Leave))
    if silent:
        lines.append(f"  rules that gave nothing: {', '.join(silent)}")
    if tp.leave_events:
        lines.append("  leave days from: " + ", ".join(e.event_id for e in tp.leave_events))
    for penalty, event in tp.penalties:
        effects = [w for w, on in (("no credits", penalty.void_credits), ("not excellent", penalty.not_excellent))
                   if on]
        lines.append(f"  penalty {penalty.name} on {event.event_id} ({event.day.isoformat()}): {', '.join(effects)}")
    for result in row.requirements:
        if result.waived:
            state = "waived"
        elif result.met:
            state = "met"
        else:
            state = f"short by {canonical(result.required - result.actual)}"
        lines.append(
            f"  requirement {result.name}: {canonical(result.actual)} of {canonical(result.required)}, {state}"
        )
    used = {a.event.event_id for a in tp.awards} | {e.event_id for e in tp.leave_events}
    used |= {e.event_id for _, e in tp.penalties}
    unused = [e.event_id for e in tp.events if e.event_id not in used]
    if unused:
        lines.append("  events no rule credited: " + ", ".join(unused))
    return "\n".join(lines)
