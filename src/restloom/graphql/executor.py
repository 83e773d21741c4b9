"""The execution context of restloom's schema (`graphql.execution`): kept for its importers."""

from restloom.graphql.execution import FastExecutionContext

__all__ = ["FastExecutionContext"]
