"""Codes that say what went wrong: a caller's bad variables and documents are not our crashes."""

import logging

import pytest

COERCION_CASES = [
    ("query($n: Int) { contacts(first: $n) { totalCount } }", {"n": "ten"}, "n"),
    ("query($n: Int!) { contacts(first: $n) { totalCount } }", {}, "n"),
    ("query($n: Int!) { contacts(first: $n) { totalCount } }", {"n": None}, "n"),
    ("query($d: DateTime) { contacts(updatedAfter: $d) { totalCount } }", {"d": "yesterday"}, "d"),
    (
        "query($o: ContactOrder) { contacts(orderBy: $o) { totalCount } }",
        {"o": {"field": "NOPE"}},
        "o",
    ),
    (
        "query($o: ContactOrder) { contacts(orderBy: $o) { totalCount } }",
        {"o": {"bogus": 1}},
        "o",
    ),
    ("query($s: String) { contacts(search: $s) { totalCount } }", {"s": {"an": "object"}}, "s"),
]


@pytest.mark.parametrize(("query", "variables", "variable"), COERCION_CASES)
async def test_a_bad_variable_is_bad_user_input_naming_it(
    client, stats, caplog, query, variables, variable
):
    await stats.reset()
    with caplog.at_level(logging.ERROR, logger="restloom"):
        reply = await client.send(query, variables)
    assert reply.codes() == ["BAD_USER_INPUT"], reply.errors
    error = reply.errors[0]
    assert error["extensions"]["variable"] == variable
    assert error["extensions"]["requestId"]
    assert f"${variable}" in error["message"]
    # Not logged as a crash, and nothing reached the upstream.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert await stats.requests() == 0


async def test_a_syntax_error_is_parse_failed_with_a_request_id(client):
    reply = await client.send("{ contacts( { totalCount } }")
    assert reply.codes() == ["GRAPHQL_PARSE_FAILED"], reply.errors
    assert reply.errors[0]["extensions"]["requestId"]


async def test_a_query_that_does_not_fit_the_schema_is_validation_failed(client):
    reply = await client.send("{ contactz { totalCount } }")
    assert reply.codes() == ["GRAPHQL_VALIDATION_FAILED"]
    assert reply.errors[0]["extensions"]["requestId"]
