"""The upstream REST API: profiles, HTTP client, pagination and errors.

Nothing in this package knows about GraphQL.
"""
