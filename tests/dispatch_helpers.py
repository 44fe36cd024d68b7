"""Virtual time and a recording Sender for the dispatcher tests."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.channels.base import SendError
from bot.config import DispatchSettings
from core.clock import FixedClock
from core.types import Reply
from storage.outbox import NewMessage, enqueue

START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


class VirtualTime:
    """A clock that only moves when someone sleeps: sleeping advances it at once."""

    def __init__(self, start: datetime = START) -> None:
        self.clock = FixedClock(start)

    async def sleep(self, seconds: float) -> None:
        self.clock.advance(timedelta(seconds=seconds))
        await asyncio.sleep(0)

    def now(self) -> datetime:
        return self.clock.now()


@dataclass
class Delivery:
    at: datetime  # when the "platform" saw it: half-way through the call
    chat_id: str
    text: str


@dataclass
class RecordingSender:
    """Takes `latency` virtual seconds per call; fails per chat as scripted in `plan`."""

    channel: str
    time: VirtualTime
    latency: float = 0.02
    plan: dict[str, list[Exception]] = field(default_factory=lambda: defaultdict(list))
    delivered: list[Delivery] = field(default_factory=list)
    calls: list[Delivery] = field(default_factory=list)
    always_fail: Exception | None = None
    _started: int = 0

    async def send(self, chat_id: str, reply: Reply) -> None:
        # Uneven latency, and the platform sees the call somewhere inside it, as in life.
        n = self._started
        self._started += 1
        total = self.latency * (0.5, 3, 1, 2, 0.2)[n % 5]
        before = total * (0.1, 0.9, 0.5, 0.95, 0.3)[n % 7 % 5]
        # Seen `before` after the call began: other tasks sleeping meanwhile move the virtual
        # clock at once, which would otherwise date this call as late as their wake-up.
        seen = Delivery(self.time.now() + timedelta(seconds=before), chat_id, reply.text)
        await self.time.sleep(before)
        self.calls.append(seen)
        await self.time.sleep(total - before)
        if self.always_fail is not None:
            raise self.always_fail
        if self.plan.get(chat_id):
            raise self.plan[chat_id].pop(0)
        self.delivered.append(seen)


def settings(**kw: object) -> DispatchSettings:
    return DispatchSettings.model_validate(kw)


async def put(db, channel: str, chat_id: str, key: str, text: str, **kw) -> None:  # type: ignore[no-untyped-def]
    msg = NewMessage(
        dedupe_key=key,
        channel=channel,
        chat_id=chat_id,
        kind="reminder",
        payload={"text": text},
        **kw,
    )
    async with db.transaction() as s:
        await enqueue(s, [msg], now=START)


def max_in_window(times: list[datetime], seconds: float) -> int:
    """The most events in any half-open window [t, t+seconds)."""
    ts = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(ts):
        while ts[lo] <= t - timedelta(seconds=seconds):
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def retryable(msg: str = "HTTP 502") -> SendError:
    return SendError(msg)
