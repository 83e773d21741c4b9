"""Every mutation end to end: success, the documented errors, and the request semantics."""

import uuid

import pytest

from tests.conftest import FULL_KEY, READ_KEY
from tests.support import upstream_list

CREATE_CONTACT = """
mutation($input: CreateContactInput!) {
  createContact(input: $input) { contact { id databaseId firstName lastName email phone company } }
}"""


def unique_email() -> str:
    return f"test-{uuid.uuid4().hex[:10]}@example.com"


async def contacts_with_email(http, sim, email):
    return [
        c
        for c in await upstream_list(http, sim.url, "/contacts", FULL_KEY, search=email)
        if c["email"] == email
    ]


async def test_create_read_update_delete_contact(client, http, sim):
    email = unique_email()
    created = await client.data(
        CREATE_CONTACT,
        {"input": {"firstName": "Ada", "lastName": "Lovelace", "email": email, "phone": "+44 1"}},
    )
    contact = created["createContact"]["contact"]
    assert contact["email"] == email and contact["firstName"] == "Ada"
    read = await client.data(
        "query($id: ID!) { contact(id: $id) { email } }", {"id": contact["id"]}
    )
    assert read["contact"]["email"] == email

    # null clears, absent keeps.
    updated = await client.data(
        """mutation($input: UpdateContactInput!) { updateContact(input: $input) { contact { firstName lastName phone } } }""",
        {"input": {"id": contact["id"], "firstName": "Augusta", "phone": None}},
    )
    assert updated["updateContact"]["contact"] == {
        "firstName": "Augusta",
        "lastName": "Lovelace",
        "phone": None,
    }

    deleted = await client.data(
        "mutation($id: ID!) { deleteContact(input: {id: $id}) { deletedId deletedDatabaseId } }",
        {"id": contact["id"]},
    )
    assert deleted["deleteContact"] == {
        "deletedId": contact["id"],
        "deletedDatabaseId": contact["databaseId"],
    }
    gone = await client.send(
        "query($id: ID!) { contact(id: $id) { email } }", {"id": contact["id"]}
    )
    assert gone.codes() == ["NOT_FOUND"]


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({"firstName": "Ada", "email": "not-an-email"}, "email"),
        ({"firstName": "", "email": "ada@example.com"}, "firstName"),
    ],
)
async def test_contact_validation_names_the_graphql_field(client, input, field):
    reply = await client.send(CREATE_CONTACT, {"input": input})
    assert reply.data == {"createContact": None}
    assert reply.codes() == ["VALIDATION_ERROR"]
    assert reply.errors[0]["extensions"]["field"] == field
    assert reply.errors[0]["extensions"]["status"] == 400


async def test_update_missing_contact_is_not_found(client):
    reply = await client.send(
        'mutation { updateContact(input: {id: "cnt_missing000", firstName: "X"}) { contact { id } } }'
    )
    assert reply.codes() == ["NOT_FOUND"]


MUTATIONS_FOR_READ_ONLY = [
    'createContact(input: {firstName: "A", email: "a@example.com"}) { contact { id } }',
    'createResource(input: {name: "R", type: STANDARD}) { resource { id } }',
    'createOrganization(input: {name: "O", slug: "o-read-only"}) { organization { id } }',
    'createWebhook(input: {url: "https://example.com/h", events: ["resource.created"]}) { webhook { id } }',
    'updateViewer(input: {username: "nobody"}) { user { id } }',
]


@pytest.mark.parametrize("selection", MUTATIONS_FOR_READ_ONLY)
async def test_read_only_key_is_forbidden(client, selection):
    reply = await client.send(f"mutation {{ {selection} }}", headers={"X-API-Key": READ_KEY})
    assert reply.codes() == ["FORBIDDEN"]
    assert reply.errors[0]["extensions"]["status"] == 403


