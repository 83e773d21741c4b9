"""One small deterministic dataset, seeded into every framework under test.

Timestamps are distinct and spaced, so every order the tests ask for is total
and a walk's expected sequence can be computed here without the framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

CONTACTS = 57
USERS = 12
ORGANIZATIONS = 4
BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
# DRF tokens are 40 characters; this one belongs to user 1, the tests' caller.
DRF_ADMIN_TOKEN = "a" * 32 + "drf00001"

FIRST_NAMES = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]
COMPANIES = ["Initech", "Globex", "Umbrella", "Hooli", "Acme"]


@dataclass(frozen=True)
class ContactSeed:
    id: int
    first_name: str
    last_name: str
    email: str
    phone: str
    company: str
    job_title: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class UserSeed:
    id: int
    username: str
    email: str
    role: str
    first_name: str
    last_name: str
    created_at: datetime


@dataclass(frozen=True)
class OrganizationSeed:
    id: int
    name: str
    slug: str
    description: str
    created_at: datetime


@dataclass(frozen=True)
class MembershipSeed:
    id: int
    organization_id: int
    user_id: int
    role: str
    joined_at: datetime


def contacts() -> list[ContactSeed]:
    seeds = []
    for i in range(1, CONTACTS + 1):
        first = FIRST_NAMES[i % len(FIRST_NAMES)]
        last = LAST_NAMES[(i * 3) % len(LAST_NAMES)]
        created = BASE_TIME + timedelta(hours=i)
        seeds.append(
            ContactSeed(
                id=i,
                first_name=first,
                last_name=last,
                # Zero-padded so that email order is a known permutation of id order.
                email=f"{first.lower()}.{last.lower()}.{(i * 37) % 101:03d}@example.com",
                phone=f"+1-555-{i:04d}",
                company=COMPANIES[i % len(COMPANIES)],
                job_title="Engineer" if i % 2 else "Manager",
                created_at=created,
                updated_at=created + timedelta(days=i),
            )
        )
    return seeds


def users() -> list[UserSeed]:
    roles = ["admin", "member", "member", "viewer"]
    return [
        UserSeed(
            id=i,
            username=f"user{i:02d}",
            email=f"user{i:02d}@example.com",
            role=roles[i % len(roles)],
            first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
            last_name=LAST_NAMES[i % len(LAST_NAMES)],
            created_at=BASE_TIME + timedelta(minutes=i),
        )
        for i in range(1, USERS + 1)
    ]


def organizations() -> list[OrganizationSeed]:
    return [
        OrganizationSeed(
            id=i,
            name=f"Organization {i}",
            slug=f"org-{i}",
            description=f"The {i}th organization",
            created_at=BASE_TIME + timedelta(days=i),
        )
        for i in range(1, ORGANIZATIONS + 1)
    ]


def memberships() -> list[MembershipSeed]:
    """Organization n has n + 2 members: users n, n+1, ... (mod USERS); the first is owner."""
    seeds = []
    for org in range(1, ORGANIZATIONS + 1):
        for k in range(org + 2):
            seeds.append(
                MembershipSeed(
                    id=len(seeds) + 1,
                    organization_id=org,
                    user_id=(org + k - 1) % USERS + 1,
                    role="owner" if k == 0 else ("admin" if k == 1 else "member"),
                    joined_at=BASE_TIME + timedelta(days=org, hours=k),
                )
            )
    return seeds


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
