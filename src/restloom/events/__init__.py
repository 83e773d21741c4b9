"""Webhooks in, GraphQL subscriptions out.

`receiver` verifies a delivery (`signatures`), refuses replays (`replay`), turns it
into an `Event` (`normalise`), makes the cache forget what it names (`invalidate`)
and publishes it through a broker (`broker`: in-process, or `redisbroker` on Redis
Streams so every instance sees it); `fanout` hands each event to the subscriptions
open on this instance, each with a bounded queue.
"""
