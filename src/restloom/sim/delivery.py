"""Sending webhook events: asynchronous, concurrent, retried, and a failing hook disabled.

A write publishes its event; each matching hook gets its own delivery task, started
after the handler returns, so no request waits for a receiver. Deliveries run
concurrently (at most ``webhook_concurrency`` attempts in flight), so they arrive in no
guaranteed order, as MOCO documents. An attempt fails on a non-2xx answer (redirects are
not followed), a connection error, or no answer within ``webhook_timeout``; it is retried
after ``base * 2**(n-1)`` seconds (capped at ``webhook_retry_max``) times a random factor
in 0.5..1, up to ``webhook_max_attempts`` attempts. ``webhook_max_failures`` consecutive
failed attempts to one hook, across events, disable it (``active: false``, which is
itself a ``webhook.updated`` event); a success resets the count.

Each attempt reads the hook again: a hook deleted or disabled in the meantime gets no
more attempts (test events go to inactive hooks too), and a rotated secret or changed
URL takes effect on the next attempt.

Only hooks whose URL was set through the API are called: the seeded ones point at
made-up domains.
"""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import aiohttp

from restloom.sim.config import SimConfig
from restloom.sim.dataset import Dataset
from restloom.sim.deliverylog import Attempt, DeliveryLog
from restloom.sim.hookevents import TEST_EVENT, HookEvent, build_event
from restloom.sim.records import Record, utcnow
from restloom.sim.styles.base import Style

# Set in a webhook's hidden fields when its URL comes from an API call.
CALLABLE_FLAG = "url_from_api"


class Deliverer:
    def __init__(self, config: SimConfig, data: Dataset, style: Style) -> None:
        self.config = config
        self.data = data
        self.style = style
        self.log = DeliveryLog()
        self._failures: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._rng = random.Random(f"{config.seed}:webhook-jitter")

    # ------------------------------------------------------------------ publishing
    def publish(self, event: HookEvent) -> int:
        """Start a delivery to every active hook that subscribes to ``event``."""
        started = 0
        for hook in list(self.data.collections["webhooks"].values()):
            if self._subscribed(hook, event.type):
                started += self._start(hook.id, event)
        return started

    def publish_test(self, hook_id: str, event: HookEvent) -> bool:
        """Send a test event to one hook, whatever its filter and state."""
        return self._start(hook_id, event) == 1

    @staticmethod
    def _subscribed(hook: Record, event_type: str) -> bool:
        return (
            bool(hook.hidden.get(CALLABLE_FLAG))
            and hook.fields.get("active") is True
            and event_type in (hook.fields.get("events") or ())
        )

    def _start(self, hook_id: str, event: HookEvent) -> int:
        if len(self._tasks) >= self.config.webhook_queue_limit:
            # Bounded: a flood of writes or hooks must not grow memory without end.
            self.log.add(self._attempt(hook_id, event, 0, "dropped", error="queue full"))
            return 0
        task = asyncio.get_running_loop().create_task(self._deliver(hook_id, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return 1

    # ------------------------------------------------------------------ delivering
    async def _deliver(self, hook_id: str, event: HookEvent) -> None:
        cfg = self.config
        for number in range(1, cfg.webhook_max_attempts + 1):
            hook = self.data.get("webhooks", hook_id)
            if hook is None:
                self._failures.pop(hook_id, None)
                return
            if event.type != TEST_EVENT and hook.fields.get("active") is not True:
                return
            outcome, status, error = await self._attempt_once(hook, event)
            if outcome == "delivered":
                self._failures.pop(hook_id, None)
                self.log.add(self._attempt(hook_id, event, number, outcome, status))
                return
            failures = self._failures.get(hook_id, 0) + 1
            self._failures[hook_id] = failures
            disabled = failures >= cfg.webhook_max_failures
            last = disabled or number == cfg.webhook_max_attempts
            delay = None if last else self._backoff(number)
            self.log.add(
                self._attempt(hook_id, event, number, outcome, status, error, delay, disabled)
            )
            if disabled:
                self._disable(hook)
                return
            if delay is not None:
                await asyncio.sleep(delay)

    async def _attempt_once(
        self, hook: Record, event: HookEvent
    ) -> tuple[str, int | None, str | None]:
        session, semaphore = self._client()
        timeout = aiohttp.ClientTimeout(total=self.config.webhook_timeout)
        # The turn is taken outside the timeout (waiting for one is not the receiver's
        # fault; aiohttp's own pool wait would count against it), and the attempt is
        # signed once it has its turn, so a backlog does not send stale timestamps.
        async with semaphore:
            headers = event.headers(str(hook.hidden.get("secret") or ""), time.time())
            try:
                async with session.post(
                    str(hook.fields["url"]),
                    data=event.body,
                    headers=headers,
                    allow_redirects=False,
                    timeout=timeout,
                ) as resp:
                    status = resp.status
            except TimeoutError:
                return "timeout", None, "no answer within webhook_timeout"
            except (aiohttp.ClientError, OSError, ValueError) as exc:
                # The class name only: messages may carry the URL, which may carry credentials.
                return "error", None, type(exc).__name__
        return ("delivered" if 200 <= status < 300 else "failed"), status, None

    def _backoff(self, attempt: int) -> float:
        cfg = self.config
        ceiling = min(cfg.webhook_retry_max, cfg.webhook_retry_base * 2 ** (attempt - 1))
        return ceiling * self._rng.uniform(0.5, 1.0)

    def _disable(self, hook: Record) -> None:
        # The count starts again from zero if the hook is switched back on.
        self._failures.pop(hook.id, None)
        hook.fields["active"] = False
        hook.updated_at = max(hook.updated_at, hook.created_at, utcnow())
        wire_id = self.hook_wire_id(hook.id)
        rendered = self.style.record("webhooks", hook)
        event = build_event(
            self.config.style, "webhook.updated", wire_id, rendered, None, hook.updated_at
        )
        self.publish(event)

    def _client(self) -> tuple[aiohttp.ClientSession, asyncio.Semaphore]:
        if self._session is None or self._semaphore is None:
            self._session = aiohttp.ClientSession(
                cookie_jar=aiohttp.DummyCookieJar(),
                connector=aiohttp.TCPConnector(limit=self.config.webhook_concurrency),
            )
            self._semaphore = asyncio.Semaphore(self.config.webhook_concurrency)
        return self._session, self._semaphore

    def _attempt(
        self,
        hook_id: str,
        event: HookEvent,
        number: int,
        outcome: str,
        status: int | None = None,
        error: str | None = None,
        retry_in: float | None = None,
        disabled: bool = False,
    ) -> Attempt:
        return Attempt(
            hook_id=self.hook_wire_id(hook_id),
            event_id=event.id,
            event_type=event.type,
            attempt=number,
            outcome=outcome,
            status_code=status,
            error=error,
            retry_in=retry_in,
            hook_disabled=disabled,
            at=time.time(),
        )

    # ------------------------------------------------------------------ inspection, shutdown
    def hook_wire_id(self, hook_id: str) -> Any:
        return self.style.id_out("webhooks", hook_id)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    def consecutive_failures(self) -> dict[Any, int]:
        return {self.hook_wire_id(k): v for k, v in self._failures.items()}

    async def drain(self, within: float) -> int:
        """Wait until every delivery has finished, at most ``within`` seconds; the number left."""
        deadline = time.monotonic() + within
        while self._tasks:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return len(self._tasks)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        session, self._session = self._session, None
        if session is not None:
            await session.close()
