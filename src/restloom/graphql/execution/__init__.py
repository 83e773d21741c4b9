"""Executing queries: graphql-core's semantics, with plain reads completed in a loop."""

from restloom.graphql.execution.context import FastExecutionContext

__all__ = ["FastExecutionContext"]
