"""Profile options for what real frameworks do differently (issue 9, items 9 and 10).

- `errors.style = "field_keys"`: Django REST Framework's 400 body names the field as
  its key, `{"email": ["Enter a valid email address."]}`.
- `collection_filters`: one collection's filter parameter differs from the others'
  (DRF memberships filter on `joined_at__gt`, contacts on `updated_at__gt`), or one
  collection lacks a filter the others have ("").
- `absent` / `paths.NAME = ""`: the upstream has no such collection; any field or
  mutation on it is BAD_USER_INPUT before anything is sent.

The gateway tests run against `MiniRest` (tests/upstream/test_profiles_toml.py), a
small strict aiohttp upstream on loopback that records every request it gets.
"""

from __future__ import annotations

import pytest
from aiohttp import web

from restloom.config import load_settings
from restloom.upstream.errors import error_from_response, field_keyed
from restloom.upstream.profile import ErrorSpec, ErrorStyle, profile_from_table
from tests.support import GatewayServer, GraphQLClient
from tests.upstream import test_profiles_toml
from tests.upstream.test_profiles_toml import (
    DRF_TOML,
    MiniRest,
    bad_profile_error,
    settings_from,
)

# The fixture that runs a MiniRest on loopback, shared with test_profiles_toml.
serve = test_profiles_toml.serve

FIELD_KEYS = ErrorSpec(style=ErrorStyle.FIELD_KEYS, code_path=None, message_path="detail")


# --- errors.style = "field_keys" ------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"email": ["Enter a valid email address."]}, ("email", "Enter a valid email address.")),
        (
            {"first_name": ["This field may not be blank."], "email": ["x"]},
            ("first_name", "This field may not be blank."),
        ),
        ({"email": "Enter a valid email address."}, ("email", "Enter a valid email address.")),
        (
            {"address": {"city": ["This field is required."]}},
            ("address.city", "This field is required."),
        ),
        ({"non_field_errors": ["Must be unique."]}, (None, "Must be unique.")),
        # Keys that are not names, values that are not messages: skipped, never passed on.
        ({"<script>": ["x"], "ok": ["y"]}, ("ok", "y")),
        ({"email": [1, None, {"a": "b"}], "phone": ["Bad phone."]}, ("phone", "Bad phone.")),
        ({"email": []}, (None, None)),
        (["Enter a valid email address."], (None, None)),
        ("text", (None, None)),
        ({"a": {"b": {"c": {"d": ["too deep"]}}}}, (None, None)),
    ],
)
def test_field_keyed_bodies(body, expected):
    assert field_keyed(body) == expected


def test_field_keyed_bounds_what_it_passes_on():
    field, message = field_keyed({"x" * 65: ["long name"], "email": ["m" * 10_000]})
    assert field == "email"
    assert message is not None and len(message) == 500


def test_detail_wins_and_paths_style_ignores_keys():
    detail = error_from_response(FIELD_KEYS, 404, {"detail": "Not found."}, "r1")
    assert (detail.field, detail.message) == (None, "Not found.")
    keyed = error_from_response(FIELD_KEYS, 400, {"email": ["Enter a valid email."]}, "r2")
    assert (keyed.field, keyed.message, keyed.status) == ("email", "Enter a valid email.", 400)
    paths = ErrorSpec(code_path=None, message_path="detail", field_path=None)
    plain = error_from_response(paths, 400, {"email": ["Enter a valid email."]}, "r3")
    assert (plain.field, plain.message) == (None, "Upstream answered HTTP 400")


class DrfValidation(MiniRest):
    """MiniRest that validates contacts the way a DRF serializer does."""

    def _create(self, collection: str, body):  # type: ignore[no-untyped-def]
        if collection == "contacts" and "@" not in str((body or {}).get("email", "")):
            return web.json_response({"email": ["Enter a valid email address."]}, status=400)
        if collection == "contacts" and not (body or {}).get("first_name"):
            return web.json_response({"first_name": ["This field may not be blank."]}, status=400)
        return super()._create(collection, body)


CREATE = """mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { databaseId } } }"""


