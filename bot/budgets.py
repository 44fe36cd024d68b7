"""A send's turn: this process's rate limiter, then, on PostgreSQL, the platform-wide
budgets' slots in the database (storage/send_slots.py).

The limiter knows this process's sends and, once they have ended, the other processes'
(bot/deliver.py hears them announced). That cannot stop two processes from starting sends
at the same instant; the slots can: a send takes its budget's slot before it starts and
waits for the moment the slot allows. The rules marked `shared` (the platform's
overall budget) are taken there; a chat's own limits stay in the limiter, since one chat is
handled by one process at a time (the conversation lock). SQLite is one process only: the
limiter alone holds every budget there.

A slot counts from the moment its statement was sent (the process's clock, passed in); the
send starts a round trip later and reaches the platform within its latency. The margin
added to the window (`margin_seconds`) covers both. A send that finds itself later than
that (a claim that took long, a process too busy to wake it on time) takes a fresh slot
instead of starting where its slot no longer holds the window.

Claims are coalesced: while a budget's statement is in flight, the process's other sends
needing that budget wait for the next one, which takes a slot for each of them (at most a
quarter of the budget, so one process never takes the whole window at once); each send
then waits for the moment its own slot allows. Under load that is a statement for several
sends instead of one each; alone, a send still costs one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.ratelimit import RateLimiter, Rule, Sleep
from storage import send_slots
from storage.db import Database

log = logging.getLogger("bangfu.budgets")

CLAIM_SHARE = 4  # one statement takes at most 1/4 of a budget's slots
# Fewer slots came back: other processes hold the free ones (SKIP LOCKED) for a moment.
CONTENDED_PAUSE_SECONDS = 0.005
# A send later than its slot by over half the margin takes a fresh slot, this many times.
LATE_RETAKES = 3


@dataclass
class _Waiter:
    """A send waiting for `need` more slots; `start`: the latest moment of those it got."""

    need: int
    urgent: bool
    taken: asyncio.Future[int | None]
    start: int = 0


@dataclass
class _Claims:
    """One budget's sends waiting for slots, and the task claiming them."""

    waiting: list[_Waiter] = field(default_factory=list)
    task: asyncio.Future[None] | None = None


class Turns:
    """Shared by a process's answers and its dispatcher (each holds one)."""

    def __init__(
        self, db: Database | None, limiter: RateLimiter, sleep: Sleep, *, margin_seconds: float
    ) -> None:
        self.shared = db is not None and db.dialect == "postgresql"
        self.db = db
        self.limiter = limiter
        self.sleep = sleep
        self.margin_us = max(0, round(margin_seconds * 1_000_000))
        self._seeded: set[tuple[str, int]] = set()
        self._claims: dict[tuple[str, int], _Claims] = {}

    async def acquire(
        self, rules: Sequence[Rule], weight: int = 1, *, urgent: bool = False
    ) -> None:
        """Wait for the limiter, then for the shared slots; holds the limiter's slots (give
        them back with `limiter.release`), or nothing when interrupted."""
        await self.limiter.acquire(rules, weight, urgent=urgent)
        try:
            await self._take_shared(rules, weight, urgent)
        except BaseException:
            self.limiter.release_unused(rules, weight)
            raise

    async def _take_shared(self, rules: Sequence[Rule], weight: int, urgent: bool) -> None:
        budgets = [rule for rule in rules if rule.shared] if self.shared else []
        if not budgets or self.db is None:
            return
        for _ in range(1 + LATE_RETAKES):
            start = await self._claim_all(budgets, weight, urgent)
            if start is None:  # logged; the limiter still holds what this process knows
                return
            wait = start - self.limiter.now_us()
            if wait > 0:
                await self.sleep(wait / 1_000_000)
            late = self.limiter.now_us() - start
            if not self.margin_us or late <= self.margin_us // 2:  # no margin: no tolerance
                return  # to measure against, and every send is a round trip late
            # The slot held [start, start + window + margin): a send starting this late
            # (a slow claim, a busy process) could share a window with the slot's next use.
        log.warning("send started %d ms after its shared slot", late // 1000)

    async def _claim_all(self, budgets: Sequence[Rule], weight: int, urgent: bool) -> int | None:
        """The moment every shared budget's slots allow the send; None if one was not taken."""
        start = 0
        for rule in budgets:
            taken = await self._claim(rule, min(weight, rule.count), urgent)
            if taken is None:
                return None
            start = max(start, taken)
        return start

    async def _claim(self, rule: Rule, need: int, urgent: bool) -> int | None:
        """The moment this send's slots of `rule` allow it to start; None if not taken."""
        claims = self._claims.setdefault((rule.key, rule.count), _Claims())
        waiter = _Waiter(need, urgent, asyncio.get_running_loop().create_future())
        claims.waiting.append(waiter)
        if claims.task is None or claims.task.done():
            claims.task = asyncio.ensure_future(self._run_claims(rule, claims))
        return await waiter.taken  # cancelled: the claim task skips it

    async def _run_claims(self, rule: Rule, claims: _Claims) -> None:
        """Claim for the waiting sends, one statement for as many as the cap allows, until
        none waits; the earliest slots go to urgent sends, then in arrival order."""
        cap = max(1, rule.count // CLAIM_SHARE)
        try:
            while True:
                claims.waiting = [w for w in claims.waiting if not w.taken.done()]
                if not claims.waiting:
                    return
                batch: list[_Waiter] = []
                for w in sorted(claims.waiting, key=lambda w: not w.urgent):
                    if batch and sum(b.need for b in batch) + w.need > cap:
                        break
                    batch.append(w)
                try:
                    starts = sorted(await self._take(rule, sum(w.need for w in batch)))
                except Exception as exc:
                    log.warning("shared send budget not taken: %s", type(exc).__name__)
                    for w in batch:
                        _settle(w, None)
                    continue
                for w in batch:
                    got, starts = starts[: w.need], starts[w.need :]
                    w.need -= len(got)
                    w.start = max([w.start, *got])
                    if w.need == 0:
                        _settle(w, w.start)
                if any(w.need for w in batch):  # look again shortly, never spin
                    await self.sleep(CONTENDED_PAUSE_SECONDS)
        finally:  # interrupted (the loop stopping): no send is left waiting for it
            for w in claims.waiting:
                _settle(w, None)

    async def _take(self, rule: Rule, n: int) -> list[int]:
        """One statement on its own, no BEGIN or COMMIT (the first also seeds the budget)."""
        assert self.db is not None
        async with self.db.autocommit() as s:
            if (rule.key, rule.count) not in self._seeded:
                await send_slots.seed(s, rule.key, rule.count)
            starts = await send_slots.take(
                s,
                rule.key,
                count=rule.count,
                n=n,
                now_us=self.limiter.now_us(),
                hold_us=rule.per_us + self.margin_us,
            )
        self._seeded.add((rule.key, rule.count))
        return starts


def _settle(waiter: _Waiter, start: int | None) -> None:
    if not waiter.taken.done():
        waiter.taken.set_result(start)
