"""Request handlers: synchronous functions from ``Ctx`` to a style-neutral result."""
