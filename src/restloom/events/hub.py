"""The process's event machinery, built from settings in the app lifespan."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import redis.asyncio as redis

from restloom.config import ConfigError, Settings
from restloom.events.broker import Broker, MemoryBroker, Retention
from restloom.events.model import Event
from restloom.events.redisbroker import RedisBroker
from restloom.events.replay import MemoryReplayGuard, RedisReplayGuard, ReplayGuard
from restloom.events.sharedreads import SharedReads
from restloom.events.signatures import Style, Verifier
from restloom.upstream.client import upstream_id
from restloom.upstream.profile import Profile
from restloom.upstream.readcache import ReadCache

log = logging.getLogger("restloom.events")


@dataclass(frozen=True)
class SubscriptionLimits:
    max_subscriptions: int  # per connection
    max_queued: int  # per subscription


@dataclass
class EventHub:
    source: str  # the name in /webhooks/{source}
    verifier: Verifier | None  # None: no webhook secret, no receiver
    broker: Broker
    guard: ReplayGuard
    cache: ReadCache | None
    profile: Profile
    limits: SubscriptionLimits
    reads: SharedReads = field(default_factory=SharedReads)

    async def start(self) -> None:
        await self.broker.start()

    async def close(self) -> None:
        await self.broker.close()

    async def accept(self, event: Event) -> Event:
        """The cache forgets what the event names, on every instance; then it is published.

        In that order: a subscriber that reads on receiving the event must not be
        answered from an entry the event made stale.
        """
        if self.cache is not None and event.collection is not None:
            await self.cache.invalidate_collection(event.collection)
        return await self.broker.publish(event)


def webhook_style(settings: Settings, profile: Profile) -> Style:
    if settings.webhook_style != "auto":
        return settings.webhook_style
    return "moco" if profile.name == "moco" else "standard"


def source_names(profile: Profile) -> tuple[str, ...]:
    """/webhooks/{source}: the profile's name, or "default" (one upstream per gateway)."""
    return (profile.name, "default")


def verifier_from(settings: Settings, profile: Profile) -> Verifier | None:
    if settings.webhook_secret is None:
        return None
    try:
        return Verifier(
            webhook_style(settings, profile),
            settings.webhook_secret.get_secret_value(),
            settings.webhook_tolerance,
        )
    except ValueError as exc:
        raise ConfigError(f"setting `webhook_secret`: {exc}") from None


def open_hub(
    settings: Settings,
    profile: Profile,
    cache: ReadCache | None,
    client: redis.Redis | None,
    verifier: Verifier | None,
) -> EventHub:
    retention = Retention(settings.event_retention, settings.event_retention_seconds)
    broker: Broker
    guard: ReplayGuard
    if settings.redis_url is not None and client is not None:
        stream = f"{settings.redis_namespace}:events:{upstream_id(str(settings.upstream_url))}"
        broker = RedisBroker(str(settings.redis_url), stream, retention)
        guard = RedisReplayGuard(client, settings.redis_namespace)
    else:
        broker = MemoryBroker(retention)
        guard = MemoryReplayGuard()
    return EventHub(
        source=profile.name,
        verifier=verifier,
        broker=broker,
        guard=guard,
        cache=cache,
        profile=profile,
        limits=SubscriptionLimits(settings.max_subscriptions, settings.max_queued_events),
    )
