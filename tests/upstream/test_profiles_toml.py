"""Profiles that reach real REST frameworks by TOML alone (issue 9, item 9).

`MiniRest` is a small aiohttp upstream written here, strict the way frameworks are:
it answers only the exact paths its configuration names (with or without the
trailing slash, not both), only the credential header it expects (and, for "no
auth", refuses any credential at all), counts pages from 0 or 1, and records
every request. Each profile field is written in TOML, loaded by the settings
loader, and exercised through a real gateway; where the sim can speak a field
(unsupported `custom_properties` in the mossdesk style) the sim is used instead.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web

from restloom.config import ConfigError, load_settings
from tests.conftest import FULL_KEY
from tests.support import GatewayServer, GraphQLClient

Record = dict[str, Any]
Render = Callable[[list[Record], int], tuple[Any, dict[str, str]]]


def drf_list(items: list[Record], total: int) -> tuple[Any, dict[str, str]]:
    return {"count": total, "next": None, "previous": None, "results": items}, {}


def json_server_list(items: list[Record], total: int) -> tuple[Any, dict[str, str]]:
    return items, {"X-Total-Count": str(total)}


def nested_list(items: list[Record], total: int) -> tuple[Any, dict[str, str]]:
    return {"payload": {"items": items, "page": {"total": total}}}, {}


@dataclass
class Request:
    method: str
    path: str
    query: list[tuple[str, str]]
    headers: dict[str, str]
    body: Any


@dataclass
class MiniRest:
    """An in-memory REST framework on loopback, configured like the profile under test."""

    render_list: Render = drf_list
    render_object: Callable[[Record], Any] = lambda record: record
    auth: str | None = None  # the exact Authorization header required; None: none allowed
    trailing_slash: bool = False
    first_page: int = 1
    page_param: str = "page"
    size_param: str = "page_size"
    sort: str = "none"  # "signed:<param>" | "pair:<param>:<order param>" | "none"
    search_param: str = "search"
    batch: str = ""  # "repeated:<param>" | "joined:<param>:<separator>" | ""
    members: str = "nested"  # "nested" | "filtered"
    prefix: str = ""
    seen: list[Request] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self.ids = itertools.count(100)
        stamp = "2025-01-{:02d}T00:00:00Z"
        self.data: dict[str, dict[int, Record]] = {
            "contacts": {
                n: {
                    "id": n,
                    "first_name": f"C{n:02d}",
                    "email": f"c{n:02d}@example.com",
                    "created_at": stamp.format(n),
                    "updated_at": stamp.format(n),
                }
                for n in range(1, 24)
            },
            "users": {
                n: {
                    "id": n,
                    "email": f"u{n}@example.com",
                    "username": f"user{n}",
                    "created_at": stamp.format(n),
                }
                for n in range(1, 9)
            },
            "organizations": {
                n: {"id": n, "name": f"Org {n}", "slug": f"org-{n}", "created_at": stamp.format(n)}
                for n in range(1, 4)
            },
            "memberships": {
                m: {
                    "id": m,
                    "organization": 1 + (m % 3),
                    "user_id": 1 + (m % 8),
                    "role": "member",
                    "joined_at": stamp.format(m),
                }
                for m in range(1, 13)
            },
        }

    def requests(self, method: str | None = None) -> list[Request]:
        return [r for r in self.seen if method is None or r.method == method]

    # --- serving --------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read()) if request.can_read_body else None
        self.seen.append(
            Request(
                request.method,
                request.path,
                list(request.query.items()),
                dict(request.headers),
                body,
            )
        )
        if request.headers.get("Authorization") != self.auth or (
            self.auth is None and "X-API-Key" in request.headers
        ):
            return web.json_response({"detail": "Invalid token."}, status=401)
        path = request.path
        if not path.startswith(self.prefix + "/"):
            return web.json_response({"detail": "Not found."}, status=404)
        path = path[len(self.prefix) :]
        if path.endswith("/") != self.trailing_slash:
            return web.json_response({"detail": "Not found."}, status=404)
        parts = path.strip("/").split("/")
        return self._route(request, parts, body)

    def _route(self, request: web.Request, parts: list[str], body: Any) -> web.Response:
        method = request.method
        if parts == ["users", "me"] and method == "GET":
            return web.json_response(self.render_object(self.data["users"][1]))
        if len(parts) == 3 and parts[0] == "organizations" and parts[2] == "members":
            if self.members != "nested":
                return web.json_response({"detail": "Not found."}, status=404)
            return self._members(request, int(parts[1]), method, body)
        if len(parts) == 4 and parts[2] == "members" and method == "DELETE":
            return self._delete_membership(int(parts[1]), int(parts[3]))
        if parts[0] == "memberships" and self.members == "filtered":
            if len(parts) == 2 and method == "DELETE":
                return self._delete(("memberships", int(parts[1])))
            organization = request.query.get("organization")
            if method == "POST":
                return self._create("memberships", body)
            return self._members(request, int(organization or 0), method, body)
        if parts[0] not in self.data:
            return web.json_response({"detail": "Not found."}, status=404)
        collection = parts[0]
        if len(parts) == 1:
            if method == "POST":
                return self._create(collection, body)
            return self._list(request, list(self.data[collection].values()))
        if not parts[1].isdigit():
            return web.json_response({"detail": "Not found."}, status=404)
        key = (collection, int(parts[1]))
        if key[1] not in self.data[collection]:
            return web.json_response({"detail": "Not found."}, status=404)
        if method == "DELETE":
            return self._delete(key)
        if method == "PATCH":
            self.data[collection][key[1]].update(body or {})
        return web.json_response(self.render_object(self.data[collection][key[1]]))

    def _members(self, request: web.Request, org: int, method: str, body: Any) -> web.Response:
        if method == "POST":
            return self._create("memberships", {**(body or {}), "organization": org})
        rows = [m for m in self.data["memberships"].values() if m["organization"] == org]
        return self._list(request, rows, sortable=False)

    def _delete_membership(self, org: int, user: int) -> web.Response:
        for key, row in list(self.data["memberships"].items()):
            if row["organization"] == org and row["user_id"] == user:
                return self._delete(("memberships", key))
        return web.json_response({"detail": "Not found."}, status=404)

    def _create(self, collection: str, body: Any) -> web.Response:
        record = {**(body or {}), "id": next(self.ids)}
        self.data[collection][record["id"]] = record
        return web.json_response(self.render_object(record), status=201)

    def _delete(self, key: tuple[str, int]) -> web.Response:
        del self.data[key[0]][key[1]]
        return web.Response(status=204)

    def _list(
        self, request: web.Request, rows: list[Record], sortable: bool = True
    ) -> web.Response:
        query = request.query
        if self.batch:
            style, param, *separator = self.batch.split(":")
            if style == "repeated":
                wanted = query.getall(param, [])
            else:
                wanted = query[param].split(separator[0]) if param in query else []
            if wanted:
                rows = [r for r in rows if str(r["id"]) in wanted]
        if self.search_param in query:
            rows = [r for r in rows if query[self.search_param] in str(r.get("email"))]
        rows = sorted(rows, key=lambda r: r["id"])
        if sortable and self.sort != "none":
            style, param, *rest = self.sort.split(":")
            if style == "signed" and param in query:
                name = query[param].lstrip("-")
                rows.sort(key=lambda r: str(r.get(name)), reverse=query[param].startswith("-"))
            if style == "pair" and param in query:
                rows.sort(
                    key=lambda r: str(r.get(query[param])), reverse=query.get(rest[0]) == "desc"
                )
        size = int(query.get(self.size_param, "10"))
        page = int(query.get(self.page_param, str(self.first_page))) - self.first_page
        if page < 0:
            return web.json_response({"detail": "Invalid page."}, status=404)
        window = rows[page * size : (page + 1) * size]
        body, headers = self.render_list(window, len(rows))
        return web.json_response(body, headers=headers)


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[MiniRest], Any]]:
    runners: list[web.AppRunner] = []

    async def start(rest: MiniRest) -> MiniRest:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", rest.handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        rest.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        return rest

    yield start
    for runner in runners:
        await runner.cleanup()


def settings_from(tmp_path: Path, toml: str, upstream_url: str, **overrides: Any) -> Any:
    config_file = tmp_path / "restloom.toml"
    config_file.write_text(toml)
    return load_settings(config_file, upstream_url=upstream_url, **overrides)


def bad_profile_error(tmp_path: Path, table: str) -> str:
    """The ConfigError message of profile `x` (extending mossdesk) with `table` added."""
    head = 'profile = "x"\n[profiles.x]\nextends = "mossdesk"\n'
    # Keys of the profile table itself must come before any sub-table.
    toml = head + table if not table.startswith("[") else head + "\n" + table
    with pytest.raises(ConfigError) as raised:
        settings_from(tmp_path, toml, "http://127.0.0.1:1").upstream_profile()
    return str(raised.value)


DRF_TOML = """
profile = "drf"

