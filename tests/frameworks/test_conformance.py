"""Two REST frameworks nobody here wrote, each fronted by its `examples/*.toml` alone.

Django REST Framework (stock PageNumberPagination, TokenAuthentication,
django-filter, SearchFilter, OrderingFilter) and json-server 0.17 from npm run
as real processes; a counting proxy sits between each and its gateway. Every
expectation is read from the framework itself (a direct GET), never from the
gateway, so a misreading of either cannot cancel out.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.frameworks import dataset
from tests.frameworks.conftest import DRF, EXAMPLES, JSON_SERVER, Stack, stack_for

WALK = """query($first: Int, $after: String, $last: Int, $before: String) {
  contacts(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { databaseId email createdAt } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


def ids(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["databaseId"] for edge in connection["edges"]]


async def expected_contact_ids(stack: Stack) -> list[str]:
    """Every contact, newest first (the gateway's default order), from the framework."""
    records = await stack.direct_list("contacts")
    ordered = sorted(records, key=lambda r: (r["created_at"], r["id"]), reverse=True)
    return [str(r["id"]) for r in ordered]


def list_requests(stack: Stack, collection: str) -> list[Any]:
    return [
        s
        for s in stack.proxy.requests("GET")
        if s.path.rstrip("/") == stack.framework.path(collection).rstrip("/")
    ]


# --- reads across pages -------------------------------------------------------


async def test_forward_walk_gives_every_item_once_in_order(stack: Stack):
    expected = await expected_contact_ids(stack)
    assert len(expected) == dataset.CONTACTS
    stack.proxy.reset()
    seen: list[str] = []
    after, pages = None, 0
    while True:
        page = (await stack.client.data(WALK, {"first": 10, "after": after}))["contacts"]
        pages += 1
        assert page["totalCount"] == dataset.CONTACTS
        seen += ids(page)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert pages < 20, "the walk does not end"
    assert seen == expected
    assert pages == 6
    # One list request per page (each after the first also re-reads the item under
    # the cursor, to check it still stands there: the page size grows by one instead).
    requests = list_requests(stack, "contacts")
    assert len(requests) == len(stack.proxy.seen) == pages, [s.query for s in requests]


async def test_backward_walk_gives_every_item_once_in_order(stack: Stack):
    expected = await expected_contact_ids(stack)
    seen: list[str] = []
    before, pages = None, 0
    while True:
        page = (await stack.client.data(WALK, {"last": 10, "before": before}))["contacts"]
        pages += 1
        seen = ids(page) + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
        assert pages < 20, "the walk does not end"
    assert seen == expected
    assert pages == 6
    assert len(set(seen)) == dataset.CONTACTS
    # One more than the pages: `last` without `before` needs the total first.
    assert len(stack.proxy.seen) <= pages + 1, [s.query for s in stack.proxy.seen]


async def test_walk_while_the_framework_inserts_and_deletes(stack: Stack):
    """Items there for the whole walk appear exactly once, in order, though the list moves
    under the walk: after page 2 a contact is created at the head (positions shift +1),
    after page 3 one walked on page 1 is deleted (positions shift -1)."""
    expected = await expected_contact_ids(stack)
    early = await _direct_create(stack, "2030-01-01T00:00:00Z")
    late: str | None = None
    seen: list[str] = []
    after, pages = None, 0
    try:
        while True:
            page = (await stack.client.data(WALK, {"first": 10, "after": after}))["contacts"]
            pages += 1
            seen += ids(page)
            if pages == 1:
                assert seen[0] == early
            if pages == 2:
                late = await _direct_create(stack, "2030-01-02T00:00:00Z")
            if pages == 3:
                await _direct_delete(stack, early)
                early = ""
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
            assert pages < 20, "the walk does not end"
    finally:
        for extra in (early, late):
            if extra:
                await _direct_delete(stack, extra)
    assert len(seen) == len(set(seen)), "an item came twice"
    assert [i for i in seen if i in expected] == expected


async def _direct_create(stack: Stack, created_at: str) -> str:
    # json-server stores created_at as given; DRF's is read-only and stamped now(), which
    # puts each new contact at the head of the newest-first list just the same.
    body = {"first_name": "Walker", "email": "walker@example.com", "created_at": created_at}
    fw = stack.framework
    async with stack.http.post(
        stack.server.url + fw.path("contacts"), json=body, headers=fw.direct_auth
    ) as resp:
        assert resp.status == 201, await resp.text()
        return str((await resp.json())["id"])


async def _direct_delete(stack: Stack, object_id: str) -> None:
    fw = stack.framework
    async with stack.http.delete(
        stack.server.url + fw.path("contacts", object_id), headers=fw.direct_auth
    ) as resp:
        assert resp.status in (200, 204), await resp.text()


async def test_window_past_the_end_is_exact(stack: Stack):
    """DRF answers 404 "Invalid page." past its last page, json-server 0.17 an empty list;
    either way a window that runs past the end holds exactly the items that exist."""
    expected = await expected_contact_ids(stack)
    head = (await stack.client.data(WALK, {"first": 50}))["contacts"]
    assert ids(head) == expected[:50]
    tail = await stack.client.send(WALK, {"first": 60, "after": head["pageInfo"]["endCursor"]})
    assert not tail.errors, tail.errors
    connection = tail.data["contacts"]
    assert ids(connection) == expected[50:]
    assert connection["pageInfo"]["hasNextPage"] is False
    assert connection["totalCount"] == dataset.CONTACTS
    # After the very last item: an empty window, not an error.
    end = await stack.client.send(WALK, {"first": 5, "after": connection["pageInfo"]["endCursor"]})
    assert not end.errors, end.errors
    assert end.data["contacts"]["edges"] == []


async def test_framework_itself_answers_past_the_end_its_own_way(stack: Stack):
    """The premise of the test above, checked on the framework directly."""
    if stack.framework is DRF:
        status, body, _ = await stack.direct(
            DRF.path("contacts"), [("page", "7"), ("page_size", "10")]
        )
        assert (status, body) == (404, {"detail": "Invalid page."})
    else:
        status, body, headers = await stack.direct(
            JSON_SERVER.path("contacts"), [("_page", "7"), ("_limit", "10")]
        )
        assert (status, body, headers["X-Total-Count"]) == (200, [], str(dataset.CONTACTS))


# --- filters and order --------------------------------------------------------

SEARCH = """query($q: String) {
  contacts(search: $q, first: 100) { totalCount nodes { databaseId } }
}"""


async def test_search_matches_the_frameworks_own_search(stack: Stack):
    param = "search" if stack.framework is DRF else "q"
    direct = await stack.direct_list("contacts", **{param: "hopper"})
    assert 0 < len(direct) < dataset.CONTACTS
    stack.proxy.reset()
    found = (await stack.client.data(SEARCH, {"q": "hopper"}))["contacts"]
    assert found["totalCount"] == len(direct)
    assert sorted(n["databaseId"] for n in found["nodes"]) == sorted(str(r["id"]) for r in direct)
    assert (param, "hopper") in stack.proxy.seen[0].query


async def test_field_filter_on_users_role(stack: Stack):
    admins = [u for u in dataset.users() if u.role == "admin"]
    reply = await stack.client.data(
        "{ users(role: ADMIN, first: 50) { totalCount nodes { databaseId role email } } }"
    )
    users = reply["users"]
    assert users["totalCount"] == len(admins) > 0
    assert {n["databaseId"] for n in users["nodes"]} == {str(u.id) for u in admins}
    assert all(n["role"] == "ADMIN" for n in users["nodes"])


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_order_by_email(stack: Stack, direction: str):
    query = """query($d: OrderDirection!) {
      contacts(first: 57, orderBy: {field: EMAIL, direction: $d}) { nodes { email } }
    }"""
    emails = [
        n["email"] for n in (await stack.client.data(query, {"d": direction}))["contacts"]["nodes"]
    ]
    assert len(emails) == dataset.CONTACTS
    assert emails == sorted(emails, reverse=direction == "DESC")


# --- one object, many objects, nested lists -------------------------------------


async def test_members_and_their_users_in_one_batch(stack: Stack):
    query = """{ organizations(first: 10, orderBy: {field: CREATED_AT, direction: ASC}) {
      nodes { databaseId members(first: 20) { totalCount edges { role node { databaseId email } } } }
    } }"""
    stack.proxy.reset()
    orgs = (await stack.client.data(query))["organizations"]["nodes"]
    users = {u.id: u for u in dataset.users()}
    for org, seeds in zip(orgs, _memberships_by_org(), strict=True):
        members = org["members"]
        assert members["totalCount"] == len(seeds)
        assert [(e["role"], e["node"]["email"]) for e in members["edges"]] == [
            (m.role.upper(), users[m.user_id].email) for m in seeds
        ]
    # One list of organizations, one member list each, and every user in one batch.
    user_lookups = list_requests(stack, "users")
    assert len(user_lookups) == 1
    asked = {v for k, v in user_lookups[0].query if k in ("id__in", "id")}
    if stack.framework is DRF:
        assert len(asked) == 1 and len(next(iter(asked)).split(",")) > 1  # id__in=1,2,...
    else:
        assert len(asked) > 1  # id=1&id=2&...
    assert len(stack.proxy.seen) == 1 + dataset.ORGANIZATIONS + 1


@pytest.mark.parametrize("framework", [DRF, JSON_SERVER], ids=lambda f: f.name)
async def test_members_users_in_small_batch_lookups(
    framework, request: pytest.FixtureRequest, http, tmp_path
):
    """With batch lookups of 5 ids, the users of the member lists (full lookups sent as
    the lists come in, the rest after the last) are each asked for once, in as few
    lookups as their number needs, and every edge gets its own user."""
    example = (EXAMPLES / f"{framework.name}.toml").read_text()
    assert example.count("max_ids = 100") == 1
    config = tmp_path / f"{framework.name}.toml"
    config.write_text(example.replace("max_ids = 100", "max_ids = 5"))
    server = request.getfixturevalue(framework.server_fixture)
    query = """{ organizations(first: 10, orderBy: {field: CREATED_AT, direction: ASC}) {
      nodes { members(first: 20) { edges { node { databaseId email } } } }
    } }"""
    async with stack_for(http, framework, server, config) as stack:
        orgs = (await stack.client.data(query))["organizations"]["nodes"]
    users = {u.id: u for u in dataset.users()}
    for org, seeds in zip(orgs, _memberships_by_org(), strict=True):
        assert [e["node"]["email"] for e in org["members"]["edges"]] == [
            users[m.user_id].email for m in seeds
        ]
    member_users = {m.user_id for m in dataset.memberships()}
    asked = [
        i
        for seen in list_requests(stack, "users")
        for k, v in seen.query
        if k in ("id__in", "id")
        for i in v.split(",")
    ]
    assert sorted(asked) == sorted(str(u) for u in member_users)
    assert len(list_requests(stack, "users")) == -(-len(member_users) // 5)


def _memberships_by_org() -> list[list[dataset.MembershipSeed]]:
    return [
        [m for m in dataset.memberships() if m.organization_id == org.id]
        for org in dataset.organizations()
    ]


async def test_one_contact_by_database_id(stack: Stack):
    seed = dataset.contacts()[4]
    contact = (
        await stack.client.data(
            "query($id: ID!) { contact(id: $id) { databaseId firstName email createdAt } }",
            {"id": str(seed.id)},
        )
    )["contact"]
    assert contact == {
        "databaseId": str(seed.id),
        "firstName": seed.first_name,
        "email": seed.email,
        "createdAt": contact["createdAt"],
    }
    assert contact["createdAt"].startswith(seed.created_at.strftime("%Y-%m-%dT%H:%M:%S"))


# --- writes -------------------------------------------------------------------

CREATE = """mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { databaseId firstName email company } }
}"""
UPDATE = """mutation($input: UpdateContactInput!) {
  updateContact(input: $input) { contact { databaseId company } }
}"""
DELETE = """mutation($input: DeleteContactInput!) {
  deleteContact(input: $input) { deletedId }
}"""


async def test_create_update_delete_reach_the_framework(stack: Stack):
    fw = stack.framework
    stack.proxy.reset()
    created = (
        await stack.client.data(
            CREATE,
            {"input": {"firstName": "Margaret", "lastName": "Hamilton", "email": "mh@example.com"}},
        )
    )["createContact"]["contact"]
    new_id = created["databaseId"]
    assert created["firstName"] == "Margaret"
    status, stored, _ = await stack.direct(fw.path("contacts", new_id))
    assert status == 200
    assert (stored["first_name"], stored["last_name"], stored["email"]) == (
        "Margaret",
        "Hamilton",
        "mh@example.com",
    )
    try:
        updated = (await stack.client.data(UPDATE, {"input": {"id": new_id, "company": "MIT"}}))[
            "updateContact"
        ]["contact"]
        assert updated == {"databaseId": new_id, "company": "MIT"}
        _, stored, _ = await stack.direct(fw.path("contacts", new_id))
        assert (stored["company"], stored["email"]) == ("MIT", "mh@example.com")
    finally:
        deleted = await stack.client.data(DELETE, {"input": {"id": new_id}})
    assert deleted["deleteContact"]["deletedId"]
    status, _, _ = await stack.direct(fw.path("contacts", new_id))
    assert status == 404
    writes = [s for s in stack.proxy.seen if s.method in ("POST", "PATCH")]
    assert [s.method for s in writes] == ["POST", "PATCH"]
    assert all((s.content_type or "").startswith("application/json") for s in writes)
    assert all(s.path.endswith("/") == fw.trailing_slash for s in stack.proxy.seen)


# --- errors -------------------------------------------------------------------


async def test_missing_object_is_not_found(stack: Stack):
    reply = await stack.client.send('{ contact(id: "99999") { databaseId } }')
    assert reply.data == {"contact": None}
    assert reply.codes() == ["NOT_FOUND"]
    assert reply.errors[0]["extensions"]["status"] == 404


async def test_drf_validation_error_is_validation_error(http, drf_server):
    """DRF answers 400 {"email": ["Enter a valid email address."]}."""
    async with _drf_stack(http, drf_server) as stack:
        reply = await stack.client.send(
            CREATE, {"input": {"firstName": "Bad", "email": "not-an-email"}}
        )
        assert reply.codes() == ["VALIDATION_ERROR"]
        assert reply.errors[0]["extensions"]["status"] == 400
        assert [s.method for s in stack.proxy.seen] == ["POST"]


async def test_drf_validation_error_names_the_field(http, drf_server):
    """errors.style = "field_keys": the field and message come from DRF's own 400 body."""
    async with _drf_stack(http, drf_server) as stack:
        reply = await stack.client.send(
            CREATE, {"input": {"firstName": "Bad", "email": "not-an-email"}}
        )
        assert reply.codes() == ["VALIDATION_ERROR"]
        extensions = reply.errors[0]["extensions"]
        assert extensions.get("field") == "email"
        # The framework's own words, read from the body the test gets directly.
        async with stack.http.post(
            stack.server.url + DRF.path("contacts"),
            json={"first_name": "Bad", "email": "not-an-email"},
            headers=DRF.direct_auth,
        ) as resp:
            assert resp.status == 400
            direct = await resp.json()
        assert reply.errors[0]["message"] == direct["email"][0]
        # A field with two words comes back camelCase: first_name -> firstName.
        blank = await stack.client.send(CREATE, {"input": {"firstName": "", "email": "a@b.co"}})
        assert blank.codes() == ["VALIDATION_ERROR"]
        assert blank.errors[0]["extensions"].get("field") == "firstName"


async def test_drf_bad_token_is_unauthenticated(http, drf_server):
    async with _drf_stack(http, drf_server) as stack:
        reply = await stack.client.send(
            "{ contacts(first: 1) { totalCount } }", headers={"X-API-Key": "0" * 40}
        )
        assert reply.codes() == ["UNAUTHENTICATED"]
        assert reply.errors[0]["extensions"]["status"] == 401
        # DRF's own Authorization: Token KEY from the caller is passed on as is.
        ok = await stack.client.data(
            "{ viewer { databaseId email } }",
            headers={"X-API-Key": "", "Authorization": DRF.direct_auth["Authorization"]},
        )
        assert ok["viewer"]["email"] == "user01@example.com"


async def test_json_server_needs_no_credential(http, json_server):
    """auth.scheme = "none": json-server has no auth, and callers need send none."""
    async with stack_for(http, JSON_SERVER, json_server) as stack:
        reply = await stack.client.data("{ contacts(first: 1) { totalCount } }")
        assert reply["contacts"]["totalCount"] >= dataset.CONTACTS - 1
        assert stack.proxy.seen and not any(s.credential for s in stack.proxy.seen)
        # json-server knows no caller: /users/me is the user with id "me", which is missing.
        viewer = await stack.client.send("{ viewer { databaseId } }")
        assert viewer.data == {"viewer": None}
        assert viewer.codes() == ["NOT_FOUND"]


# --- what the framework lacks is refused, never ignored ---------------------------


async def test_custom_properties_are_refused_before_any_request(stack: Stack):
    stack.proxy.reset()
    reply = await stack.client.send(
        CREATE,
        {"input": {"firstName": "X", "email": "x@example.com", "customProperties": {"a": 1}}},
    )
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert stack.proxy.seen == []


async def test_unsupported_filters_and_orders_are_bad_user_input(stack: Stack):
    if stack.framework is DRF:
        # OrderingFilter would silently ignore ordering=first_name (not in ordering_fields).
        unsupported = [
            "{ contacts(first: 5, orderBy: {field: FIRST_NAME, direction: ASC}) { totalCount } }",
        ]
    else:
        # json-server would treat updated_after as a field filter matching nothing.
        unsupported = [
            '{ contacts(first: 5, updatedAfter: "2025-02-01T00:00:00Z") { totalCount } }',
        ]
    for query in unsupported:
        stack.proxy.reset()
        reply = await stack.client.send(query)
        assert reply.codes() == ["BAD_USER_INPUT"], (query, reply.errors)
        assert "not supported" in reply.errors[0]["message"], reply.errors
        assert stack.proxy.seen == [], query


# Every root field and mutation of what neither API has: resources, webhooks, auth.
ABSENT = [
    "{ resources(first: 5) { totalCount } }",
    "{ resources(first: 5, filter: {status: ACTIVE}) { totalCount } }",
    '{ resource(id: "1") { databaseId } }',
    "{ webhooks(first: 5) { totalCount } }",
    '{ webhook(id: "1") { databaseId } }',
    'mutation { createResource(input: {name: "R", type: STANDARD}) { resource { id } } }',
    'mutation { updateResource(input: {id: "1", name: "S"}) { resource { id } } }',
    'mutation { deleteResource(input: {id: "1"}) { deletedId } }',
    'mutation { createWebhook(input: {url: "https://example.com/h", events: ["x"]}) '
    "{ webhook { id } } }",
    'mutation { updateWebhook(input: {id: "1", active: false}) { webhook { id } } }',
    'mutation { deleteWebhook(input: {id: "1"}) { deletedId } }',
    'mutation { testWebhook(input: {id: "1"}) { __typename } }',
    'mutation { login(input: {email: "a@example.com", password: "pw"}) { __typename } }',
    'mutation { refreshToken(input: {refreshToken: "r"}) { __typename } }',
    'mutation { register(input: {email: "a@example.com", password: "pw123456", '
    'username: "a"}) { __typename } }',
    "mutation { logout { __typename } }",
]


@pytest.mark.parametrize("query", ABSENT)
async def test_absent_collections_are_bad_user_input_with_no_request(stack: Stack, query: str):
    """`absent = ["resources", "webhooks", "auth"]` in both examples: not NOT_FOUND from a
    404 the gateway had to ask for, but refused before any request leaves."""
    stack.proxy.reset()
    reply = await stack.client.send(query)
    assert reply.codes() == ["BAD_USER_INPUT"], reply.errors
    assert "not supported by this upstream" in reply.errors[0]["message"], reply.errors
    assert stack.proxy.seen == []


async def test_absent_collections_by_global_id_too(stack: Stack):
    """node(id:) with a Resource's or a Webhook's global id is refused the same way."""
    from restloom.graphql.relay import to_global_id

    stack.proxy.reset()
    for type_name in ("Resource", "Webhook"):
        reply = await stack.client.send(
            "query($id: ID!) { node(id: $id) { id } }", {"id": to_global_id(type_name, "1")}
        )
        assert reply.codes() == ["BAD_USER_INPUT"], reply.errors
    assert stack.proxy.seen == []
    # The collections that exist still answer.
    assert (await stack.client.data("{ contacts(first: 1) { totalCount } }"))["contacts"]


async def test_ids_and_sizes_the_framework_cannot_take_are_refused(stack: Stack):
    """Integer ids only (`id_pattern`), and no page beyond the framework's maximum."""
    for query in (
        '{ contact(id: "abc") { databaseId } }',
        '{ contact(id: "1/../2") { databaseId } }',
        "{ contacts(first: 101) { totalCount } }",
    ):
        stack.proxy.reset()
        reply = await stack.client.send(query)
        assert reply.codes() == ["BAD_USER_INPUT"], (query, reply.errors)
        assert stack.proxy.seen == [], query


async def test_drf_updated_after_filters(http, drf_server):
    cutoff = dataset.BASE_TIME.replace(month=2, day=25)
    newer = [c for c in dataset.contacts() if c.updated_at > cutoff]
    async with _drf_stack(http, drf_server) as stack:
        reply = await stack.client.data(
            "query($t: DateTime) { contacts(updatedAfter: $t, first: 50) { totalCount nodes { databaseId } } }",
            {"t": dataset.iso(cutoff)},
        )
        assert reply["contacts"]["totalCount"] == len(newer) > 0
        assert {n["databaseId"] for n in reply["contacts"]["nodes"]} == {str(c.id) for c in newer}


async def test_drf_members_updated_after_is_not_silently_ignored(http, drf_server):
    """collection_filters.members: the memberships view filters on joined_at__gt."""
    org = dataset.organizations()[-1]
    seeds = [m for m in dataset.memberships() if m.organization_id == org.id]
    cutoff = seeds[-2].joined_at
    joined_later = [m for m in seeds if m.joined_at > cutoff]
    assert 0 < len(joined_later) < len(seeds)
    async with _drf_stack(http, drf_server) as stack:
        reply = await stack.client.data(
            "query($id: ID!, $t: DateTime) { organization(id: $id) { members(first: 20, "
            "updatedAfter: $t) { totalCount edges { node { databaseId } } } } }",
            {"id": str(org.id), "t": dataset.iso(cutoff)},
        )
        members = reply["organization"]["members"]
        assert members["totalCount"] == len(joined_later)
        assert {e["node"]["databaseId"] for e in members["edges"]} == {
            str(m.user_id) for m in joined_later
        }
        member_lists = list_requests(stack, "memberships")
        assert member_lists and all(
            ("joined_at__gt", dataset.iso(cutoff)) in s.query
            and not any(k == "updated_at__gt" for k, _ in s.query)
            for s in member_lists
        ), [s.query for s in member_lists]


def _drf_stack(http, server):
    return stack_for(http, DRF, server)


ADD_MEMBER = """mutation($org: ID!, $user: ID!) {
  addOrganizationMember(input: {organizationId: $org, userId: $user, role: ADMIN}) {
    role user { databaseId }
  }
}"""
REMOVE_MEMBER = """mutation($org: ID!, $user: ID!) {
  removeOrganizationMember(input: {organizationId: $org, userId: $user}) { removedUserId }
}"""


async def test_add_and_remove_a_member(stack: Stack):
    """Both frameworks keep members as a collection of their own, filtered by organization:
    the parent goes in the POST body, and removal finds the membership's own id first."""
    org = dataset.organizations()[0]
    members_before = [m.user_id for m in dataset.memberships() if m.organization_id == org.id]
    outsider = next(u.id for u in dataset.users() if u.id not in members_before)
    parent = "organization" if stack.framework is DRF else "organizationId"
    collection = "memberships" if stack.framework is DRF else "members"

    async def direct_members() -> dict[int, dict[str, Any]]:
        records = await stack.direct_list(collection, **{parent: str(org.id)})
        return {r["user_id"]: r for r in records}

    added = await stack.client.data(ADD_MEMBER, {"org": str(org.id), "user": str(outsider)})
    assert added["addOrganizationMember"]["user"]["databaseId"] == str(outsider)
    stored = await direct_members()
    assert set(stored) == {*members_before, outsider}
    assert stored[outsider]["role"] == "admin"

    stack.proxy.reset()
    removed = await stack.client.data(REMOVE_MEMBER, {"org": str(org.id), "user": str(outsider)})
    assert removed["removeOrganizationMember"]["removedUserId"]
    assert set(await direct_members()) == set(members_before)
    deletes = stack.proxy.requests("DELETE")
    assert [s.path for s in deletes] == [stack.framework.path(collection, stored[outsider]["id"])]
