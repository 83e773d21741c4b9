"""Everything one running sim holds: dataset, credentials, counters, switches."""

from __future__ import annotations

from restloom.sim.audit import AuditLog
from restloom.sim.auth import Authenticator, TokenStore
from restloom.sim.config import SimConfig
from restloom.sim.dataset import Dataset, generate
from restloom.sim.delivery import Deliverer
from restloom.sim.faults import Faults
from restloom.sim.idempotency import IdempotencyStore
from restloom.sim.ratelimit import SlidingWindowLimiter
from restloom.sim.requestlog import RequestLog
from restloom.sim.stats import Stats
from restloom.sim.styles import make_style
from restloom.sim.styles.base import Style


class SimState:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.data: Dataset = generate(config)
        self.style: Style = make_style(config, self.data)
        self.tokens = TokenStore(config.token_ttl)
        self.auth = Authenticator(config, self.data, self.tokens)
        self.stats = Stats()
        self.audit = AuditLog()
        self.requests = RequestLog()
        self.faults = Faults(config.fail_rate, config.seed, config.fault_timeout)
        self.limiter = SlidingWindowLimiter(
            config.effective_rate_limit, config.effective_rate_window
        )
        self.idempotency = IdempotencyStore(config.idempotency_ttl)
        # Webhook deliveries of the API's writes (restloom.sim.delivery).
        self.webhooks = Deliverer(config, self.data, self.style)
        # Changeable at runtime through POST /__sim/config.
        self.latency_ms: float = config.latency_ms
