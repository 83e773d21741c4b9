"""Logs, metrics and traces: what an operator sees of each GraphQL request and upstream call.

`Observer` (one per app) is handed every upstream call by `UpstreamClient.send` and
every GraphQL operation by `restloom.graphql.observe.OperationObserver`; it writes
the log lines, moves the Prometheus metrics and opens the OpenTelemetry spans.
Nothing here imports GraphQL.
"""
