"""Raw HTTP exchanges with the gateway's /graphql, for the GraphQL-over-HTTP tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict

from tests.conftest import FULL_KEY

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
BOTH = (APPLICATION_JSON, GRAPHQL_RESPONSE_JSON)


@dataclass
class Exchange:
    status: int
    headers: CIMultiDict[str]
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        body = orjson.loads(self.raw)
        assert isinstance(body, dict), body
        return body

    @property
    def media_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()

    def codes(self) -> list[str]:
        return [e["extensions"]["code"] for e in self.body.get("errors", [])]


async def exchange(
    http: aiohttp.ClientSession,
    url: str,
    method: str = "POST",
    *,
    body: bytes | None = None,
    json: object = None,
    params: dict[str, str] | list[tuple[str, str]] | None = None,
    accept: str | None = None,
    content_type: str | None = "application/json",
    headers: dict[str, str] | None = None,
) -> Exchange:
    """One request; no Accept header at all when `accept` is None."""
    sent = {"X-API-Key": FULL_KEY, **(headers or {})}
    if accept is not None:
        sent["Accept"] = accept
    if json is not None:
        body = orjson.dumps(json)
    if body is not None and content_type is not None:
        sent["Content-Type"] = content_type
    skip = () if accept is not None else ("Accept",)
    async with http.request(
        method,
        url + "/graphql",
        data=body,
        params=params,
        headers=sent,
        skip_auto_headers=(*skip, "Content-Type"),
    ) as resp:
        return Exchange(resp.status, CIMultiDict(resp.headers), await resp.read())


def assert_request_error(reply: Exchange, status: int, code: str, request_id: str) -> None:
    """A request error: the status, JSON errors with the code, no data, the request id."""
    assert reply.status == status, reply.raw
    body = reply.body
    assert "data" not in body, body
    assert reply.codes() == [code], body
    assert body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["requestId"] == request_id
    assert reply.headers["X-Request-Id"] == request_id
