"""Webhooks in, GraphQL subscriptions out.

`receiver` verifies a delivery (`signatures`), refuses replays (`replay`), turns it
into an `Event` (`normalise`, `model`), and hands it to the `hub`, which makes the read
cache forget what it names and publishes it through a broker (`broker`: in-process, or
`redisbroker` on a Redis Stream so every instance sees it); `fanout` gives each event
to the subscriptions open on this instance, each with a bounded queue, and
`sharedreads` lets subscriptions of one credential share the read of an event's object.
The GraphQL side is graphql/subscription.py, graphql/eventstream.py and graphql/events.py.
"""