[profiles.drf]
prefix = ""
id_type = "integer"
item_key = ""
trailing_slash = true
unsupported_fields = ["custom_properties"]
batch = false

[profiles.drf.auth]
scheme = "token_plain"

[profiles.drf.pagination]
style = "body"
page_param = "page"
size_param = "page_size"
default_size = 10
max_size = 100
items_key = "results"
total_path = "count"

[profiles.drf.sort]
style = "signed"
param = "ordering"
fields = ["email", "created_at"]

[profiles.drf.errors]
code_path = ""
message_path = "detail"
field_path = ""

[profiles.drf.filter_params]
search = "search"

[profiles.drf.paths]
contacts = "/contacts"
resources = "/resources"
users = "/users"
me = "/users/me"
organizations = "/organizations"
members = "/organizations/{id}/members"
webhooks = "/webhooks"
auth = "/auth"
"""


async def test_drf_style_token_plain_trailing_slash_body_paths(serve, http, tmp_path):
    rest = await serve(MiniRest(auth="Token s3cret", trailing_slash=True, sort="signed:ordering"))
    settings = settings_from(tmp_path, DRF_TOML, rest.url, cache_ttl=60)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": "s3cret"})
        query = """query($after: String) { contacts(first: 10, after: $after,
            orderBy: {field: EMAIL, direction: DESC}) {
            totalCount nodes { databaseId email } pageInfo { endCursor hasNextPage } } }"""
        one = (await client.data(query))["contacts"]
        two = (await client.data(query, {"after": one["pageInfo"]["endCursor"]}))["contacts"]
        emails = [n["email"] for n in one["nodes"] + two["nodes"]]
        assert one["totalCount"] == 23 and len(emails) == 20
        assert emails == sorted(emails, reverse=True)
        contact = await client.data('{ contact(id: "7") { email } viewer { username } }')
        assert contact == {"contact": {"email": "c07@example.com"}, "viewer": {"username": "user1"}}
        members = await client.data(
            '{ organization(id: "2") { members(first: 5) { totalCount nodes { email } } } }'
        )
        assert members["organization"]["members"]["totalCount"] == 4
        created = await client.data(
            'mutation { createContact(input: {firstName: "New", email: "new@example.com"}) '
            "{ contact { databaseId } } }"
        )
        new_id = created["createContact"]["contact"]["databaseId"]
        # Writes to slash-ended paths still make the cached list stale.
        count = "{ contacts(first: 1) { totalCount } }"
        assert (await client.data(count))["contacts"]["totalCount"] == 24
        await client.data(
            f'mutation {{ deleteContact(input: {{id: "{new_id}"}}) {{ deletedId }} }}'
        )
        assert (await client.data(count))["contacts"]["totalCount"] == 23
        await client.data(
            'mutation { removeOrganizationMember(input: {organizationId: "2", userId: "3"}) '
            "{ removedUserId } }"
        )
    assert all(r.path.endswith("/") for r in rest.seen)
    assert {r.headers["Authorization"] for r in rest.seen} == {"Token s3cret"}
    paths = {(r.method, r.path) for r in rest.seen}
    assert {
        ("GET", "/contacts/"),
        ("GET", "/contacts/7/"),
        ("GET", "/users/me/"),
        ("GET", "/organizations/2/members/"),
        ("POST", "/contacts/"),
        (("DELETE", f"/contacts/{new_id}/")),
        ("DELETE", "/organizations/2/members/3/"),
    } <= paths
    first_list = next(r for r in rest.seen if r.path == "/contacts/")
    assert ("ordering", "-email") in first_list.query and ("page", "1") in first_list.query
    assert int(new_id) not in rest.data["contacts"]  # the delete reached the upstream


async def test_unsupported_filters_orders_and_fields_are_bad_user_input(serve, http, tmp_path):
    rest = await serve(MiniRest(auth="Token s3cret", trailing_slash=True, sort="signed:ordering"))
    settings = settings_from(tmp_path, DRF_TOML, rest.url)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": "s3cret"})
        probes = [
            (
                '{ contacts(first: 2, updatedAfter: "2025-01-01T00:00:00Z") { totalCount } }',
                "updatedAfter",
            ),
            ("{ users(first: 2, role: ADMIN) { totalCount } }", "role"),
            ("{ resources(first: 2, filter: {status: ACTIVE}) { totalCount } }", "status"),
            (
                "{ contacts(first: 2, orderBy: {field: LAST_NAME, direction: ASC}) { totalCount } }",
                "orderBy",
            ),
            (
                'mutation { createContact(input: {firstName: "A", email: "a@example.com", '
                'customProperties: {tier: "gold"}}) { contact { id } } }',
                "customProperties",
            ),
            (
                'mutation { updateContact(input: {id: "3", customProperties: {tier: "gold"}}) '
                "{ contact { id } } }",
                "customProperties",
            ),
        ]
        for query, argument in probes:
            before = len(rest.seen)
            reply = await client.send(query)
            assert reply.codes() == ["BAD_USER_INPUT"], (query, reply.errors)
            assert reply.errors[0]["extensions"]["argument"] == argument
            assert "not supported by this upstream" in reply.errors[0]["message"]
            assert len(rest.seen) == before, query
        # The default order (no orderBy) is created_at, which `sort.fields` allows.
        await client.data("{ contacts(first: 2) { totalCount } }")
        assert ("ordering", "-created_at") in rest.seen[-1].query


SORTLESS_TOML = DRF_TOML.replace(
    '[profiles.drf.sort]\nstyle = "signed"\nparam = "ordering"\nfields = ["email", "created_at"]',
    '[profiles.drf.sort]\nstyle = "none"',
)


async def test_an_upstream_that_cannot_sort(serve, http, tmp_path):
    rest = await serve(MiniRest(auth="Token s3cret", trailing_slash=True))
    settings = settings_from(tmp_path, SORTLESS_TOML, rest.url)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": "s3cret"})
        listed = await client.data("{ contacts(first: 3) { nodes { databaseId } } }")
        # The upstream's own order, and no sort parameter at all.
        assert [n["databaseId"] for n in listed["contacts"]["nodes"]] == ["1", "2", "3"]
        assert [k for k, _ in rest.seen[-1].query] == ["page", "page_size"]
        before = len(rest.seen)
        reply = await client.send(
            "{ contacts(first: 3, orderBy: {field: EMAIL, direction: ASC}) { totalCount } }"
        )
        assert reply.codes() == ["BAD_USER_INPUT"]
        assert reply.errors[0]["extensions"]["argument"] == "orderBy"
        assert len(rest.seen) == before


JSON_SERVER_TOML = """
profile = "js"

