"""Which rules, conditions, caps and requirement lines a policy's tests exercised.

Coverage is read off the interpreter's detailed results (no hook inside the
interpreter, so it cannot change a result): an award names its rule, ``cut_by`` names
the caps that bound it, and the applied requirement line, waivers, penalties, grade,
ranks and excellence are re-derived from the same facts the interpreter used.

An item is covered when a test made it *do* something:

- a rule: it credited an event (or counted a leave day); its ``where``: some event
  passed it (the rule awarded); its ``when``: it held for a teacher;
- a cap: it cut an award;
- a requirement line: it was the line that applied to a teacher (first ``when`` that holds);
- a waiver: it waived a requirement; a reduction: it reduced one; a penalty: it fired;
- ``grade``: a teacher got a grade; ``excellent``: a teacher was excellent-eligible;
  a rank: it selected a teacher.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import attrs

from credit_rules import core, ir
from credit_rules.eval.conditions import teacher_holds
from credit_rules.eval.interpreter import TeacherPeriod, outcome_facts, ranked_sets
from credit_rules.span import Span


@attrs.frozen
class Item:
    """One coverable piece of a policy, at a line of its file."""

    key: str    # stable id, e.g. "rule training_hours where"
    label: str  # what to print
    line: int


def items(policy: ir.Policy) -> list[Item]:
    """Every coverable item of ``policy``, in line order (of a layered policy, those written
    in its own file)."""
    found: list[Item] = []

    def add(key: str, label: str, span: Span) -> None:
        if policy.layers and span.file != policy.file:
            return  # written in a parent layer (`extends`): the parent's file and its own tests cover it
        found.append(Item(key, label, span.line))

    for rule in policy.rules:
        add(f"rule {rule.name}", f"rule {rule.name}", rule.span)
        if rule.where is not None:
            add(f"rule {rule.name} where", f"where of rule {rule.name}", rule.where.span)
        if rule.when is not None:
            add(f"rule {rule.name} when", f"when of rule {rule.name}", rule.when.span)
    for cap in policy.caps:
        add(f"cap {cap.name}", f"cap {cap.name} (cut an award)", cap.span)
    for requirement in policy.requirements:
        for index, line in enumerate(requirement.lines):
            label = f"requirement {requirement.name}"
            if len(requirement.lines) > 1:
                label += f" line {index + 1}"
            add(f"requirement {requirement.name} {index}", label, line.span)
    for index, waiver in enumerate(policy.waivers):
        add(f"waiver {index}", f"waive {', '.join(waiver.names)}", waiver.span)
    if policy.reduction is not None:
        add("reduction", "reduce credit requirements", policy.reduction.span)
    for penalty in policy.penalties:
        add(f"penalty {penalty.name}", f"penalty {penalty.name}", penalty.span)
    if policy.grade is not None:
        add("grade", "grade", policy.grade.span)
    for rank in policy.ranks:
        add(f"rank {rank.name}", f"rank {rank.name}", rank.span)
    if policy.excellent is not None:
        add("excellent", "excellent", policy.excellent.span)
    for outcome in policy.outcomes:
        add(f"outcome {outcome.name}", f"outcome {outcome.name} (held)", outcome.span)
    found.sort(key=lambda i: (i.line, i.key))
    return found


def exercised(policy: ir.Policy, results: Sequence[TeacherPeriod]) -> Iterator[str]:
    """Keys of the items these interpreter results exercised (read from the decisions the
    interpreter recorded, never decided again here)."""
    lowered = core.lower(policy)
    for tp in results:
        facts = outcome_facts(tp)
        for award in tp.awards:
            yield f"rule {award.rule.name}"
            if award.rule.select.where is not None:
                yield f"rule {award.rule.name} where"
            for cap in award.cut_by:
                yield f"cap {cap}"
        for leave in lowered.leave:
            if any(e.kind == leave.select.kind for e in tp.leave_events) and teacher_holds(leave.when, facts):
                yield f"rule {leave.name}"
                if leave.select.where is not None:
                    yield f"rule {leave.name} where"
        for rule in policy.rules:
            if rule.when is not None and teacher_holds(rule.when, facts):
                yield f"rule {rule.name} when"
        for decision in tp.decisions:
            yield f"requirement {decision.requirement.name} {decision.line.index}"
        for index, waiver in enumerate(policy.waivers):
            if teacher_holds(waiver.when, facts) and any(
                r.waived and r.name in waiver.names for r in tp.row.requirements
            ):
                yield f"waiver {index}"
        if any(d.factor != 1 for d in tp.decisions):
            yield "reduction"
        for penalty, _ in tp.penalties:
            yield f"penalty {penalty.name}"
        if tp.row.grade is not None:
            yield "grade"
        if tp.row.excellent_eligible:
            yield "excellent"
        for name, held in tp.row.outcomes.items():
            if held:
                yield f"outcome {name}"
    for ranked in ranked_sets(policy, results):
        for name in ranked:
            yield f"rank {name}"


@attrs.frozen
class FileCoverage:
    path: str
    items: tuple[Item, ...]
    covered: frozenset[str]

    @property
    def percent(self) -> float:
        return 100.0 if not self.items else 100.0 * sum(i.key in self.covered for i in self.items) / len(self.items)

    @property
    def counts(self) -> tuple[int, int]:
        return sum(i.key in self.covered for i in self.items), len(self.items)

    def lines(self, source: str | None = None) -> list[str]:
        """One line per item: line number, covered or not, what it is (and the source line)."""
        text = source.splitlines() if source else []
        out = []
        width = min(max((len(i.label) for i in self.items), default=0), 44)
        for item in self.items:
            mark = "covered    " if item.key in self.covered else "NOT covered"
            quoted = text[item.line - 1].strip() if 0 < item.line <= len(text) else ""
            label = item.label if len(item.label) <= width else item.label[: width - 1] + "…"
            out.append(f"{item.line:>5}  {mark}  {label:<{width}}  {quoted}".rstrip())
        return out


class Coverage:
    """Collects what tests exercised, per policy file; pass it to the runner as ``recorder``."""

    def __init__(self) -> None:
        self._items: dict[str, list[Item]] = {}
        self._covered: dict[str, set[str]] = {}

    def add_policy(self, policy: ir.Policy) -> None:
        self._items.setdefault(policy.file, items(policy))
        self._covered.setdefault(policy.file, set())

    def record(self, policy: ir.Policy, results: Sequence[TeacherPeriod]) -> None:
        self.add_policy(policy)
        self._covered[policy.file].update(exercised(policy, results))

    def files(self) -> list[FileCoverage]:
        return [FileCoverage(path, tuple(found), frozenset(self._covered[path]))
                for path, found in self._items.items()]

    @property
    def percent(self) -> float:
        covered = total = 0
        for file in self.files():
            c, t = file.counts
            covered, total = covered + c, total + t
        return 100.0 if total == 0 else 100.0 * covered / total
