"""The in-memory dataset: seeded generation and the few primitives writes need.

Generation is deterministic: each collection draws from its own ``random.Random``
seeded with ``"{seed}:{collection}"`` (string seeds hash through SHA-512, so they do
not depend on PYTHONHASHSEED), which also keeps e.g. the users identical when only
the number of contacts changes. Records are created in ``created_at`` order so that
the integer ids (``num``) follow creation order, as they would in a real database.
"""

from __future__ import annotations

import random
import string
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from restloom.sim import words
from restloom.sim.config import SimConfig
from restloom.sim.kinds import (
    KINDS,
    MEMBER_ROLES,
    RESOURCE_STATUSES,
    RESOURCE_TYPES,
    USER_ROLES,
    WEBHOOK_EVENTS,
)
from restloom.sim.records import Membership, Record

if TYPE_CHECKING:
    from restloom.sim.jobs import JobStore
    from restloom.sim.orgunits import OrgUnits

# Seeded timestamps lie in the two years before this instant.
EPOCH_END = datetime(2025, 6, 30, 12, 0, 0, tzinfo=UTC)
SPAN_SECONDS = 730 * 24 * 3600
SEEDED_PASSWORD = "password"
_ID_ALPHABET = string.ascii_lowercase + string.digits

# The newest seeded record of these kinds gets a fixed id, so that the README's tour
# (`contact(id: "cnt_0a1b2c3d4e")`) works on every seed and dataset size.
DOCUMENTED_IDS: dict[str, str] = {
    "contacts": "cnt_0a1b2c3d4e",
    "organizations": "org_0a1b2c3d4e",
}


@dataclass
class Dataset:
    collections: dict[str, dict[str, Record]] = field(
        default_factory=lambda: {name: {} for name in KINDS}
    )
    # Organization id -> its memberships.
    members: dict[str, list[Membership]] = field(default_factory=dict)
    by_num: dict[str, dict[int, str]] = field(default_factory=lambda: {name: {} for name in KINDS})
    next_num: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 1))
    taken_ids: set[str] = field(default_factory=set)
    # Ids of records created through the API: deterministic too, for reproducible tests.
    id_rng: random.Random = field(default_factory=lambda: random.Random(0))
    # Organizational units (template style with ``org_units``); None: the API has none.
    org_units: OrgUnits | None = None
    # Asynchronous jobs (``POST /contacts/imports``, template style).
    jobs: JobStore = field(default_factory=lambda: _job_store())

    # ------------------------------------------------------------------ lookups
    def get(self, kind: str, record_id: str) -> Record | None:
        return self.collections[kind].get(record_id)

    def id_for_num(self, kind: str, num: int) -> str | None:
        return self.by_num[kind].get(num)

    def num_for_id(self, kind: str, record_id: str) -> int | None:
        record = self.collections[kind].get(record_id)
        return record.num if record else None

    def find_user(self, *, email: str | None = None, username: str | None = None) -> Record | None:
        for user in self.collections["users"].values():
            if email is not None and str(user.fields["email"]).lower() == email.lower():
                return user
            if username is not None and str(user.fields["username"]).lower() == username.lower():
                return user
        return None

    def first_users(self, n: int) -> list[Record]:
        return sorted(self.collections["users"].values(), key=lambda r: r.num)[:n]

    # ------------------------------------------------------------------ writes
    def new_id(self, kind: str, rng: random.Random | None = None) -> str:
        rng = rng or self.id_rng
        prefix = KINDS[kind].id_prefix
        while True:
            candidate = prefix + "_" + "".join(rng.choices(_ID_ALPHABET, k=10))
            if candidate not in self.taken_ids:
                self.taken_ids.add(candidate)
                return candidate

    def insert(
        self,
        kind: str,
        fields: dict[str, Any],
        created_at: datetime,
        *,
        updated_at: datetime | None = None,
        hidden: dict[str, Any] | None = None,
        custom_properties: dict[str, Any] | None = None,
        rng: random.Random | None = None,
    ) -> Record:
        num = self.next_num[kind]
        self.next_num[kind] = num + 1
        record = Record(
            id=self.new_id(kind, rng),
            num=num,
            fields=fields,
            created_at=created_at,
            updated_at=updated_at or created_at,
            hidden=hidden or {},
            custom_properties=custom_properties or {},
        )
        self.collections[kind][record.id] = record
        self.by_num[kind][num] = record.id
        if kind == "organizations":
            self.members.setdefault(record.id, [])
        return record

    def pin_id(self, kind: str, new_id: str) -> None:
        """Give the newest record of `kind` the id `new_id` (which must be free)."""
        if not self.collections[kind] or new_id in self.taken_ids:
            return
        newest = max(self.collections[kind].values(), key=lambda r: r.num)
        old_id = newest.id
        del self.collections[kind][old_id]
        newest.id = new_id
        self.collections[kind][new_id] = newest
        self.by_num[kind][newest.num] = new_id
        self.taken_ids.add(new_id)
        if kind == "organizations":
            self.members[new_id] = self.members.pop(old_id, [])

    def delete(self, kind: str, record_id: str) -> None:
        record = self.collections[kind].pop(record_id)
        del self.by_num[kind][record.num]
        if kind == "organizations":
            self.members.pop(record_id, None)