async def test_field_keys_through_the_gateway(serve, http, tmp_path):
    rest = await serve(DrfValidation(auth="Token s3cret", trailing_slash=True))
    toml = DRF_TOML.replace(
        "[profiles.drf.errors]\n", '[profiles.drf.errors]\nstyle = "field_keys"\n'
    )
    async with GatewayServer(settings_from(tmp_path, toml, rest.url)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": "s3cret"})
        bad_email = await client.send(CREATE, {"input": {"firstName": "A", "email": "nope"}})
        blank = await client.send(CREATE, {"input": {"firstName": "", "email": "a@b.co"}})
    assert bad_email.codes() == ["VALIDATION_ERROR"]
    assert bad_email.errors[0]["message"] == "Enter a valid email address."
    assert bad_email.errors[0]["extensions"]["field"] == "email"
    assert bad_email.errors[0]["extensions"]["status"] == 400
    assert blank.errors[0]["extensions"]["field"] == "firstName"
    assert len(rest.requests("POST")) == 2


def test_error_style_is_checked():
    with pytest.raises(ValueError, match=r"errors\.style"):
        profile_from_table("x", {"extends": "mossdesk", "errors": {"style": "drf"}})


# --- collection_filters ---------------------------------------------------------------


class JoinedFilter(MiniRest):
    """MiniRest whose member list filters on `joined_at__gt` and ignores anything else,
    the way django-filter ignores a parameter the view does not declare."""

    def _members(self, request: web.Request, org: int, method: str, body):  # type: ignore[no-untyped-def]
        if method == "GET" and "joined_at__gt" in request.query:
            cutoff = request.query["joined_at__gt"]
            rows = [
                m
                for m in self.data["memberships"].values()
                if m["organization"] == org and m["joined_at"] > cutoff
            ]
            return self._list(request, rows, sortable=False)
        return super()._members(request, org, method, body)


GAPS_TOML = DRF_TOML.replace(
    '[profiles.drf.filter_params]\nsearch = "search"\n',
    '[profiles.drf.filter_params]\nsearch = "search"\nupdated_after = "updated_at__gt"\n'
    "\n[profiles.drf.collection_filters.members]\n"
    'updated_after = "joined_at__gt"\n'
    "\n[profiles.drf.collection_filters.users]\n"
    'updated_after = ""\n',
)

MEMBERS_AFTER = """query($t: DateTime) { organization(id: "2") {
  members(first: 10, updatedAfter: $t) { totalCount nodes { databaseId } } } }"""


async def test_a_collection_maps_a_filter_its_own_way(serve, http, tmp_path):
    rest = await serve(JoinedFilter(auth="Token s3cret", trailing_slash=True))
    async with GatewayServer(settings_from(tmp_path, GAPS_TOML, rest.url)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": "s3cret"})
        after = "2025-01-05T00:00:00Z"
        members = (await client.data(MEMBERS_AFTER, {"t": after}))["organization"]["members"]
        contacts = await client.data(
            "query($t: DateTime) { contacts(first: 1, updatedAfter: $t) { totalCount } }",
            {"t": after},
        )
        before = len(rest.seen)
        users = await client.send(
            "query($t: DateTime) { users(first: 1, updatedAfter: $t) { totalCount } }",
            {"t": after},
        )
        assert len(rest.seen) == before  # refused for users only, nothing sent
    expected = [
        m
        for m in rest.data["memberships"].values()
        if m["organization"] == 2 and m["joined_at"] > after
    ]
    assert 0 < members["totalCount"] == len(expected) < 4
    member_list = next(r for r in rest.seen if r.path == "/organizations/2/members/")
    assert ("joined_at__gt", after) in member_list.query
    assert not any(k == "updated_at__gt" for k, _ in member_list.query)
    contact_list = next(r for r in rest.seen if r.path == "/contacts/")
    assert ("updated_at__gt", after) in contact_list.query
    assert contacts["contacts"]["totalCount"] == 23  # MiniRest ignores it; it was sent
    assert users.codes() == ["BAD_USER_INPUT"]
    assert users.errors[0]["extensions"]["argument"] == "updatedAfter"
    assert "not supported by this upstream" in users.errors[0]["message"]


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('[profiles.x.collection_filters.contact]\nsearch = "q"\n', "unknown collection 'contact'"),
        (
            '[profiles.x.collection_filters.members]\nupdatedAfter = "x"\n',
            "unknown filters updatedAfter",
        ),
        ('[profiles.x.filter_params]\nstate = "x"\n', "unknown filters state"),
    ],
)
def test_bad_filter_tables_are_config_errors(tmp_path, table, expected):
    message = bad_profile_error(tmp_path, table)
    assert expected in message
    assert "profiles.x" in message


# --- absent collections ---------------------------------------------------------------

ABSENT_TOML = DRF_TOML.replace(
    'resources = "/resources"\n', 'resources = ""              # no such collection\n'
).replace("[profiles.drf]\n", '[profiles.drf]\nabsent = ["webhooks", "organizations"]\n')


