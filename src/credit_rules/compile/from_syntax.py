"""Translate the surface AST into the checked IR, resolving every name.

Diagnostics raised here are about names and types: unknown fields, kinds, levels,
requirements; a number where a date is expected; an award without its program.

And about limits, so that both engines compute every policy that passes ``check``
exactly and in bounded time: every number a policy states (award amounts, block sizes,
caps, requirement amounts, the conversion, reduction fractions, score thresholds, ``top
N``, numbers compared with decimal fields) is at most :data:`MAX_LITERAL` (E114); a
window lies within the years :data:`WINDOW_YEARS` (E115); and a policy evaluated per
semester or school year over its window has at most :data:`MAX_PERIODS` periods (E116).
"""

from __future__ import annotations

import datetime as dt
import difflib
from decimal import Decimal
from typing import Literal

import attrs
import pendulum

from credit_rules import ir
from credit_rules.compile import typed
from credit_rules.compile.fields import (
    CLOSED_VALUES,
    EVENT_FIELDS,
    FACT_FIELDS,
    OPEN_VALUES,
    ROLE_VALUES,
    TEACHER_FIELDS,
    FieldType,
)
from credit_rules.errors import Diagnostic, Severity, did_you_mean
from credit_rules.schema import KNOWN_KINDS, UNIT_EVENT_COLUMNS
from credit_rules.span import Span
from credit_rules.syntax import ast
from credit_rules.values import (
    DEFAULT_TIMEZONE,
    Period,
    PeriodKind,
    exact_div,
    is_finite_decimal_fraction,
    periods_within,
)

Context = Literal["event", "teacher", "outcome"]

#: The largest number a policy may state (credits, hours, scores, counts, percentages).
MAX_LITERAL = Decimal(1_000_000)
#: The years a window may reach (inclusive).
WINDOW_YEARS = (1900, 2199)
#: issue 9 (B): event columns a cap cannot have one register per value of.
_NOT_GRAIN_COLUMNS = {
    "event_id": "the event itself (write `per event`)", "at": "a time (write `per day`)",
    "hours": "a number", "credits": "a number", "score": "a number", "count": "a number",
    "words": "a number", "teacher_id": "the teacher (every cap is already per teacher)",
}

#: The most ledger periods (semesters or school years) a window may hold.
MAX_PERIODS = 400
#: The largest N of `within N years|months|days of …` / `in the first N … after …`.
MAX_RELATIVE = 10_000


def from_syntax(tree: ast.Policy, file: str = "<input>") -> tuple[ir.Policy | None, list[Diagnostic]]:
    """Resolve ``tree``; return the IR (None if it could not be built) and the diagnostics."""
    translator = _Translator(tree, file)
    policy = translator.policy()
    return policy, translator.diagnostics