async def test_read_only_key_cannot_update_delete_or_manage_members(client):
    ids = await client.data(
        "{ contacts(first: 1) { nodes { id } } resources(first: 1) { nodes { id } } organizations(first: 1) { nodes { id } } "
        "webhooks(first: 1) { nodes { id } } users(first: 1) { nodes { id } } }"
    )
    first = {k: v["nodes"][0]["id"] for k, v in ids.items()}
    selections = [
        f'updateContact(input: {{id: "{first["contacts"]}", firstName: "X"}}) {{ contact {{ id }} }}',
        f'deleteResource(input: {{id: "{first["resources"]}"}}) {{ deletedId }}',
        f'updateOrganization(input: {{id: "{first["organizations"]}", name: "X"}}) {{ organization {{ id }} }}',
        f'deleteWebhook(input: {{id: "{first["webhooks"]}"}}) {{ deletedId }}',
        f'testWebhook(input: {{id: "{first["webhooks"]}"}}) {{ delivered }}',
        f'addOrganizationMember(input: {{organizationId: "{first["organizations"]}", userId: "{first["users"]}"}}) {{ role }}',
        f'removeOrganizationMember(input: {{organizationId: "{first["organizations"]}", userId: "{first["users"]}"}}) {{ removedUserId }}',
    ]
    for selection in selections:
        reply = await client.send(f"mutation {{ {selection} }}", headers={"X-API-Key": READ_KEY})
        assert reply.codes() == ["FORBIDDEN"], selection


async def test_resource_metadata_is_merged_never_dropped(client):
    created = await client.data(
        'mutation { createResource(input: {name: "Merge me", type: PREMIUM, metadata: {a: 1, b: "two"}}) { resource { id metadata status } } }'
    )
    resource = created["createResource"]["resource"]
    assert resource["metadata"] == {"a": 1, "b": "two"}
    update = "mutation($input: UpdateResourceInput!) { updateResource(input: $input) { resource { name metadata } } }"
    merged = await client.data(
        update, {"input": {"id": resource["id"], "metadata": {"b": 3, "c": "new"}}}
    )
    assert merged["updateResource"]["resource"] == {
        "name": "Merge me",
        "metadata": {"a": 1, "b": 3, "c": "new"},
    }
    removed = await client.data(update, {"input": {"id": resource["id"], "metadata": {"a": None}}})
    assert removed["updateResource"]["resource"]["metadata"] == {"b": 3, "c": "new"}
    renamed = await client.data(update, {"input": {"id": resource["id"], "name": "Renamed"}})
    assert renamed["updateResource"]["resource"]["metadata"] == {"b": 3, "c": "new"}


async def test_resource_unknown_type_value_is_refused_by_graphql(client):
    reply = await client.send(
        'mutation { createResource(input: {name: "X", type: GOLD}) { resource { id } } }'
    )
    assert reply.codes() == ["GRAPHQL_VALIDATION_FAILED"]


async def test_organizations_members_and_conflicts(client, http, sim):
    slug = f"org-{uuid.uuid4().hex[:8]}"
    create = "mutation($input: CreateOrganizationInput!) { createOrganization(input: $input) { organization { id databaseId slug memberCount } } }"
    org = (await client.data(create, {"input": {"name": "Acme", "slug": slug}}))[
        "createOrganization"
    ]["organization"]
    duplicate = await client.send(create, {"input": {"name": "Acme 2", "slug": slug}})
    assert duplicate.codes() == ["CONFLICT"]

    users = (await client.data("{ users(first: 2) { nodes { id databaseId } } }"))["users"]["nodes"]
    add = """mutation($o: ID!, $u: ID!) { addOrganizationMember(input: {organizationId: $o, userId: $u, role: ADMIN}) {
               role user { databaseId } organization { memberCount } } }"""
    first = await client.data(add, {"o": org["id"], "u": users[0]["id"]})
    assert first["addOrganizationMember"]["role"] == "ADMIN"
    assert first["addOrganizationMember"]["user"]["databaseId"] == users[0]["databaseId"]
    again = await client.send(add, {"o": org["id"], "u": users[0]["id"]})
    assert again.codes() == ["CONFLICT"]

    # The organization loaded by the first mutation is re-read after the second one.
    both = await client.data(
        """mutation($o: ID!, $v: ID!) {
             one: updateOrganization(input: {id: $o, description: "x"}) { organization { memberCount } }
             two: addOrganizationMember(input: {organizationId: $o, userId: $v}) { role organization { memberCount } }
           }""",
        {"o": org["id"], "v": users[1]["id"]},
    )
    assert (
        both["two"]["organization"]["memberCount"] == both["one"]["organization"]["memberCount"] + 1
    )

    members = await client.data(
        "query($o: ID!) { organization(id: $o) { members(first: 10) { edges { role node { databaseId } } } } }",
        {"o": org["id"]},
    )
    upstream_members = await upstream_list(
        http, sim.url, f"/organizations/{org['databaseId']}/members", FULL_KEY
    )
    edges = members["organization"]["members"]["edges"]
    assert [e["node"]["databaseId"] for e in edges] == [m["user_id"] for m in upstream_members]
    assert {u["databaseId"] for u in users[:2]} <= {m["user_id"] for m in upstream_members}

    removed = await client.data(
        "mutation($o: ID!, $u: ID!) { removeOrganizationMember(input: {organizationId: $o, userId: $u}) { removedUserId organization { memberCount } } }",
        {"o": org["id"], "u": users[0]["id"]},
    )
    assert removed["removeOrganizationMember"]["removedUserId"] == users[0]["id"]
    missing_user = await client.send(add, {"o": org["id"], "u": "usr_doesnotexist"})
    assert missing_user.codes() == ["NOT_FOUND"]
    deleted = await client.data(
        "mutation($o: ID!) { deleteOrganization(input: {id: $o}) { deletedId } }", {"o": org["id"]}
    )
    assert deleted["deleteOrganization"]["deletedId"] == org["id"]


