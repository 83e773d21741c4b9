"""The cost prediction is remembered per parsed document, and only for what it depends on.

The document cache hands out the same `DocumentNode` for the same query; the
prediction for it is kept beside it, keyed by schema, profile, operation and
variables, and dropped when the document is collected.
"""

from __future__ import annotations

import gc

from graphql import parse
from restloom.graphql import cost
from restloom.graphql.cost import predict
from restloom.graphql.schema import build_schema
from restloom.upstream.profile import BUILTIN_PROFILES

MEMBERS = (
    "query Members($n: Int) { organizations(first: 25) "
    "{ nodes { members(first: $n) { nodes { email } } } } }"
)


def test_the_same_document_with_other_variables_or_profiles_is_predicted_anew() -> None:
    schema = build_schema()._schema
    document = parse(MEMBERS)
    mossdesk, moco = BUILTIN_PROFILES["mossdesk"], BUILTIN_PROFILES["moco"]
    # 1 page + 25 member lists + the users: batched (mossdesk) or one GET each (moco).
    assert predict(schema, document, None, {"n": 10}, mossdesk).requests == 1 + 25 + 3
    assert predict(schema, document, None, {"n": 2}, mossdesk).requests == 1 + 25 + 1
    assert predict(schema, document, None, {"n": 10}, moco).requests == 1 + 25 + 250
    # Remembered: asked again, each gives its own answer.
    assert predict(schema, document, None, {"n": 10}, mossdesk).requests == 1 + 25 + 3
    assert predict(schema, document, None, {"n": 2}, mossdesk).requests == 1 + 25 + 1
    assert predict(schema, document, None, {"n": 10}, moco).requests == 1 + 25 + 250


def test_a_profile_copy_is_not_taken_for_the_original() -> None:
    schema = build_schema()._schema
    document = parse("{ organizations(first: 25) { nodes { members { nodes { email } } } } }")
    mossdesk = BUILTIN_PROFILES["mossdesk"]
    small_pages = mossdesk.model_copy(
        update={"pagination": mossdesk.pagination.model_copy(update={"default_size": 5})}
    )
    # 25 members a list by default: 625 users in 7 batches; 5 a list: 125 in 2.
    assert predict(schema, document, None, None, mossdesk).requests == 1 + 25 + 7
    assert predict(schema, document, None, None, small_pages).requests == 1 + 25 + 2


def test_a_collected_document_leaves_no_prediction_behind() -> None:
    schema = build_schema()._schema
    gc.collect()  # documents of earlier tests
    before = len(cost._PREDICTIONS._entries)
    document = parse("{ contacts(first: 3) { nodes { id } } }")
    assert predict(schema, document, None, None, BUILTIN_PROFILES["mossdesk"]).requests == 1
    assert len(cost._PREDICTIONS._entries) == before + 1
    del document
    gc.collect()
    assert len(cost._PREDICTIONS._entries) == before
