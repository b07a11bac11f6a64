"""The explanations of the affected teachers shown in a report, and the caps that cut
differently for them.

The engines' ledgers say which rule credited what (the ``trace``) but not which cap cut an
award; the reference interpreter's explanation (:mod:`credit_rules.eval.explain`) does. It
evaluates one teacher at a time, so only the teachers the report explains are evaluated,
under NEW (the explanation shown) and OLD (its awards, to compare the caps' cuts), from their own
events; a policy that ranks teachers (ranks need everyone) is evaluated over all of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import polars as pl

from credit_rules import core, ir
from credit_rules.api import named_only
from credit_rules.eval.explain import explain_period
from credit_rules.eval.explained import Explanation
from credit_rules.eval.interpreter import TeacherPeriod, evaluate_detailed, ranked_sets
from credit_rules.eval.messages import Lang
from credit_rules.io import EventTable, Roster
from credit_rules.io.frames import frame_to_events, frame_to_teachers
from credit_rules.io.units import reject_unconvertible
from credit_rules.records import Teacher
from credit_rules.report.impact import CapMove

#: How many affected teachers a report explains by default (the first ones in the
#: order of :data:`credit_rules.report.impact.CHANGE_ORDER`).
EXPLAIN_LIMIT = 200

Period = tuple[str, dt.date, dt.date]


@attrs.frozen
class Explained:
    """NEW's explanation of each chosen teacher (every period, in ledger order), and the
    caps whose cut events differ between OLD and NEW for them (empty when OLD could not be
    explained from the same events: another time zone or input contract)."""

    by_teacher: dict[str, list[Explanation]]
    caps: tuple[CapMove, ...]


def explain_teachers(old: ir.Policy, new: ir.Policy, table: EventTable, roster: Roster | None,
                     teacher_ids: Sequence[str], *, as_of: dt.date | None, lang: Lang,
                     compare_old: bool = True) -> Explained:
    """Explain ``teacher_ids`` under ``new`` (in ``lang``), and compare the caps' cuts
    with ``old`` (when ``compare_old``)."""
    if not teacher_ids:
        return Explained({}, ())
    periods, ranked = _evaluated(new, table, roster, teacher_ids, as_of=as_of)
    wanted = set(teacher_ids)
    after: dict[str, list[Explanation]] = {}
    for tp, chosen in zip(periods, ranked, strict=True):
        if tp.teacher.teacher_id in wanted:
            after.setdefault(tp.teacher.teacher_id, []).append(explain_period(new, tp, lang=lang, ranked=chosen))
    if not compare_old:
        return Explained(after, ())
    # OLD is needed for its caps' cuts only: the awards say them, no explanation is built
    before, _ = _evaluated(old, table, roster, teacher_ids, as_of=as_of)
    return Explained(after, _cap_moves(old, new, _cuts(before, wanted), _cuts(periods, wanted)))


def _evaluated(policy: ir.Policy, table: EventTable, roster: Roster | None, teacher_ids: Sequence[str], *,
               as_of: dt.date | None) -> tuple[list[TeacherPeriod], list[frozenset[str]]]:
    """The interpreter's teacher-periods of ``teacher_ids`` (of everyone when the policy
    ranks), with the ranks that selected each."""
    table = reject_unconvertible(core.lower(policy), table)  # issue 9 (A): as `explain` does
    wanted = set(teacher_ids)
    everyone = bool(policy.ranks)  # ranks compare every teacher: evaluate them all
    frame = table.frame if everyone else table.frame.filter(pl.col("teacher_id").is_in(list(wanted)))
    roster_frame = roster.frame if roster is not None else None
    if roster_frame is not None and not everyone:
        roster_frame = roster_frame.filter(pl.col("teacher_id").is_in(list(wanted)))
    teachers = frame_to_teachers(roster_frame) if roster_frame is not None else {}
    # SPEC §5: a teacher named only on rejected rows has rows too (as in the engines)
    named = [t for t in named_only(table, roster, teachers) if everyone or t in wanted]
    teachers.update({t: Teacher(t) for t in named})
    periods = evaluate_detailed(policy, frame_to_events(frame, policy.timezone), teachers, as_of=as_of)
    ranked = ranked_sets(policy, periods) if policy.ranks else [frozenset[str]()] * len(periods)
    return periods, ranked


def _cuts(periods: Sequence[TeacherPeriod], wanted: set[str]) -> dict[Period, dict[str, frozenset[str]]]:
    """Per teacher-period of ``wanted``: each cap and the events it cut (as ``explain`` says)."""
    out: dict[Period, dict[str, frozenset[str]]] = {}
    for tp in periods:
        if tp.teacher.teacher_id not in wanted:
            continue
        cuts: dict[str, set[str]] = {}
        for award in tp.awards:
            for cap in award.cut_by:
                cuts.setdefault(cap, set()).add(award.event.event_id)
        out[(tp.teacher.teacher_id, tp.period.start, tp.period.end)] = {
            cap: frozenset(events) for cap, events in cuts.items()}
    return out


def _cap_moves(old: ir.Policy, new: ir.Policy, old_cuts: dict[Period, dict[str, frozenset[str]]],
               new_cuts: dict[Period, dict[str, frozenset[str]]]) -> tuple[CapMove, ...]:
    old_caps, new_caps = {c.name for c in old.caps}, {c.name for c in new.caps}
    moves: dict[str, list[int]] = {}  # cap -> [rows, cut before, cut after]
    for period in old_cuts.keys() & new_cuts.keys():
        was, now = old_cuts[period], new_cuts[period]
        for cap in sorted(was.keys() | now.keys()):
            cut_before, cut_after = was.get(cap, frozenset()), now.get(cap, frozenset())
            if cut_before != cut_after:
                tally = moves.setdefault(cap, [0, 0, 0])
                tally[0] += 1
                tally[1] += len(cut_before)
                tally[2] += len(cut_after)
    return tuple(
        CapMove(cap, "added" if cap not in old_caps else "removed" if cap not in new_caps else "both",
                rows, cut_before, cut_after)
        for cap, (rows, cut_before, cut_after) in sorted(moves.items(), key=lambda kv: (-kv[1][0], kv[0])))
