"""Building declared columns and vocabularies, and the comparisons their types decide
(issue 9, part C).

A mixin of the AST → IR builder (:mod:`credit_rules.compile.from_syntax`): ``columns:``
and ``vocabulary …:`` declarations (read first, before any name is resolved), the checks
of a value against a declared vocabulary, and comparisons between typed columns or with
arithmetic, built as :class:`credit_rules.ir.Linear` through the exact arithmetic of
:mod:`credit_rules.compile.typed` (which knows no AST and no spans: this module turns
its errors into diagnostics), and ``has`` on list columns.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from credit_rules import ir
from credit_rules.compile import typed
from credit_rules.compile.fields import EVENT_FIELDS, FACT_FIELDS, TEACHER_FIELDS, Context, FieldType
from credit_rules.errors import did_you_mean
from credit_rules.span import Span
from credit_rules.syntax import ast

_PLURALS = {"role": "roles", "title": "titles", "kind": "kinds", "category": "categories",
            "level": "levels", "format": "formats"}


class ColumnsMixin:
    if TYPE_CHECKING:
        # provided by the builder (:class:`credit_rules.compile.from_syntax._Translator`)
        tree: ast.Policy
        declared: dict[tuple[ir.Scope, str], ir.ColumnDecl]
        vocab: dict[str, tuple[str, ...]]

        def error(self, code: str, message: str, span: Span, hint: str | None = None) -> None: ...
        def amount(self, value: Decimal, span: Span, what: str) -> Decimal: ...
        def resolve_field(self, name: str, context: Context, span: Span) -> tuple[ir.Scope, FieldType] | None: ...

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
