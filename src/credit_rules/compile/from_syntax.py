"""Translate the surface AST into the checked IR, resolving every name.

Diagnostics raised here are about names and types: unknown fields, kinds, levels,
requirements; a number where a date is expected; an award without its program.

And about limits, so that both engines compute every policy that passes ``check``
exactly and in bounded time: every number a policy states (award amounts, block sizes,
caps, requirement amounts, the conversion, reduction fractions, score thresholds, ``top
N``, numbers compared with decimal fields) is at most :data:`MAX_LITERAL` (E114); a
window lies within the years :data:`WINDOW_YEARS` (E115); and a policy evaluated per
semester or school year over its window has at most :data:`MAX_PERIODS` periods (E116).
The limits live in :mod:`credit_rules.compile.limits` and are re-exported here.

This module is the core of the builder: the header and window, names, conditions, awards
and their rates. The builder's other parts are mixins of the same object, so they share
one list of diagnostics: :mod:`credit_rules.compile.requirements` (requirements, caps and
outcomes) and :mod:`credit_rules.compile.columns` (declared columns, vocabularies and
typed comparisons).
"""

from __future__ import annotations

import difflib
from decimal import Decimal

from credit_rules import ir
from credit_rules.compile.columns import ColumnsMixin
from credit_rules.compile.fields import (
    CLOSED_VALUES,
    EVENT_FIELDS,
    FACT_FIELDS,
    OPEN_VALUES,
    ROLE_VALUES,
    TEACHER_FIELDS,
    Context,
    FieldType,
)
from credit_rules.compile.limits import MAX_LITERAL as MAX_LITERAL
from credit_rules.compile.limits import MAX_PERIODS as MAX_PERIODS
from credit_rules.compile.limits import MAX_RELATIVE as MAX_RELATIVE
from credit_rules.compile.limits import WINDOW_YEARS as WINDOW_YEARS
from credit_rules.compile.requirements import RequirementsMixin
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
    is_timezone,
    periods_within,
)


def from_syntax(tree: ast.Policy, file: str = "<input>") -> tuple[ir.Policy | None, list[Diagnostic]]:
    """Resolve ``tree``; return the IR (None if it could not be built) and the diagnostics."""
    translator = _Translator(tree, file)
    policy = translator.policy()
    return policy, translator.diagnostics


class _Translator(RequirementsMixin, ColumnsMixin):
    """The builder: the header, names, conditions and awards here; requirements, caps and
    outcomes in :class:`RequirementsMixin`; declared columns and typed comparisons in
    :class:`ColumnsMixin` (split so that each file has one job; one object, one set of
    diagnostics)."""

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
        if not is_timezone(timezone):
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



_FIELD_TYPES: dict[str, FieldType] = {
    "number": FieldType.DECIMAL, "decimal": FieldType.DECIMAL, "date": FieldType.DATE,
    "text": FieldType.TEXT, "list": FieldType.LIST,
}


def _n(amount: Decimal, unit: str) -> str:
    """``1 hour``, ``6 hours``."""
    return f"{amount} {unit}" if amount == 1 else f"{amount} {unit}s"


def _rate_text(rate: ast.RuleRate) -> str:
    return f"{_n(rate.hours, 'hour')} = {_n(rate.credits, 'credit')}"
