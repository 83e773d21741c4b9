"""The circuit breaker's states, on a clock the test moves."""

from restloom.upstream.breaker import BreakerState, CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        ticket = breaker.admit()
        assert ticket is not None
        breaker.record(ticket, ok=False)


def test_opens_after_consecutive_failures_only():
    breaker = CircuitBreaker(failures=3, cooldown=10, clock=Clock())
    fail(breaker, 2)
    ticket = breaker.admit()
    assert ticket is not None
    breaker.record(ticket, ok=True)  # a success resets the count
    fail(breaker, 2)
    assert breaker.status().state is BreakerState.CLOSED
    fail(breaker, 1)
    assert breaker.status().state is BreakerState.OPEN
    assert breaker.admit() is None


def test_one_probe_after_the_cooldown_closes_or_reopens():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown=10, clock=clock)
    fail(breaker, 1)
    clock.now += 9.9
    assert breaker.admit() is None
    assert breaker.status().retry_in > 0
    clock.now += 0.2
    probe = breaker.admit()
    assert probe is not None and probe.probe
    assert breaker.admit() is None  # only one probe at a time
    breaker.record(probe, ok=False)
    assert breaker.status().state is BreakerState.OPEN
    clock.now += 10
    probe = breaker.admit()
    assert probe is not None
    breaker.record(probe, ok=True)
    assert breaker.status().state is BreakerState.CLOSED
    assert breaker.admit() is not None


def test_a_released_probe_lets_the_next_call_probe():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown=1, clock=clock)
    fail(breaker, 1)
    clock.now += 1
    probe = breaker.admit()
    assert probe is not None
    breaker.release(probe)
    assert breaker.admit() is not None


def test_calls_admitted_before_it_opened_do_not_count():
    breaker = CircuitBreaker(failures=2, cooldown=10, clock=Clock())
    early = breaker.admit()
    assert early is not None
    fail(breaker, 2)
    breaker.record(early, ok=True)  # a late success from before: no effect
    assert breaker.status().state is BreakerState.OPEN
