"""Sliding-window rate limits that also hold for messages still in flight.

A send occupies a slot from when it starts until `per` seconds (plus a safety margin) after
it ends. That is stricter than counting start times: the platform counts when a request
*arrives*, somewhere between our start and our end, so counting from the end keeps every
window of `per` seconds at or under `count` on the platform's side too. One send may carry
several platform messages (a chart row is a title and an image for a WeCom robot): it takes
one slot per message.

Urgent sends (a person waiting for an answer) go before the others: while one waits, no
ordinary send starts. Sends made elsewhere (another process, before a hand-over) are added
with `record`, so a new dispatcher knows what was just sent. Time is integer microseconds
from the injected clock, so a virtual clock in tests never loops on rounding.
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
KNOWN_FOR_US = 600_000_000  # a send's history id is remembered 10 minutes (past any window)


def micros(at: datetime) -> int:
    return (at - _EPOCH) // _US


@dataclass(frozen=True)
class Rule:
    """At most `count` sends per `per_us` microseconds under `key`; `shared`: a budget of
    every process (the platform's overall), also held in the database (bot/budgets.py)."""

    key: str
    count: int
    per_us: int
    shared: bool = False

    @staticmethod
    def of(key: str, count: int, per_seconds: float, *, shared: bool = False) -> Rule:
        return Rule(key, count, max(1, round(per_seconds * 1_000_000)), shared)


class RateLimiter:
    """Shared by every send of one process; keys are chats, groups, platforms."""

    def __init__(
        self, clock: Clock, sleep: Sleep = asyncio.sleep, *, margin_seconds: float = 0.0
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._margin_us = max(0, round(margin_seconds * 1_000_000))
        self._ends: dict[str, deque[int]] = {}
        self._inflight: Counter[str] = Counter()
        self._paused: dict[str, int] = {}
        self._waiters: list[asyncio.Future[None]] = []
        self._urgent: list[tuple[Sequence[Rule], int]] = []  # urgent sends still waiting
        # Others' sends already counted (history ids), and in the order they were counted.
        self._known: dict[int, None] = {}
        self._known_order: deque[tuple[int, int]] = deque()

    def now_us(self) -> int:
        return micros(self._clock.now())

    def wait_us(self, rules: Sequence[Rule], weight: int = 1) -> int | None:
        """Microseconds until a send of `weight` messages under all `rules` may start;
        None: wait for one in flight to end."""
        now = self.now_us()
        worst = 0
        for rule in rules:
            per = rule.per_us + self._margin_us
            need = min(weight, rule.count)  # a send bigger than the limit waits for all of it
            paused = self._paused.get(rule.key)
            if paused is not None and paused <= now:
                del self._paused[rule.key]
            elif paused is not None:
                worst = max(worst, paused - now)
            ends = self._ends.get(rule.key)
            while ends and ends[0] <= now - per:
                ends.popleft()
            inflight = self._inflight[rule.key]
            if inflight + need > rule.count:
                return None
            used = len(ends) if ends else 0
            excess = inflight + used + need - 1 - rule.count
            if ends is not None and excess >= 0:
                # The (excess+1)-th oldest end must leave the window first.
                worst = max(worst, ends[excess] + per - now)
            if ends is not None and not ends and not inflight:
                del self._ends[rule.key]
        return worst

    async def acquire(
        self, rules: Sequence[Rule], weight: int = 1, *, urgent: bool = False
    ) -> None:
        """Wait until all rules allow a send, then hold its slots (see release)."""
        entry = (rules, weight)
        if urgent:
            self._urgent.append(entry)
        try:
            while True:
                wait = None if self._yield_to_urgent(rules, urgent) else self.wait_us(rules, weight)
                if wait is None:
                    waiter = asyncio.get_running_loop().create_future()
                    self._waiters.append(waiter)
                    await waiter
                elif wait > 0:
                    await self._sleep_wakeable(wait, urgent)
                else:
                    for rule in rules:
                        self._inflight[rule.key] += min(weight, rule.count)
                    return
        finally:
            if urgent:
                self._urgent.remove(entry)
                self._wake()

    def _yield_to_urgent(self, rules: Sequence[Rule], urgent: bool) -> bool:
        """An ordinary send steps back while an urgent one waits only for a key they share
        (an urgent answer paced by its own chat does not hold up other chats' reminders)."""
        if urgent or not self._urgent:
            return False
        keys = {rule.key for rule in rules}
        for other, weight in self._urgent:
            if not keys & {rule.key for rule in other}:
                continue
            if self.wait_us([r for r in other if r.key not in keys], weight) == 0:
                return True
        return False

    async def _sleep_wakeable(self, wait_us: int, urgent: bool) -> None:
        """Sleep until the slot frees; an ordinary send also wakes when an urgent one comes."""
        if urgent:
            await self._sleep(wait_us / 1_000_000)
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        sleeper = asyncio.ensure_future(self._sleep(wait_us / 1_000_000))
        try:
            await asyncio.wait([sleeper, waiter], return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()

    def release(self, rules: Sequence[Rule], weight: int = 1) -> None:
        """The send ended (delivered or not: the platform saw a request either way)."""
        now = self.now_us()
        for rule in rules:
            n = min(weight, rule.count)
            self._inflight[rule.key] -= n
            if self._inflight[rule.key] <= 0:
                del self._inflight[rule.key]
            ends = self._ends.setdefault(rule.key, deque())
            for _ in range(n):
                bisect.insort(ends, now)
        self._wake()

    def release_unused(self, rules: Sequence[Rule], weight: int = 1) -> None:
        """Give back slots taken for a send that never started."""
        for rule in rules:
            self._inflight[rule.key] -= min(weight, rule.count)
            if self._inflight[rule.key] <= 0:
                del self._inflight[rule.key]
        self._wake()

    def record(self, rules: Sequence[Rule], ended: datetime, weight: int = 1) -> None:
        """Count a send that ended at `ended` elsewhere (another process, before a restart)."""
        at = min(micros(ended), self.now_us())  # a clock ahead of ours must not block us
        for rule in rules:
            ends = self._ends.setdefault(rule.key, deque())
            for _ in range(min(weight, rule.count)):
                bisect.insort(ends, at)

    def record_once(
        self, send_id: int, rules: Sequence[Rule], ended: datetime, weight: int = 1
    ) -> bool:
        """`record` a send of the shared history unless it was counted already (it may be
        heard announced and read from the history both); False when it was."""
        if send_id in self._known:
            return False
        self._known[send_id] = None
        self._known_order.append((micros(ended), send_id))
        horizon = self.now_us() - KNOWN_FOR_US  # forget what left every window long ago
        while self._known_order and self._known_order[0][0] < horizon:
            self._known.pop(self._known_order.popleft()[1], None)
        self.record(rules, ended, weight)
        self._wake()  # a waiter may now have to wait longer: let it look again
        return True

    @property
    def counted_elsewhere(self) -> int:
        """How many sends of other processes (by history id) are counted now."""
        return len(self._known)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def pause(self, key: str, seconds: float) -> None:
        """The platform said "retry after": nothing under `key` starts before then."""
        until = self.now_us() + round(seconds * 1_000_000)
        self._paused[key] = max(self._paused.get(key, 0), until)