[profiles.js]
prefix = ""
item_key = ""
id_type = "integer"

[profiles.js.auth]
scheme = "none"

[profiles.js.pagination]
style = "headers"
page_param = "_page"
size_param = "_limit"
total_header = "X-Total-Count"
default_size = 10
max_size = 50

[profiles.js.sort]
style = "field_and_order"
param = "_sort"
order_param = "_order"

[profiles.js.batch]
style = "repeated"
param = "id"
max_ids = 50

[profiles.js.filter_params]
search = "q"

[profiles.js.paths]
contacts = "/contacts"
resources = "/resources"
users = "/users"
me = "/users/me"
organizations = "/organizations"
members = "/memberships?organization={id}"
membership = "/memberships/{member_id}"
webhooks = "/webhooks"
auth = "/auth"
"""


async def test_json_server_style_no_auth_repeated_batch_filtered_members(serve, http, tmp_path):
    rest = await serve(
        MiniRest(
            render_list=json_server_list,
            page_param="_page",
            size_param="_limit",
            sort="pair:_sort:_order",
            search_param="q",
            batch="repeated:id",
            members="filtered",
        )
    )
    settings = settings_from(tmp_path, JSON_SERVER_TOML, rest.url)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url)  # no credential: none is needed
        listed = await client.data(
            "{ contacts(last: 3, orderBy: {field: EMAIL, direction: ASC}) "
            "{ totalCount nodes { email } } }"
        )
        assert listed["contacts"]["totalCount"] == 23
        assert [n["email"] for n in listed["contacts"]["nodes"]] == [
            "c21@example.com",
            "c22@example.com",
            "c23@example.com",
        ]
        members = await client.data(
            '{ organization(id: "2") { members(first: 10) { totalCount nodes { email } } } }'
        )
        org = members["organization"]["members"]
        assert org["totalCount"] == 4 and all(n["email"] for n in org["nodes"])
        batch = [r for r in rest.seen if r.path == "/users" and any(k == "id" for k, _ in r.query)]
        assert len(batch) == 1 and len([k for k, _ in batch[0].query if k == "id"]) == 4
        member_lists = [r for r in rest.seen if r.path == "/memberships" and r.method == "GET"]
        assert ("organization", "2") in member_lists[0].query
        added = await client.data(
            'mutation { addOrganizationMember(input: {organizationId: "3", userId: "5"}) { role } }'
        )
        assert added["addOrganizationMember"]["role"] == "MEMBER"
        post = rest.requests("POST")[-1]
        assert (post.path, post.body) == (
            "/memberships",
            {"user_id": 5, "role": "member", "organization": 3},
        )
        target = next(
            m
            for m in rest.data["memberships"].values()
            if m["organization"] == 1 and m["user_id"] == 4
        )
        await client.data(
            'mutation { removeOrganizationMember(input: {organizationId: "1", userId: "4"}) '
            "{ removedUserId } }"
        )
        assert rest.requests("DELETE")[-1].path == f"/memberships/{target['id']}"
        assert target["id"] not in rest.data["memberships"]
    assert not any("Authorization" in r.headers or "X-API-Key" in r.headers for r in rest.seen)


async def test_filtered_members_without_a_membership_path_cannot_be_removed(serve, http, tmp_path):
    rest = await serve(
        MiniRest(
            render_list=json_server_list,
            page_param="_page",
            size_param="_limit",
            members="filtered",
        )
    )
    toml = JSON_SERVER_TOML.replace('membership = "/memberships/{member_id}"\n', "")
    async with GatewayServer(settings_from(tmp_path, toml, rest.url)) as gateway:
        client = GraphQLClient(http, gateway.url)
        reply = await client.send(
            'mutation { removeOrganizationMember(input: {organizationId: "1", userId: "4"}) '
            "{ removedUserId } }"
        )
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert reply.errors[0]["extensions"]["argument"] == "userId"
    assert "not supported by this upstream" in reply.errors[0]["message"]
    assert rest.seen == []


NESTED_TOML = """
profile = "deep"

