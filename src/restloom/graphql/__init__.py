"""The GraphQL schema: types, resolvers, loaders.

It reaches the upstream only through `restloom.upstream.api`.
"""
