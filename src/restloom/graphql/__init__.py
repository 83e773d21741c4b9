"""The GraphQL schema: types, resolvers, loaders. It reaches the upstream only via `upstream.api`."""
