"""An execution context that completes plain reads in a loop, graphql-core's way.

graphql-core completes every field through the same machinery: a Path, a resolve
info, strawberry's resolver wrapper, an awaitable check, `complete_value`, and for
each object `collect_subfields` and `execute_fields` again. For the plain reads of a
response (`plans.py`: attributes of strawberry objects, of leaf, object or list type)
this context reads the attribute and completes it directly, in one loop per object.

Semantics stay graphql-core's:
- Anything irregular in a plain read (a null for a non-null type, an exception, an
  awaitable, a value the scalar refuses, an object `is_type_of` rejects) runs that field
  through graphql-core's own `execute_field` instead, before any of its sub-fields ran:
  reads have no side effects, so graphql-core produces the value or error it always did.
- Errors from sub-fields (which may have run resolvers) are handled as graphql-core
  does at that level: `handle_field_error` with the same type, field nodes and path, so
  null propagation, error paths and locations are the same.
- Non-plain fields go through `execute_field`; resolver middleware or deferred
  delivery turn the whole thing off.

A kept plan used again also gets compiled completers for its selections of leaves and
objects (`compiled.py`): one function per selection for the regular case, with this
loop as the way back for anything else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Any

from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql import GraphQLObjectType, GraphQLOutputType, Undefined
from restloom.graphql.execution.compiled import compile_plan
from restloom.graphql.execution.helpers import weak_helpers
from restloom.graphql.execution.places import Where, path_of
from restloom.graphql.execution.plancache import PlanCache
from restloom.graphql.execution.plans import (
    FieldPlan,
    Kind,
    SelectionPlan,
    kind_of,
    shape_of,
)
from restloom.graphql.execution.values import (
    IRREGULAR,
    PLAIN_CLASSES,
    SIMPLE,
    remember_if_plain,
    scalar_output,
)

# Plans shared between executions of the same operation (see plancache.py).
PLANS = PlanCache()

LEAF, OBJECT, LEAF_LIST, OBJECT_LIST, TYPENAME = (
    Kind.LEAF,
    Kind.OBJECT,
    Kind.LEAF_LIST,
    Kind.OBJECT_LIST,
    Kind.TYPENAME,
)


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.async_helpers = weak_helpers(self)
        # Resolver middleware (a schema extension's `resolve`) must see every field.
        self._plain = not getattr(self.middleware_manager, "middlewares", None)
        self._plans: dict[int, tuple[GroupedFieldSet, SelectionPlan]] = {}

    # --- planning: once per selection set and execution -------------------------------

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if position_context is not None or not self._plain:  # deferred delivery: as is
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        return self._complete(self._plan(parent_type, grouped_field_set), source_value, path)

    def _plan(self, parent_type: GraphQLObjectType, grouped: GroupedFieldSet) -> SelectionPlan:
        # Keyed by identity, like graphql-core's own memo; the value keeps the key alive.
        found = self._plans.get(id(grouped))
        if found is not None and found[0] is grouped and found[1].parent_type is parent_type:
            return found[1]
        shared = PLANS.key(
            self.operation, self.fragments, self.variable_values, parent_type, grouped
        )
        plan = PLANS.get(shared) if shared is not None else None
        if plan is not None:
            compile_plan(plan)  # a kept plan used again: worth compiling (once)
            self._plans[id(grouped)] = (grouped, plan)
            return plan
        plan = SelectionPlan(parent_type, [])
        self._plans[id(grouped)] = (grouped, plan)
        plan.fields = [self._plan_field(parent_type, n, d) for n, d in grouped.items()]
        if shared is not None:  # whole: a plan is only shared once it is complete
            PLANS.put(shared, plan)
        return plan

    def _plan_field(
        self, parent_type: GraphQLObjectType, response_name: str, details: FieldDetailsList
    ) -> FieldPlan:
        name = details[0].node.name.value
        field = self.schema.get_field(parent_type, name)
        if field is None:
            return FieldPlan(Kind.OTHER, response_name, details)
        if name == "__typename":
            return FieldPlan(Kind.TYPENAME, response_name, details, field)
        shape = shape_of(field)
        plan = FieldPlan(kind_of(shape, details), response_name, details, field, shape)
        if plan.kind in (OBJECT, OBJECT_LIST):
            assert shape is not None and shape.object_type is not None
            grouped, defer_usages, _ = self.collect_subfields(shape.object_type, details)
            if defer_usages:
                plan.kind = Kind.OTHER
            else:
                plan.selection = self._plan(shape.object_type, grouped)
        return plan

    # --- completing ---------------------------------------------------------------------

    def _complete(self, selection: SelectionPlan, source: Any, path: Where) -> Any:
        """An object's fields: a dict, or an awaitable of it when some field is async."""
        compiled = selection.compiled
        if compiled is not None:
            completed = compiled(source)
            if completed is not IRREGULAR:
                return completed
        results: dict[str, Any] = {}
        pending: list[str] | None = None
        try:
            for plan in selection.fields:
                kind = plan.kind
                if kind is LEAF:
                    try:
                        value = plan.read(source, plan.attr)  # type: ignore[misc]
                    except Exception:  # graphql-core's path raises it again, located
                        value = IRREGULAR
                    else:  # a str of String or ID is its own output: no call for it
                        if type(value) is not str or not plan.str_as_is:
                            value = self._leaf(plan, value)
                    if value is not IRREGULAR:
                        results[plan.response_name] = value
                        continue
                    # graphql-core's answer may be awaitable (the read was): below.
                    value = self._by_graphql_core(selection, plan, source, path)
                elif kind is TYPENAME:
                    results[plan.response_name] = selection.type_name
                    continue
                elif kind is OBJECT:
                    value = self._object_field(selection, plan, source, path)
                elif kind is OBJECT_LIST:
                    value = self._object_list_field(selection, plan, source, path)
                elif kind is LEAF_LIST:
                    value = self._leaf_list(plan, source)
                    if value is IRREGULAR:
                        value = self._by_graphql_core(selection, plan, source, path)
                else:
                    value = self._by_graphql_core(selection, plan, source, path)
                    if value is Undefined:
                        continue
                results[plan.response_name] = value
                if type(value) not in _SYNC and self.is_awaitable(value):
                    if pending is None:
                        pending = []
                    pending.append(plan.response_name)
        except Exception:
            if pending:  # as graphql-core: let the others settle, they may fail too
                self.settle_in_background([results[name] for name in pending])
            raise
        if pending is None:
            return results
        return _gather_fields(results, pending)

    def _by_graphql_core(
        self, selection: SelectionPlan, plan: FieldPlan, source: Any, path: Where
    ) -> Any:
        field_path = Path(path_of(path), plan.response_name, selection.type_name)
        return self.execute_field(
            selection.parent_type, source, plan.field_details, field_path, None
        )

    def _leaf(self, plan: FieldPlan, value: Any) -> Any:
        """A leaf field's read value, coerced, or IRREGULAR."""
        if value is None or value is Undefined:
            return IRREGULAR if plan.non_null else None
        if type(value) in SIMPLE:  # the commonest case, without the settled check
            return scalar_output(plan.coerce, value)  # type: ignore[arg-type]
        return self._coerce(plan, value)

    def _coerce(self, plan: FieldPlan, value: Any) -> Any:
        if type(value) not in SIMPLE and not self._settled(value):
            return IRREGULAR
        return scalar_output(plan.coerce, value)  # type: ignore[arg-type]

    def _settled(self, value: Any) -> bool:
        """Neither an exception nor awaitable: a value to complete as it is."""
        if type(value) in PLAIN_CLASSES:
            return True
        if isinstance(value, Exception) or self.is_awaitable(value):
            return False
        remember_if_plain(type(value))
        return True

    def _leaf_list(self, plan: FieldPlan, source: Any) -> Any:
        items = self._read_list(plan, source)
        if items is None or items is IRREGULAR:
            return items
        completed = []
        for item in items:
            if item is None or item is Undefined:
                if plan.item_non_null:
                    return IRREGULAR
                completed.append(None)
                continue
            value = self._coerce(plan, item)
            if value is IRREGULAR:
                return IRREGULAR
            completed.append(value)
        return completed

    def _read_list(self, plan: FieldPlan, source: Any) -> Any:
        """The list a list field holds, None for a null, or IRREGULAR."""
        try:
            value = plan.read(source, plan.attr)  # type: ignore[misc]
        except Exception:
            return IRREGULAR
        if value is None or value is Undefined:
            return IRREGULAR if plan.non_null else None
        if type(value) is not list and type(value) is not tuple:
            return IRREGULAR  # other iterables, async ones: graphql-core's path
        return value

    def _regular_object(self, plan: FieldPlan, value: Any) -> bool:
        if not self._settled(value):
            return False
        check = plan.is_type_of
        # strawberry's own is_type_of (plans.py) never reads its info argument.
        return check is None or check(value, None) is True  # type: ignore[arg-type]

    def _object_field(
        self, selection: SelectionPlan, plan: FieldPlan, source: Any, path: Where
    ) -> Any:
        try:
            value = plan.read(source, plan.attr)  # type: ignore[misc]
        except Exception:
            return self._by_graphql_core(selection, plan, source, path)
        if value is None or value is Undefined:
            if plan.non_null:
                return self._by_graphql_core(selection, plan, source, path)
            return None
        if not self._regular_object(plan, value):
            return self._by_graphql_core(selection, plan, source, path)
        field_path = (path, plan.response_name, selection.type_name)
        try:
            completed = self._complete(plan.selection, value, field_path)  # type: ignore[arg-type]
        except Exception as error:
            self.handle_field_error(
                error,
                plan.return_type,  # type: ignore[arg-type]
                plan.field_details,
                path_of(field_path),
            )
            return None
        if type(completed) is dict:
            return completed
        return self._settle(completed, plan.return_type, plan.field_details, path_of(field_path))  # type: ignore[arg-type]

    def _object_list_field(
        self, selection: SelectionPlan, plan: FieldPlan, source: Any, path: Where
    ) -> Any:
        items = self._read_list(plan, source)
        if items is None:
            return None
        if items is IRREGULAR or not self._regular_items(plan, items):
            return self._by_graphql_core(selection, plan, source, path)
        field_path = (path, plan.response_name, selection.type_name)
        try:
            completed = self._complete_items(plan, items, field_path)
        except Exception as error:
            self.handle_field_error(
                error,
                plan.return_type,  # type: ignore[arg-type]
                plan.field_details,
                path_of(field_path),
            )
            return None
        if type(completed) is list:
            return completed
        return self._settle(completed, plan.return_type, plan.field_details, path_of(field_path))  # type: ignore[arg-type]

    def _regular_items(self, plan: FieldPlan, items: Sequence[Any]) -> bool:
        """Checked before any item runs, so that graphql-core can still take the field."""
        for item in items:
            if item is None or item is Undefined:
                if plan.item_non_null:
                    return False
            elif not self._regular_object(plan, item):
                return False
        return True

    def _complete_items(self, plan: FieldPlan, items: Sequence[Any], path: Where) -> Any:
        selection = plan.selection
        item_type = plan.item_type
        details = plan.field_details
        completed: list[Any] = []
        pending: list[int] | None = None
        try:
            for index, item in enumerate(items):
                if item is None or item is Undefined:
                    completed.append(None)
                    continue
                item_path = (path, index, None)
                try:
                    value = self._complete(selection, item, item_path)  # type: ignore[arg-type]
                except Exception as error:  # raises again when the item is non-null
                    self.handle_field_error(error, item_type, details, path_of(item_path))  # type: ignore[arg-type]
                    value = None
                else:
                    if type(value) is not dict:
                        value = self._settle(value, item_type, details, path_of(item_path))  # type: ignore[arg-type]
                        if pending is None:
                            pending = []
                        pending.append(index)
                completed.append(value)
        except Exception:
            if pending:
                self.settle_in_background([completed[index] for index in pending])
            raise
        if pending is None:
            return completed
        return _gather_items(completed, pending)

    async def _settle(
        self,
        awaitable: Awaitable[Any],
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await awaitable
        except Exception as error:
            self.handle_field_error(error, return_type, details, path)
            return None


# Never awaitable: skip the check for the commonest completed values.
_SYNC = frozenset({dict, list, str, int, float, bool, type(None)})


async def _gather_fields(results: dict[str, Any], pending: list[str]) -> dict[str, Any]:
    if len(pending) == 1:
        results[pending[0]] = await results[pending[0]]
    else:
        values = await gather_with_cancel(*(results[name] for name in pending))
        results.update(zip(pending, values, strict=True))
    return results


async def _gather_items(completed: list[Any], pending: list[int]) -> list[Any]:
    if len(pending) == 1:
        completed[pending[0]] = await completed[pending[0]]
    else:
        values = await gather_with_cancel(*(completed[index] for index in pending))
        for index, value in zip(pending, values, strict=True):
            completed[index] = value
    return completed
