"""The per-request context: who is asking, under which request id, through which loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from restloom.graphql.loaders import Loaders
from restloom.graphql.relay import CursorCodec
from restloom.graphql.trust import Access
from restloom.upstream.client import Exchange
from restloom.upstream.profile import Profile


@dataclass
class Context:
    request: Request
    response: Response
    request_id: str
    exchange: Exchange
    cursors: CursorCodec
    access: Access  # what this caller may do (trust.py), checked before execution
    idempotency_key: str | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.exchange)

    @property
    def profile(self) -> Profile:
        return self.exchange.profile