[profiles.deep]
extends = "mossdesk"
prefix = "/v2"
item_key = "payload.item"
id_pattern = "[0-9]{1,9}"

[profiles.deep.auth]
scheme = "bearer"

[profiles.deep.pagination]
style = "body"
page_param = "p"
size_param = "n"
first_page = 0
items_key = "payload.items"
total_path = "payload.page.total"

[profiles.deep.batch]
style = "joined"
param = "ids"
separator = "|"
"""


async def test_zero_based_pages_and_dotted_item_and_total_paths(serve, http, tmp_path):
    rest = await serve(
        MiniRest(
            render_list=nested_list,
            render_object=lambda r: {"payload": {"item": r}},
            auth="Bearer tok",
            first_page=0,
            prefix="/v2",
            page_param="p",
            size_param="n",
            batch="joined:ids:|",
        )
    )
    settings = settings_from(tmp_path, NESTED_TOML, rest.url)
    async with GatewayServer(settings) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": "tok"})
        query = """query($after: String) { contacts(first: 5, after: $after) {
            totalCount nodes { databaseId } pageInfo { endCursor } } }"""
        one = (await client.data(query))["contacts"]
        two = (await client.data(query, {"after": one["pageInfo"]["endCursor"]}))["contacts"]
        assert one["totalCount"] == 23
        ids = [n["databaseId"] for n in one["nodes"] + two["nodes"]]
        assert len(set(ids)) == 10
        pages = [dict(r.query)["p"] for r in rest.seen if r.path == "/v2/contacts"]
        assert "0" in pages and "-1" not in pages
        found = await client.data('{ a: contact(id: "4") { email } b: contact(id: "9") { email } }')
        assert found == {"a": {"email": "c04@example.com"}, "b": {"email": "c09@example.com"}}
        lookup = next(r for r in rest.seen if "ids" in dict(r.query))
        assert dict(lookup.query)["ids"] in ("4|9", "9|4")
        viewer = await client.data("{ viewer { username } }")
        assert viewer == {"viewer": {"username": "user1"}}


async def test_mossdesk_refuses_custom_properties_before_the_upstream(client, stats):
    await stats.reset()
    reply = await client.send(
        'mutation { createContact(input: {firstName: "A", email: "cp@example.com", '
        'customProperties: {tier: "gold"}}) { contact { id } } }'
    )
    assert reply.codes() == ["BAD_USER_INPUT"]
    assert reply.errors[0]["extensions"]["argument"] == "customProperties"
    assert await stats.requests() == 0


async def test_the_sim_itself_refuses_custom_properties_in_mossdesk_style(http, sim):
    # Why the built-in mossdesk profile declares them unsupported: the upstream says so.
    async with http.post(
        f"{sim.url}/api/v1/contacts",
        json={"first_name": "A", "email": "cp2@example.com", "custom_properties": {"a": 1}},
        headers={"X-API-Key": FULL_KEY},
    ) as resp:
        assert resp.status == 400


BAD_PROFILES = [
    ("[profiles.x.pagination]\nfirst_page = 2\n", "first_page"),
    ('[profiles.x.auth]\nscheme = "token plain"\n', "auth.scheme"),
    ('[profiles.x.batch]\nstyle = "comma"\n', "batch.style"),
    ('[profiles.x.sort]\nstyle = "random"\n', "sort.style"),
    ('[profiles.x.paths]\nmembers = "/members"\n', "paths.members must contain {id}"),
    ('[profiles.x.paths]\nmembers = "/m?org={id}&x=1"\n', "param={id}"),
    ('[profiles.x.paths]\ncontacts = "/../admin"\n', "paths.contacts"),
    ('[profiles.x.paths]\nmembership = "/memberships/{id}"\n', "membership"),
    ('[profiles.x.paths]\ncontcts = "/c"\n', "unknown entries contcts"),
    ('unsupported_fields = ["customProperties"]\n', "snake_case"),
    ('id_pattern = ".*"\n', "id_pattern"),
    ('trailing_slash = "yes"\n', "trailing_slash"),
    ('[profiles.x.pagination]\ntotal_path = ""\n', "total_path"),
]


@pytest.mark.parametrize(("table", "expected"), BAD_PROFILES)
def test_a_bad_profile_field_is_a_clear_config_error(tmp_path, table, expected):
    message = bad_profile_error(tmp_path, table)
    assert expected in message
    assert "profiles.x" in message
