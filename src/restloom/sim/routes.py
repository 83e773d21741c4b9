"""The API's route table, built from the config (paths may be renamed)."""

from __future__ import annotations

from restloom.sim import errors, jobs, orgunits
from restloom.sim.config import SimConfig
from restloom.sim.handlers import auth, members, records, session, users, webhooks
from restloom.sim.pipeline import Ctx, Operation
from restloom.sim.results import Result

# Route label counted in stats for requests that match no route.
UNMATCHED = "(unmatched)"


def _no_route(ctx: Ctx) -> Result:
    raise errors.ApiError(404, errors.NOT_FOUND, "Route not found")


NOT_FOUND_OPERATION = Operation("*", UNMATCHED, _no_route)


def operations(config: SimConfig) -> list[Operation]:
    """Every API operation; fixed paths come before ``{id}`` ones so ``/users/me`` wins."""
    ops: list[Operation] = []
    for name in ("contacts", "resources", "organizations", "webhooks"):
        base = config.path_for(name)
        item = base + "/{id}"
        if config.org_units and name in orgunits.SCOPED_KINDS:
            ops += scoped_operations(name, base, item)
            continue
        ops += [
            Operation("GET", base, records.list_records(name)),
            Operation("POST", base, records.create_record(name), writes=True),
            Operation("GET", item, records.get_record(name)),
            Operation("PATCH", item, records.patch_record(name), writes=True),
            Operation("DELETE", item, records.delete_record(name), writes=True),
        ]
    orgs = config.path_for("organizations")
    ops += [
        Operation("GET", orgs + "/{id}/members", members.list_members),
        Operation("POST", orgs + "/{id}/members", members.add_member, writes=True),
        Operation("DELETE", orgs + "/{id}/members/{user_id}", members.remove_member, writes=True),
        Operation(
            "POST",
            config.path_for("webhooks") + "/{id}/test",
            webhooks.send_test_event,
            writes=True,
        ),
    ]
    people = config.path_for("users")
    ops += [
        Operation("GET", people, records.list_records("users")),
        Operation("GET", people + "/me", users.get_me),
        Operation("PATCH", people + "/me", users.patch_me, writes=True),
        Operation("GET", people + "/{id}", records.get_record("users")),
    ]
    base = config.path_for("auth")
    ops += [
        Operation("POST", base + "/login", auth.login, public=True),
        Operation("POST", base + "/refresh", auth.refresh, public=True),
        Operation("POST", base + "/register", auth.register, public=True),
        # Logging out is allowed to read-only credentials: it changes no data.
        Operation("POST", base + "/logout", auth.logout),
    ]
    if config.style == "template":
        ops += template_operations(config)
    if config.style == "moco":
        ops += [
            Operation("POST", "/session", session.create_session, public=True),
            Operation("GET", "/session", session.get_session),
        ]
        # MOCO updates with PUT; it behaves like PATCH (only the fields sent change).
        ops += [
            Operation("PUT", op.route, op.handler, writes=True)
            for op in list(ops)
            if op.method == "PATCH"
        ]
    return ops


def scoped_operations(name: str, base: str, item: str) -> list[Operation]:
    """CRUD of a collection filtered by the credential's active OU (seed 003)."""
    return [
        Operation("GET", base, orgunits.list_scoped(name)),
        Operation("POST", base, orgunits.create_scoped(name), writes=True),
        Operation("GET", item, orgunits.get_scoped(name)),
        Operation(
            "PATCH", item, orgunits.change_scoped(name, records.patch_record(name)), writes=True
        ),
        Operation(
            "DELETE", item, orgunits.change_scoped(name, records.delete_record(name)), writes=True
        ),
    ]


def template_operations(config: SimConfig) -> list[Operation]:
    """Seed 003's asynchronous work, and its organizational units when the sim has them."""
    imports = config.path_for("contacts") + "/imports"
    ops = [
        Operation("POST", imports, jobs.import_contact, writes=True),
        Operation("GET", "/jobs/{id}", jobs.get_job),
    ]
    if config.org_units:
        ops += [
            Operation("GET", "/org-units", orgunits.list_units),
            Operation("GET", "/org-units/active", orgunits.get_active),
            # Switching changes no data: read-only credentials may do it too.
            Operation("POST", "/org-units/active", orgunits.set_active),
        ]
    return ops
