"""Small word lists for realistic-looking seeded data (kept short on purpose)."""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Jane", "Bob", "Alice", "Carlos", "Priya", "Liam", "Sofia", "Noah", "Mia", "Yuki",
    "Omar", "Elena", "Lucas", "Amara", "Jonas", "Chloe", "Mateo", "Hana", "Ethan", "Zoe",
    "Leon", "Aisha", "Felix", "Nora", "Diego", "Ingrid", "Samuel", "Leila", "Victor", "Grace",
    "Tomás", "Freya", "Arjun", "Isla", "Kofi", "Maya", "Henrik", "Lucia", "Ravi", "Emma",
)  # fmt: skip

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Garcia", "Müller", "Nakamura", "Okafor", "Rossi", "Kowalski",
    "Nguyen", "Patel", "Schmidt", "Silva", "Andersen", "Dubois", "Kim", "Martin", "Lopez",
    "Brown", "Novak", "Haddad", "Costa", "Fischer", "Wright", "Jensen", "Moreau", "Tanaka",
    "Ibrahim", "Larsen", "Walsh", "Romero", "Becker", "Young", "Horvat", "Chen", "Singh",
)  # fmt: skip

COMPANY_WORDS: tuple[str, ...] = (
    "Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne", "Tyrell",
    "Soylent", "Cyberdyne", "Nakatomi", "Oscorp", "Wonka", "Gringotts", "Aperture",
    "Monarch", "Pied Piper", "Dunder", "Massive", "Blue Sun", "Zorg", "Prestige", "Vortex",
)  # fmt: skip

COMPANY_SUFFIXES: tuple[str, ...] = ("Inc", "GmbH", "Ltd", "Labs", "Group", "Systems", "AG")

JOB_TITLES: tuple[str, ...] = (
    "Account Executive", "CTO", "Head of Sales", "Product Manager", "Software Engineer",
    "Office Manager", "Marketing Lead", "Data Analyst", "Procurement Officer", "CEO",
    "Customer Success Manager", "Designer", "Operations Director", "Consultant",
)  # fmt: skip

ADJECTIVES: tuple[str, ...] = (
    "Quiet", "Rapid", "Golden", "Silver", "Northern", "Bright", "Hidden", "Open", "Crimson",
    "Lunar", "Solar", "Green", "Iron", "Swift", "Deep", "Clear", "Bold", "Calm",
)  # fmt: skip

NOUNS: tuple[str, ...] = (
    "Harbor", "Falcon", "Meadow", "Summit", "Beacon", "Canyon", "Forge", "Orchard", "River",
    "Signal", "Atlas", "Lantern", "Compass", "Garden", "Bridge", "Anchor", "Delta", "Echo",
)  # fmt: skip

RESOURCE_THINGS: tuple[str, ...] = (
    "Workspace", "Dataset", "Pipeline", "Dashboard", "Bucket", "Cluster", "Report", "Queue",
    "Project", "Calendar", "Library", "Gateway",
)  # fmt: skip

ORG_SUFFIXES: tuple[str, ...] = ("Team", "Collective", "Studio", "Guild", "Partners", "Club")

DESCRIPTIONS: tuple[str, ...] = (
    "Used by the operations team for weekly planning.",
    "Shared with external partners; handle with care.",
    "Migrated from the legacy system in the last quarter.",
    "Primary workspace for the onboarding project.",
    "Kept for compliance; read access only for most people.",
    "Experimental; may be archived after review.",
    "Backs the customer-facing status page.",
    "Owned by finance, reviewed monthly.",
)  # fmt: skip

REGIONS: tuple[str, ...] = ("eu-west-1", "eu-central-1", "us-east-1", "us-west-2", "ap-south-1")

INDUSTRIES: tuple[str, ...] = (
    "Automotive", "Banking", "Healthcare", "Retail", "Education", "Logistics", "Media",
)  # fmt: skip
