"""The outbox dispatcher: sends due rows through each channel's Sender, within limits.

One round (`run_once`) claims what is due, sends each chat's rows in order (chats in
parallel up to `concurrency`), and records every outcome: sent; retry later with
exponential backoff or the platform's retry-after; failed (permanent error, or the person
blocked the bot — recorded on their chat account); dead after `max_attempts`. A row that
would wait too long for its rate limit goes back to the queue uncounted. Given a policy,
nothing is sent in its quiet hours: a catch-up run or a retry that lands at night waits for
the morning. Time and sleep
are injected, so tests drive it with a virtual clock. Logs carry row ids and chat ids,
never message text, tokens or WeCom robot keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot import metrics
from bot.budgets import Turns
from bot.channels.base import Sender, SendError
from bot.config import DispatchSettings
from bot.ratelimit import RateLimiter, Rule, Sleep
from core.clock import Clock
from core.payload import payload_to_reply
from core.policy import Policy, quiet_until
from core.types import Channel, Reply
from reminders.rounds import RoundFeeder
from storage import outbox, send_feed, sweep_rounds
from storage.db import Database
from storage.outbox import Claimed
from storage.send_feed import Announced

log = logging.getLogger("bangfu.dispatch")
REPLY = outbox.REPLY  # an answer to a person who wrote: goes before reminders


@dataclass
class DispatchStats:
    """What one round did (for logs, the CLI and tests)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    deferred: int = 0
    failed: int = 0
    dead: int = 0
    blocked: int = 0
    lost: int = 0  # our lease ran out and another worker took the row


def limits_for(channel: str, chat_id: str, cfg: DispatchSettings) -> list[Rule]:
    """The rate rules one send to (channel, chat_id) falls under."""
    if channel == Channel.TELEGRAM:
        rules = [
            Rule.of(
                str(channel),
                cfg.telegram_overall.count,
                cfg.telegram_overall.per_seconds,
                shared=True,
            ),
            Rule.of(
                f"{channel}:chat:{chat_id}",
                cfg.telegram_per_chat.count,
                cfg.telegram_per_chat.per_seconds,
            ),
        ]
        if chat_id.startswith("-"):  # groups and channels have negative ids
            lim = cfg.telegram_per_group
            rules.append(Rule.of(f"{channel}:group:{chat_id}", lim.count, lim.per_seconds))
        return rules
    if channel == Channel.WECOM_ROBOT:
        lim = cfg.wecom_robot_per_key
        return [Rule.of(f"{channel}:{_digest(chat_id)}", lim.count, lim.per_seconds)]
    if channel == Channel.WECOM:
        overall, user = cfg.wecom_app_overall, cfg.wecom_app_per_user
        return [
            Rule.of(str(channel), overall.count, overall.per_seconds, shared=True),
            Rule.of(f"{channel}:user:{chat_id}", user.count, user.per_seconds),
        ]
    return []


def backoff_seconds(attempts: int, row_id: int, cfg: DispatchSettings) -> float:
    """Exponential backoff after the n-th failed attempt, capped.

    The spread (0–10 %) comes from the row id instead of a random number: retries of many
    rows still fan out, and a test can predict each one.
    """
    base = cfg.backoff_base_seconds * 2 ** max(0, attempts - 1)
    spread = 1 + (row_id * 7919 % 101) / 1000
    return min(cfg.backoff_max_seconds, base * spread)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def chat_label(row: Claimed) -> str:
    """A chat id fit for logs: a WeCom robot's chat id is its webhook key, a secret."""
    if row.channel == Channel.WECOM_ROBOT:
        return f"robot:{_digest(row.chat_id)}"
    return row.chat_id


def _error_text(exc: BaseException) -> str:
    # Our adapters word SendError for logs; other exceptions may quote URLs with keys.
    if isinstance(exc, SendError):
        return f"SendError: {str(exc)[:200]}"
    return type(exc).__name__