async def test_webhooks_create_update_test_delete(client):
    created = await client.data(
        'mutation { createWebhook(input: {url: "https://example.com/hook", events: ["resource.created"], secret: "s3cret"}) { webhook { id url events active } } }'
    )
    hook = created["createWebhook"]["webhook"]
    assert hook["events"] == ["resource.created"]
    updated = await client.data(
        "mutation($id: ID!) { updateWebhook(input: {id: $id, active: false}) { webhook { url active } } }",
        {"id": hook["id"]},
    )
    assert updated["updateWebhook"]["webhook"] == {
        "url": "https://example.com/hook",
        "active": False,
    }
    tested = await client.data(
        "mutation($id: ID!) { testWebhook(input: {id: $id}) { delivered queued eventId statusCode event webhook { url } } }",
        {"id": hook["id"]},
    )
    # The upstream queues the test event (202); it has not been delivered when it answers.
    assert tested["testWebhook"]["event"] == "webhook.test"
    assert tested["testWebhook"]["queued"] is True and tested["testWebhook"]["delivered"] is False
    assert tested["testWebhook"]["eventId"]
    assert tested["testWebhook"]["webhook"]["url"] == "https://example.com/hook"
    bad = await client.send(
        'mutation { createWebhook(input: {url: "not a url", events: []}) { webhook { id } } }'
    )
    assert bad.codes() == ["VALIDATION_ERROR"]
    deleted = await client.data(
        "mutation($id: ID!) { deleteWebhook(input: {id: $id}) { deletedId } }", {"id": hook["id"]}
    )
    assert deleted["deleteWebhook"]["deletedId"] == hook["id"]


async def test_update_viewer_changes_only_what_is_given(client):
    before = (await client.data("{ viewer { email username profile { firstName lastName } } }"))[
        "viewer"
    ]
    after = await client.data(
        'mutation { updateViewer(input: {profile: {firstName: "Grace"}}) { user { email username profile { firstName lastName } } } }'
    )
    user = after["updateViewer"]["user"]
    assert user["profile"] == {"firstName": "Grace", "lastName": before["profile"]["lastName"]}
    assert (user["email"], user["username"]) == (before["email"], before["username"])


