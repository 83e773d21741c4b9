"""What a GraphQL request cost upstream, in the response's `extensions`.

`{"upstream": {"requests": 2, "cacheHits": 5, "coalesced": 0, "retries": 0},
"cost": {"predicted": 3, "actual": 2}}`: calls sent to the upstream (retries
included), responses and records served from the cross-request cache, GETs that
shared an identical call in flight, and repeats after failures or 429s; then the
upstream requests predicted before execution (`graphql.cost`) against those sent.
Turned off with the `response_extensions` setting.
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension

from restloom.graphql.cost import predicted


class UpstreamStats(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        exchange = getattr(self.execution_context.context, "exchange", None)
        if exchange is None:
            return {}
        stats = exchange.stats
        # No prediction: the operation never reached execution, so nothing could be sent.
        cost = predicted(self.execution_context)
        return {
            "upstream": {
                "requests": stats.requests,
                "cacheHits": stats.cache_hits,
                "coalesced": stats.coalesced,
                "retries": stats.retries,
            },
            "cost": {
                "predicted": cost.requests if cost is not None else 0,
                "actual": stats.requests,
            },
        }
