"""The app as a serving process builds it: logging set up, start-up garbage frozen, workers.

`restloom serve --workers N` runs N uvicorn worker processes. uvicorn starts each from
an import string, so the parent hands its settings (command line, environment and
--config already merged) to the workers in one environment variable, and each worker
builds its app with `app_from_environment`. Without that variable, the factory reads
the settings from the environment alone, so
`uvicorn --factory restloom.serving:app_from_environment` works too.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets

import orjson
from pydantic import SecretStr
from starlette.applications import Starlette

from restloom.config import ConfigError, Settings, load_settings

# Not RESTLOOM_*: that prefix is for settings, and an unknown one is refused.
WORKER_SETTINGS = "_RESTLOOM_WORKER_SETTINGS"

log = logging.getLogger("restloom.serve")

# A request's objects die with it, by reference count (tests/graphql/test_no_cycles.py).
# At the collector's default of 700 new objects, the nested benchmark query paid ~4.4
# young collections of 0.1-0.5 ms each, mid-request, on its critical path; at this
# threshold none ran in 160 of them. What does form cycles (an error's traceback: ~110
# objects) waits longer, and a pass over it stays bounded by this many objects.
YOUNG_COLLECTION_THRESHOLD = 10_000


def settings_for_workers(settings: Settings) -> str:
    """The settings as JSON, secrets included (they stay in this process tree's environment)."""
    data = settings.model_dump(mode="json")
    for name, value in settings:
        if isinstance(value, SecretStr):
            data[name] = value.get_secret_value()
    return orjson.dumps(data).decode()


def for_workers(settings: Settings) -> Settings:
    """The settings every worker gets: one cursor key for all, so a cursor works on any.

    Without a configured `cursor_secret` each process would sign with a random key of
    its own and a cursor from one worker would be refused by the next; the parent draws
    one key for all of them instead (it still changes when restloom restarts).
    """
    if settings.cursor_secret is not None:
        return settings
    if settings.redis_url is not None:
        raise ConfigError(
            "setting `cursor_secret` is required when `redis_url` is set: every instance "
            "must sign cursors with the same key (set RESTLOOM_CURSOR_SECRET to a random string)"
        )
    log.warning(
        "no cursor_secret configured: the %d workers sign cursors with one random key, "
        "and cursors stop working when restloom restarts",
        settings.workers,
    )
    return settings.model_copy(update={"cursor_secret": SecretStr(secrets.token_urlsafe(32))})


def app_from_environment() -> Starlette:
    given = os.environ.get(WORKER_SETTINGS)
    settings = Settings.model_validate_json(given) if given else load_settings()
    return start_app(settings)


def start_app(settings: Settings) -> Starlette:
    """`create_app` for a serving process."""
    from restloom.app import create_app
    from restloom.observability.logs import configure_logging
    from restloom.observability.tracing import install_otlp_exporter

    configure_logging(settings.log_level, settings.log_format)
    if settings.tracing:
        install_otlp_exporter()
    app = create_app(settings)
    # Modules, the schema and its caches live as long as the process: out of the
    # collector's sight, a full collection no longer walks them (45-63 ms pauses -> 1-3 ms).
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, middle, old)
    return app
