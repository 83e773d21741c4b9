"""restloom: an asynchronous GraphQL gateway over a REST API."""

__version__ = "0.1.0"
