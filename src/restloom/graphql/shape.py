"""Depth, aliases and directives of a document, in one pass linear in its size.

strawberry's QueryDepthLimiter and MaxAliasesLimiter walk a fragment again at
every spread, so 22 fragments that each spread the next twice cost 2^22 walks
(34 s measured). Here every fragment is measured once, after the fragments it
spreads (dependency order), and a spread adds the fragment's measure times one:
counts through fragments are what execution would see (a fragment spread twice
counts its aliases twice), without walking them twice.

A fragment cycle is invalid (validation reports it); here a spread that closes a
cycle counts as empty, so the pass ends whatever the document.
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
    SelectionNode,
    SelectionSetNode,
)

# Counts multiply through fragments (2^40 aliases from 40 fragments); saturate at the
# largest integer a JSON client reads exactly, so numbers stay small and printable.
SATURATED = 2**53 - 1

# Their subtrees are answered from the schema in process; graphql-core's
# MaxIntrospectionDepthRule bounds them. Like strawberry's limiter and GraphQL Armor,
# depth does not count below them (the introspection query of GraphiQL is 13 deep).
INTROSPECTION_ROOTS = frozenset({"__schema", "__type"})


@dataclass(frozen=True)
class DocumentShape:
    depth: int = 0  # fields on the longest path from a root field to a leaf
    aliases: int = 0
    directives: int = 0

    def widest(self, other: DocumentShape) -> DocumentShape:
        """This and `other` side by side: the deeper depth, the counts added."""
        return DocumentShape(
            max(self.depth, other.depth),
            _add(self.aliases, other.aliases),
            _add(self.directives, other.directives),
        )


EMPTY = DocumentShape()


def _add(a: int, b: int) -> int:
    return min(a + b, SATURATED)


def measure(document: DocumentNode) -> DocumentShape:
    """The largest depth, aliases and directives of any operation in `document`."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    measured: dict[str, DocumentShape] = {}
    for name in _dependency_order(fragments):
        fragment = fragments[name]
        own = DocumentShape(directives=len(fragment.directives or ()))
        measured[name] = own.widest(_selection_set(fragment.selection_set, measured))
    result = EMPTY
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            own = DocumentShape(directives=_operation_directives(definition))
            shape = own.widest(_selection_set(definition.selection_set, measured))
            result = DocumentShape(
                max(result.depth, shape.depth),
                max(result.aliases, shape.aliases),
                max(result.directives, shape.directives),
            )
    return result


def _operation_directives(operation: OperationDefinitionNode) -> int:
    on_variables = sum(len(v.directives or ()) for v in operation.variable_definitions or ())
    return len(operation.directives or ()) + on_variables


def _selection_set(node: SelectionSetNode, measured: dict[str, DocumentShape]) -> DocumentShape:
    shape = EMPTY
    for selection in node.selections:
        shape = shape.widest(_selection(selection, measured))
    return shape


def _selection(node: SelectionNode, measured: dict[str, DocumentShape]) -> DocumentShape:
    directives = len(node.directives or ())
    if isinstance(node, FieldNode):
        inner = _selection_set(node.selection_set, measured) if node.selection_set else EMPTY
        depth = 1 if node.name.value in INTROSPECTION_ROOTS else 1 + inner.depth
        aliases = 1 if node.alias is not None else 0
        return DocumentShape(
            depth, _add(aliases, inner.aliases), _add(directives, inner.directives)
        )
    if isinstance(node, InlineFragmentNode):
        inner = _selection_set(node.selection_set, measured)
    elif isinstance(node, FragmentSpreadNode):
        # Not measured yet: unknown, or a spread closing a cycle. Validation refuses both.
        inner = measured.get(node.name.value, EMPTY)
    else:  # pragma: no cover - graphql-core has no other selection kinds
        inner = EMPTY
    return DocumentShape(inner.depth, inner.aliases, _add(directives, inner.directives))


def _dependency_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after every fragment it spreads (cycles broken anywhere).

    Iterative: a chain of hundreds of fragments must not exhaust the Python stack.
    """
    spreads = {name: list(_spread_names(f.selection_set)) for name, f in fragments.items()}
    order: list[str] = []
    seen: set[str] = set()
    for start in fragments:
        if start in seen:
            continue
        seen.add(start)
        stack: list[tuple[str, Iterator[str]]] = [(start, iter(spreads[start]))]
        while stack:
            name, pending = stack[-1]
            following = next(pending, None)
            if following is None:
                stack.pop()
                order.append(name)
            elif following in fragments and following not in seen:
                seen.add(following)
                stack.append((following, iter(spreads[following])))
    return order


def _spread_names(node: SelectionSetNode) -> Iterator[str]:
    stack = [node]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            elif selection.selection_set is not None:  # type: ignore[union-attr]
                stack.append(selection.selection_set)  # type: ignore[union-attr]
