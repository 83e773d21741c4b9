"""``create_app``: the aiohttp application of the sim."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from restloom.sim import pipeline
from restloom.sim.admin import add_admin_routes
from restloom.sim.config import SimConfig
from restloom.sim.pipeline import STATE_KEY, Operation
from restloom.sim.routes import NOT_FOUND_OPERATION, operations
from restloom.sim.state import SimState


def _endpoint(op: Operation) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def endpoint(request: web.Request) -> web.StreamResponse:
        return await pipeline.run(request, op)

    return endpoint


def create_app(config: SimConfig) -> web.Application:
    app = web.Application()
    state = SimState(config)
    app[STATE_KEY] = state

    async def stop_deliveries(_: web.Application) -> None:
        # Pending webhook deliveries and retries end with the server.
        await state.webhooks.close()

    app.on_cleanup.append(stop_deliveries)
    # Control routes first: with an empty prefix the API catch-all would shadow them.
    add_admin_routes(app)
    prefix = config.effective_prefix
    for op in operations(config):
        app.router.add_route(op.method, prefix + op.route, _endpoint(op))
    # Anything else under the prefix still goes through auth, stats and the style's 404.
    app.router.add_route("*", prefix + "/{tail:.*}", _endpoint(NOT_FOUND_OPERATION))
    return app