class _Translator:
    def __init__(self, tree: ast.Policy, file: str):
        self.tree = tree
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.rank_names = {item.name for item in tree.items if isinstance(item, ast.Rank)}
        self.requirement_names = {item.name for item in tree.items if isinstance(item, ast.Requirement)}
        #: requirements whose lines are choices (`either requirement a or …`): choices do not nest
        self.choice_names = {item.name for item in tree.items if isinstance(item, ast.Requirement)
                             and any(isinstance(line, ast.Either) for line in item.lines)}
        self.window_refused = False
        # issue 9 (C): declared columns and vocabularies, read before anything uses a name
        self.declared: dict[tuple[ir.Scope, str], ir.ColumnDecl] = {}
        self.has_columns = any(isinstance(item, ast.Columns) for item in tree.items)
        self.vocab: dict[str, tuple[str, ...]] = {}
        self.column_decls = self.declarations()
        self.vocabularies = self.declared_vocabularies()

    # ------------------------------------------------------------------ reporting
    def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint))

    def amount(self, value: Decimal, span: Span, what: str) -> Decimal:
        """``value`` (E114 when it is beyond :data:`MAX_LITERAL`)."""
        if abs(value) > MAX_LITERAL:
            shown = str(value) if len(str(value)) <= 24 else f"{str(value)[:20]}…"
            self.error("E114", f"{what} `{shown}` is beyond the largest number a policy may state "
                       f"({MAX_LITERAL:,})", span, "check the number for extra digits")
        return value

    def warn(self, code: str, message: str, span: Span, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, message, span, hint, Severity.WARNING))

    # ------------------------------------------------------------------ policy
    def policy(self) -> ir.Policy:
        header = self.tree.header
        timezone = header.timezone or DEFAULT_TIMEZONE
        try:
            pendulum.timezone(timezone)
        except Exception:
            self.error("E110", f"unknown timezone `{timezone}`", header.span,
                       'use an IANA name such as "Asia/Shanghai"')
            timezone = DEFAULT_TIMEZONE
        window: Period | None = None
        refused = False  # a window out of range: no second error for its absence
        evaluate = {
            None: PeriodKind.WINDOW, "window": PeriodKind.WINDOW,
            "school year": PeriodKind.SCHOOL_YEAR, "semester": PeriodKind.SEMESTER,
            "year": PeriodKind.YEAR, "day": PeriodKind.DAY,
        }[header.evaluate]
        if header.window is not None:
            first, last = WINDOW_YEARS
            if header.window.start > header.window.end:
                self.error("E111", "the window ends before it starts", header.window.span, "swap the two dates")
            elif header.window.start.year < first or header.window.end.year > last:
                refused = self.window_refused = True
                self.error("E115", f"the window must lie within the years {first}..{last}",
                           header.window.span, "check the years of both dates")
            else:
                window = Period(header.window.start, header.window.end)
                if evaluate is not PeriodKind.WINDOW:
                    count = len(periods_within(evaluate, window))
                    if count > MAX_PERIODS:
                        self.error("E116", f"evaluated per {evaluate.value}, the window "
                                   f"holds {count} periods; at most {MAX_PERIODS}", header.window.span,
                                   "shorten the window, or evaluate over the window")
        if evaluate is PeriodKind.WINDOW and window is None and not refused:
            self.error(
                "E112", "a policy evaluated over its window needs a window", header.span,
                "add `window YYYY-MM-DD .. YYYY-MM-DD` (or `cycle …`), or `evaluate per semester`",
            )
        rate = self.rate(header.conversion)
        items = self.tree.items
        self.check_unique_names(items)
        rules = tuple(r for r in (self.rule(i, rate) for i in items if isinstance(i, ast.Rule)) if r)
        self.check_exceptions(rules)
        requirements = tuple(self.requirement(i) for i in items if isinstance(i, ast.Requirement))
        caps = tuple(self.cap(i, requirements) for i in items if isinstance(i, ast.Cap))
        waivers = tuple(self.waiver(i) for i in items if isinstance(i, ast.Waiver))
        reductions = [i for i in items if isinstance(i, ast.Reduction)]
        grades = [i for i in items if isinstance(i, ast.GradeFromAssessment | ast.GradeFromScore)]
        excellents = [i for i in items if isinstance(i, ast.Excellent)]
        for what, found in (("reduce", reductions), ("grade", grades), ("excellent", excellents)):
            for extra in found[1:]:
                self.error("E113", f"a policy has at most one `{what}` statement", extra.span,
                           "merge them into one", )
        return ir.Policy(
            name=header.name, title=header.title, source=header.source, timezone=timezone,
            window=window, evaluate=evaluate, rate=rate, rules=rules,
            caps=self.dated_caps(tuple(c for c in caps if c is not None), items),
        requirements=requirements, waivers=waivers,
            reduction=self.reduction(reductions[0], window) if reductions else None,
            grade=self.grade(grades[0]) if grades else None,
            excellent=ir.Excellent(self.cond(excellents[0].when, "outcome"), excellents[0].source,
                                   span=excellents[0].span) if excellents else None,
            penalties=tuple(self.penalty(i) for i in items if isinstance(i, ast.Penalty)),
            ranks=tuple(self.rank(i) for i in items if isinstance(i, ast.Rank)),
            invariants=tuple(
                ir.Invariant(i.name, self.cond(i.cond, "outcome"), i.source, span=i.span)
                for i in items if isinstance(i, ast.Invariant)
            ),
            file=self.file, span=self.tree.span,
            units=self.units(header),
            columns=self.column_decls, vocabularies=self.vocabularies,
            outcomes=tuple(
                ir.Outcome(i.name, self.cond(i.cond, "outcome"), i.source, span=i.span)
                for i in items if isinstance(i, ast.Outcome)
            ),
            count_only=self.count_only(header.count_only) if header.count_only is not None else None,
        )

    def check_exceptions(self, rules: tuple[ir.Rule, ...]) -> None:
        names = {r.name: r for r in rules}
        for rule in rules:
            target = rule.exception_to
            if target is None:
                continue
            if target not in names or target == rule.name:
                self.error("E108", f"unknown rule `{target}`", rule.span,
                           did_you_mean(target, [n for n in names if n != rule.name])
                           or "`exception to` names another rule of this policy")
            elif names[target].exception_to is not None:
                self.error("E109", f"`{target}` is itself an exception; exceptions do not chain", rule.span,
                           f"make `{rule.name}` an exception to `{names[target].exception_to}` instead")

    def check_unique_names(self, items: tuple[ast.Item, ...]) -> None:
        seen: dict[str, ast.Item] = {}
        for item in items:
            name = getattr(item, "name", None)
            if name is None or isinstance(item, ast.Test):
                continue
            if name in seen:
                self.diagnostics.append(Diagnostic(
                    "E103", f"the name `{name}` is used twice", item.span, "give each statement its own name",
                    notes=(("first used here", seen[name].span),),
                ))
            else:
                seen[name] = item

    def rate(self, conversion: ast.Conversion | None) -> Decimal | None:
        if conversion is None:
            return None
        self.amount(conversion.hours, conversion.span, "the conversion's hours")
        self.amount(conversion.credits, conversion.span, "the conversion's credits")
        if conversion.hours <= 0 or conversion.credits <= 0:
            self.error("E120", "a conversion needs positive amounts", conversion.span)
            return None
        if not is_finite_decimal_fraction(conversion.credits, conversion.hours):
            self.error(
                "E121", f"{conversion.hours} hours = {conversion.credits} credits is not an exact decimal rate",
                conversion.span, "credit-rules computes exactly; use a rate like `10 hours = 1 credit`",
            )
            return None
        return exact_div(conversion.credits, conversion.hours)

    # ------------------------------------------------------------------ names and values
    def kind(self, kind: str, span: Span) -> str:
        if "kind" in self.vocab:
            return self.declared_kind(kind, span)
        if kind in KNOWN_KINDS:
            return kind
        if kind.endswith("s") and kind[:-1] in KNOWN_KINDS:
            return kind[:-1]
        if kind.endswith("es") and kind[:-2] in KNOWN_KINDS:
            return kind[:-2]
        hint = did_you_mean(kind, KNOWN_KINDS)
        self.warn("W101", f"event kind `{kind}` is not one of the SPEC's kinds", span,
                  hint or "events of this kind must carry exactly this name")
        return kind

    def closed_value(self, field: str, value: str, span: Span) -> None:
        if field in self.vocab:
            self.in_vocabulary(field, value, span)
            return
        allowed = CLOSED_VALUES.get(field)
        if allowed is not None and value not in allowed:
            self.error("E102", f"unknown {field} `{value}`", span,
                       did_you_mean(value, allowed) or f"one of: {', '.join(allowed)}")
        opened = OPEN_VALUES.get(field)
        if opened is not None and value not in opened:
            hint = did_you_mean(value, opened)
            if hint:
                self.warn("W102", f"{field} `{value}` is not one of the usual values", span, hint)

    def role(self, role: str, span: Span) -> str:
        if "role" in self.vocab:
            self.in_vocabulary("role", role, span)
            return role
        if role not in ROLE_VALUES:
            self.error("E102", f"unknown role `{role}`", span,
                       did_you_mean(role, ROLE_VALUES) or f"one of: {', '.join(ROLE_VALUES)}")
        return role

    def resolve_field(self, name: str, context: Context, span: Span) -> tuple[ir.Scope, FieldType] | None:
        if context == "event":
            if name in EVENT_FIELDS:
                return ir.Scope.EVENT, EVENT_FIELDS[name]
            if (ir.Scope.EVENT, name) in self.declared:
                return ir.Scope.EVENT, _FIELD_TYPES[self.declared[ir.Scope.EVENT, name].type]
            if self.has_columns:
                self.undeclared(name, ir.Scope.EVENT, span)
                return None
            close = difflib.get_close_matches(name, EVENT_FIELDS, n=1, cutoff=0.75)
            if close:
                self.error("E101", f"unknown event field `{name}`", span, f"did you mean `{close[0]}`?")
                return None
            if name in UNIT_EVENT_COLUMNS:  # issue 9 (A): converted before any rule sees them
                self.error("E914", f"`{name}` become study hours before any rule sees them", span,
                           "filter on `hours` (the document's hours)")
                return None
            return ir.Scope.EVENT, FieldType.TEXT  # any other column is an attribute (SPEC §2)
        if name in TEACHER_FIELDS:
            return ir.Scope.TEACHER, TEACHER_FIELDS[name]
        if (ir.Scope.TEACHER, name) in self.declared:
            return ir.Scope.TEACHER, _FIELD_TYPES[self.declared[ir.Scope.TEACHER, name].type]
        if name in FACT_FIELDS:
            if context == "outcome":
                return ir.Scope.FACT, FACT_FIELDS[name]
            self.error(
                "E104", f"`{name}` is a result of the policy and cannot decide who a rule applies to", span,
                "use roster attributes (title, role, hired_on…) here; "
                "results may be used in `excellent` and invariants",
            )
            return None
        known = [*TEACHER_FIELDS, *(FACT_FIELDS if context == "outcome" else ()),
                 *(n for scope, n in self.declared if scope is ir.Scope.TEACHER)]
        self.error("E101", f"unknown teacher attribute `{name}`", span,
                   did_you_mean(name, [*known, "role"]) or f"one of: {', '.join(known)}")
        return None

    def scalar(self, value: ast.Value, field: str, ftype: FieldType) -> ir.Scalar | None:
        if ftype is FieldType.DATE:
            if isinstance(value, ast.DateValue):
                return value.value
            self.error("E105", f"`{field}` is a date; compare it with a date", value.span, "write YYYY-MM-DD")
            return None
        if ftype is FieldType.DECIMAL:
            if isinstance(value, ast.Number):
                return self.amount(value.value, value.span, f"`{field}` compared with")
            self.error("E105", f"`{field}` is a number; compare it with a number", value.span)
            return None
        if ftype is FieldType.BOOL:
            if isinstance(value, ast.Bool):
                return value.value
            self.error("E105", f"`{field}` is true or false", value.span)
            return None
        if isinstance(value, ast.Word | ast.Text):
            self.closed_value(field, value.text, value.span)
            return value.text
        if isinstance(value, ast.Number):
            return value.value
        if isinstance(value, ast.DateValue):
            return value.value.isoformat()
        self.error("E105", f"`{field}` is text; compare it with a word or quoted text", value.span)
        return None

    # ------------------------------------------------------------------ conditions
    def cond(self, node: ast.Cond, context: Context) -> ir.Cond:
        match node:
            case ast.And(items):
                return ir.And(tuple(self.cond(i, context) for i in items), span=node.span)
            case ast.Or(items):
                return ir.Or(tuple(self.cond(i, context) for i in items), span=node.span)
            case ast.Not(item):
                return ir.Not(self.cond(item, context), span=node.span)
            case ast.Compare(field, op, value):
                field = "day" if (context == "event" and field == "at") else field
                resolved = self.resolve_field(field, context, node.span)
                if resolved is None:
                    return ir.And((), span=node.span)
                scope, ftype = resolved
                typed_cond = self.typed_compare(node, field, scope, ftype, context)
                if typed_cond is not None:
                    return typed_cond
                if field == "kind" and isinstance(value, ast.Word | ast.Text):
                    value = ast.Word(self.kind(value.text, value.span), span=value.span)
                scalar = self.scalar(value, field, ftype)
                if ftype in (FieldType.TEXT, FieldType.BOOL) and op not in ("=", "!=") and scalar is not None:
                    self.error("E106", f"`{field}` can only be compared with = or !=", node.span)
                return ir.Compare(field, scope, op, scalar if scalar is not None else "", span=node.span)
            case ast.Member(field, values, negated):
                resolved = self.resolve_field(field, context, node.span)
                if resolved is None:
                    return ir.And((), span=node.span)
                scope, ftype = resolved
                if ftype is FieldType.LIST:
                    self.error("E277", f"`{field}` is a list of text", node.span,
                               f"ask whether it holds a value with `{field} has VALUE`")
                    return ir.And((), span=node.span)
                if (scope, field) in self.declared and ftype in (FieldType.DECIMAL, FieldType.DATE):
                    # a typed column: `x in (a, b)` is `x = a or x = b`, each exact (issue 9 C)
                    each = tuple(self.cond(ast.Compare(field, "=", v, span=node.span), context) for v in values)
                    either = ir.Or(each, span=node.span)
                    return ir.Not(either, span=node.span) if negated else either
                scalars = [self.scalar(v, field, ftype) for v in values]
                return ir.Member(field, scope, frozenset(s for s in scalars if s is not None), negated,
                                 span=node.span)
            case ast.HasRole(role):
                if context == "event":
                    self.error("E107", "`role` is about the teacher, not the event", node.span,
                               "move it to a `when` clause")
                return ir.HasRole(self.role(role, node.span), span=node.span)
            case ast.DateBound(op, date):
                if context != "event":
                    self.error("E107", "`on or before` / `on or after` filter events", node.span,
                               "use it in a `where` clause; for roster dates compare e.g. `hired_on <= 2022-03-01`")
                return ir.DateBound(op, date, span=node.span)
            case ast.Qualified(program):
                if context == "event":
                    self.error("E107", "`qualified in program` is about the teacher, not one event", node.span,
                               "move it to a `when` clause")
                return ir.Qualified(program, span=node.span)
            case ast.EventsExist(kind, exists):
                if context == "event":
                    self.error("E107", f"`{'any' if exists else 'no'} {kind}` is about the teacher", node.span,
                               "move it to a `when` clause")
                return ir.EventsExist(self.kind(kind, node.span), exists, span=node.span)
            case ast.RequirementMet(name):
                if context != "outcome":
                    self.error("E260", f"`requirement {name} met` is a result of the policy and cannot decide "
                               "who a rule or requirement applies to", node.span,
                               "use it in `outcome`, `excellent` and invariants")
                if name not in self.requirement_names:
                    self.error("E108", f"unknown requirement `{name}`", node.span,
                               did_you_mean(name, self.requirement_names) or "declare it with `require NAME: …`")
                return ir.RequirementMet(name, span=node.span)
            case ast.Ranked(rank):
                if context != "outcome":
                    self.error("E107", "`ranked` can only be used in `excellent` and invariants", node.span)
                if rank is not None and rank not in self.rank_names:
                    self.error("E108", f"unknown rank `{rank}`", node.span,
                               did_you_mean(rank, self.rank_names) or "declare it with `rank NAME: …`")
                return ir.Ranked(rank, span=node.span)
            case ast.ArithCompare():
                return self.arith_compare(node, context)
            case ast.Has(field, value):
                return self.has(node, field, value, context)
            case ast.Relative():
                return self.relative(node, context)
        raise AssertionError(node)  # pragma: no cover

    # ------------------------------------------------------------------ issue 9 (D)
    def relative(self, node: ast.Relative, context: Context) -> ir.Cond:
        """``within N … of ATTR`` / ``in the first N … after ATTR``: an event filter on a
        roster date (E107 elsewhere, E101/E105 for a name that is not one, E240 for N)."""
        phrase = "within …" if node.unit in ("years", "months", "days") else "in the first … after"
        if context != "event":
            self.error("E107", f"`{phrase}` compares an event's date with the teacher's", node.span,
                       "use it in a `where` or `of` clause; for the teacher alone compare the date, "
                       "e.g. `hired_on >= 2023-09-01`")
        dates = [name for name, ftype in TEACHER_FIELDS.items() if ftype is FieldType.DATE]
        if node.attribute not in TEACHER_FIELDS:
            self.error("E101", f"unknown teacher attribute `{node.attribute}`", node.span,
                       did_you_mean(node.attribute, dates) or f"a roster date: {', '.join(dates)}")
        elif node.attribute not in dates:
            self.error("E105", f"`{node.attribute}` is not a date", node.span,
                       f"name a roster date: {', '.join(dates)}")
        count = node.count
        if count != count.to_integral_value() or not 1 <= count <= MAX_RELATIVE:
            self.error("E240", f"`{phrase}` needs a whole number from 1 to {MAX_RELATIVE:,}, not {count}",
                       node.span, "e.g. `within 1 year of hired_on`, `in the first 2 semesters after hired_on`")
            count = Decimal(1)
        return ir.Relative(node.attribute, int(count), node.unit, span=node.span)

    def count_only(self, node: ast.CountOnly) -> ir.CountOnly:
        """``count only status …``: the statuses are words or quoted text (E241)."""
        values: set[str] = set()
        for value in node.values:
            if isinstance(value, ast.Word | ast.Text):
                values.add(value.text)
            else:
                self.error("E241", "a status is a word or quoted text", value.span,
                           "e.g. `count only status approved`")
        return ir.CountOnly(frozenset(values), span=node.span)

    def opt_cond(self, node: ast.Cond | None, context: Context) -> ir.Cond | None:
        return None if node is None else self.cond(node, context)

    # ------------------------------------------------------------------ items
    def rule(self, rule: ast.Rule, rate: Decimal | None) -> ir.Rule | None:
        award = rule.award
        if award is None:
            return None
        kind = self.kind(rule.on.kind, rule.on.span) if rule.on else None
        first = bool(rule.on and rule.on.first)
        ir_award: ir.Award
        match award:
            case ast.IfQualified(amount, unit):
                self.amount(amount, award.span, "the award")
                if rule.program is None:
                    self.error("E130", f"rule `{rule.name}`: `if qualified` needs the program it is about",
                               award.span, 'add `program "…"` to the rule')
                if kind not in (None, "assessment"):
                    self.error("E131", f"rule `{rule.name}`: `if qualified` lands on the deciding assessment",
                               rule.on.span if rule.on else award.span, "remove the `on` clause")
                kind = None
                ir_award = ir.IfQualified(amount, unit, span=award.span)
            case ast.Block(credits, hours, pro_rata):
                self.amount(credits, award.span, "the block's credits")
                self.amount(hours, award.span, "the block's hours")
                if hours <= 0:
                    self.error("E132", "a block needs a positive number of hours", award.span)
                elif pro_rata and not is_finite_decimal_fraction(credits, hours):
                    self.error("E121", f"{credits} credits per {hours} hours pro rata is not an exact decimal rate",
                               award.span, "use whole blocks (drop `pro rata`) or a rate such as 1 credit per 10 hours")
                ir_award = ir.Block(credits, hours, pro_rata, span=award.span)
            case ast.CountHours():
                ir_award = ir.CountHours(span=award.span)
            case ast.CountCredits():
                ir_award = ir.CountCredits(span=award.span)
            case ast.Fixed(amount, unit):
                self.amount(amount, award.span, "the award")
                ir_award = ir.Fixed(amount, unit, span=award.span)
            case ast.Leave():
                ir_award = ir.Leave(span=award.span)
                if kind is None:
                    kind = "task_missed"
            case _:  # pragma: no cover
                raise AssertionError(award)
        if kind is None and not isinstance(ir_award, ir.IfQualified):
            self.error("E133", f"rule `{rule.name}` does not say which events it counts", rule.span,
                       "add `on KIND`, e.g. `on training`")
        if first and isinstance(ir_award, ir.Block):
            self.error("E134", "`first` picks one event; a block pools hours over many",
                       rule.on.span if rule.on else rule.span)
        for field, value in (("level", rule.as_level), ("category", rule.as_category)):
            if value is not None:
                self.closed_value(field, value, rule.span)
        if rule.without_category and rule.as_category:
            self.error("E135", "a rule cannot both set and drop the category", rule.span)
        if isinstance(ir_award, ir.Leave) and (rule.as_level or rule.as_category):
            self.error("E135", "a leave rule awards no credits to place in a level or category", rule.span)
        return ir.Rule(
            name=rule.name, award=ir_award, kind=kind, first=first, program=rule.program,
            where=self.opt_cond(rule.where, "event"), when=self.opt_cond(rule.when, "teacher"),
            as_level=rule.as_level, as_category=rule.as_category, source=rule.source,
            without_category=rule.without_category, exception_to=rule.exception_to,
            rate=self.rule_rate(rule, ir_award), rounding=self.rounding(rule, ir_award), span=rule.span,
        )

    # ------------------------------------------------------------------ issue 9 (A)
    def rule_rate(self, rule: ast.Rule, award: ir.Award) -> ir.RuleRate | None:
        """A rule's own rate: only where the rule converts hours to credits."""
        node = rule.rate
        if node is None:
            return None
        converts = isinstance(award, ir.CountHours) or (
            isinstance(award, ir.Fixed | ir.IfQualified) and award.unit == "hours")
        if not converts:
            self.error("E910", f"rule `{rule.name}` converts no hours, so a rate does not apply", node.span,
                       "a rate applies to `count hours`, `N hours` and `N hours if qualified`; remove it")
            return None
        self.amount(node.hours, node.span, "the rate's hours")
        self.amount(node.credits, node.span, "the rate's credits")
        if node.hours <= 0 or node.credits <= 0:
            self.error("E120", "a conversion needs positive amounts", node.span,
                       "e.g. `at 6 hours = 1 credit`")
            return None
        if isinstance(award, ir.Fixed | ir.IfQualified):
            if not is_finite_decimal_fraction(award.amount * node.credits, node.hours):
                self.error("E121", f"{_n(award.amount, 'hour')} at {_rate_text(node)} is not "
                           "an exact decimal number of credits", node.span,
                           "credit-rules computes exactly; state the award in credits instead")
                return None
        elif not is_finite_decimal_fraction(node.credits, node.hours) and rule.rounding is None:
            # 1/6 credit per hour is exact only once rounded to a step (the rounded award is exact).
            self.error("E121", f"{_rate_text(node)} is not an exact decimal rate",
                       node.span, "declare how the credits are rounded, e.g. `rounded down to 0.1 credit per "
                       "event`, or use a rate like `at 5 hours = 1 credit`")
            return None
        per_hour = exact_div(node.credits, node.hours) \
            if is_finite_decimal_fraction(node.credits, node.hours) else None
        return ir.RuleRate(node.hours, node.credits, per_hour, span=node.span)

    def rounding(self, rule: ast.Rule, award: ir.Award) -> ir.Rounding | None:
        node = rule.rounding
        if node is None:
            return None
        if isinstance(award, ir.Leave):
            self.error("E911", f"rule `{rule.name}` awards leave days, not credits, so nothing is rounded",
                       node.span, "remove the rounding")
            return None
        self.amount(node.step, node.span, "the rounding step")
        if node.step <= 0:
            self.error("E912", "credits are rounded to a positive step", node.span,
                       "e.g. `rounded down to 0.5 credit per event`")
            return None
        return ir.Rounding(node.mode, node.step, node.pooled, span=node.span)

    def units(self, header: ast.Header) -> tuple[ir.UnitConversion, ...]:
        out: list[ir.UnitConversion] = []
        for node in (header.minutes, header.days):
            if node is None:
                continue
            self.amount(node.amount, node.span, f"the conversion's {node.unit}")
            self.amount(node.hours, node.span, "the conversion's hours")
            if node.amount <= 0 or node.hours <= 0:
                self.error("E120", "a conversion needs positive amounts", node.span,
                           f"e.g. `{'40 minutes = 1 hour' if node.unit == 'minutes' else '1 day = 6 hours'}`")
                continue
            if node.rounding is None and not is_finite_decimal_fraction(node.hours, node.amount):
                given = f"{_n(node.amount, node.unit[:-1])} = {_n(node.hours, 'hour')}"
                self.error("E913", f"{given} does not give an exact decimal number of hours", node.span,
                           "declare how to round, e.g. `rounded down per event` (whole hours), "
                           "or use e.g. `40 minutes = 1 hour`")
                continue
            rounding = (node.rounding.mode, node.rounding.pooled) if node.rounding else None
            out.append(ir.UnitConversion(node.unit, node.amount, node.hours, rounding, node.source,
                                         span=node.span))
        return tuple(out)

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

    # ------------------------------------------------------------------ issue 9 (C)
    def declarations(self) -> tuple[ir.ColumnDecl, ...]:
        """The declared columns (E270 twice, E271 a SPEC column)."""
        out: list[ir.ColumnDecl] = []
        for block in (i for i in self.tree.items if isinstance(i, ast.Columns)):
            for decl in block.columns:
                scope = ir.Scope.TEACHER if decl.teacher else ir.Scope.EVENT
                spec = (TEACHER_FIELDS if decl.teacher else EVENT_FIELDS)
                if decl.name in spec or decl.name in ("roles", "day") or decl.name in FACT_FIELDS:
                    self.error("E271", f"`{decl.name}` is a column of the SPEC; its type is fixed",
                               decl.span, "drop it from `columns`, or declare a column of another name")
                    continue
                if (scope, decl.name) in self.declared:
                    self.error("E270", f"the column `{decl.name}` is declared twice", decl.span,
                               "keep one declaration",
                               )
                    continue
                column = ir.ColumnDecl(decl.name, decl.type, scope, block.source, span=decl.span)
                self.declared[scope, decl.name] = column
                out.append(column)
        return tuple(out)

    def declared_vocabularies(self) -> tuple[ir.Vocabulary, ...]:
        """The declared vocabularies (E272 an unknown field or one declared twice)."""
        out: list[ir.Vocabulary] = []
        for item in (i for i in self.tree.items if isinstance(i, ast.Vocabulary)):
            field = typed.VOCABULARY_FIELDS.get(item.field)
            if field is None:
                self.error("E272", f"`{item.field}` has no vocabulary", item.span,
                           did_you_mean(item.field, typed.VOCABULARY_FIELDS)
                           or "one of: roles, titles, kinds, categories, levels, formats")
                continue
            if field in self.vocab:
                self.error("E272", f"the vocabulary of {field} values is declared twice", item.span,
                           "merge the two lists")
                continue
            seen: set[str] = set()
            for value in item.values:
                if value in seen:
                    self.error("E272", f"`{value}` is listed twice", item.span, "list each value once")
                seen.add(value)
            values = tuple(dict.fromkeys(item.values))
            self.vocab[field] = values
            out.append(ir.Vocabulary(field, values, item.source, span=item.span))
        return tuple(out)

    def in_vocabulary(self, field: str, value: str, span: Span) -> None:
        allowed = self.vocab[field]
        if value not in allowed:
            self.error("E278", f"{field} `{value}` is not in the policy's vocabulary", span,
                       did_you_mean(value, allowed) or f"one of: {', '.join(allowed)}; "
                       f"or add it to `vocabulary {_PLURALS[field]}`")

    def declared_kind(self, kind: str, span: Span) -> str:
        allowed = self.vocab["kind"]
        for candidate in (kind, kind[:-1] if kind.endswith("s") else None,
                          kind[:-2] if kind.endswith("es") else None):
            if candidate in allowed:
                return candidate
        self.in_vocabulary("kind", kind, span)
        return kind

    def undeclared(self, name: str, scope: ir.Scope, span: Span) -> None:
        """E101: a name that is neither a SPEC column nor declared, in a policy with `columns`."""
        known = [*EVENT_FIELDS, *(n for s, n in self.declared if s is scope)]
        self.error("E101", f"unknown event column `{name}`", span,
                   did_you_mean(name, known)
                   or f"declare it in `columns` (e.g. `{name} decimal`), or use one of the SPEC's columns")

    def column_ref(self, name: str, context: Context, span: Span) -> tuple[ir.Scope, FieldType] | None:
        """A name on the right of a comparison that names a column (None: it is a value)."""
        if context == "event":
            known = name in EVENT_FIELDS or (ir.Scope.EVENT, name) in self.declared
        else:
            known = name in TEACHER_FIELDS or (ir.Scope.TEACHER, name) in self.declared
        return self.resolve_field(name, context, span) if known else None

    def typed_compare(self, node: ast.Compare, field: str, scope: ir.Scope, ftype: FieldType,
                      context: Context) -> ir.Cond | None:
        """A comparison the declarations decide: column with column, or a typed column
        misused (None: the ordinary comparison with a value)."""
        value = node.value
        if ftype is FieldType.LIST:
            self.error("E277", f"`{field}` is a list of text", node.span,
                       f"ask whether it holds a value with `{field} has VALUE`")
            return ir.And((), span=node.span)
        if scope is ir.Scope.FACT:
            return None
        if ftype in (FieldType.DECIMAL, FieldType.DATE) and isinstance(value, ast.Word):
            other = self.column_ref(value.text, context, value.span)
            if other is not None:
                return self.linear(ast.ArithCompare(field, node.op, value, span=node.span), context)
        declared = (scope, field) in self.declared
        if declared and ftype is FieldType.DECIMAL and isinstance(value, ast.Number):
            return self.linear(ast.ArithCompare(field, node.op, value, span=node.span), context)
        if declared and ftype is FieldType.DATE and isinstance(value, ast.DateValue):
            days = (value.value - dt.date(1970, 1, 1)).days
            return ir.Linear(((field, 1),), scope, -days, node.op, True, span=node.span)
        if declared and ftype is FieldType.TEXT and isinstance(value, ast.Number | ast.DateValue | ast.Bool):
            self.error("E105", f"`{field}` is a text column; compare it with a word or quoted text",
                       value.span, "declare it as `decimal`, `number` or `date` to compare it so")
            return ir.And((), span=node.span)
        return None

    def arith_compare(self, node: ast.ArithCompare, context: Context) -> ir.Cond:
        return self.linear(node, context)

    def linear(self, node: ast.ArithCompare, context: Context) -> ir.Cond:
        """``left OP right`` as :class:`ir.Linear` (E105 a text or list column, E273 not
        simple arithmetic, E274 too large, E275 arithmetic on dates)."""
        kinds: set[FieldType] = set()
        scopes: set[ir.Scope] = set()
        failed = False

        def side(x: str | ast.Arith | ast.Value) -> typed.Form | None:
            nonlocal failed
            if isinstance(x, str | ast.Word):
                name = x if isinstance(x, str) else x.text
                span = node.span if isinstance(x, str) else x.span
                resolved = self.resolve_field(name, context, span)
                if resolved is None:
                    failed = True
                    return None
                scope, ftype = resolved
                if scope is ir.Scope.FACT or ftype not in (FieldType.DECIMAL, FieldType.DATE):
                    undeclared = scope is not ir.Scope.FACT and (scope, name) not in self.declared \
                        and name not in (EVENT_FIELDS if scope is ir.Scope.EVENT else TEACHER_FIELDS)
                    self.error("E105", f"`{name}` is not a number or date column; arithmetic needs numbers",
                               span, f"declare its type: `columns: {name} decimal`" if undeclared
                               else "compare number columns (`decimal`, `number`) with each other")
                    failed = True
                    return None
                kinds.add(ftype)
                scopes.add(scope)
                return typed.Form.column(name)
            if isinstance(x, ast.Number):
                self.amount(x.value, x.span, "a number in arithmetic")
                return typed.Form.number(x.value)
            if isinstance(x, ast.Arith):
                for operand in x.operands:
                    if isinstance(operand, str):
                        if side(operand) is None:
                            return None
                    else:
                        self.amount(operand, x.span, "a number in arithmetic")
                try:
                    return typed.evaluate(x.operands, x.ops)
                except typed.ArithError as exc:
                    self.error(exc.code, exc.message, x.span, exc.hint)
                    failed = True
                    return None
            self.error("E105", "arithmetic compares numbers", x.span, "compare with a number or a number column")
            failed = True
            return None

        left, right = side(node.left), side(node.right)
        if failed or left is None or right is None:
            return ir.And((), span=node.span)
        form = left.plus(right, -1)
        dates = FieldType.DATE in kinds
        if dates and (FieldType.DECIMAL in kinds or form.constant or isinstance(node.left, ast.Arith)
                      or isinstance(node.right, ast.Arith)):
            self.error("E275", "dates take no arithmetic", node.span,
                       "compare a date column with another date column or with a date (YYYY-MM-DD)")
            return ir.And((), span=node.span)
        if form.is_constant:
            self.error("E273", "this comparison names no column once simplified", node.span,
                       "compare a column with a number or another column")
            return ir.And((), span=node.span)
        try:
            terms, constant = typed.integer_form(form, dates=dates)
        except typed.ArithError as exc:
            self.error(exc.code, exc.message, node.span, exc.hint)
            return ir.And((), span=node.span)
        scope = scopes.pop() if len(scopes) == 1 else ir.Scope.EVENT
        return ir.Linear(terms, scope, constant, node.op, dates, span=node.span)

    def has(self, node: ast.Has, field: str, value: ast.Value, context: Context) -> ir.Cond:
        resolved = self.resolve_field(field, context, node.span)
        if resolved is None:
            return ir.And((), span=node.span)
        scope, ftype = resolved
        if ftype is not FieldType.LIST:
            self.error("E277", f"`has` asks about a list column; `{field}` is not one", node.span,
                       f"declare it as `{field} list of text`, or compare it with `=`")
            return ir.And((), span=node.span)
        if not isinstance(value, ast.Word | ast.Text):
            self.error("E105", f"`{field}` holds text; ask for a word or quoted text", value.span)
            return ir.And((), span=node.span)
        return ir.Has(field, scope, value.text, span=node.span)


_FIELD_TYPES: dict[str, FieldType] = {
    "number": FieldType.DECIMAL, "decimal": FieldType.DECIMAL, "date": FieldType.DATE,
    "text": FieldType.TEXT, "list": FieldType.LIST,
}
_PLURALS = {"role": "roles", "title": "titles", "kind": "kinds", "category": "categories",
            "level": "levels", "format": "formats"}


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


def _n(amount: Decimal, unit: str) -> str:
    """``1 hour``, ``6 hours``."""
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"


def _rate_text(rate: ast.RuleRate) -> str:
    return f"{_n(rate.hours, 'hour')} = {_n(rate.credits, 'credit')}"