async def test_absent_collections_send_nothing(serve, http, tmp_path):
    rest = await serve(MiniRest(auth="Token s3cret", trailing_slash=True))
    async with GatewayServer(settings_from(tmp_path, ABSENT_TOML, rest.url)) as gateway:
        client = GraphQLClient(http, gateway.url, {"X-API-Key": "s3cret"})
        replies = {
            query: await client.send(query)
            for query in (
                "{ resources(first: 2) { totalCount } }",
                '{ webhook(id: "4") { databaseId } }',
                "{ organizations(first: 2) { totalCount } }",
                'mutation { removeOrganizationMember(input: {organizationId: "1", '
                'userId: "2"}) { removedUserId } }',
                'mutation { deleteWebhook(input: {id: "4"}) { deletedId } }',
            )
        }
        assert rest.seen == []
        # Siblings that exist still resolve next to a refused field.
        mixed = await client.send(
            '{ contact(id: "3") { email } resources(first: 1) { totalCount } }'
        )
    for query, reply in replies.items():
        assert reply.codes() == ["BAD_USER_INPUT"], (query, reply.errors)
        assert "not supported by this upstream" in reply.errors[0]["message"], query
    assert replies["{ organizations(first: 2) { totalCount } }"].errors[0]["message"] == (
        "organizations are not supported by this upstream"
    )
    assert mixed.data == {"contact": {"email": "c03@example.com"}, "resources": None}
    assert mixed.codes() == ["BAD_USER_INPUT"]
    assert [r.path for r in rest.seen] == ["/contacts/3/"]


def test_absent_and_empty_paths_are_one_thing():
    by_list = profile_from_table("a", {"extends": "mossdesk", "absent": ["webhooks"]})
    by_path = profile_from_table("b", {"extends": "mossdesk", "paths": {"webhooks": ""}})
    assert by_list.absent == by_path.absent == ("webhooks",)
    assert "webhooks" not in by_list.paths and "webhooks" not in by_path.paths
    # No organizations, no member lists either; a dump reloads to the same profile.
    orgs = profile_from_table("c", {"extends": "mossdesk", "absent": ["organizations"]})
    assert set(orgs.absent) == {"organizations", "members", "membership"}
    again = type(orgs).model_validate(orgs.model_dump(mode="json"))
    assert again == orgs
    # From scratch, an absent collection needs no path.
    paths = {"contacts": "/c", "users": "/u", "me": "/u/me", "organizations": "/o"}
    paths |= {"members": "/o/{id}/m"}
    bare = profile_from_table("d", {"paths": paths, "absent": ["resources", "webhooks", "auth"]})
    assert sorted(bare.paths) == sorted(paths)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('absent = ["contacts"]\n', "contacts cannot be absent"),
        ('absent = ["widgets"]\n', "unknown collection 'widgets'"),
        ('[profiles.x.paths]\nme = ""\n', "me cannot be absent"),
    ],
)
def test_bad_absent_entries_are_config_errors(tmp_path, table, expected):
    message = bad_profile_error(tmp_path, table)
    assert expected in message
    assert "profiles.x" in message


# --- the shared rate budget keeps to max_retry_after ------------------------------------


async def _hold_off_left(cap: float, asked: float, **extra: str) -> float:
    """What a 429 asking `asked` seconds leaves on the budget under `max_retry_after=cap`."""
    from restloom.services import open_services
    from restloom.upstream.profile import MOSSDESK

    settings = load_settings(
        upstream_url="http://127.0.0.1:1",
        rate_limit={"requests": 100, "per_seconds": 1},
        max_retry_after=cap,
        **extra,
    )
    services = open_services(settings, MOSSDESK)
    try:
        budget = services.budget
        assert budget is not None
        key = f"cap-{cap}"
        await budget.hold_off(key, asked)
        turn = await budget.reserve(key, max_wait=0)
        assert not turn.granted
        return turn.wait
    finally:
        await services.close()


async def _check_caps(**extra: str) -> None:
    """Above the budget's own 60 s default when the setting allows more, below when less;
    the wait left is the capped hold-off less the moments since it was set."""
    assert 198 < await _hold_off_left(300.0, 200.0, **extra) <= 200
    assert 3 < await _hold_off_left(5.0, 200.0, **extra) <= 5


async def test_memory_budget_hold_off_follows_max_retry_after():
    await _check_caps()


async def test_redis_budget_hold_off_follows_max_retry_after(redis_url, redis_namespace):
    await _check_caps(redis_url=redis_url, redis_namespace=redis_namespace)
