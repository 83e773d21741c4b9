"""Limits on a GraphQL document, checked before anything runs.

In order, each cheaper than the next and each refusing before the next starts:
characters (before lexing), tokens (lexing stops at the limit, before the
parser builds anything), then depth, aliases and directives in one linear pass
over the parsed document (`shape.py`). Each refusal has its own code and carries
the limit in `extensions`.

Only documents within every limit are kept in `DocumentCache`; their validation
errors are kept with them, so no oversized document is ever held by a cache.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql.language import DocumentNode, Lexer, OperationDefinitionNode, Source, TokenKind

from graphql import GraphQLError, GraphQLSyntaxError, parse
from restloom.graphql.shape import DocumentShape, measure


@dataclass(frozen=True)
class DocumentLimits:
    max_depth: int = 10
    max_aliases: int = 15
    max_directives: int = 50
    max_tokens: int = 1000
    max_query_chars: int = 15000


DEFAULT_LIMITS = DocumentLimits()


class LimitExceeded(GraphQLError):
    """A document over one of the limits; the code names which."""

    def __init__(self, message: str, code: str, limit: int, found: int | None = None) -> None:
        extensions: dict[str, Any] = {"code": code, "limit": limit}
        if found is not None:
            extensions["found"] = found
        super().__init__(message, extensions=extensions)


class RequestError(GraphQLError):
    """The request itself is malformed (HTTP 400 when it came over HTTP)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_REQUEST"})


@dataclass
class CheckedDocument:
    """A parsed document known to be within the limits, and what is known about it."""

    document: DocumentNode
    tokens: int
    operation_names: tuple[str | None, ...]
    # Validation depends on the document and the schema's fixed rules only: kept here,
    # keyed by the rules, so a document is validated once.
    validation: tuple[tuple[object, ...], list[GraphQLError]] | None = field(default=None)


def count_tokens(query: str, limit: int) -> int:
    """The number of lexical tokens, stopping as soon as there are more than `limit`."""
    lexer = Lexer(Source(query))
    count = 0
    while lexer.advance().kind is not TokenKind.EOF:
        count += 1
        if count > limit:
            raise LimitExceeded(
                f"The query has more than {limit} tokens; the limit is {limit}.",
                "TOO_MANY_TOKENS",
                limit,
            )
    return count


def check_shape(shape: DocumentShape, limits: DocumentLimits) -> None:
    if shape.depth > limits.max_depth:
        raise LimitExceeded(
            f"The query is {shape.depth} fields deep; the limit is {limits.max_depth}.",
            "QUERY_TOO_DEEP",
            limits.max_depth,
            shape.depth,
        )
    if shape.aliases > limits.max_aliases:
        raise LimitExceeded(
            f"The query uses {shape.aliases} aliases; the limit is {limits.max_aliases}.",
            "TOO_MANY_ALIASES",
            limits.max_aliases,
            shape.aliases,
        )
    if shape.directives > limits.max_directives:
        raise LimitExceeded(
            f"The query uses {shape.directives} directives; the limit is {limits.max_directives}.",
            "TOO_MANY_DIRECTIVES",
            limits.max_directives,
            shape.directives,
        )


def parse_error(error: GraphQLSyntaxError) -> GraphQLError:
    """A syntax error with a code: it never reaches the error formatter."""
    return GraphQLError(
        error.message,
        source=error.source,
        positions=error.positions,
        extensions={"code": "GRAPHQL_PARSE_FAILED"},
    )


def check_document(query: str, limits: DocumentLimits) -> CheckedDocument:
    """Parse `query` if it is within every limit; otherwise raise the first limit it breaks."""
    if len(query) > limits.max_query_chars:
        raise LimitExceeded(
            f"The query has {len(query)} characters; the limit is {limits.max_query_chars}.",
            "QUERY_TOO_LARGE",
            limits.max_query_chars,
            len(query),
        )
    try:
        tokens = count_tokens(query, limits.max_tokens)
        document = parse(query, max_lexical_tokens=limits.max_tokens)
    except GraphQLSyntaxError as exc:
        raise parse_error(exc) from None
    check_shape(measure(document), limits)
    names = tuple(
        d.name.value if d.name else None
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    )
    return CheckedDocument(document, tokens, names)


def check_operation_choice(checked: CheckedDocument, operation_name: str | None) -> None:
    """Several operations need `operationName`: never run the first one by default."""
    count = len(checked.operation_names)
    if operation_name is None and count > 1:
        raise RequestError(
            f"The document has {count} operations: name the one to run in `operationName`."
        )
    if operation_name is not None and operation_name not in checked.operation_names:
        raise RequestError(f"The document has no operation named {operation_name!r}.")


class DocumentCache:
    """Documents within the limits, least recently used first out.

    Bounded by entries and by their total tokens: a parsed document costs about
    0.4 KB per token, so the default 100,000 tokens hold at most ~40 MB however the
    queries are shaped.
    """

    def __init__(self, max_entries: int = 512, max_tokens: int = 100_000) -> None:
        self.max_entries = max_entries
        self.max_tokens = max_tokens
        self.tokens = 0
        self._entries: OrderedDict[str, CheckedDocument] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, query: object) -> bool:
        return query in self._entries

    def get(self, query: str) -> CheckedDocument | None:
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
        return entry

    def put(self, query: str, entry: CheckedDocument) -> None:
        if query in self._entries:
            return
        self._entries[query] = entry
        self.tokens += entry.tokens
        while len(self._entries) > self.max_entries or self.tokens > self.max_tokens:
            _, evicted = self._entries.popitem(last=False)
            self.tokens -= evicted.tokens


@dataclass
class DocumentGate:
    """The limits, the cache of documents within them, for one schema."""

    limits: DocumentLimits
    cache: DocumentCache = field(default_factory=DocumentCache)

    def checked(self, query: str) -> CheckedDocument:
        entry = self.cache.get(query)
        if entry is None:
            entry = check_document(query, self.limits)
            self.cache.put(query, entry)
        return entry
