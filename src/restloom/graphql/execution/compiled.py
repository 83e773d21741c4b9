"""Straight-line completers for selections of plain reads, written once per plan.

`FastExecutionContext._complete` walks a selection's field plans in a loop: a kind
test, a few attribute loads and a call for every field of every object. For a
selection whose fields are all leaves, `__typename`, or objects whose own selection
is compiled, this module writes that loop out as one Python function (as graphql-jit
compiles queries to JavaScript). For `node { id email }` on User it is:

    def complete(source):
        try:
            results = {}
            value = source.id
            if type(value) is str:
                pass
            elif value is None or value is Undefined:
                return IRREGULAR
            else:
                value = coerce_leaf(value, coerce_0)
                if value is IRREGULAR:
                    return IRREGULAR
            results['id'] = value
            ...
            return results
        except Exception:
            return IRREGULAR

A completer handles the regular case only: a null where the type allows it, a value
of a class known to be settled that its scalar accepts, an object of a known class
that `is_type_of` accepts. On anything else (an exception from a read or a scalar, an
awaitable, a null for a non-null type, a class not seen before) it returns
IRREGULAR, and the caller completes that object the generic way from the start.
Reads have no side effects (`context.py`), so that gives the answer and the errors
graphql-core always gave.
"""

from __future__ import annotations

import keyword
from collections.abc import Callable
from typing import Any

from graphql import Undefined
from restloom.graphql.execution.plans import FieldPlan, Kind, SelectionPlan
from restloom.graphql.execution.values import IRREGULAR, PLAIN_CLASSES, SIMPLE, scalar_output

Completer = Callable[[Any], Any]


def coerce_leaf(value: Any, coerce: Callable[[Any], Any]) -> Any:
    """A non-null leaf value, coerced, or IRREGULAR (`FastExecutionContext._leaf`'s rules)."""
    cls = type(value)
    if cls not in SIMPLE and cls not in PLAIN_CLASSES:
        return IRREGULAR  # maybe awaitable or an exception: the generic way finds out
    return scalar_output(coerce, value)


def compile_plan(selection: SelectionPlan) -> None:
    """Compile `selection` and every selection below it, each once.

    Compiling a selection costs 0.2-0.7 ms, more than it saves in one execution of a
    100-item page (~0.14 ms), so the executor asks for it when a kept plan is used again.
    """
    if selection.compile_tried:
        return
    selection.compile_tried = True
    for plan in selection.fields:
        if plan.selection is not None:
            compile_plan(plan.selection)  # first: a selection compiles over compiled ones
    selection.compiled = compile_selection(selection)


def compile_selection(selection: SelectionPlan) -> Completer | None:
    """The selection's completer, or None when one of its fields needs the loop."""
    names: dict[str, Any] = {
        "IRREGULAR": IRREGULAR,
        "PLAIN_CLASSES": PLAIN_CLASSES,
        "Undefined": Undefined,
        "coerce_leaf": coerce_leaf,
    }
    lines = ["def complete(source):", "    try:", "        results = {}"]
    for index, plan in enumerate(selection.fields):
        body = _field(plan, index, names, selection.type_name)
        if body is None:
            return None
        lines += ["        " + line for line in body]
    lines += [
        "        return results",
        "    except Exception:",
        "        return IRREGULAR",
    ]
    # The source is ours (names from the schema, values passed in `names`), not a
    # caller's: response names and attributes go in through repr() or as identifiers.
    exec("\n".join(lines), names)
    return names["complete"]  # type: ignore[no-any-return]


def _field(plan: FieldPlan, index: int, names: dict[str, Any], type_name: str) -> list[str] | None:
    key = repr(plan.response_name)
    if plan.kind is Kind.TYPENAME:
        return [f"results[{key}] = {type_name!r}"]
    if plan.kind is Kind.LEAF:
        read = _read(plan, index, names)
        if read is None:
            return None
        names[f"coerce_{index}"] = plan.coerce
        null_test = "if value is None or value is Undefined:"
        if plan.str_as_is:  # a str of String or ID is its own output
            head = ["if type(value) is str:", "    pass", "el" + null_test]
        else:
            head = [null_test]
        return [
            f"value = {read}",
            *head,
            "    return IRREGULAR" if plan.non_null else "    value = None",
            "else:",
            f"    value = coerce_leaf(value, coerce_{index})",
            "    if value is IRREGULAR:",
            "        return IRREGULAR",
            f"results[{key}] = value",
        ]
    if plan.kind is Kind.OBJECT:
        read = _read(plan, index, names)
        inner = plan.selection.compiled if plan.selection is not None else None
        if read is None or inner is None:
            return None
        names[f"inner_{index}"] = inner
        names[f"is_type_of_{index}"] = plan.is_type_of
        check = f" or is_type_of_{index}(value, None) is not True" if plan.is_type_of else ""
        return [
            f"value = {read}",
            "if value is None or value is Undefined:",
            "    return IRREGULAR" if plan.non_null else "    value = None",
            "else:",
            f"    if type(value) not in PLAIN_CLASSES{check}:",
            "        return IRREGULAR",
            f"    value = inner_{index}(value)",
            "    if value is IRREGULAR:",
            "        return IRREGULAR",
            f"results[{key}] = value",
        ]
    return None  # lists and everything else: the loop


def _read(plan: FieldPlan, index: int, names: dict[str, Any]) -> str | None:
    """The expression that reads the field: an attribute, or the plan's read function."""
    if plan.read is getattr and plan.attr.isidentifier() and not keyword.iskeyword(plan.attr):
        return f"source.{plan.attr}"
    if plan.read is None:
        return None
    names[f"read_{index}"] = plan.read
    names[f"attr_{index}"] = plan.attr
    return f"read_{index}(source, attr_{index})"
