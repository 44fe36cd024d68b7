"""A send's turn: this process's rate limiter, then, on PostgreSQL, the platform-wide
budgets' slots in the database (storage/send_slots.py).

The limiter knows this process's sends and, once they have ended, the other processes'
(bot/deliver.py hears them announced). That cannot stop two processes from starting sends
at the same instant; the slots can: a send takes its budget's slot before it starts and
waits for the moment the slot allows. One statement a send, for the rules marked `shared`
(the platform's overall budget); a chat's own limits stay in the limiter, since one chat is
handled by one process at a time (the conversation lock). SQLite is one process only: the
limiter alone holds every budget there.

A slot counts from the moment its statement was sent (the process's clock, passed in); the
send starts a round trip later and reaches the platform within its latency. The margin
added to the window (`margin_seconds`) covers both.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.ratelimit import RateLimiter, Rule, Sleep
from storage import send_slots
from storage.db import Database

log = logging.getLogger("bangfu.budgets")


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

    async def acquire(
        self, rules: Sequence[Rule], weight: int = 1, *, urgent: bool = False
    ) -> None:
        """Wait for the limiter, then for the shared slots; holds the limiter's slots (give
        them back with `limiter.release`), or nothing when interrupted."""
        await self.limiter.acquire(rules, weight, urgent=urgent)
        try:
            await self._take_shared(rules, weight)
        except BaseException:
            self.limiter.release_unused(rules, weight)
            raise

    async def _take_shared(self, rules: Sequence[Rule], weight: int) -> None:
        budgets = [rule for rule in rules if rule.shared] if self.shared else []
        if not budgets or self.db is None:
            return
        now = self.limiter.now_us()
        start = now
        try:
            for rule in budgets:
                need = min(weight, rule.count)
                while need > 0:  # fewer come back when others take slots at this instant
                    async with self.db.short_transaction() as s:
                        if (rule.key, rule.count) not in self._seeded:
                            await send_slots.seed(s, rule.key, rule.count)
                        starts = await send_slots.take(
                            s,
                            rule.key,
                            count=rule.count,
                            n=need,
                            now_us=now,
                            hold_us=rule.per_us + self.margin_us,
                        )
                    self._seeded.add((rule.key, rule.count))
                    need -= len(starts)
                    start = max([start, *starts])
        except Exception as exc:  # the limiter still holds what this process knows
            log.warning("shared send budget not taken: %s", type(exc).__name__)
            return
        if start > now:
            await self.sleep((start - now) / 1_000_000)