async def test_login_bearer_refresh_logout_and_register(client):
    email = unique_email()
    registered = await client.data(
        'mutation($e: String!) { register(input: {email: $e, username: "newbie", password: "hunter22"}) { user { email role } } }',
        {"e": email},
    )
    assert registered["register"]["user"]["email"] == email
    again = await client.send(
        'mutation($e: String!) { register(input: {email: $e, username: "newbie2", password: "x12345678"}) { user { email } } }',
        {"e": email},
    )
    assert again.codes() == ["CONFLICT"]

    anonymous = {"X-API-Key": ""}
    login = await client.data(
        'mutation($e: String!) { login(input: {email: $e, password: "hunter22"}) { accessToken refreshToken tokenType expiresIn } }',
        {"e": email},
        headers=anonymous,
    )
    tokens = login["login"]
    assert tokens["tokenType"] == "Bearer" and tokens["expiresIn"] > 0
    bearer = {"X-API-Key": "", "Authorization": f"Bearer {tokens['accessToken']}"}
    me = await client.data("{ viewer { email } }", headers=bearer)
    assert me["viewer"]["email"] == email

    refreshed = await client.data(
        "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken refreshToken } }",
        {"t": tokens["refreshToken"]},
        headers=anonymous,
    )
    reused = await client.send(
        "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { accessToken } }",
        {"t": tokens["refreshToken"]},
        headers=anonymous,
    )
    assert reused.codes() == ["UNAUTHENTICATED"]
    new_bearer = {
        "X-API-Key": "",
        "Authorization": f"Bearer {refreshed['refreshToken']['accessToken']}",
    }
    out = await client.data("mutation { logout { success } }", headers=new_bearer)
    assert out["logout"]["success"] is True
    after = await client.send("{ viewer { email } }", headers=new_bearer)
    assert after.codes() == ["UNAUTHENTICATED"]

    wrong = await client.send(
        'mutation($e: String!) { login(input: {email: $e, password: "nope"}) { accessToken } }',
        {"e": email},
        headers=anonymous,
    )
    assert wrong.codes() == ["UNAUTHENTICATED"]


async def test_impersonation_is_forwarded_and_recorded(client, http, sim):
    users = (
        await client.data(
            "{ users(first: 3, orderBy: {field: EMAIL, direction: ASC}) { nodes { databaseId } } }"
        )
    )["users"]["nodes"]
    target = users[2]["databaseId"]
    headers = {"X-Impersonate-User-Id": target}
    me = await client.data("{ viewer { databaseId } }", headers=headers)
    assert me["viewer"]["databaseId"] == target
    await client.data(
        CREATE_CONTACT, {"input": {"firstName": "Imp", "email": unique_email()}}, headers=headers
    )
    async with http.get(sim.url + "/__sim/audit") as resp:
        entries = (await resp.json())["entries"]
    assert entries[-1]["actor_user_id"] == target


@pytest.mark.parametrize(
    "selection",
    [
        'deleteContact(input: {id: "cnt_missing000"}) { deletedId }',
        'deleteResource(input: {id: "res_missing000"}) { deletedId }',
        'updateOrganization(input: {id: "org_missing000", name: "X"}) { organization { id } }',
        'deleteWebhook(input: {id: "whk_missing000"}) { deletedId }',
        'testWebhook(input: {id: "whk_missing000"}) { delivered }',
    ],
)
async def test_missing_targets_are_not_found(client, selection):
    reply = await client.send(f"mutation {{ {selection} }}")
    assert reply.codes() == ["NOT_FOUND"]
    assert reply.errors[0]["extensions"]["status"] == 404


@pytest.mark.parametrize(
    ("selection", "field"),
    [
        (
            'createOrganization(input: {name: "Bad", slug: "Not A Slug!"}) { organization { id } }',
            "slug",
        ),
        (
            'createOrganization(input: {name: "", slug: "fine-slug-1"}) { organization { id } }',
            "name",
        ),
        ('updateViewer(input: {email: "nope"}) { user { id } }', "email"),
        ("updateViewer(input: {profile: {avatarUrl: 7}}) { user { id } }", None),
        (
            'createWebhook(input: {url: "https://example.com/h", events: ["no.such.event"]}) { webhook { id } }',
            "events",
        ),
    ],
)
async def test_validation_errors_name_the_input_field(client, selection, field):
    reply = await client.send(f"mutation {{ {selection} }}")
    if field is None:  # a wrong GraphQL type never reaches the upstream
        assert reply.codes() == ["GRAPHQL_VALIDATION_FAILED"]
        return
    assert reply.codes() == ["VALIDATION_ERROR"]
    assert reply.errors[0]["extensions"]["field"] == field
