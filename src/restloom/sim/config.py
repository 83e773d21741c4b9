"""Configuration of the embedded upstream (``restloom sim``).

``SimConfig`` is the whole contract between the CLI (or a test) and the sim.
Validation happens in ``__post_init__`` so that a bad value fails where it is
made, with a message naming the CLI option the user typed.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from restloom.sim import webhookoptions

STYLES: tuple[str, ...] = ("mossdesk", "moco", "template")

# Collections whose URL path may be renamed with ``paths`` / ``--path``.
PATH_NAMES: tuple[str, ...] = (
    "contacts",
    "resources",
    "users",
    "organizations",
    "webhooks",
    "auth",
)

# Canonical query parameter names per style; ``params`` / ``--param`` renames them.
STYLE_PARAMS: dict[str, tuple[str, ...]] = {
    "mossdesk": (
        "page",
        "per_page",
        "sort",
        "order",
        "search",
        "role",
        "updated_after",
        "filter[status]",
        "filter[type]",
        "filter[id]",
    ),
    "moco": (
        "page",
        "per_page",
        "sort_by",
        "search",
        "role",
        "updated_after",
        "status",
        "type",
    ),
    "template": (
        "page",
        "limit",
        "sort",
        "search",
        "role",
        "updated_after",
        "filter[status]",
        "filter[type]",
        "ids",
    ),
}

# What a list answers for a page past its end. Real upstreams disagree: most send an
# empty page, Django REST Framework a 404 "Invalid page.", json-server 1.0 the last page.
PAST_END_MODES: tuple[str, ...] = ("empty", "not_found", "last_page")

DEFAULT_PREFIX: dict[str, str] = {"mossdesk": "/api/v1", "moco": "/api/v1", "template": "/v1"}

# (requests, window seconds) applied when ``rate_limit`` / ``rate_window`` are left at None.
# Mossdesk documents plan limits but the sim stays unlimited unless asked; MOCO documents
# 15 requests per 15 s; the template documents 100 requests per minute.
DEFAULT_RATE: dict[str, tuple[int, float]] = {
    "mossdesk": (0, 15.0),
    "moco": (15, 15.0),
    "template": (100, 60.0),
}


@dataclass(frozen=True)
class SimConfig:
    """Everything the sim needs to build its dataset and speak one upstream style.

    ``rate_limit``/``rate_window``/``prefix`` default to None, meaning "what the style
    documents" (see ``DEFAULT_RATE`` and ``DEFAULT_PREFIX``); ``rate_limit=0`` is unlimited.
    """

    style: str = "mossdesk"
    seed: int = 42
    contacts: int = 1000
    resources: int = 300
    users: int = 200
    organizations: int = 40
    webhooks: int = 5
    full_key: str = "moss_k_demo_full"
    read_key: str = "moss_k_demo_read"
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    rate_limit: int | None = None
    rate_window: float | None = None
    token_ttl: float = 3600.0
    idempotency_ttl: float = 86400.0
    # How long a ``timeout`` fault (armed or from ``fail_rate``) holds the answer back.
    fault_timeout: float = 30.0
    # Organizational units (template style only): how many; 0 = the API has none and
    # nothing is OU-scoped (see restloom.sim.orgunits).
    org_units: int = 0
    # Seconds an asynchronous job (POST /contacts/imports, template style) stays pending.
    job_delay: float = 0.5
    prefix: str | None = None
    paths: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    # Route ("GET /users/me") -> Cache-Control value sent with its successful answers,
    # so a gateway's handling of no-store/private can be tested against a real server.
    cache_control: Mapping[str, str] = field(default_factory=dict)
    # A page past the end of a list: "empty", "not_found" (404) or "last_page" (see
    # PAST_END_MODES). Page 1 is never past the end: an empty list has an empty page 1.
    past_end: str = "empty"
    # Webhook deliveries (README, "The sim sends webhooks"). MOCO documents that the
    # receiver has 10 s and that a hook is disabled after 500 consecutive failures.
    webhook_timeout: float = 10.0
    webhook_max_failures: int = 500
    # Attempts per event (the first one included) before the sim gives that event up.
    webhook_max_attempts: int = 8
    # Retry n waits about base * 2**(n-1) seconds (capped), times a random 0.5..1.
    webhook_retry_base: float = 1.0
    webhook_retry_max: float = 300.0
    # Attempts in flight at once, and deliveries waiting or retrying at most.
    webhook_concurrency: int = 16
    webhook_queue_limit: int = 10_000

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def effective_rate_limit(self) -> int:
        return DEFAULT_RATE[self.style][0] if self.rate_limit is None else self.rate_limit

    @property
    def effective_rate_window(self) -> float:
        return DEFAULT_RATE[self.style][1] if self.rate_window is None else self.rate_window

    @property
    def effective_prefix(self) -> str:
        return DEFAULT_PREFIX[self.style] if self.prefix is None else self.prefix

    def path_for(self, name: str) -> str:
        """The URL path (below the prefix) of collection ``name`` after renames."""
        return self.paths.get(name, "/" + name)

    def param_for(self, canonical: str) -> str:
        """The wire name of query parameter ``canonical`` after renames."""
        return self.params.get(canonical, canonical)


def _validate(c: SimConfig) -> None:
    if c.style not in STYLES:
        raise ValueError(f"--style must be one of {', '.join(STYLES)} (got {c.style!r})")
    for name in ("contacts", "resources", "organizations", "webhooks"):
        if getattr(c, name) < 0:
            raise ValueError(f"--{name} must be >= 0")
    if c.users < 2:
        # The two API keys are bound to the first two users.
        raise ValueError("--users must be >= 2")
    if not c.full_key or not c.read_key:
        raise ValueError("--full-key and --read-key must not be empty")
    if c.full_key == c.read_key:
        raise ValueError("--full-key and --read-key must differ")
    _check_number("--latency-ms", c.latency_ms, minimum=0.0)
    _check_number("--fail-rate", c.fail_rate, minimum=0.0)
    if c.fail_rate > 1:
        raise ValueError("--fail-rate must be between 0 and 1")
    if c.rate_limit is not None and c.rate_limit < 0:
        raise ValueError("--rate-limit must be >= 0 (0 = unlimited)")
    if c.rate_window is not None:
        _check_number("--rate-window", c.rate_window, minimum=0.0, exclusive=True)
    _check_number("token_ttl", c.token_ttl, minimum=0.0, exclusive=True)
    _check_number("idempotency_ttl", c.idempotency_ttl, minimum=0.0, exclusive=True)
    _check_number("fault_timeout", c.fault_timeout, minimum=0.0)
    _check_number("--job-delay", c.job_delay, minimum=0.0)
    if not isinstance(c.org_units, int) or not 0 <= c.org_units <= 100:
        raise ValueError("--org-units must be an integer between 0 and 100")
    if c.org_units and c.style != "template":
        raise ValueError("--org-units needs --style template (seed 003 describes OUs)")
    if c.past_end not in PAST_END_MODES:
        raise ValueError(
            f"--past-end must be one of {', '.join(PAST_END_MODES)} (got {c.past_end!r})"
        )
    _validate_renames(c)
    webhookoptions.validate(c)


def _check_number(option: str, value: float, *, minimum: float, exclusive: bool = False) -> None:
    if not isinstance(value, int | float) or math.isnan(value) or math.isinf(value):
        raise ValueError(f"{option} must be a finite number")
    if value < minimum or (exclusive and value == minimum):
        op = ">" if exclusive else ">="
        raise ValueError(f"{option} must be {op} {minimum:g}")


def _validate_renames(c: SimConfig) -> None:
    if c.prefix is not None and c.prefix != "":
        if not c.prefix.startswith("/") or c.prefix.endswith("/"):
            raise ValueError("--prefix must start with '/' and not end with '/' (or be empty)")
        if c.prefix.startswith("/__sim"):
            raise ValueError("--prefix must not start with /__sim (reserved for sim control)")
    seen: set[str] = set()
    for name, path in c.paths.items():
        if name not in PATH_NAMES:
            raise ValueError(
                f"--path: unknown collection {name!r}; use one of {', '.join(PATH_NAMES)}"
            )
        if not path.startswith("/") or path.endswith("/") or len(path) < 2:
            raise ValueError(f"--path {name}={path}: the path must look like /people")
        if any(ch in path for ch in "{}?#"):
            raise ValueError(f"--path {name}={path}: the path must not contain {{ }} ? or #")
        if path in seen:
            raise ValueError(f"--path {name}={path}: two collections share this path")
        seen.add(path)
    for name in PATH_NAMES:
        if name not in c.paths and c.path_for(name) in seen:
            raise ValueError(f"--path: {c.path_for(name)} is already the path of {name}")
    allowed = STYLE_PARAMS[c.style]
    wire_names: set[str] = set()
    for canonical, wire in c.params.items():
        if canonical not in allowed:
            raise ValueError(
                f"--param: unknown parameter {canonical!r} for style {c.style}; "
                f"use one of {', '.join(allowed)}"
            )
        if not wire or any(ch in wire for ch in "&=#? "):
            raise ValueError(f"--param {canonical}={wire}: invalid parameter name")
        wire_names.add(wire)
    if len(wire_names) != len(c.params):
        raise ValueError("--param: two parameters share one name")
    for canonical in allowed:
        if canonical not in c.params and canonical in wire_names:
            raise ValueError(f"--param: {canonical!r} is already a parameter of this style")


# --------------------------------------------------------------------------- CLI


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if math.isnan(value) or math.isinf(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def add_cli_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``restloom sim`` options; ``config_from_args`` turns them into a SimConfig."""
    d = SimConfig()
    parser.add_argument("--style", choices=STYLES, default=d.style, help="upstream style to speak")
    parser.add_argument("--seed", type=int, default=d.seed, help="dataset seed")
    for name in ("contacts", "resources", "users", "organizations", "webhooks"):
        parser.add_argument(
            f"--{name}",
            type=_non_negative_int,
            default=getattr(d, name),
            help=f"number of seeded {name} (default {getattr(d, name)})",
        )
    parser.add_argument("--full-key", default=d.full_key, help="API key with full scope")
    parser.add_argument("--read-key", default=d.read_key, help="API key with read-only scope")
    parser.add_argument(
        "--latency-ms", type=_finite_float, default=d.latency_ms, help="delay every API answer"
    )
    parser.add_argument(
        "--fail-rate",
        type=_finite_float,
        default=d.fail_rate,
        help="fraction (0..1) of API requests failing with 500, a timeout or a dropped connection",
    )
    parser.add_argument(
        "--rate-limit",
        type=_non_negative_int,
        default=None,
        help="requests per window per credential (0 = unlimited; default: the style's)",
    )
    parser.add_argument(
        "--rate-window", type=_finite_float, default=None, help="rate window in seconds"
    )
    parser.add_argument(
        "--past-end",
        choices=PAST_END_MODES,
        default=d.past_end,
        help="a list page past the end: an empty page (default), a 404 (like Django REST "
        "Framework) or the last page again (like json-server 1.0)",
    )
    webhookoptions.add_arguments(parser, d)
    parser.add_argument(
        "--org-units",
        type=_non_negative_int,
        default=d.org_units,
        help="organizational units (template style): contacts and resources become "
        "OU-scoped (default 0: none)",
    )
    parser.add_argument(
        "--job-delay",
        type=_finite_float,
        default=d.job_delay,
        help="seconds an asynchronous job stays pending (template style)",
    )
    parser.add_argument("--prefix", default=None, help="API path prefix (default: the style's)")
    parser.add_argument(
        "--path",
        type=_pair,
        action="append",
        default=[],
        metavar="NAME=PATH",
        help="rename a collection path, e.g. contacts=/people (repeatable)",
    )
    parser.add_argument(
        "--param",
        type=_pair,
        action="append",
        default=[],
        metavar="NAME=WIRE",
        help="rename a query parameter, e.g. page=p (repeatable)",
    )


def config_from_args(ns: argparse.Namespace) -> SimConfig:
    """Build a SimConfig from parsed options; raises ValueError naming the bad option."""
    return SimConfig(
        style=ns.style,
        seed=ns.seed,
        contacts=ns.contacts,
        resources=ns.resources,
        users=ns.users,
        organizations=ns.organizations,
        webhooks=ns.webhooks,
        full_key=ns.full_key,
        read_key=ns.read_key,
        latency_ms=ns.latency_ms,
        fail_rate=ns.fail_rate,
        rate_limit=ns.rate_limit,
        rate_window=ns.rate_window,
        prefix=ns.prefix,
        paths=dict(ns.path),
        params=dict(ns.param),
        past_end=ns.past_end,
        org_units=ns.org_units,
        job_delay=ns.job_delay,
        **webhookoptions.from_args(ns),
    )
