"""What an explanation holds: one teacher-period's credits rule by rule, the caps that cut,
the requirement lines and outcomes, each record with its text in English or Chinese
(:mod:`credit_rules.eval.messages`) and its JSON. :mod:`credit_rules.eval.explain` fills
them from the interpreter's decisions; the command line and the impact report print them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs

from credit_rules.eval.messages import Lang, amount, message, words
from credit_rules.values import canonical


def _layer_json(layer: str | None) -> dict[str, str]:
    """The ``layer`` key of a layered policy's explanation (absent otherwise: same JSON as before)."""
    return {"layer": layer} if layer is not None else {}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day is not None else None


@attrs.frozen
class AwardExplained:
    event_id: str
    day: dt.date
    kind: str
    hours: Decimal
    awarded: Decimal
    credited: Decimal
    cut_by: tuple[str, ...]
    credited_hours: Decimal | None = None  # issue 9 (B): when an hours cap cut it
    #: how the rule's rounding made the award, from its exact credits (a decimal, or p/q)
    unrounded: str | None = None
    #: the event's minutes or days as study hours, citing the policy's conversion (issue 9 A)
    converted: str | None = None

    def text(self, lang: Lang = "en") -> str:
        """One line of an explanation: the event, what it earned, what was credited and why
        not all of it (a cap, a penalty), and how its hours and credits were worked out."""
        fields = dict(event=self.event_id, day=self.day, kind=self.kind,
                      awarded=amount(self.awarded, "credits", lang), credited=amount(self.credited, "credits", lang))
        line = (message("explain.award_hours", lang, hours=amount(self.hours, "hours", lang), **fields) if self.hours
                else message("explain.award", lang, **fields))
        if self.credited_hours is not None:  # issue 9 (B): an hours cap admitted part
            line += message("explain.hours_admitted", lang, admitted=amount(self.credited_hours, "hours", lang))
        if self.cut_by:
            line += message("explain.cut_by", lang, caps=words(self.cut_by, lang))
        elif self.credited != self.awarded:
            line += message("explain.voided", lang)
        notes = [t for t in (self.converted, self.unrounded) if t]  # issue 9 (A)
        return f"{line} ({'; '.join(notes)})" if notes else line


@attrs.frozen
class RuleExplained:
    rule: str
    source: str | None
    text: str
    credited: Decimal
    hours: Decimal
    awards: tuple[AwardExplained, ...]
    why_nothing: str | None  # set when the rule gave nothing
    layer: str | None = None  # a layered policy: the layer (policy and file:line) the rule comes from


@attrs.frozen
class CapExplained:
    cap: str
    source: str | None
    amount: Decimal
    cut: tuple[str, ...]  # events it cut
    layer: str | None = None
    # issue 9 (B): what the cap limits (credits or hours), per what (``year``, ``event``,
    # a column), and of which awards (the `of` condition as written); see :func:`cap_text`
    unit: str = "credits"
    grains: tuple[str, ...] = ()
    of: str = ""
    #: dated amounts (issue 9, E2): (from, amount, source), each for the cap's periods starting on or after it
    dated: tuple[tuple[dt.date, Decimal, str | None], ...] = ()

    def amounts_text(self, lang: Lang = "en") -> str:
        """``7 credits`` or ``7 credits; from 2024-01-01 at most 9 credits`` (the amount, then
        the dated amounts)."""
        return amount(self.amount, self.unit, lang) + "".join(
            message("explain.cap_from", lang, day=d.isoformat(), amount=amount(a, "credits", lang))
            for d, a, _ in self.dated)


@attrs.frozen
class RequirementExplained:
    name: str
    source: str | None
    text: str
    required: Decimal
    actual: Decimal
    met: bool
    waived: bool
    shortfall: Decimal
    layer: str | None = None
    #: what ``required`` and ``actual`` count: credits, hours, count (of ``kind`` events) or
    #: qualified (1 or 0); None for a measure the catalog has no unit for
    unit: str | None = None
    kind: str | None = None
    #: a best-of line: which group counted and what each reached; a choice: which
    #: requirements satisfied it (None for any other line)
    detail: str | None = None


@attrs.frozen
class OutcomeExplained:
    """A named outcome, its clause, and each part of its condition with its truth."""

    name: str
    source: str | None
    text: str
    holds: bool
    parts: tuple[tuple[str, bool], ...]


@attrs.frozen
class CarryExplained:
    """An amount carried into a requirement from the teacher's previous period (issue 9, E2)."""

    requirement: str
    source: str | None
    text: str  # the clause: `carry forward at most N UNIT`
    amount: Decimal
    unit: str  # credits | hours
    cap: Decimal = Decimal(0)  # N of `carry forward at most N`

    def describe(self, lang: Lang = "en") -> str:
        return message("explain.carried", lang, requirement=self.requirement,
                       amount=amount(self.amount, self.unit, lang), cap=amount(self.cap, self.unit, lang))


