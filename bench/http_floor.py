"""The HTTP floor: a minimal ASGI app on the same uvicorn, answering every request with fixed bytes.

Run by bench/side_by_side.py with the bytes restloom answered for a query, so the floor
is what serving that response costs on this stack with no GraphQL at all. It reads the
body (as restloom must) and runs uvicorn the way `restloom serve` does.
"""

from __future__ import annotations

import argparse
import gc
from pathlib import Path
from typing import Any

import uvicorn

Scope = dict[str, Any]


def make_app(body: bytes) -> Any:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body-file", type=Path, required=True)
    args = parser.parse_args()
    config = uvicorn.Config(
        make_app(args.body_file.read_bytes()),
        host="127.0.0.1",
        port=args.port,
        access_log=False,
        log_level="warning",
        lifespan="off",
    )
    gc.freeze()
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
