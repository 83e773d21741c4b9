"""What each field's resolver can send upstream: the rules of the cost prediction.

They mirror the resolvers: a list window (`upstream.windows.load_window`), objects by
id through a DataLoader (`upstream.api.fetch_many`: one batch per field across all its
parents), the viewer, and the writes with the reads they need first. A field not
listed here reads its parent's data and costs nothing; `tests/security/test_cost.py`
checks that every resolver that can await is listed.
"""

from __future__ import annotations

import math
from typing import Any

from graphql import (
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from restloom.graphql.cost_walk import Call, Cost, Rules, Step, Walk
from restloom.graphql.errors import camel_case
from restloom.upstream.anchors import NEIGHBOURHOOD
from restloom.upstream.api import MAX_MEMBERSHIP_SCAN_PAGES
from restloom.upstream.profile import Profile
from restloom.upstream.urls import members_are_filtered


def plain(walk: Walk, call: Call) -> Step:
    """A field read off its parent: free; a list of objects repeats its sub-selection."""
    listed = is_list_type(get_nullable_type(call.definition.type))
    return Step(Cost(), call.instances * call.items if listed else call.instances)


def window(walk: Walk, call: Call) -> Step:
    """A connection: one window per parent."""
    requests, size = window_requests(call.args, walk.profile)
    return Step(Cost(reads=call.instances * requests), call.instances, size)


def members(walk: Walk, call: Call) -> Step:
    """An organization's members: the window, then every member's user in one batch."""
    step = window(walk, call)
    if _selects_member_users(walk, call):
        users = lookup_requests(walk.profile, step.instances * step.items)
        step = Step(step.cost + Cost(reads=users), step.instances, step.items)
    return step


def lookup(walk: Walk, call: Call) -> Step:
    """One object by id per parent, through the DataLoader."""
    return Step(Cost(reads=lookup_requests(walk.profile, call.instances)), call.instances)


def viewer(walk: Walk, call: Call) -> Step:
    return Step(Cost(reads=call.instances), call.instances)


def node(walk: Walk, call: Call) -> Step:
    kinds = _node_kinds(walk, call)
    return Step(Cost(reads=lookup_requests(walk.profile, call.instances, kinds)), call.instances)


def nodes(walk: Walk, call: Call) -> Step:
    ids = call.args.get("ids") or []
    count = call.instances * len(ids)
    kinds = min(len(ids), _node_kinds(walk, call))
    return Step(Cost(reads=lookup_requests(walk.profile, count, kinds)), count)


def write(walk: Walk, call: Call) -> Step:
    return Step(Cost(writes=call.instances), call.instances)


def update(walk: Walk, call: Call) -> Step:
    """A PATCH; a `replace_on_patch` map given in the input is read first, to merge."""
    given = call.args.get("input") or {}
    maps = [camel_case(f) for f in walk.profile.replace_on_patch]
    reads = 1 if any(isinstance(given.get(name), dict) for name in maps) else 0
    return Step(Cost(reads=reads * call.instances, writes=call.instances), call.instances)


def remove_member(walk: Walk, call: Call) -> Step:
    """A DELETE; a filtered member list is scanned for the membership's own id first."""
    scan = MAX_MEMBERSHIP_SCAN_PAGES if members_are_filtered(walk.profile) else 0
    return Step(Cost(reads=scan * call.instances, writes=call.instances), call.instances)


RULES = Rules(
    by_field={
        ("Query", "viewer"): viewer,
        # One read each (a switch to the request's org unit is not the request's cost).
        ("User", "orgUnits"): viewer,
        ("User", "activeOrgUnit"): viewer,
        ("Query", "session"): viewer,
        # Polls, not counted against a request: one poller per job, within the rate budget.
        ("Subscription", "jobCompleted"): viewer,
        # Per event, not counted against the subscribe: the node's read (shared by a
        # credential's subscriptions) and, when selected, the actor's; within the budget.
        **{("Subscription", name): viewer for name in ("events", "contactChanged")},
        ("Subscription", "resourceChanged"): viewer,
        ("ChangeEvent", "actor"): lookup,
        ("Query", "node"): node,
        ("Query", "nodes"): nodes,
        **{("Query", name): lookup for name in ("contact", "resource", "user", "organization")},
        ("Query", "webhook"): lookup,
        **{("Query", name): window for name in ("contacts", "resources", "users", "organizations")},
        ("Query", "webhooks"): window,
        ("Organization", "members"): members,
        ("Resource", "owner"): lookup,
        # Members' users are fetched up front by `members` (counted there).
        ("OrganizationMemberEdge", "node"): plain,
        ("OrganizationMemberConnection", "nodes"): plain,
        ("AddOrganizationMemberPayload", "organization"): lookup,
        ("AddOrganizationMemberPayload", "user"): lookup,
        ("RemoveOrganizationMemberPayload", "organization"): lookup,
        ("TestWebhookPayload", "webhook"): lookup,
        **{("Mutation", name): update for name in ("updateContact", "updateResource")},
        **{("Mutation", name): update for name in ("updateOrganization", "updateWebhook")},
        ("Mutation", "removeOrganizationMember"): remove_member,
    },
    # Every other mutation field is one write; every other field is read off its parent.
    by_type={"Mutation": write},
    default=plain,
)


def _node_kinds(walk: Walk, call: Call) -> int:
    """How many collections a Node lookup can span: one DataLoader batch each."""
    named = get_named_type(call.definition.type)
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        return max(1, len(walk.schema.get_possible_types(named)))
    return 1


def _selects_member_users(walk: Walk, call: Call) -> bool:
    """Whether `members` selects `edges { node }` or `nodes` (the resolver's `selects`)."""
    connection = get_named_type(call.definition.type)
    if not isinstance(connection, GraphQLObjectType):
        return True
    sets = [n.selection_set for n in call.nodes if n.selection_set is not None]
    for children in walk.collect(connection, sets).values():
        name = children[0].name.value
        if name == "nodes":
            return True
        if name == "edges":
            edge = get_named_type(connection.fields["edges"].type)
            if not isinstance(edge, GraphQLObjectType):
                return True
            edge_sets = [c.selection_set for c in children if c.selection_set is not None]
            if any(f[0].name.value == "node" for f in walk.collect(edge, edge_sets).values()):
                return True
    return False


def lookup_requests(profile: Profile, ids: int, collections: int = 1) -> int:
    """Requests for `ids` objects by id, spread over `collections` DataLoaders."""
    if ids <= 0:
        return 0
    batch = profile.batch
    if batch is None:
        return ids  # one GET per id
    step = min(batch.max_ids, profile.pagination.max_size)
    # Split over k batches, sum(ceil(n_i / step)) <= ceil(n / step) + k - 1.
    return min(ids, math.ceil(ids / step) + collections - 1)


def window_requests(args: dict[str, Any], profile: Profile) -> tuple[int, int]:
    """(page requests, items) of one connection window at most; see `load_window`.

    Without cursors: one page from the start; `last` without `first` reads one page to
    learn the total, then the tail. With cursors: the window and each cursor's own item
    (a page each, wherever they stand), page 1 when every page read was past the end,
    a neighbourhood read per cursor whose item moved, and the window again if it moved
    with it.
    """
    pagination = profile.pagination
    first = _size(args.get("first"), pagination.max_size)
    last = _size(args.get("last"), pagination.max_size)
    if first is None and last is None:
        first = pagination.default_size
    size = min(s for s in (first, last) if s is not None)
    anchors = sum(args.get(name) is not None for name in ("after", "before"))
    max_size = pagination.max_size
    if anchors == 0:
        if last is None:
            return 1, size
        if first is None:
            return 1 + _pages(size, max_size), size
        return 2 * _pages(size, max_size) + 1, size
    first_round = _pages(size, max_size) + anchors + 1
    realign = anchors * _pages(2 * NEIGHBOURHOOD, max_size)
    return first_round + realign + _pages(size, max_size), size


def _size(value: Any, max_size: int) -> int | None:
    # Out of range is BAD_USER_INPUT before anything is sent; count it as the largest.
    return None if not isinstance(value, int) else max(0, min(value, max_size))


def _pages(items: int, max_size: int) -> int:
    """The most pages (of at most `max_size`) that `items` consecutive items can span."""
    return 0 if items <= 0 else (items - 1) // max_size + 2
