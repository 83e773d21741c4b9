"""The schema extension that parses and validates: limits first, then the cached document.

It replaces strawberry's ParserCache, ValidationCache and depth/alias limiters:
- a document over a limit is refused before validation and never cached (over the
  character or token limit: before the parser builds anything);
- a syntax error or a refusal leaves here with its code and the request id (raised
  from the parse step, it would otherwise bypass the error formatter);
- several operations without `operationName` is a request error, never the first one;
- validation runs once per document, without "Did you mean" unless allowed;
- with introspection off, `__schema` and `__type` are refused with their own code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql.language import FieldNode
from graphql.validation import ValidationRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from graphql import GraphQLError, validate
from restloom.graphql.limits import CheckedDocument, DocumentGate, check_operation_choice

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})


class NoIntrospection(ValidationRule):
    """`__schema` and `__type` refused (setting `introspection = false`); `__typename` stays."""

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        if node.name.value in INTROSPECTION_FIELDS:
            self.report_error(
                GraphQLError(
                    f"Introspection is disabled on this server ({node.name.value}).",
                    node,
                    extensions={"code": "INTROSPECTION_DISABLED"},
                )
            )


class DocumentChecks(SchemaExtension):
    def __init__(
        self, gate: DocumentGate, *, introspection: bool = True, field_suggestions: bool = False
    ) -> None:
        super().__init__()
        self.gate = gate
        self.extra_rules: tuple[type[ValidationRule], ...] = (
            () if introspection else (NoIntrospection,)
        )
        self.hide_suggestions = not field_suggestions
        self.checked: CheckedDocument | None = None

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        try:
            self.checked = self.gate.checked(ctx.query or "")
            # What the request named: `operation_name` would fall back to the first one.
            requested = getattr(ctx, "_provided_operation_name", None)
            check_operation_choice(self.checked, requested)
        except GraphQLError as error:
            request_id = getattr(ctx.context, "request_id", None)
            if request_id and error.extensions is not None:
                error.extensions.setdefault("requestId", request_id)
            raise
        ctx.graphql_document = self.checked.document
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        checked = self.checked
        if checked is not None and ctx.graphql_document is checked.document:
            rules = (
                *ctx.validation_rules,
                MaybeNullValidationRule,
                OneOfInputValidationRule,
                *self.extra_rules,
            )
            if checked.validation is None or checked.validation[0] != rules:
                errors = validate(
                    ctx.schema._schema,
                    checked.document,
                    rules,
                    hide_suggestions=self.hide_suggestions,
                )
                checked.validation = (rules, errors)
            # A copy: the formatter replaces errors, the cached list must stay as it is.
            ctx.pre_execution_errors = list(checked.validation[1])
        yield
