"""Building the items judged on a teacher's totals: requirements, caps and outcomes.

A mixin of the AST → IR builder (:mod:`credit_rules.compile.from_syntax`): requirement
lines (credits, hours, counts, qualifications; ``per year`` lines; best-of groups
``in any one of FIELD``; choices ``either requirement a or …``; ``since`` lines and
carry-forward), waivers and reductions; caps (percentages of a requirement, grains,
dated amounts ``cap NAME from DATE``); and the outcomes: grades, penalties, ranks.
Conditions, names and limits are the builder's; this module only assembles these items
and reports their own misuse.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import attrs

from credit_rules import ir
from credit_rules.compile.fields import TEACHER_FIELDS, Context, FieldType
from credit_rules.compile.limits import MAX_LITERAL
from credit_rules.errors import did_you_mean
from credit_rules.span import Span
from credit_rules.syntax import ast
from credit_rules.values import Period, PeriodKind, exact_div, is_finite_decimal_fraction

#: issue 9 (B): event columns a cap cannot have one register per value of.
_NOT_GRAIN_COLUMNS = {
    "event_id": "the event itself (write `per event`)", "at": "a time (write `per day`)",
    "hours": "a number", "credits": "a number", "score": "a number", "count": "a number",
    "words": "a number", "teacher_id": "the teacher (every cap is already per teacher)",
}


class RequirementsMixin:
    if TYPE_CHECKING:
        # provided by the builder (:class:`credit_rules.compile.from_syntax._Translator`)
        tree: ast.Policy
        requirement_names: set[str]
        choice_names: set[str]
        window_refused: bool

        def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None: ...
        def amount(self, value: Decimal, span: Span, what: str) -> Decimal: ...
        def opt_cond(self, node: ast.Cond | None, context: Context) -> ir.Cond | None: ...
        def cond(self, node: ast.Cond, context: Context) -> ir.Cond: ...
        def kind(self, kind: str, span: Span) -> str: ...
        def closed_value(self, field: str, value: str, span: Span) -> None: ...
        def resolve_field(self, name: str, context: Context, span: Span) -> tuple[ir.Scope, FieldType] | None: ...
        def scalar(self, value: ast.Value, field: str, ftype: FieldType) -> ir.Scalar | None: ...

    # ------------------------------------------------------------------ caps
    def cap(self, cap: ast.Cap, requirements: tuple[ir.Requirement, ...]) -> ir.Cap | None:
        amount = self.amount(cap.amount, cap.span, "the cap's percentage" if cap.percent_of else "the cap")
        if cap.percent_of is not None:
            target = next((r for r in requirements if r.name == cap.percent_of), None)
            if target is None:
                self.error("E108", f"unknown requirement `{cap.percent_of}`", cap.span,
                           did_you_mean(cap.percent_of, self.requirement_names)
                           or "a percentage cap names a requirement")
                return None
            base = next((line for line in target.lines if line.when is None and line.since is None), None)
            if base is None or not isinstance(base.measure, ir.MeasureCredits):
                self.error("E136",
                           f"requirement `{target.name}` has no unconditional credit amount to take a percentage of",
                           cap.span, "add a line `at least N credits` without `when`")
                return None
            amount = base.amount * cap.amount / Decimal(100)
            if abs(cap.amount) <= MAX_LITERAL:
                self.amount(amount, cap.span, f"the cap ({cap.amount}% of `{cap.percent_of}`)")
        per = {None: None, "school year": PeriodKind.SCHOOL_YEAR, "semester": PeriodKind.SEMESTER,
               "year": PeriodKind.YEAR, "day": PeriodKind.DAY}[cap.per]
        per_event, per_column = self.cap_grains(cap)
        return ir.Cap(cap.name, amount, per, self.opt_cond(cap.of, "event"), cap.source,
                      per_event=per_event, per_column=per_column, measure=cap.measure, span=cap.span)

    def cap_grains(self, cap: ast.Cap) -> tuple[bool, str | None]:
        """issue 9 (B): ``per event`` and ``per COLUMN`` of a cap, and their misuse."""
        per_event, column = False, None
        for grain in cap.grains:
            if grain.kind == "period":
                self.error("E182", f"cap `{cap.name}` names two periods (`per {cap.per}` and `per {grain.name}`)",
                           grain.span, "keep one period: a cap has one register per period")
            elif grain.kind == "event":
                per_event = True
            elif column is not None:
                self.error("E183", f"cap `{cap.name}` names two columns (`per {column}` and `per {grain.name}`)",
                           grain.span, "keep one column; combine it with a period, e.g. `per resource per day`")
            else:
                column = grain.name
                assert column is not None
                if column in _NOT_GRAIN_COLUMNS:
                    self.error("E184", f"`per {column}`: a cap's registers are per value of a text column, "
                               f"and `{column}` is {_NOT_GRAIN_COLUMNS[column]}", grain.span,
                               "name a text column of the events, such as `per course` or `per program`")
        if per_event and (column is not None or cap.per is not None):
            self.error("E185", f"cap `{cap.name}` is per event: it needs no other grain", cap.span,
                       "drop `per event`, or drop the other `per` (an event lies in one period and has one value)")
        return per_event, column

    def dated_caps(self, caps: tuple[ir.Cap, ...], items: tuple[ast.Item, ...]) -> tuple[ir.Cap, ...]:
        """Each ``cap NAME from DATE: at most N credits`` (issue 9, E2) joins its cap, by date."""
        dated: dict[str, list[ir.CapFrom]] = {}
        names = {c.name for c in caps} | {i.name for i in items if isinstance(i, ast.Cap)}
        for item in items:
            if not isinstance(item, ast.CapFrom):
                continue
            if item.cap not in names:
                self.error("E310", f"unknown cap `{item.cap}`", item.span,
                           did_you_mean(item.cap, names) or "a dated amount names a cap declared with `cap NAME: …`")
                continue
            self.amount(item.amount, item.span, "the cap")
            if any(c.name == item.cap and c.measure != "credits" for c in caps):
                self.error("E312", f"cap `{item.cap}` counts hours: a dated amount is in credits", item.span,
                           "give dated amounts to credit caps only")
                continue
            same = [d for d in dated.get(item.cap, []) if d.since == item.since]
            if same:
                self.error("E311", f"cap `{item.cap}` has two amounts from {item.since.isoformat()}", item.span,
                           "keep one amount per date", )
                continue
            dated.setdefault(item.cap, []).append(ir.CapFrom(item.since, item.amount, item.source, span=item.span))
        return tuple(
            attrs.evolve(c, dated=tuple(sorted(dated[c.name], key=lambda d: d.since))) if c.name in dated else c
            for c in caps)

    # ------------------------------------------------------------------ requirements
    def requirement_per(self, req: ast.Requirement, line: ast.AtLeast) -> PeriodKind | None:
        """issue 9 (B): ``per year`` on a requirement line, inside a window or cycle."""
        if line.per is None:
            return None
        if line.per != "year":
            self.error("E186", f"requirement `{req.name}`: `per {line.per}` is not a requirement grain",
                       line.span, f"write `per year` (calendar years), or `evaluate per {line.per}` in the header")
            return None
        if self.tree.header.window is None:
            self.error("E188", f"requirement `{req.name}` is per year, but the policy has no window or cycle",
                       line.span, "add `cycle YYYY-MM-DD .. YYYY-MM-DD`: the calendar years are those of the cycle")
            return None
        return PeriodKind.YEAR

    def requirement(self, req: ast.Requirement) -> ir.Requirement:
        lines: list[ir.RequirementLine] = []
        for line in req.lines:
            when = self.opt_cond(line.when, "teacher")
            measure: ir.Measure
            if isinstance(line, ast.RequireQualified):
                lines.append(ir.RequirementLine(Decimal(1), ir.MeasureQualified(line.program), when,
                                                line.source, span=line.span, since=line.since))
                continue
            if isinstance(line, ast.Either):
                lines.append(ir.RequirementLine(Decimal(1), self.choice(req.name, line), when,
                                                line.source, span=line.span))
                continue
            if isinstance(line, ast.AtLeastBest):
                self.amount(line.amount, line.span, "the requirement")
                lines.append(ir.RequirementLine(line.amount, self.best(line), when, line.source, span=line.span))
                continue
            match line.measure:
                case ast.MeasureCredits(of):
                    measure = ir.MeasureCredits(self.opt_cond(of, "event"))
                case ast.MeasureHours(of):
                    measure = ir.MeasureHours(self.opt_cond(of, "event"))
                case ast.MeasureCount(kind, where):
                    measure = ir.MeasureCount(self.kind(kind, line.measure.span), self.opt_cond(where, "event"))
            self.amount(line.amount, line.span, "the requirement")
            per = self.requirement_per(req, line)
            lines.append(ir.RequirementLine(line.amount, measure, when, line.source, per=per, span=line.span,
                                            since=line.since))
        if len({line.per for line in lines}) > 1:
            self.error("E187", f"requirement `{req.name}` mixes lines per year with lines for the whole period",
                       req.span, "write `per year` on every line of the requirement, or on none")
        units = {_unit_type(line.measure) for line in lines}
        if len(units) > 1:
            first = lines[0]
            for other in lines[1:]:
                if _unit_type(other.measure) is not _unit_type(first.measure):
                    self.error("E140", f"requirement `{req.name}` mixes units: "
                               f"{_unit_word(other.measure)} used where {_unit_word(first.measure)} are expected",
                               other.span, f"write every line of `{req.name}` in {_unit_word(first.measure)}")
        return ir.Requirement(req.name, tuple(lines), req.source, span=req.span,
                              carry=self.carry_forward(req, tuple(lines)))

    def carry_forward(self, req: ast.Requirement, lines: tuple[ir.RequirementLine, ...]) -> ir.CarryForward | None:
        """``carry forward at most N UNIT`` (issue 9, E2): its unit is the requirement's, and
        the policy must have several fixed ledger periods to carry between."""
        carry = req.carry
        if carry is None:
            return None
        self.amount(carry.amount, carry.span, "the carry-forward")
        if not lines:
            self.error("E301", f"requirement `{req.name}` has nothing to carry forward", req.span,
                       "add a line `at least N credits` (or hours) before `carry forward`")
            return None
        measure = lines[0].measure
        unit = ("credits" if isinstance(measure, ir.MeasureCredits)
                else "hours" if isinstance(measure, ir.MeasureHours) else None)
        if unit is None:
            self.error("E302", f"requirement `{req.name}` is measured in {_unit_word(measure)}: only credits or "
                       "hours carry forward", carry.span, "carry forward a requirement written in credits or hours")
            return None
        if carry.unit != unit:
            self.error("E303", f"`{req.name}` counts {unit}, but its carry-forward is in {carry.unit}",
                       carry.span, f"write `carry forward at most {carry.amount} {unit}`")
            return None
        return ir.CarryForward(carry.amount, carry.unit, carry.source, span=carry.span)

    def best(self, line: ast.AtLeastBest) -> ir.MeasureBest:
        """``… in any one of FIELD (a, b)``: the groups are the values of an event field."""
        base: ir.MeasureCredits | ir.MeasureHours | ir.MeasureCount
        match line.measure:
            case ast.MeasureCredits(of):
                base = ir.MeasureCredits(self.opt_cond(of, "event"))
            case ast.MeasureHours(of):
                base = ir.MeasureHours(self.opt_cond(of, "event"))
            case ast.MeasureCount(kind, where):
                base = ir.MeasureCount(self.kind(kind, line.measure.span), self.opt_cond(where, "event"))
        field = "day" if line.field == "at" else line.field
        values: list[ir.Scalar] = []
        resolved = self.resolve_field(field, "event", line.span)
        if resolved is not None and resolved[1] is FieldType.LIST:
            # an event may hold several values of a list: it would sit in several groups
            self.error("E277", f"`{field}` is a list of text: its values cannot be groups", line.span,
                       "group by a single-valued column, or require each value with "
                       f"`of {field} has VALUE`")
            resolved = None
        if resolved is not None:
            _, ftype = resolved
            for value in line.values:
                scalar = self.scalar(value, field, ftype)
                if scalar is None:
                    continue
                if scalar in values:
                    self.error("E261", f"the group `{_shown(value)}` is named twice", value.span,
                               "name each group once")
                    continue
                values.append(scalar)
        return ir.MeasureBest(base, field, tuple(values))

    def choice(self, name: str, line: ast.Either) -> ir.MeasureChoice:
        """``either requirement a or requirement b``: other requirements, none of them a choice."""
        names: list[str] = []
        for other in line.names:
            if other == name:
                self.error("E262", f"requirement `{name}` names itself as a choice", line.span,
                           "a choice names other requirements")
            elif other not in self.requirement_names:
                self.error("E108", f"unknown requirement `{other}`", line.span,
                           did_you_mean(other, self.requirement_names - {name})
                           or "declare it with `require NAME: …`")
            elif other in self.choice_names:
                self.error("E263", f"`{other}` is itself a choice; choices do not nest", line.span,
                           f"name the requirements of `{other}` here instead")
            elif other in names:
                self.error("E261", f"requirement `{other}` is named twice in this choice", line.span,
                           "name each requirement once")
            else:
                names.append(other)
        return ir.MeasureChoice(tuple(names))

    def waiver(self, waiver: ast.Waiver) -> ir.Waiver:
        for name in waiver.names:
            if name not in self.requirement_names:
                self.error("E108", f"unknown requirement `{name}`", waiver.span,
                           did_you_mean(name, self.requirement_names) or "waive names requirements")
        return ir.Waiver(waiver.names, self.cond(waiver.when, "teacher"), waiver.source, span=waiver.span)

    def reduction(self, node: ast.Reduction, window: Period | None) -> ir.Reduction | None:
        if node.attribute not in ("hired_on",) and node.attribute not in ("retired_on",):
            self.error("E101", f"`{node.attribute}` is not a roster date", node.span, "use `hired_on`")
            return None
        if window is None:
            if not self.window_refused:
                self.error("E112", "a reduction per year of the window needs a window", node.span)
            return None
        self.amount(node.numerator, node.span, "the reduction's numerator")
        self.amount(node.denominator, node.span, "the reduction's denominator")
        if node.denominator == 0 or not is_finite_decimal_fraction(node.numerator, node.denominator):
            self.error("E121", f"{node.numerator}/{node.denominator} is not an exact decimal", node.span)
            return None
        return ir.Reduction(exact_div(node.numerator, node.denominator), node.attribute, node.source, span=node.span)

    # ------------------------------------------------------------------ outcomes
    def grade(self, node: ast.GradeFromAssessment | ast.GradeFromScore) -> ir.GradeRule:
        if isinstance(node, ast.GradeFromAssessment):
            return ir.GradeFromAssessment(node.program, node.source, span=node.span)
        for threshold in node.thresholds:
            self.closed_value("grade", threshold.grade, threshold.span)
            self.amount(threshold.minimum, threshold.span, "the score threshold")
        self.closed_value("grade", node.otherwise, node.span)
        minimums = [t.minimum for t in node.thresholds]
        if minimums != sorted(minimums, reverse=True):
            self.error("E141", "grade thresholds must go from the highest score down", node.span,
                       "e.g. `excellent at 90, qualified at 60, else unqualified`")
        return ir.GradeFromScore(node.program, tuple((t.grade, t.minimum) for t in node.thresholds),
                                 node.otherwise, node.source, span=node.span)

    def penalty(self, node: ast.Penalty) -> ir.Penalty:
        if node.on is None:
            self.error("E133", f"penalty `{node.name}` does not say which events trigger it", node.span,
                       "add `on KIND`, e.g. `on reprimand`")
        if not (node.void_credits or node.not_excellent):
            self.error("E137", f"penalty `{node.name}` has no effect", node.span,
                       "add `no credits` and/or `not excellent`")
        kind = self.kind(node.on.kind, node.on.span) if node.on else "reprimand"
        return ir.Penalty(node.name, kind, self.opt_cond(node.where, "event"), node.void_credits,
                          node.not_excellent, node.source, span=node.span)

    def rank(self, node: ast.Rank) -> ir.Rank:
        if node.program is None:
            self.error("E138", f"rank `{node.name}` does not say what it ranks by", node.span,
                       'add `by score in program "…"`')
        if not node.tops:
            self.error("E139", f"rank `{node.name}` selects nobody", node.span, "add `top N` lines")
        tops: list[ir.Top] = []
        for top in node.tops:
            if top.field is not None and top.field not in TEACHER_FIELDS:
                self.error("E101", f"unknown teacher attribute `{top.field}`", top.span,
                           did_you_mean(top.field, TEACHER_FIELDS))
            values = tuple(v.text if isinstance(v, ast.Word | ast.Text) else str(getattr(v, "value", v))
                           for v in top.values)
            if top.count < 1:
                self.error("E139", "`top` needs at least 1", top.span)
            self.amount(Decimal(top.count), top.span, "the number of places")
            tops.append(ir.Top(top.count, top.mode, top.field, values))
        among = self.opt_cond(node.among, "outcome")
        if among is not None and _mentions_ranked(among):
            self.error("E107", "a rank cannot depend on ranks", node.span)
        return ir.Rank(node.name, node.program or "", among, tuple(tops), node.source, span=node.span)


def _mentions_ranked(cond: ir.Cond) -> bool:
    return bool(ir.nodes(cond, ir.Ranked))


def _unit_type(measure: ir.Measure) -> type:
    """The kind of amount a requirement line compares (a best group measures like its base)."""
    return type(measure.base) if isinstance(measure, ir.MeasureBest) else type(measure)

def _shown(value: ast.Value) -> str:
    return value.text if isinstance(value, ast.Word | ast.Text) else str(getattr(value, "value", value))

def _unit_word(measure: ir.Measure) -> str:
    match measure:
        case ir.MeasureBest(base):
            return _unit_word(base)
        case ir.MeasureChoice():
            return "choices of requirements"
        case ir.MeasureCredits():
            return "credits"
        case ir.MeasureHours():
            return "hours"
        case ir.MeasureCount(kind):
            return f"counts of {kind}"
    return "qualification"
