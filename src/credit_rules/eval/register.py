"""The credit register of SPEC §4 for the interpreter: each award of a teacher-period, in
time order, credited up to the room its caps have left (the order of caps irrelevant),
and :class:`Award`, what one rule gives one event before and after it.

``eval/bulk/register.py`` is the same register over whole columns; the engine tests
compare the two.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from credit_rules import core
from credit_rules.core.nodes import Policy as CorePolicy
from credit_rules.core.nodes import award_hours_rate
from credit_rules.eval.conditions import AwardView, event_test, view_key
from credit_rules.records import ORDER_KEY, Event
from credit_rules.values import ZERO


class Award(NamedTuple):
    """What one rule gives one event, before and after the register.

    A named tuple, not an attrs class: every award of a period is built twice (before and
    after the register), and a frozen attrs instance costs four times as much to build
    (issue 10: one teacher in 1 ms). It is as immutable; :meth:`_replace` changes a field.
    """

    rule: core.Award
    event: Event
    credits: Decimal
    hours: Decimal
    view: AwardView
    credited: Decimal = ZERO
    cut_by: tuple[str, ...] = ()  # caps that bound this award (for explain)
    #: exact credits before the rule's rounding; pooled: the rule's running total after this
    #: award (None: the rule does not round)
    unrounded: Fraction | None = None
    credited_hours: Decimal = ZERO  # issue 9 (B): the hours the hours caps admitted



def register(policy: CorePolicy, awards: list[Award], void: bool) -> list[Award]:
    """The credit register of SPEC §4: caps taken in time order, order of caps irrelevant.
    Hours caps, per-event and per-column registers: :class:`credit_rules.core.Cap`."""
    if not awards:
        return []
    ordered = sorted(awards, key=_register_order)
    if void:
        return [_settled(award, ZERO, award.cut_by, ZERO) for award in ordered]
    used: dict[tuple[object, ...], Decimal] = {}
    out: list[Award] = []
    # Each cap with its test and, for a register per ledger period (no grain, event or
    # column), its one key: Cap.key asked once, not once per award.
    caps = [(cap, event_test(cap.of), cap.key(dt.date.min, "", None)
             if cap.grain is None and not cap.per_event and cap.per_column is None else None)
            for cap in policy.caps]
    hours_caps = any(cap.measure == "hours" for cap in policy.caps)
    rates = {rule.name: award_hours_rate(rule) for rule in {a.rule.name: a.rule for a in awards}.values()}
    # The caps whose condition holds, tested once per distinct value of what they read.
    key_of = view_key([cap.of for cap in policy.caps])
    under: dict[Any, list[tuple[core.Cap, tuple[object, ...] | None]]] = {}
    for award in ordered:
        event, view = award.event, award.view
        if key_of is None:
            holding = [(cap, one_key) for cap, holds, one_key in caps if holds(view)]
        elif (holding := under.get(landing := key_of(view))) is None:  # type: ignore[assignment]
            holding = under[landing] = [(cap, one_key) for cap, holds, one_key in caps if holds(view)]
        applying = [
            (cap, key) for cap, one_key in holding
            if (key := one_key or cap.key(event.day, event.event_id, event.get(cap.per_column)
                                          if cap.per_column is not None else None)) is not None
        ]
        if not applying:  # under no cap: credited in full (the steps below, with nothing to take)
            out.append(_settled(award, award.credits, (), award.hours))
            continue
        cut_by: list[str] = []
        admitted, credited = award.hours, award.credits
        if hours_caps:  # without one, every award's hours are admitted and its credits stand
            admitted = _room(applying, "hours", admitted, award.hours, used, cut_by)
            rate = rates[award.rule.name]
            if admitted < award.hours and rate is None:
                admitted = ZERO  # a whole award that does not fit is not admitted
            credited = award.credits if admitted == award.hours else admitted * (rate or ZERO)
        credited = _room(applying, "credits", credited, award.credits, used, cut_by)
        if credited == 0 and award.credits > 0:
            admitted = ZERO  # cut to 0: it uses up none of the caps
        for cap, key in applying:
            used[key] = used.get(key, ZERO) + (admitted if cap.measure == "hours" else credited)
        out.append(_settled(award, credited, tuple(cut_by), admitted))
    return out


def _room(applying: list[tuple[core.Cap, tuple[object, ...]]], measure: str, amount: Decimal,
          wanted: Decimal, used: dict[tuple[object, ...], Decimal], cut_by: list[str]) -> Decimal:
    """``amount`` cut to the room the applying caps of ``measure`` have left; each cap with
    less room than ``wanted`` is named in ``cut_by``."""
    for cap, key in applying:
        if cap.measure == measure:
            free = max(cap.amount - used.get(key, ZERO), ZERO)
            if free < wanted:
                cut_by.append(cap.name)
            amount = min(amount, free)
    return amount


def _register_order(award: Award) -> tuple[int, str, str]:
    """The register's order: the event's time order (``Event.order_key``), then the rule's name."""
    return *ORDER_KEY(award.event), award.rule.name


def _settled(award: Award, credited: Decimal, cut_by: tuple[str, ...], credited_hours: Decimal) -> Award:
    """``award`` after the register (built directly: ``_replace`` costs twice as much)."""
    return Award(award.rule, award.event, award.credits, award.hours, award.view, credited, cut_by,
                 award.unrounded, credited_hours)
