"""restloom: a GraphQL gateway over a REST API.

`serve` runs the gateway in front of an upstream, `demo` runs it over the embedded
sim, `sim` runs the embedded upstream alone, `export-schema` prints the SDL.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import sys
from pathlib import Path
from typing import Any

import uvicorn
from pydantic import SecretStr

from restloom.config import ConfigError, Settings, load_settings

EXAMPLE_QUERY = """{
  viewer { email }
  organizations(first: 3) {
    totalCount
    nodes { name members(first: 3) { edges { role node { email } } } }
  }
}"""


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except ConfigError as exc:
        print(f"restloom: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        pass


def build_parser() -> argparse.ArgumentParser:
    from restloom.sim.config import add_cli_arguments

    parser = argparse.ArgumentParser(
        prog="restloom",
        description="A GraphQL gateway over a REST API.",
        epilog="Run `restloom COMMAND --help` for a command's options and settings.",
    )
    parser.add_argument("--version", action="version", version=f"restloom {_version()}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the gateway in front of an upstream",
        description="Run the GraphQL gateway in front of an upstream REST API.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_gateway_options(serve)
    serve.add_argument("--upstream", dest="upstream_url", help="upstream base URL")
    serve.add_argument("--profile", help="upstream profile (default mossdesk)")
    serve.add_argument("--api-key", help="service credential when a caller sends none")
    serve.add_argument("--workers", type=int, help="worker processes (default 1)")
    serve.set_defaults(run=run_serve, command="serve")

    demo = commands.add_parser(
        "demo",
        help="the gateway with an embedded demo upstream",
        description="Start the embedded sim on a free port and the gateway in front of it, "
        "with the sim's full key as the service credential.",
        epilog=settings_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_gateway_options(demo)
    demo.set_defaults(run=run_demo, command="demo")

    sim = commands.add_parser(
        "sim",
        help="run the embedded upstream alone",
        description="Run the embedded upstream (an independent implementation of the REST "
        "API documents) in one of its styles.",
    )
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8001)
    add_cli_arguments(sim)
    sim.set_defaults(run=run_sim)

    export = commands.add_parser(
        "export-schema",
        help="print the schema as SDL",
        description="Print the GraphQL schema as SDL (schema.graphql is its output).",
    )
    export.set_defaults(run=run_export_schema)
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("restloom")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def settings_help() -> str:
    """Every setting with its environment variable, and the built-in profiles."""
    from restloom.upstream.profile import BUILTIN_PROFILES

    lines = [
        "profiles: " + ", ".join(BUILTIN_PROFILES) + " (or [profiles.NAME] in --config)",
        "",
        "settings (option > environment variable > --config TOML key > default):",
    ]
    for name, info in Settings.model_fields.items():
        default = "" if info.is_required() else f" [{_default_of(info)}]"
        about = info.description or ""
        lines.append(f"  RESTLOOM_{name.upper():<28} {about}{default}")
    return "\n".join(lines)


def _default_of(info: object) -> str:
    default = getattr(info, "default", None)
    factory = getattr(info, "default_factory", None)
    if factory is not None:
        default = factory()
    if default is None or default in ({}, []):
        return "none"
    return str(default)


def _add_gateway_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML settings file")
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")


# Where each command-line option lands, for error messages that name what was typed.
OPTION_NAMES = {
    "host": "option --host",
    "port": "option --port",
    "upstream_url": "option --upstream",
    "profile": "option --profile",
    "api_key": "option --api-key",
    "workers": "option --workers",
}


def _settings(args: argparse.Namespace, **extra: object) -> Settings:
    """Settings from the command line; `extra` fills in what the command itself decides."""
    options: dict[str, object] = {
        "host": args.host,
        "port": args.port,
        "upstream_url": getattr(args, "upstream_url", None),
        "profile": getattr(args, "profile", None),
        "api_key": getattr(args, "api_key", None),
        "workers": getattr(args, "workers", None),
    }
    origins = {**OPTION_NAMES, **{k: f"set by restloom {args.command}" for k in extra}}
    return load_settings(args.config, origins, **{**options, **extra})


def run_serve(args: argparse.Namespace) -> None:
    settings = _settings(args)
    if settings.upstream_url is None:
        raise ConfigError(
            "setting `upstream_url` is required: pass --upstream URL or set RESTLOOM_UPSTREAM_URL"
        )
    _serve(settings)


def _serve(settings: Settings) -> None:
    """uvicorn in this process (or its workers), choosing its own loop and HTTP parser.

    `uvicorn.Server.run` lets uvicorn pick uvloop and httptools when they are installed;
    `asyncio.run(server.serve())` would not. Workers are separate processes that each
    build the app from the settings this process hands them (`restloom.serving`).
    """
    from restloom.observability.logs import configure_logging
    from restloom.serving import WORKER_SETTINGS, for_workers, settings_for_workers

    if settings.workers > 1:
        configure_logging(settings.log_level, settings.log_format)  # the supervisor's lines
        os.environ[WORKER_SETTINGS] = settings_for_workers(for_workers(settings))
        uvicorn.run(
            "restloom.serving:app_from_environment",
            factory=True,
            workers=settings.workers,
            **_uvicorn_options(settings),
        )
        return
    uvicorn.Server(uvicorn.Config(_started_app(settings), **_uvicorn_options(settings))).run()


def _uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": None,  # uvicorn's lines go through configure_logging's handler
        "access_log": settings.access_log,
        # Mounted below a path by a reverse proxy: GraphiQL's URLs and routing need it.
        "root_path": settings.root_path,
    }


def _started_app(settings: Settings) -> Any:
    from restloom.serving import start_app

    return start_app(settings)


async def _serve_in_loop(settings: Settings) -> None:
    """For `demo`, whose sim shares the running loop (so no loop choice here)."""
    server = uvicorn.Server(uvicorn.Config(_started_app(settings), **_uvicorn_options(settings)))
    await server.serve()


def run_demo(args: argparse.Namespace) -> None:
    asyncio.run(_demo(args))


async def _demo(args: argparse.Namespace) -> None:
    from restloom.sim.config import SimConfig
    from restloom.sim.server import SimServer

    sim_config = SimConfig()
    async with SimServer(sim_config) as sim:
        settings = demo_defaults(
            _settings(args, upstream_url=sim.api_url, api_key=sim_config.full_key)
        )
        settings = await _demo_webhook(settings, sim.api_url, sim_config.full_key)
        base = f"http://{settings.host}:{settings.port}"
        print(
            f"restloom demo\n"
            f"  GraphiQL:  {base}/graphql\n"
            f"  upstream:  {sim.api_url} (embedded sim)\n"
            f"  keys:      full {sim_config.full_key}, read-only {sim_config.read_key}\n"
            f"             (send one as X-API-Key; without one the full key is used)\n"
            f"{demo_trust_lines(settings)}"
            f"  try:\n"
            f"    curl -s {base}/graphql -H 'Content-Type: application/json' \\\n"
            f'      -d \'{{"query": "{{ viewer {{ email }} contacts(first: 3) '
            f"{{ totalCount nodes {{ firstName email }} }} }}\"}}'\n"
            f"  or paste into GraphiQL:\n{EXAMPLE_QUERY}\n"
            f"  live changes: the sim sends a webhook to {base}/webhooks/{settings.profile} "
            f"on every write;\n  run this in one GraphiQL tab and a mutation in another:\n"
            f"{EXAMPLE_SUBSCRIPTION}\n",
            flush=True,
        )
        await _serve_in_loop(settings)


EXAMPLE_SUBSCRIPTION = """\
    subscription {
      events { id target action occurredAt actor { email }
               node { ... on Contact { firstName lastName updatedAt } } }
    }"""


async def _demo_webhook(settings: Settings, api_url: str, key: str) -> Settings:
    """Register the gateway's receiver with the sim, signed with a secret made for this run.

    A `webhook_secret` given by the environment or --config is used as it is.
    """
    import base64
    import secrets

    import aiohttp

    from restloom.sim.kinds import WEBHOOK_EVENTS

    secret = (
        settings.webhook_secret.get_secret_value()
        if settings.webhook_secret is not None
        else "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    )
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    receiver = f"http://{host}:{settings.port}/webhooks/{settings.profile}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{api_url}/webhooks",
            json={"url": receiver, "events": list(WEBHOOK_EVENTS), "secret": secret},
            headers={"X-API-Key": key},
        ) as resp,
    ):
        if resp.status != 201:
            raise ConfigError(f"demo: the sim refused the webhook ({resp.status})")
    return settings.model_copy(update={"webhook_secret": SecretStr(secret)})


# What the demo changes from `serve`'s defaults, unless the environment or --config says.
DEMO_DEFAULTS: dict[str, object] = {
    "anonymous_mutations": True,
    "cors_origins": ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"],
}


def demo_defaults(settings: Settings) -> Settings:
    chosen = settings.model_fields_set
    return settings.model_copy(update={k: v for k, v in DEMO_DEFAULTS.items() if k not in chosen})


def demo_trust_lines(settings: Settings) -> str:
    """The banner says what an anonymous caller and a browser page may do."""
    if settings.anonymous_mutations:
        writes = "queries and MUTATIONS (anonymous_mutations = true; serve's default is false)"
    else:
        writes = "queries only (anonymous_mutations = false)"
    origins = ", ".join(settings.cors_origins) or "none"
    return f"  anonymous: {writes}\n  CORS:      browser pages from {origins}\n"


def run_sim(args: argparse.Namespace) -> None:
    from restloom.sim.config import config_from_args

    try:
        config = config_from_args(args)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    asyncio.run(_sim(config, args.host, args.port))


async def _sim(config: object, host: str, port: int) -> None:
    from restloom.sim.server import SimServer

    async with SimServer(config, host, port) as sim:  # type: ignore[arg-type]
        print(f"restloom sim ({config.style}) on {sim.api_url}", flush=True)  # type: ignore[attr-defined]
        await asyncio.Event().wait()


def run_export_schema(args: argparse.Namespace) -> None:
    from restloom.graphql.schema import build_schema

    print(build_schema().as_str())


if __name__ == "__main__":
    main()
