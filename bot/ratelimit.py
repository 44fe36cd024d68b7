"""Sliding-window rate limits that also hold for messages still in flight.

A send occupies a slot from when it starts until `per` seconds after it ends. That is
stricter than counting start times: the platform counts when a request *arrives*, somewhere
between our start and our end, so counting from the end keeps every window of `per`
seconds at or under `count` on the platform's side too. Time is integer microseconds from
the injected clock, so a virtual clock in tests never loops on rounding.
"""

from __future__ import annotations

import asyncio
import bisect
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.clock import Clock

Sleep = Callable[[float], Awaitable[None]]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def micros(at: datetime) -> int:
    return (at - _EPOCH) // _US


@dataclass(frozen=True)
class Rule:
    """At most `count` sends per `per_us` microseconds under `key`."""

    key: str
    count: int
    per_us: int

    @staticmethod
    def of(key: str, count: int, per_seconds: float) -> Rule:
        return Rule(key, count, max(1, round(per_seconds * 1_000_000)))


class RateLimiter:
    """Shared by every send of one dispatcher process; keys are chats, groups, platforms."""

    def __init__(self, clock: Clock, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._ends: dict[str, deque[int]] = {}
        self._inflight: Counter[str] = Counter()
        self._paused: dict[str, int] = {}
        self._waiters: list[asyncio.Future[None]] = []

    def now_us(self) -> int:
        return micros(self._clock.now())

    def wait_us(self, rules: Sequence[Rule]) -> int | None:
        """Microseconds until a send under all `rules` may start; None: wait for one to end."""
        now = self.now_us()
        worst = 0
        for rule in rules:
            paused = self._paused.get(rule.key)
            if paused is not None and paused <= now:
                del self._paused[rule.key]
            elif paused is not None:
                worst = max(worst, paused - now)
            ends = self._ends.get(rule.key)
            while ends and ends[0] <= now - rule.per_us:
                ends.popleft()
            inflight = self._inflight[rule.key]
            if inflight >= rule.count:
                return None
            used = len(ends) if ends else 0
            excess = inflight + used - rule.count
            if ends is not None and excess >= 0:
                # The (excess+1)-th oldest end must leave the window first.
                worst = max(worst, ends[excess] + rule.per_us - now)
            if ends is not None and not ends and not inflight:
                del self._ends[rule.key]
        return worst

    async def acquire(self, rules: Sequence[Rule]) -> None:
        """Wait until all rules allow a send, then hold a slot under each (see release)."""
        while True:
            wait = self.wait_us(rules)
            if wait is None:
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                await waiter
            elif wait > 0:
                await self._sleep(wait / 1_000_000)
            else:
                for rule in rules:
                    self._inflight[rule.key] += 1
                return

    def release(self, rules: Sequence[Rule]) -> None:
        """The send ended (delivered or not: the platform saw a request either way)."""
        now = self.now_us()
        for rule in rules:
            self._inflight[rule.key] -= 1
            if self._inflight[rule.key] <= 0:
                del self._inflight[rule.key]
            bisect.insort(self._ends.setdefault(rule.key, deque()), now)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def pause(self, key: str, seconds: float) -> None:
        """The platform said "retry after": nothing under `key` starts before then."""
        until = self.now_us() + round(seconds * 1_000_000)
        self._paused[key] = max(self._paused.get(key, 0), until)