@attrs.frozen
class Explanation:
    """One teacher in one period."""

    teacher_id: str
    period_start: dt.date
    period_end: dt.date
    credits: Decimal
    hours: Decimal
    leave_days: int
    leave_events: tuple[str, ...]
    grade: str | None
    excellent_eligible: bool
    penalties: tuple[tuple[str, str | None, str], ...]  # (penalty, source, event_id)
    rules: tuple[RuleExplained, ...]
    caps: tuple[CapExplained, ...]
    requirements: tuple[RequirementExplained, ...]
    met: bool
    unused_events: tuple[tuple[str, str], ...]  # (event_id, kind) no rule counted
    #: why ``excellent_eligible`` is false (None when it is true)
    excellent_reason: str | None = None
    #: events a requirement counted though no rule credited them: (event_id, kind, requirements)
    requirement_events: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    #: the assessment that decided the grade
    grade_event: str | None = None
    #: the clause ``excellent when`` cites (shown with ``excellent_reason``)
    excellent_source: str | None = None
    lang: Lang = "en"
    #: (event_id, kind, day, status) of the events `count only status …` leaves out, and the
    #: clause they fail (issue 9, D; rendered by :func:`d_lines`)
    not_counted: tuple[tuple[str, str, dt.date, str | None], ...] = ()
    count_only: str | None = None
    #: (clause, roster date, its value, start, end) of each period relative to the teacher
    #: (issue 9, D): the value and bounds are None for a teacher without the date
    relative_windows: tuple[tuple[str, str, dt.date | None, dt.date | None, dt.date | None], ...] = ()
    outcomes: tuple[OutcomeExplained, ...] = ()
    carried: tuple[CarryExplained, ...] = ()  # issue 9 (E2): carry-forward into this period

    def to_json(self) -> dict[str, Any]:
        def dec(value: Decimal) -> str:
            return canonical(value)

        return {
            "teacher_id": self.teacher_id,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "credits": dec(self.credits), "hours": dec(self.hours),
            "leave_days": self.leave_days, "leave_events": list(self.leave_events),
            "grade": self.grade, "excellent_eligible": self.excellent_eligible,
            "penalties": [{"penalty": p, "source": s, "event": e} for p, s, e in self.penalties],
            "rules": [{
                "rule": r.rule, "source": r.source, "text": r.text, "credited": dec(r.credited),
                "hours": dec(r.hours), "why_nothing": r.why_nothing, **_layer_json(r.layer),
                "awards": [{"event": a.event_id, "day": a.day.isoformat(), "kind": a.kind, "hours": dec(a.hours),
                            "awarded": dec(a.awarded), "credited": dec(a.credited), "cut_by": list(a.cut_by),
                            **({"unrounded": a.unrounded} if a.unrounded is not None else {}),
                            **({"converted": a.converted} if a.converted is not None else {}),
                            **({"credited_hours": dec(a.credited_hours)} if a.credited_hours is not None else {})}
                           for a in r.awards],
            } for r in self.rules],
            "caps": [{"cap": c.cap, "source": c.source, "amount": dec(c.amount), "cut": list(c.cut),
                      "unit": c.unit, "grains": list(c.grains), "of": c.of, **_layer_json(c.layer),
                      **({"dated": [{"from": d.isoformat(), "amount": dec(a), "source": src}
                                    for d, a, src in c.dated]} if c.dated else {})}
                     for c in self.caps],
            "requirements": [{
                "name": r.name, "source": r.source, "text": r.text, "required": dec(r.required),
                "actual": dec(r.actual), "met": r.met, "waived": r.waived, "shortfall": dec(r.shortfall),
                **_layer_json(r.layer),
                "unit": r.unit,
                **({"detail": r.detail} if r.detail is not None else {}),
            } for r in self.requirements],
            "met": self.met,
            "unused_events": [{"event": e, "kind": k} for e, k in self.unused_events],
            "excellent_reason": self.excellent_reason,
            "requirement_events": [{"event": e, "kind": k, "requirements": list(names)}
                                   for e, k, names in self.requirement_events],
            "grade_event": self.grade_event,
            "excellent_source": self.excellent_source,
            "lang": self.lang,
            "not_counted": [{"event": e, "kind": k, "day": d.isoformat(), "status": st}
                            for e, k, d, st in self.not_counted],
            "count_only": self.count_only,
            "relative_windows": [{"clause": c, "attribute": a, "date": _iso(v), "start": _iso(lo), "end": _iso(hi)}
                                 for c, a, v, lo, hi in self.relative_windows],
            **({"outcomes": [{
                "outcome": o.name, "source": o.source, "text": o.text, "holds": o.holds,
                "parts": [{"part": text, "holds": holds} for text, holds in o.parts],
            } for o in self.outcomes]} if self.outcomes else {}),
            **({"carried": [{"requirement": c.requirement, "source": c.source, "text": c.text,
                             "amount": dec(c.amount), "unit": c.unit} for c in self.carried]}
               if self.carried else {}),
        }
