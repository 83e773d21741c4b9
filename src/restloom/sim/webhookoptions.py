"""The sim's webhook delivery options: validation and ``restloom sim`` flags.

Kept apart from ``restloom.sim.config`` so that module stays small; the fields
themselves live on ``SimConfig`` (``webhook_*``).
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from restloom.sim.config import SimConfig

# (field, flag) for the numbers given in seconds, and whether 0 is allowed.
SECONDS: tuple[tuple[str, str, bool], ...] = (
    ("webhook_timeout", "--webhook-timeout", False),
    ("webhook_retry_base", "--webhook-retry-base", True),
    ("webhook_retry_max", "--webhook-retry-max", True),
)
COUNTS: tuple[tuple[str, str], ...] = (
    ("webhook_max_failures", "--webhook-max-failures"),
    ("webhook_max_attempts", "--webhook-max-attempts"),
    ("webhook_concurrency", "--webhook-concurrency"),
    ("webhook_queue_limit", "--webhook-queue-limit"),
)
HELP: dict[str, str] = {
    "webhook_timeout": "seconds a receiver has to answer a delivery (default 10, as MOCO "
    "documents)",
    "webhook_retry_base": "seconds before the first retry; doubles per retry, with jitter "
    "(default 1)",
    "webhook_retry_max": "longest wait between two attempts, in seconds (default 300)",
    "webhook_max_failures": "consecutive failed attempts after which a hook is disabled "
    "(default 500, as MOCO documents)",
    "webhook_max_attempts": "attempts per event before it is given up (default 8)",
    "webhook_concurrency": "delivery attempts in flight at once (default 16)",
    "webhook_queue_limit": "deliveries pending or retrying at most; more are dropped "
    "(default 10000)",
}


def validate(c: SimConfig) -> None:
    for name, flag, zero_ok in SECONDS:
        value = getattr(c, name)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not math.isfinite(value) or value < 0 or (value == 0 and not zero_ok):
            raise ValueError(f"{flag} must be a finite number {'>=' if zero_ok else '>'} 0")
    for name, flag in COUNTS:
        value = getattr(c, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{flag} must be an integer >= 1")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def add_arguments(parser: argparse.ArgumentParser, defaults: SimConfig) -> None:
    for name, flag, _ in SECONDS:
        parser.add_argument(flag, type=_seconds, default=getattr(defaults, name), help=HELP[name])
    for name, flag in COUNTS:
        parser.add_argument(flag, type=_count, default=getattr(defaults, name), help=HELP[name])


def from_args(ns: argparse.Namespace) -> dict[str, Any]:
    """The ``SimConfig`` keyword arguments of the parsed webhook flags."""
    return {name: getattr(ns, name) for name in (*(s[0] for s in SECONDS), *(c[0] for c in COUNTS))}
