"""A short plain-text explanation of one ledger row, for test failures.

It renders the same :class:`~credit_rules.eval.explain.Explanation` that
``credit-rules explain`` shows as tables, in a few indented lines that fit under a
failed test.

>>> print(explain_row(policy, tp))                                  # doctest: +SKIP
t1, 2021-01-01 .. 2025-12-31: credits 9, hours 110, leave days 0, met: no
  rule training_hours: 9 credits, 110 hours
    m1 2022-09-10 training 70 h: 7 credited
    m2 2022-10-10 training 20 h: 0 credited of 2 (cut by municipal_at_most)
  ...
"""

from __future__ import annotations

from credit_rules import ir
from credit_rules.eval.explain import AwardExplained, explain_period
from credit_rules.eval.interpreter import TeacherPeriod
from credit_rules.values import canonical


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _award_line(award: AwardExplained) -> str:
    parts = [award.event_id, award.day.isoformat(), award.kind]
    if award.hours:
        parts.append(f"{canonical(award.hours)} h")
    text = " ".join(parts) + f": {canonical(award.credited)} credited"
    if award.credited != award.awarded:
        text += f" of {canonical(award.awarded)}"
    if award.cut_by:
        text += f" (cut by {', '.join(award.cut_by)})"
    return text


def explain_row(policy: ir.Policy, tp: TeacherPeriod) -> str:
    """Explain one teacher-period of the interpreter in a few indented lines."""
    e = explain_period(policy, tp)
    head = (
        f"{e.teacher_id}, {e.period_start.isoformat()} .. {e.period_end.isoformat()}: "
        f"credits {canonical(e.credits)}, hours {canonical(e.hours)}, leave days {e.leave_days}"
    )
    if e.grade is not None or policy.grade is not None:
        head += f", grade {e.grade or 'none'}"
    head += f", excellent-eligible: {_yes(e.excellent_eligible)}, met: {_yes(e.met)}"
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
    for rule in e.rules:
        if rule.awards:
            lines.append(f"  rule {rule.rule}: {canonical(rule.credited)} credits, {canonical(rule.hours)} hours")
            lines.extend(f"    {_award_line(a)}" for a in rule.awards)
    silent = [rule.rule for rule in e.rules if not rule.awards]
    if silent:
        lines.append(f"  rules that gave nothing: {', '.join(silent)}")
    if e.leave_events:
        lines.append("  leave days from: " + ", ".join(e.leave_events))
    effects = {p.name: [w for w, on in (("no credits", p.void_credits), ("not excellent", p.not_excellent)) if on]
               for p in policy.penalties}
    for name, _, event_id in e.penalties:
        lines.append(f"  penalty {name} on {event_id}: {', '.join(effects[name])}")
    for r in e.requirements:
        state = "waived" if r.waived else ("met" if r.met else f"short by {canonical(r.shortfall)}")
        lines.append(f"  requirement {r.name}: {canonical(r.actual)} of {canonical(r.required)}, {state}")
    lines.extend(f"  {c.describe()}" for c in e.carried)  # issue 9 (E2)
    if e.unused_events:
        lines.append("  events no rule credited: " + ", ".join(event_id for event_id, _ in e.unused_events))
    return "\n".join(lines)