def _job_store() -> JobStore:
    from restloom.sim.jobs import JobStore  # jobs imports the pipeline

    return JobStore()


# ---------------------------------------------------------------------- generation


def ascii_slug(text: str, sep: str = "-") -> str:
    """'Tomás Müller' -> 'tomas-muller' (emails, usernames and slugs stay ASCII)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out: list[str] = []
    for ch in plain.lower():
        if ch.isalnum():
            out.append(ch)
        elif out and out[-1] != sep:
            out.append(sep)
    return "".join(out).strip(sep)


def _timestamps(rng: random.Random, n: int) -> list[tuple[datetime, datetime]]:
    """n (created_at, updated_at) pairs sorted by created_at; updated_at >= created_at."""
    created = sorted(rng.randrange(SPAN_SECONDS) for _ in range(n))
    start = EPOCH_END - timedelta(seconds=SPAN_SECONDS)
    pairs: list[tuple[datetime, datetime]] = []
    for offset in created:
        c = start + timedelta(seconds=offset)
        # About a third of records were never edited after creation.
        if rng.random() < 0.35:
            u = c
        else:
            u = c + timedelta(seconds=rng.randrange(SPAN_SECONDS - offset + 1))
        pairs.append((c, u))
    return pairs


def _unique(base: str, taken: set[str], sep: str = "") -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}{sep}{n}"
    taken.add(candidate)
    return candidate


def _company(rng: random.Random) -> tuple[str, str]:
    word = rng.choice(words.COMPANY_WORDS)
    name = f"{word} {rng.choice(words.COMPANY_SUFFIXES)}"
    return name, ascii_slug(word, sep="") + ".com"


def generate(config: SimConfig) -> Dataset:
    data = Dataset(id_rng=random.Random(f"{config.seed}:new-ids"))
    _gen_users(data, random.Random(f"{config.seed}:users"), config.users)
    _gen_contacts(data, random.Random(f"{config.seed}:contacts"), config.contacts)
    _gen_resources(data, random.Random(f"{config.seed}:resources"), config.resources)
    _gen_organizations(data, random.Random(f"{config.seed}:organizations"), config.organizations)
    _gen_webhooks(data, random.Random(f"{config.seed}:webhooks"), config.webhooks)
    for kind, documented in DOCUMENTED_IDS.items():
        data.pin_id(kind, documented)
    if config.org_units:
        from restloom.sim.orgunits import build  # orgunits imports the handlers

        data.org_units = build(data, config.org_units, data.first_users(1)[0].id)
    return data


def _gen_users(data: Dataset, rng: random.Random, n: int) -> None:
    emails: set[str] = set()
    usernames: set[str] = set()
    for i, (created, updated) in enumerate(_timestamps(rng, n)):
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        username = _unique(ascii_slug(f"{first}.{last}", sep="."), usernames)
        email = _unique(f"{username}@mossdesk.example", emails)
        # The full key acts as the first user (an admin), the read key as the second.
        if i == 0:
            role = "admin"
        elif i == 1:
            role = "viewer"
        else:
            role = rng.choices(USER_ROLES, weights=(1, 7, 2))[0]
        fields = {
            "email": email,
            "username": username,
            "role": role,
            "profile": {
                "first_name": first,
                "last_name": last,
                "avatar_url": f"https://avatars.mossdesk.example/{username}.png",
            },
        }
        data.insert(
            "users",
            fields,
            created,
            updated_at=updated,
            hidden={"password": SEEDED_PASSWORD},
            rng=rng,
        )


def _gen_contacts(data: Dataset, rng: random.Random, n: int) -> None:
    emails: set[str] = set()
    for created, updated in _timestamps(rng, n):
        first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.LAST_NAMES)
        company, domain = _company(rng)
        local = _unique(ascii_slug(f"{first}.{last}", sep="."), emails)
        fields = {
            "first_name": first,
            "last_name": last,
            "email": f"{local}@{domain}",
            "phone": f"+1-555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
            "company": company,
            "job_title": rng.choice(words.JOB_TITLES),
        }
        custom = {
            "Line of business": rng.choice(words.INDUSTRIES),
            "UID": f"{rng.randint(100, 999)}-UID-{rng.randint(100, 999)}",
        }
        data.insert(
            "contacts", fields, created, updated_at=updated, custom_properties=custom, rng=rng
        )


def _gen_resources(data: Dataset, rng: random.Random, n: int) -> None:
    user_ids = [u.id for u in data.first_users(len(data.collections["users"]))]
    for created, updated in _timestamps(rng, n):
        name = " ".join(
            (
                rng.choice(words.ADJECTIVES),
                rng.choice(words.NOUNS),
                rng.choice(words.RESOURCE_THINGS),
            )
        )
        metadata: dict[str, Any] = {"region": rng.choice(words.REGIONS), "tier": rng.randint(1, 3)}
        if rng.random() < 0.5:
            metadata["cost_center"] = f"CC-{rng.randint(1000, 9999)}"
        fields = {
            "name": name,
            "description": rng.choice(words.DESCRIPTIONS),
            "type": rng.choices(RESOURCE_TYPES, weights=(6, 3, 1))[0],
            "status": rng.choices(RESOURCE_STATUSES, weights=(7, 2, 1))[0],
            "metadata": metadata,
            "owner_id": rng.choice(user_ids),
        }
        custom = {"Cost center": f"CC-{rng.randint(1000, 9999)}"}
        data.insert(
            "resources", fields, created, updated_at=updated, custom_properties=custom, rng=rng
        )


def _gen_organizations(data: Dataset, rng: random.Random, n: int) -> None:
    user_ids = [u.id for u in data.first_users(len(data.collections["users"]))]
    names: set[str] = set()
    slugs: set[str] = set()
    for created, updated in _timestamps(rng, n):
        base = " ".join(
            (rng.choice(words.ADJECTIVES), rng.choice(words.NOUNS), rng.choice(words.ORG_SUFFIXES))
        )
        name = _unique(base, names, sep=" ")
        slug = _unique(ascii_slug(name), slugs, sep="-")
        size = min(rng.randint(5, 30), len(user_ids))
        chosen = rng.sample(user_ids, size)
        memberships = [Membership(user_id=chosen[0], role="owner", joined_at=created)]
        window = max(1, int((EPOCH_END - created).total_seconds()))
        for user_id in chosen[1:]:
            role = rng.choices(MEMBER_ROLES[1:], weights=(1, 4))[0]
            joined = created + timedelta(seconds=rng.randrange(window))
            memberships.append(Membership(user_id=user_id, role=role, joined_at=joined))
        fields = {
            "name": name,
            "slug": slug,
            "description": rng.choice(words.DESCRIPTIONS),
            "member_count": size,
        }
        custom = {"Industry": rng.choice(words.INDUSTRIES)}
        record = data.insert(
            "organizations", fields, created, updated_at=updated, custom_properties=custom, rng=rng
        )
        data.members[record.id] = memberships


def _gen_webhooks(data: Dataset, rng: random.Random, n: int) -> None:
    for i, (created, updated) in enumerate(_timestamps(rng, n), start=1):
        _, domain = _company(rng)
        chosen = set(rng.sample(WEBHOOK_EVENTS, rng.randint(1, 4)))
        fields = {
            "url": f"https://hooks.{domain}/restloom/{i}",
            "events": [e for e in WEBHOOK_EVENTS if e in chosen],
            "active": rng.random() < 0.8,
        }
        secret = "".join(rng.choices("0123456789abcdef", k=32))
        data.insert(
            "webhooks", fields, created, updated_at=updated, hidden={"secret": secret}, rng=rng
        )