class Dispatcher:
    def __init__(
        self,
        db: Database,
        senders: Mapping[str, Sender] | Iterable[Sender],
        *,
        settings: DispatchSettings,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        worker: str | None = None,
        policy: Policy | None = None,
        limiter: RateLimiter | None = None,
        rounds: RoundFeeder | None = None,
    ) -> None:
        self.db = db
        self.policy = policy
        # The day's reminder rounds, derived as they are sent (given a policy: the duties').
        self.rounds = rounds or (RoundFeeder(db, policy) if policy is not None else None)
        self.senders = (
            dict(senders) if isinstance(senders, Mapping) else {s.channel: s for s in senders}
        )
        self.cfg = settings
        self.clock = clock
        self.sleep = sleep
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        # Shared with the interactive replies of this process (bot/deliver.py), which go first.
        self.limiter = limiter or RateLimiter(clock, sleep, margin_seconds=settings.margin_seconds)
        self.turns = Turns(db, self.limiter, sleep, margin_seconds=settings.margin_seconds)
        self._stopping = asyncio.Event()

    async def run_once(self) -> DispatchStats:
        """Send everything due now (rows that become due meanwhile too); return the tally.

        Cancelled (the process is stopping), it hands back the rows it still holds at once
        instead of leaving them to the lease.
        """
        stats = DispatchStats()
        try:
            await self._learn_history()
            while not self._stopping.is_set() and (rows := await self._claim()):
                stats.claimed += len(rows)
                await self._send_batch(rows, stats)
        except asyncio.CancelledError:
            await asyncio.shield(self.release_claims())
            raise
        if self._stopping.is_set():
            await self.release_claims()
        if stats.claimed:
            log.info("dispatch round: %s", stats)
        return stats

    def request_stop(self) -> None:
        """Finish the requests in flight, start no other, hand back the rest (stopping)."""
        self._stopping.set()

    async def release_claims(self) -> int:
        """Give back every row this worker holds (used when stopping)."""
        async with self.db.transaction() as s:
            released = await outbox.release_claims(s, worker=self.worker)
        if released:
            log.info("stopping: %d claimed outbox rows released", released)
        return released

    async def _learn_history(self) -> None:
        """Count what other workers sent in the last window (or hold in flight), so taking
        over from a stopped or killed dispatcher never bursts past a limit."""
        now = self._now()
        since = now - timedelta(seconds=self.cfg.history_seconds)
        async with self.db.transaction() as s:
            recent = await outbox.recent_sends(
                s,
                since=since,
                other_than=self.worker,
                lease_from=now - timedelta(seconds=self.cfg.lease_seconds),
            )
        held_chats: set[tuple[str, str]] = set()
        for sent in recent:
            rules = limits_for(sent.channel, sent.chat_id, self.cfg)
            weight = self._weight_of_payload(sent.channel, sent.payload)
            if sent.ended is not None:  # counted once, though also heard announced
                self.limiter.record_once(sent.id, rules, sent.ended, weight)
                continue
            # In flight elsewhere (or its worker died): ends "now".
            if (sent.channel, sent.chat_id) in held_chats:
                continue  # a chat's rows go one at a time: one can be in flight
            if len(held_chats) >= self.cfg.concurrency:
                break  # no more were in flight than a worker sends at once
            held_chats.add((sent.channel, sent.chat_id))
            self.limiter.record(rules, now, weight)

    def _weight_of_payload(self, channel: str, payload: dict[str, object]) -> int:
        slots = payload.get(outbox.SLOTS_KEY)
        if isinstance(slots, int):  # a direct answer's history row
            return max(1, slots)
        try:
            return self._weight(channel, payload_to_reply(payload))
        except (KeyError, TypeError, ValueError):
            return 1

    def _weight(self, channel: str, reply: Reply) -> int:
        """How many platform messages one reply makes (each takes a slot)."""
        slots = getattr(self.senders.get(channel), "slots", None)
        return max(1, int(slots(reply))) if callable(slots) else 1

    async def run_forever(self, *, interval: float, stop: asyncio.Event) -> None:
        """The process loop: a round, then `interval` seconds, until `stop` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # a database hiccup must not end the loop
                log.exception("dispatch round failed; retrying in %.0fs", interval)
            await self.sleep(interval)

    async def _claim(self) -> list[Claimed]:
        await self._derive_reminders()
        async with self.db.transaction() as s:
            return await outbox.claim_due(
                s,
                worker=self.worker,
                now=self.clock.now(),
                lease=timedelta(seconds=self.cfg.lease_seconds),
                limit=self.cfg.batch_size,
                channels=list(self.senders),
            )

    async def _derive_reminders(self) -> None:
        """The open reminder rounds' next reminders, when few wait to be sent: a day's
        reminders are derived as they go, the most overdue first (reminders/rounds.py)."""
        if self.rounds is None or self._stopping.is_set():
            return
        ahead = self.cfg.reminders_ahead
        try:
            async with self.db.sessions() as s:
                if not await sweep_rounds.any_open(s):
                    return
                # Rows of a channel no sender here serves do not hold the round back.
                waiting = await outbox.reminders_waiting(
                    s, up_to=ahead, channels=list(self.senders)
                )
            if waiting < ahead:
                await self.rounds.feed(now=self._now(), want=ahead - waiting)
        except Exception:  # what is queued (answers first) still goes
            log.exception("deriving the reminder round failed; retried at the next claim")

    async def _send_batch(self, rows: list[Claimed], stats: DispatchStats) -> None:
        lanes: dict[tuple[str, str], list[Claimed]] = {}
        for row in rows:  # rows come oldest first; each chat keeps that order
            lanes.setdefault((row.channel, row.chat_id), []).append(row)
        gate = asyncio.Semaphore(self.cfg.concurrency)

        async def lane(lane_rows: list[Claimed]) -> None:
            async with gate:
                await self._send_lane(lane_rows, stats)

        await asyncio.gather(*(lane(r) for r in lanes.values()))

    async def _send_lane(self, rows: list[Claimed], stats: DispatchStats) -> None:
        """One chat's rows in order; after a retryable failure the rest wait with it."""
        max_wait_us = round(self.cfg.max_wait_seconds * 1_000_000)
        if self.policy is not None:
            morning = quiet_until(self._now().astimezone(self.clock.tz), self.policy)
            if morning is not None:  # answers to people who wrote still go at night
                # (and scheduled jobs run at their moment: they compute the hold themselves)
                now_ok = (REPLY, outbox.JOB)
                await self._defer([r for r in rows if r.kind not in now_ok], morning, stats)
                rows = [r for r in rows if r.kind in now_ok]
        for i, row in enumerate(rows):
            if self._stopping.is_set():
                return  # this row and the rest stay claimed: released as the round ends
            if row.attempts > self.cfg.max_attempts:  # claimed again and again, never finished
                await self._give_up(row, "lease expired too often", stats, dead=True)
                continue
            rules = limits_for(row.channel, row.chat_id, self.cfg)
            wait = self.limiter.wait_us(rules, self._weight_of_payload(row.channel, row.payload))
            if wait is not None and wait > max_wait_us:
                await self._defer(rows[i:], self._now() + timedelta(microseconds=wait), stats)
                return
            retry_at = await self._send_one(row, rules, stats)
            if retry_at is not None:
                await self._defer(rows[i + 1 :], retry_at, stats)
                return

    async def _send_one(
        self, row: Claimed, rules: list[Rule], stats: DispatchStats
    ) -> datetime | None:
        """Send one row and record the outcome; returns when to retry, if it should be."""
        try:
            reply = payload_to_reply(row.payload)
        except (KeyError, TypeError, ValueError) as exc:
            await self._give_up(row, f"bad payload: {type(exc).__name__}", stats)
            return None
        weight = self._weight(row.channel, reply)
        if not await self._acquire_unless_stopping(rules, weight, urgent=row.kind == REPLY):
            return None
        error: BaseException | None = None
        try:
            await self.senders[row.channel].send(row.chat_id, reply)
        except Exception as exc:  # SendError, or a network error the adapter did not wrap
            error = exc
        finally:
            self.limiter.release(rules, weight)
        if error is None:
            now = self._now()
            async with self.db.transaction() as s:
                kept = await outbox.mark_sent(s, row.id, worker=self.worker, now=now)
                if kept:  # the other processes' limiters hear of it at commit
                    sent = Announced(row.id, row.channel, row.chat_id, weight, now)
                    await send_feed.announce(s, self.db.schema, self.worker, [sent])
            self._count(stats, "sent" if kept else "lost", row)
            self._observe_reply(row)
            return None
        return await self._failed(row, error, rules, stats)

    async def _acquire_unless_stopping(self, rules: list[Rule], weight: int, urgent: bool) -> bool:
        """Wait for the rate limit; False (holding nothing) when a stop comes first."""
        acquiring = asyncio.ensure_future(self.turns.acquire(rules, weight, urgent=urgent))
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait([acquiring, stopping], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if acquiring.done() and not acquiring.cancelled():
            if self._stopping.is_set():
                self.limiter.release_unused(rules, weight)
                return False
            return True
        acquiring.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await acquiring
        return False

    async def _failed(
        self, row: Claimed, exc: BaseException, rules: list[Rule], stats: DispatchStats
    ) -> datetime | None:
        text = _error_text(exc)
        log.warning("send failed: row %s %s %s: %s", row.id, row.channel, chat_label(row), text)
        metrics.send_failed(str(row.channel), metrics.error_code(exc))
        if isinstance(exc, SendError) and exc.blocked:
            async with self.db.transaction() as s:
                await outbox.mark_blocked(s, row.channel, row.chat_id, now=self._now())
            stats.blocked += 1
            await self._give_up(row, text, stats)
            return None
        if isinstance(exc, SendError) and exc.permanent:
            await self._give_up(row, text, stats)
            return None
        if row.attempts >= self.cfg.max_attempts:
            await self._give_up(row, text, stats, dead=True)
            return None
        retry_after = exc.retry_after if isinstance(exc, SendError) else None
        if retry_after is not None:
            for rule in rules[1:] or rules:  # the chat's own keys; the first is the platform's
                self.limiter.pause(rule.key, retry_after)
            delay = retry_after
        else:
            delay = backoff_seconds(row.attempts, row.id, self.cfg)
        at = self._now() + timedelta(seconds=delay)
        async with self.db.transaction() as s:
            kept = await outbox.retry_later(s, row.id, worker=self.worker, at=at, error=text)
        self._count(stats, "retried" if kept else "lost", row)
        return at

    async def _give_up(
        self, row: Claimed, error: str, stats: DispatchStats, *, dead: bool = False
    ) -> None:
        async with self.db.transaction() as s:
            kept = await outbox.mark_failed(s, row.id, worker=self.worker, error=error, dead=dead)
        self._count(stats, ("dead" if dead else "failed") if kept else "lost", row)

    async def _defer(self, rows: list[Claimed], at: datetime, stats: DispatchStats) -> None:
        if not rows:
            return
        async with self.db.transaction() as s:
            for row in rows:
                await outbox.defer(s, row.id, worker=self.worker, at=at)
        stats.deferred += len(rows)

    def _count(self, stats: DispatchStats, what: str, row: Claimed) -> None:
        setattr(stats, what, getattr(stats, what) + 1)
        if what == "lost":
            log.warning("row %s: lease lost to another worker", row.id)
        elif what in ("dead", "failed"):
            log.warning("row %s %s %s: %s", row.id, row.channel, chat_label(row), what)

    def _observe_reply(self, row: Claimed) -> None:
        """A queued answer that starts an update's replies: the reply latency ends now."""
        received = row.payload.get(outbox.RECEIVED_KEY) if row.kind == REPLY else None
        if not isinstance(received, str):
            return
        try:
            seconds = (self._now() - datetime.fromisoformat(received)).total_seconds()
        except ValueError:
            return
        metrics.answer_sent(row.channel, seconds)

    def _now(self) -> datetime:
        return self.clock.now()
