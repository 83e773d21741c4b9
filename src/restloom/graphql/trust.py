"""What a caller may do, decided before anything reaches the upstream.

The service credential (`api_key`) speaks for callers that send none of their own.
It is not a master key: through it, anonymous callers get queries only, unless the
operator turns on `anonymous_mutations`; and impersonation needs the caller's own
credential, unless the operator turns on `service_impersonation`. The public auth
mutations (login, register, refreshToken) need no credential and stay open.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from graphql.language import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from graphql import ExecutionResult, GraphQLError
from restloom.graphql.errors import GatewayError

# Mutations that make sense before one has a credential (refreshToken carries its own).
PUBLIC_MUTATIONS = frozenset({"login", "register", "refreshToken", "__typename"})


@dataclass(frozen=True)
class TrustPolicy:
    """The operator's choices (settings `anonymous_mutations`, `service_impersonation`)."""

    anonymous_mutations: bool = False
    service_impersonation: bool = False


@dataclass(frozen=True)
class Access:
    """One request's caller, as far as trust goes."""

    own_credential: bool  # the caller sent X-API-Key or Authorization
    service_credential: bool  # restloom has an `api_key` to speak for callers without one
    impersonates: bool  # the caller sent X-Impersonate-User-Id
    policy: TrustPolicy

    @property
    def anonymous_via_service(self) -> bool:
        return not self.own_credential and self.service_credential

    @property
    def may_impersonate(self) -> bool:
        if self.own_credential:
            return True
        return self.service_credential and self.policy.service_impersonation

    @property
    def may_mutate(self) -> bool:
        # Without any credential the upstream call fails UNAUTHENTICATED on its own.
        return not self.anonymous_via_service or self.policy.anonymous_mutations

    def refusal(self, operation: OperationType, root_fields: set[str]) -> GatewayError | None:
        if self.impersonates and not self.may_impersonate:
            return GatewayError(
                "X-Impersonate-User-Id needs your own credential (X-API-Key or "
                "Authorization); the service credential does not impersonate",
                "FORBIDDEN",
            )
        if operation is OperationType.MUTATION and not self.may_mutate:
            private = sorted(root_fields - PUBLIC_MUTATIONS)
            if private:
                return GatewayError(
                    "Mutations need your own credential (X-API-Key or Authorization); "
                    f"without one, only queries are served ({', '.join(private)} refused)",
                    "FORBIDDEN",
                )
        return None


class TrustCheck(SchemaExtension):
    """Refuse, before execution, what the caller's access does not allow."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        access: Access | None = getattr(ctx.context, "access", None)
        document = ctx.graphql_document
        if access is not None and document is not None and ctx.result is None:
            operation = _operation(document, ctx.operation_name)
            if operation is not None:
                refusal = access.refusal(
                    OperationType(operation.operation.value), root_field_names(document, operation)
                )
                if refusal is not None:
                    # A result set here is returned instead of executing: 0 upstream calls.
                    ctx.result = ExecutionResult(
                        data=None,
                        errors=[GraphQLError(str(refusal), original_error=refusal)],
                    )
        yield


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def root_field_names(document: DocumentNode, operation: OperationDefinitionNode) -> set[str]:
    """The root fields an operation selects, through fragments (each looked at once)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    names: set[str] = set()
    seen: set[str] = set()
    pending: list[SelectionSetNode] = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                names.add(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in fragments and name not in seen:
                    seen.add(name)
                    pending.append(fragments[name].selection_set)
    return names
