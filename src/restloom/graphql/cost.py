"""Cost: how many upstream requests an operation can make, predicted before it runs.

The prediction walks the validated document the way graphql-core will execute it
(fields merged by response key, each fragment once per selection set) and adds up
what each field's resolver can send upstream, given the arguments and variables,
the profile's page and batch sizes, and how many parent objects there can be:

- a list window: 1 page request from the start of a list, up to 3 with `last` and no
  `before` (one page to learn the total, then the tail); with cursors, the pages
  around the cursors' items plus the reads that find a moved item again
  (`upstream.windows.load_window`, `upstream.anchors.locate`);
- objects by id: ceil(n / batch size) list requests for all the ids one field asks
  for across its parents (they fall into one DataLoader batch), or n GETs when the
  upstream has no batch lookup;
- a mutation: its write, plus the reads it needs first (the current map of a
  `replace_on_patch` field; the membership scan of a filtered member list).

`@skip`/`@include` are ignored (every field "may run"), an abstract type costs what
each of its possible types costs, and `first`/`last` default to the profile's page
size. Lists that change during the request, or an upstream that answers out of
shape, can need more; the hard cap `Exchange.max_requests` stops those.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from graphql.execution.values import get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    get_operation_ast,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from restloom.graphql.cost_rules import RULES
from restloom.graphql.cost_walk import Cost, TooComplex, Walk
from restloom.graphql.errors import GatewayError
from restloom.upstream.profile import Profile

__all__ = ["Cost", "CostLimit", "predict", "predicted"]

# --- prediction ----------------------------------------------------------------------


def predict(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    profile: Profile,
) -> Cost:
    """The most upstream requests the operation can make (before retries).

    A document that will not execute (unknown operation, bad variables) costs 0:
    graphql-core reports it and nothing is sent. Raises `TooComplex`. Remembered
    per document, operation and variables: the same query costs the same.
    """
    key = _prediction_key(schema, operation_name, variables, profile)
    if key is None:
        return _walk(schema, document, operation_name, variables, profile)
    known = _PREDICTIONS.of(document)
    entry = known.get(key)
    # Identity again: the entry keeps its schema and profile alive, but a hit must not
    # rest on an id alone.
    if entry is not None and entry.schema is schema and entry.profile is profile:
        return entry.cost
    cost = _walk(schema, document, operation_name, variables, profile)
    if len(known) < MAX_PREDICTIONS_PER_DOCUMENT:
        known[key] = Prediction(schema, profile, cost)
    return cost


# What a prediction depends on besides the document: the schema and the profile (by
# identity: each lives as long as its app), the operation and the variables.
PredictionKey = tuple[int, int, str | None, bytes]
MAX_PREDICTIONS_PER_DOCUMENT = 64
# Larger variables are not worth a key (a prediction is ~50-150 us; big inputs are writes).
MAX_VARIABLES_KEY = 2048


@dataclass(frozen=True)
class Prediction:
    schema: GraphQLSchema
    profile: Profile
    cost: Cost


Predictions = dict[PredictionKey, Prediction]


class _PredictionsByDocument:
    """Predictions kept beside each parsed document for as long as it lives.

    The document cache (`graphql.limits`) hands out the same `DocumentNode` for the
    same query, so documents are told apart by identity (hashing one walks its whole
    tree); an entry goes when its document is collected, so this holds no document
    the document cache has let go of.
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[weakref.ref[DocumentNode], Predictions]] = {}

    def of(self, document: DocumentNode) -> Predictions:
        entry = self._entries.get(id(document))
        if entry is not None and entry[0]() is document:
            return entry[1]
        predictions: Predictions = {}
        number = id(document)
        ref = weakref.ref(document, lambda dead: self._forget(number, dead))
        self._entries[number] = (ref, predictions)
        return predictions

    def _forget(self, number: int, dead: weakref.ref[DocumentNode]) -> None:
        entry = self._entries.get(number)
        if entry is not None and entry[0] is dead:
            del self._entries[number]


_PREDICTIONS = _PredictionsByDocument()


def _prediction_key(
    schema: GraphQLSchema,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    profile: Profile,
) -> PredictionKey | None:
    try:
        # Kept in the memo: a copy of its own size (orjson's buffer holds 4 KiB at least).
        encoded = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS) if variables else b""
        given = memoryview(encoded).tobytes()
    except TypeError:  # not JSON (an embedding app's own objects): not remembered
        return None
    if len(given) > MAX_VARIABLES_KEY:
        return None
    return (id(schema), id(profile), operation_name, given)


def _walk(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    profile: Profile,
) -> Cost:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return Cost()
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables or {})
    if isinstance(coerced, list):
        return Cost()
    root = schema.get_root_type(operation.operation)
    if root is None:
        return Cost()
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = Walk(schema, fragments, coerced, profile, RULES)
    return walk.selection(root, [operation.selection_set], 1, 1)


# --- the extension ---------------------------------------------------------------------

# Kept on the execution context, which `CostLimit` and `UpstreamStats` of one operation
# share: strawberry has no slot for it, and `extensions_results` would go out as is.
_PREDICTION = "_restloom_cost"


def predicted(execution_context: ExecutionContext) -> Cost | None:
    """The prediction `CostLimit` made for this operation, if it made one."""
    value = getattr(execution_context, _PREDICTION, None)
    return value if isinstance(value, Cost) else None


def too_costly(predicted: int | None, limit: int, message: str) -> GraphQLError:
    cost = {"predicted": predicted, "limit": limit}
    return GraphQLError(
        message, original_error=GatewayError(message, "QUERY_TOO_COSTLY", cost=cost)
    )


class CostLimit(SchemaExtension):
    """Refuse, before any upstream call, an operation predicted to cost more than `limit`
    upstream requests; cap the others' real calls (`Exchange.max_requests`)."""

    def __init__(self, *, limit: int) -> None:
        self.limit = limit

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        exchange = getattr(context.context, "exchange", None)
        document = context.graphql_document
        if exchange is None or document is None or context.result is not None:
            # No upstream here, or an earlier check already refused the operation.
            yield
            return
        try:
            cost = predict(
                context.schema._schema,
                document,
                context.operation_name,
                context.variables,
                exchange.profile,
            )
        except TooComplex:
            message = "The operation is too complex to predict what it would cost upstream"
            context.result = GraphQLExecutionResult(None, [too_costly(None, self.limit, message)])
            yield
            return
        setattr(context, _PREDICTION, cost)
        if cost.requests > self.limit:
            message = (
                f"The operation could make {cost.requests} upstream requests, more than the "
                f"limit of {self.limit}; ask for fewer or smaller lists"
            )
            context.result = GraphQLExecutionResult(
                None, [too_costly(cost.requests, self.limit, message)]
            )
        else:
            exchange.max_requests = cost.cap(exchange.client.read_retries)
        yield
