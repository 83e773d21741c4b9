"""The schema: root fields, Relay node lookup, and the extensions every request runs."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Annotated, Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.name_converter import NameConverter
from strawberry.types import ExecutionContext, Info

from graphql import GraphQLError
from restloom.graphql import (
    auth,
    contacts,
    jobs,
    organizations,
    resources,
    session,
    users,
    webhooks,
)
from restloom.graphql.checks import DocumentChecks
from restloom.graphql.contacts import Contact, resolve_contact, resolve_contacts
from restloom.graphql.context import Context
from restloom.graphql.cost import CostLimit
from restloom.graphql.errors import ErrorFormatter, bad_user_input
from restloom.graphql.executor import FastExecutionContext
from restloom.graphql.hooks import CachedHooksRunner
from restloom.graphql.jobs import Job
from restloom.graphql.limits import DEFAULT_LIMITS, DocumentGate, DocumentLimits
from restloom.graphql.observe import OperationObserver
from restloom.graphql.organizations import (
    Organization,
    resolve_organization,
    resolve_organizations,
)
from restloom.graphql.relay import Connection, Node, from_global_id
from restloom.graphql.resources import Resource, resolve_resource, resolve_resources
from restloom.graphql.response_cache import ResponseCaching
from restloom.graphql.session import Session
from restloom.graphql.subscription import Subscription
from restloom.graphql.trust import TrustCheck
from restloom.graphql.upstream_stats import UpstreamStats
from restloom.graphql.users import User, resolve_user, resolve_users, resolve_viewer
from restloom.graphql.webhooks import Webhook, resolve_webhook, resolve_webhooks
from restloom.upstream.pages import Record
from restloom.upstream.urls import valid_id

log = logging.getLogger("restloom.graphql")

# Relay type name -> (upstream collection, record -> GraphQL object).
NODE_TYPES: dict[str, tuple[str, Callable[[Record], Node]]] = {
    "Contact": ("contacts", Contact.from_record),
    "Resource": ("resources", Resource.from_record),
    "User": ("users", User.from_record),
    "Organization": ("organizations", Organization.from_record),
    "Webhook": ("webhooks", Webhook.from_record),
}

MAX_NODES = 100


async def resolve_node(
    info: Info[Context, None],
    id: Annotated[strawberry.ID, strawberry.argument(description="A global id.")],
) -> Node | None:
    return await _load_node(info, id, "id")


async def _load_node(info: Info[Context, None], id: str, argument: str) -> Node:
    decoded = from_global_id(id)
    # The id inside a global id is as untrusted as any: it must be one of the upstream's.
    if (
        decoded is None
        or (decoded[0] not in NODE_TYPES and decoded[0] != "Job")
        or not valid_id(info.context.profile, decoded[1])
    ):
        raise bad_user_input(f"`{argument}`: {id[:80]!r} is not a valid node id", argument)
    type_name, database_id = decoded
    if type_name == "Job":
        return await jobs.load_job(info, database_id)  # read as it is now, one by one
    collection, convert = NODE_TYPES[type_name]
    return convert(await info.context.loaders.objects(collection).load(database_id))


def resolve_nodes(info: Info[Context, None], ids: list[strawberry.ID]) -> list[Node | None]:
    if len(ids) > MAX_NODES:
        raise bad_user_input(f"`ids` takes at most {MAX_NODES} ids", "ids")
    # One awaitable per id: graphql-core awaits them together (one batch), and
    # each fails on its own.
    return [_load_node(info, i, "ids") for i in ids]  # type: ignore[misc]


@strawberry.type
class Query:
    node: Node | None = strawberry.field(resolver=resolve_node, description="Any object by id.")
    nodes: list[Node | None] = strawberry.field(
        resolver=resolve_nodes, description="Objects by global id, in order; null where missing."
    )
    viewer: User | None = strawberry.field(
        resolver=resolve_viewer, description="The user the caller's credential belongs to."
    )
    contact: Contact | None = strawberry.field(resolver=resolve_contact)
    contacts: Connection[Contact] | None = strawberry.field(resolver=resolve_contacts)
    resource: Resource | None = strawberry.field(resolver=resolve_resource)
    resources: Connection[Resource] | None = strawberry.field(resolver=resolve_resources)
    user: User | None = strawberry.field(resolver=resolve_user)
    users: Connection[User] | None = strawberry.field(resolver=resolve_users)
    organization: Organization | None = strawberry.field(resolver=resolve_organization)
    organizations: Connection[Organization] | None = strawberry.field(
        resolver=resolve_organizations
    )
    webhook: Webhook | None = strawberry.field(resolver=resolve_webhook)
    webhooks: Connection[Webhook] | None = strawberry.field(resolver=resolve_webhooks)
    session: Session | None = strawberry.field(
        resolver=session.resolve_session,
        description="Whether the caller's API key is valid (upstreams with a session: moco).",
    )


def mutation(resolver: Callable[..., object], description: str | None = None) -> Any:
    return strawberry.mutation(resolver=resolver, description=description)


@strawberry.type
class Mutation:
    create_contact = mutation(contacts.create_contact)
    update_contact = mutation(contacts.update_contact)
    delete_contact = mutation(contacts.delete_contact)
    create_resource = mutation(resources.create_resource)
    update_resource = mutation(resources.update_resource)
    delete_resource = mutation(resources.delete_resource)
    create_organization = mutation(organizations.create_organization)
    update_organization = mutation(organizations.update_organization)
    delete_organization = mutation(organizations.delete_organization)
    add_organization_member = mutation(organizations.add_organization_member)
    remove_organization_member = mutation(organizations.remove_organization_member)
    create_webhook = mutation(webhooks.create_webhook)
    update_webhook = mutation(webhooks.update_webhook)
    delete_webhook = mutation(webhooks.delete_webhook)
    test_webhook = mutation(webhooks.test_webhook, "Ask the upstream to send a test event.")
    update_viewer = mutation(users.update_viewer, "Update the caller's own user.")
    login = mutation(
        session.login,
        "Exchange email and password for tokens (moco: the user's API key, as accessToken).",
    )
    refresh_token = mutation(
        auth.refresh_token, "A new token pair; the old refresh token stops working."
    )
    logout = mutation(auth.logout, "Revoke the bearer token this request carries.")
    register = mutation(auth.register)
    import_contact = mutation(
        jobs.import_contact,
        "Create a contact as asynchronous work (202): the payload's job says when it is done.",
    )


class CachedNameConverter(NameConverter):
    """strawberry's GraphQL names, each worked out once.

    Argument conversion asks for the name of every argument of a field on every call
    of its resolver (`to_camel_case` each time: 1.5% of the nested query's CPU). The
    names are the schema's own Python names, so the cache is as small as the schema.
    """

    def __init__(self) -> None:
        super().__init__()
        self._names: dict[str, str] = {}

    def apply_naming_config(self, name: str) -> str:
        found = self._names.get(name)
        if found is None:
            found = self._names[name] = super().apply_naming_config(name)
        return found


class GatewaySchema(strawberry.Schema):
    hide_suggestions: bool = True
    document_gate: DocumentGate | None = None  # the limits and their document cache

    def _get_custom_context_kwargs(
        self, operation_extensions: dict[str, Any] | None = None, *, sync: bool = False
    ) -> dict[str, Any]:
        kwargs = super()._get_custom_context_kwargs(operation_extensions, sync=sync)
        # graphql-core's own switch, for variable coercion errors ("... Did you mean").
        kwargs["hide_suggestions"] = self.hide_suggestions
        return kwargs

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return CachedHooksRunner(execution_context=execution_context, extensions=extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # ErrorFormatter already logged what was unexpected; an upstream 404 is not a crash.
        return None


@functools.cache
def build_schema(
    limits: DocumentLimits = DEFAULT_LIMITS,
    *,
    upstream_stats: bool = True,
    introspection: bool = True,
    field_suggestions: bool = False,
    max_upstream_requests: int = 300,
) -> strawberry.Schema:
    """One schema per set of limits, for the life of the process.

    Its document cache lives with it: a new schema per app would start cold and keep
    every old schema alive.
    """
    gate = DocumentGate(limits)
    extensions: list[Any] = [
        # First: wraps everything and ends last, when every error has its code.
        OperationObserver,
        # Limits, parsing and validation, with their cache (replaces strawberry's
        # ParserCache, ValidationCache and limiters: see graphql/checks.py).
        lambda: DocumentChecks(
            gate, introspection=introspection, field_suggestions=field_suggestions
        ),
        ErrorFormatter,
        TrustCheck,
        # After the trust check; before the cost limit, which bounds upstream calls and
        # so has nothing to weigh in a cached answer (its prediction is most of a hit).
        ResponseCaching,
        lambda: CostLimit(limit=max_upstream_requests),
    ]
    if upstream_stats:
        extensions.append(UpstreamStats)
    schema = GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Contact, Resource, User, Organization, Webhook, Job],
        extensions=extensions,
        # Plain reads (leaves, objects, lists of them) complete by a per-selection plan
        # instead of graphql-core's per-field machinery (graphql/execution/).
        execution_context_class=FastExecutionContext,
        config=StrawberryConfig(name_converter=CachedNameConverter()),
    )
    schema.hide_suggestions = not field_suggestions
    schema.document_gate = gate
    return schema
