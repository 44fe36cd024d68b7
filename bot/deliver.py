"""Answers to people who wrote: sent at once, paced, retried, and never dropped.

An answer goes through the same rate limiter as the outbox dispatcher, as an urgent send (a
cadre who is waiting goes before a reminder that can wait a minute), paced per chat. A
failed send is retried with backoff; an answer that cannot go within
`reply_deadline_seconds` (a long flood pause, the platform down) is written to the outbox as
kind "reply" and the dispatcher sends it later, in order, once. Until that queue has drained,
the chat's later answers join it, so they never overtake it.

Each chat is a lane: its answers go one after the other in the order they were handed in;
different chats never wait for each other. `submit` returns at once with a future that is
done when the first answer is on its way (sent, or safely queued): the moment to remove the
pressed keyboard. Logs carry chat ids and message refs, never text.

Every answer sent directly is also written to the database's send history (an outbox row
of kind "answered", already sent, without its text), a few at a time, so the dispatchers
of other processes count it against the platform's limits. On PostgreSQL the write goes at
once and announces the sends (NOTIFY, in its transaction); `listen()` hears the other
processes' announcements on one dedicated connection and counts them in this process's
limiter within milliseconds (storage/send_feed.py). Hearing comes only once a send has
ended, so each send also takes its slot of the platform's overall budget in the database
before it starts (bot/budgets.py). SQLite is one process: it writes a few at a time, hears
nothing and takes no slot. The time from an update's arrival to its first answer accepted
by the platform is the reply-latency metric.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from bot import metrics
from bot.budgets import Turns
from bot.channels.base import Sender, SendError
from bot.config import DispatchSettings
from bot.dispatch import limits_for
from bot.ratelimit import RateLimiter, Sleep
from core.clock import Clock, SystemClock
from core.payload import reply_to_payload
from core.types import Reply
from storage import outbox, send_feed
from storage.db import Database
from storage.send_feed import Announced, SendListener

log = logging.getLogger("bangfu.deliver")

FIRST_RETRY_SECONDS = 0.5  # then 1, 2, 4 … until the deadline
HISTORY_FLUSH_SECONDS = 0.2  # direct sends are written to the send history this often
HISTORY_PRUNE_EVERY = timedelta(minutes=1)  # and the history older than an hour forgotten


class Outcome(Enum):
    SENT = "sent"
    QUEUED = "queued"  # in the outbox, for the dispatcher
    FAILED = "failed"  # a permanent error (blocked, chat gone): nothing more to do


@dataclass
class _Batch:
    replies: list[Reply]
    ref: str
    on_way: asyncio.Future[Outcome]
    done: asyncio.Future[list[Outcome]]
    sent: int = 0  # how many of `replies` are done with
    received: float | None = None  # time.monotonic() when the update arrived
    channel: str = ""


@dataclass
class _Lane:
    batches: deque[_Batch] = field(default_factory=deque)
    queued_at: datetime | None = None  # answers of this chat wait in the outbox since then
    task: asyncio.Task[None] | None = None


class Deliverer:
    """Sends answers now when it can, through the outbox when it cannot."""

    def __init__(
        self,
        db: Database | None,
        senders: Mapping[Any, Sender],  # by Channel (a str)
        *,
        limiter: RateLimiter,
        settings: DispatchSettings,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        worker: str = "",
    ) -> None:
        self.db = db
        # The dispatcher of this process shares the limiter and this name: it skips these
        # rows in the history; other processes' dispatchers count them.
        self.worker = worker or f"answers:{secrets.token_hex(6)}"
        self._history: list[outbox.SentAnswer] = []
        self._history_task: asyncio.Task[None] | None = None
        self._pruned_at: datetime | None = None
        self.senders = senders  # shared, live: channels add theirs as they start
        self.limiter = limiter
        self.turns = Turns(db, limiter, sleep, margin_seconds=settings.margin_seconds)
        self.cfg = settings
        self.clock = clock
        self.sleep = sleep
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._closing = False
        self.listener: SendListener | None = None

    def listen(self) -> None:
        """Count the sends other processes announce (PostgreSQL; nothing on SQLite)."""
        if self.db is None or self.listener is not None:
            return
        self.listener = SendListener(self.db, self._heard, catch_up=self._catch_up)
        self.listener.start()

    def _heard(self, worker: str, sends: list[Announced]) -> None:
        if worker == self.worker:
            return  # our own sends are in the limiter already
        for sent in sends:
            rules = limits_for(sent.channel, sent.chat_id, self.cfg)
            self.limiter.record_once(sent.id, rules, sent.ended, sent.slots)

    async def _catch_up(self) -> None:
        """(Re)connected: count what was sent while nobody listened (the history window)."""
        if self.db is None:
            return
        now = self.clock.now()
        async with self.db.transaction() as s:
            recent = await outbox.recent_sends(
                s,
                since=now - timedelta(seconds=self.cfg.history_seconds),
                other_than=self.worker,
                lease_from=now,  # sends in flight: the dispatcher's own read counts those
            )
        for sent in recent:
            if sent.ended is not None:
                slots = sent.payload.get(outbox.SLOTS_KEY)
                weight = max(1, slots) if isinstance(slots, int) else 1
                rules = limits_for(sent.channel, sent.chat_id, self.cfg)
                self.limiter.record_once(sent.id, rules, sent.ended, weight)

    @classmethod
    def standalone(cls, senders: Mapping[Any, Sender]) -> Deliverer:
        """A deliverer of its own, without a database to queue in (tests, tools)."""
        clock = SystemClock()
        return cls(
            None, senders, limiter=RateLimiter(clock), settings=DispatchSettings(), clock=clock
        )

    def submit(
        self,
        channel: str,
        chat_id: str,
        replies: Sequence[Reply],
        *,
        ref: str = "",
        received: float | None = None,
    ) -> tuple[asyncio.Future[Outcome], asyncio.Future[list[Outcome]]]:
        """Hand in one update's answers; (first on its way, all on their way).

        `received` (time.monotonic() when the update arrived) starts the reply-latency
        measure, which ends when the first answer is accepted by the platform.
        """
        loop = asyncio.get_running_loop()
        batch = _Batch(
            list(replies),
            ref or secrets.token_hex(8),
            loop.create_future(),
            loop.create_future(),
            received=received,
            channel=channel,
        )
        if not batch.replies:
            batch.on_way.set_result(Outcome.SENT)
            batch.done.set_result([])
            return batch.on_way, batch.done
        key = (channel, chat_id)
        lane = self._lanes.setdefault(key, _Lane())
        lane.batches.append(batch)
        if lane.task is None or lane.task.done():
            lane.task = asyncio.create_task(self._run_lane(key, lane))
        return batch.on_way, batch.done

    async def deliver(
        self,
        channel: str,
        chat_id: str,
        replies: Sequence[Reply],
        *,
        ref: str = "",
        received: float | None = None,
    ) -> list[Outcome]:
        """Hand in answers and wait until each is sent or queued."""
        _first, done = self.submit(channel, chat_id, replies, ref=ref, received=received)
        return await done

    async def close(self) -> None:
        """The process is stopping: what cannot go at once is queued; wait for the lanes."""
        self._closing = True
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._history_task is not None:
            await asyncio.gather(self._history_task, return_exceptions=True)
        await self.flush_history()
        if self.listener is not None:
            await self.listener.stop()

    async def flush_history(self) -> None:
        """Write the direct sends not yet in the send history (after a write under way)."""
        task = self._history_task
        if task is not None and not task.done() and task is not asyncio.current_task():
            await asyncio.wait([task])
        rows, self._history = self._history, []
        if not rows or self.db is None:
            return
        now = self.clock.now()
        prune = self._pruned_at is None or now - self._pruned_at >= HISTORY_PRUNE_EVERY
        try:
            if self.db.dialect == "postgresql":  # one statement, written and announced
                await send_feed.write_and_announce(
                    self.db, rows, worker=self.worker, now=now, prune=prune
                )
                if prune:
                    self._pruned_at = now
                return
            # A few inserts: a short transaction, like an update's (SQLite: on the loop).
            async with self.db.writer(), self.db.short_transaction() as s:
                ids = await outbox.record_answers(s, rows, worker=self.worker, now=now, prune=prune)
                sends = [
                    Announced(i, a.channel, a.chat_id, a.slots, a.sent_at)
                    for i, a in zip(ids, rows, strict=True)
                ]
                await send_feed.announce(s, self.db.schema, self.worker, sends)
            if prune:
                self._pruned_at = now
        except Exception as exc:  # the limiter of this process still knows them
            log.warning("send history not written (%d answers): %s", len(rows), exc)

    def _remember_sent(self, channel: str, chat_id: str, weight: int) -> None:
        if self.db is None:
            return
        self._history.append(outbox.SentAnswer(channel, chat_id, weight, self.clock.now()))
        if self._history_task is None or self._history_task.done():
            self._history_task = asyncio.create_task(self._flush_soon())

    async def history_written(self) -> None:
        """Wait until the direct sends so far are in the send history and announced (on
        PostgreSQL, where they are written at once; SQLite, one process, does not wait)."""
        task = self._history_task
        if self.db is None or self.db.dialect != "postgresql" or task is None or task.done():
            return
        await asyncio.wait([task])  # a failed write was logged; the lock must still go

    async def _flush_soon(self) -> None:
        if self.db is not None and self.db.dialect == "postgresql":
            # At once: the other processes hear of these sends when this commits. The
            # answers sent meanwhile gather for the next write.
            await asyncio.sleep(0)
            while self._history:
                await self.flush_history()
            return
        await asyncio.sleep(HISTORY_FLUSH_SECONDS)  # gather the answers of this moment
        await self.flush_history()

    @property
    def busy(self) -> int:
        """Answers handed in and not yet on their way (for health and tests)."""
        return sum(len(b.replies) for lane in self._lanes.values() for b in lane.batches)

    async def _run_lane(self, key: tuple[str, str], lane: _Lane) -> None:
        try:
            while lane.batches:
                batch = lane.batches[0]
                try:
                    outcomes = await self._deliver_batch(key, lane, batch)
                except asyncio.CancelledError:
                    rest = batch.replies[batch.sent :]
                    await asyncio.shield(self._queue(key, lane, rest, batch.ref, batch.sent))
                    raise
                except Exception:  # a database failure while queueing: nothing more to do
                    log.exception("answer to %s %s not delivered", key[0], key[1])
                    outcomes = [Outcome.FAILED] * len(batch.replies)
                lane.batches.popleft()
                if not batch.on_way.done():
                    batch.on_way.set_result(outcomes[0])
                batch.done.set_result(outcomes)
        finally:
            if not lane.batches and self._lanes.get(key) is lane and lane.queued_at is None:
                del self._lanes[key]

    async def _deliver_batch(
        self, key: tuple[str, str], lane: _Lane, batch: _Batch
    ) -> list[Outcome]:
        outcomes: list[Outcome] = []
        if lane.queued_at is not None and not await self._queue_drained(key):
            await self._queue(key, lane, batch.replies, batch.ref, 0)
            return [Outcome.QUEUED] * len(batch.replies)
        lane.queued_at = None
        # Deadlines and pacing run on the limiter's clock (real time in a process); the
        # business clock only stamps queued rows.
        deadline = self.limiter.now_us() + round(self.cfg.reply_deadline_seconds * 1_000_000)
        for i, reply in enumerate(batch.replies):
            outcome = await self._send_now(key, reply, deadline)
            if outcome is not Outcome.QUEUED:
                batch.sent += 1
            else:
                received = batch.received if i == 0 else None
                await self._queue(key, lane, batch.replies[i:], batch.ref, i, received=received)
                return outcomes + [Outcome.QUEUED] * (len(batch.replies) - i)
            outcomes.append(outcome)
            if i == 0 and outcome is Outcome.SENT and batch.received is not None:
                metrics.answer_sent(key[0], time.monotonic() - batch.received)
            if i == 0 and not batch.on_way.done():
                batch.on_way.set_result(outcome)
        return outcomes

    async def _send_now(self, key: tuple[str, str], reply: Reply, deadline: int) -> Outcome:
        """Send within the limits, retrying with backoff; QUEUED when the deadline passes."""
        channel, chat_id = key
        sender = self.senders.get(channel)
        if sender is None:
            return Outcome.QUEUED
        rules = limits_for(channel, chat_id, self.cfg)
        slots = getattr(sender, "slots", None)
        weight = max(1, int(slots(reply))) if callable(slots) else 1
        delay = FIRST_RETRY_SECONDS
        while True:
            wait = self.limiter.wait_us(rules, weight)
            left_us = deadline - self.limiter.now_us()
            if wait is not None and (wait > left_us or (self._closing and wait > 0)):
                return Outcome.QUEUED
            await self.turns.acquire(rules, weight, urgent=True)
            error: BaseException | None = None
            try:
                await sender.send(chat_id, reply)
            except Exception as exc:  # SendError, or a network error the adapter did not wrap
                error = exc
            finally:
                self.limiter.release(rules, weight)
            if error is None:
                self._remember_sent(channel, chat_id, weight)
                return Outcome.SENT
            if isinstance(error, SendError) and error.permanent:
                log.warning("answer to %s %s refused: %s", channel, chat_id, str(error)[:200])
                return Outcome.FAILED
            pause = error.retry_after if isinstance(error, SendError) else None
            if pause is not None:
                for rule in rules[1:] or rules:  # the chat's own keys
                    self.limiter.pause(rule.key, pause)
            wait_s = pause if pause is not None else delay
            log.info(
                "answer to %s %s failed (%s); retry in %.1fs",
                channel,
                chat_id,
                type(error).__name__,
                wait_s,
            )
            if self._closing or self.limiter.now_us() + wait_s * 1_000_000 > deadline:
                return Outcome.QUEUED
            await self.sleep(wait_s)
            delay *= 2

    async def _queue(
        self,
        key: tuple[str, str],
        lane: _Lane,
        replies: Sequence[Reply],
        ref: str,
        first: int,
        *,
        received: float | None = None,
    ) -> None:
        """Write answers to the outbox for the dispatcher; the chat's later ones follow them.

        With `received`, the first row carries the update's arrival (on the business
        clock), so the dispatcher can end the reply-latency measure when it sends it.
        """
        if not replies:
            return
        now = self.clock.now()
        lane.queued_at = lane.queued_at or now
        channel, chat_id = key
        rows = [
            outbox.NewMessage(
                dedupe_key=f"reply:{channel}:{ref}:{first + i}"[:200],
                channel=channel,
                chat_id=chat_id,
                kind=outbox.REPLY,
                payload=reply_to_payload(reply),
                not_before=lane.queued_at,  # one time for the whole queue: claimed together
            )
            for i, reply in enumerate(replies)
        ]
        if received is not None:
            waited = max(0.0, time.monotonic() - received)
            rows[0].payload[outbox.RECEIVED_KEY] = (now - timedelta(seconds=waited)).isoformat()
        if self.db is None:
            log.warning("%d answer(s) to %s %s lost: nowhere to queue", len(rows), *key)
            return
        async with self.db.transaction() as s:
            await outbox.enqueue(s, rows, now=now)
        log.warning("%d answer(s) to %s %s queued for the dispatcher", len(rows), channel, chat_id)

    async def _queue_drained(self, key: tuple[str, str]) -> bool:
        if self.db is None:
            return True
        async with self.db.transaction() as s:
            return await outbox.replies_waiting(s, *key) == 0
