"""graphql-core's helpers for resolvers, without a reference cycle through the context."""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Sequence
from typing import Any

from graphql.pyutils import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql import GraphQLResolveInfoHelpers


def weak_helpers(context: StrawberryGraphQLCoreExecutionContext) -> GraphQLResolveInfoHelpers:
    """graphql-core's helpers for resolvers, holding the context weakly.

    graphql-core gives them as bound methods of the context, which keeps it (and its
    `context_value`: the request, its loaders, every record read) in a reference cycle
    until the cycle collector runs; with this, a finished request is freed at once.
    The context is alive while any of its resolvers runs.
    """
    alive = weakref.ref(context)

    def gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
        found = alive()
        if found is None:  # a resolver that outlived its execution
            return gather_with_cancel(*values)
        return found.gather_async_work(values)

    def track(values: Sequence[Any]) -> None:
        found = alive()
        if found is not None:
            found.track_async_work(values)

    return GraphQLResolveInfoHelpers(gather=gather, track=track)
