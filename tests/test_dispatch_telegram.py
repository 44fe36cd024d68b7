"""The dispatcher against the fake Bot API through the real python-telegram-bot Bot.

Limits are scaled down (fractions of a second) so the test is quick; the dispatcher's clock
runs on the same monotonic time the fake server stamps each call with, so the limits are
checked on what the server saw, not on what the dispatcher believed.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram_send import TelegramSender
from bot.dispatch import Dispatcher
from storage import outbox
from storage.models import Cadre, ChatAccount, OutboxMessage, Unit
from tests.dispatch_helpers import START, put, settings
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_methods import ApiError

LIMITS = {
    "telegram_overall": "6/0.25s",
    "telegram_per_chat": "1/0.2s",
    "telegram_per_group": "3/s",
    "max_wait_seconds": 0.5,
    "lease_seconds": 10,
    "backoff_base_seconds": 0.05,
    "max_attempts": 5,
    "concurrency": 4,
}
ROUNDING = 1e-5  # the dispatcher keeps whole microseconds; the server, float seconds


class MonotonicClock:
    """Real time on the server's monotonic scale, shifted to START; tests can jump ahead."""

    tz = UTC

    def __init__(self) -> None:
        self.offset = -time.monotonic()

    def now(self):  # type: ignore[no-untyped-def]
        return START + timedelta(seconds=time.monotonic() + self.offset)

    def advance(self, delta: timedelta) -> None:
        self.offset += delta.total_seconds()


class HangingTelegram(FakeTelegram):
    """Adds a request that hangs and is never processed (lost before Telegram took it)."""

    def hang(self, chat_id: int, delay: float) -> None:
        self._hangs = [*getattr(self, "_hangs", []), (chat_id, delay)]

    async def _apply_faults(self, method: str, params: dict[str, Any]) -> None:
        for chat_id, delay in getattr(self, "_hangs", []):
            if method == "sendMessage" and params.get("chat_id") == chat_id:
                self._hangs.remove((chat_id, delay))
                await asyncio.sleep(delay)
                raise ApiError(504, "Gateway Timeout")  # the client has long given up
        await super()._apply_faults(method, params)


@pytest.fixture
async def tg() -> AsyncIterator[HangingTelegram]:
    async with HangingTelegram() as fake:
        yield fake


@pytest.fixture
async def sender(tg: FakeTelegram) -> AsyncIterator[TelegramSender]:
    # A generous timeout, so a loaded machine does not turn a plain answer into a timeout.
    request = HTTPXRequest(read_timeout=1.0, connection_pool_size=8, pool_timeout=5)
    async with Bot(tg.token, base_url=tg.base_url, request=request) as bot:
        yield TelegramSender(bot)


async def status_of(db) -> dict[str, OutboxMessage]:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        return {r.dedupe_key: r for r in await s.scalars(select(OutboxMessage))}


async def drain(d: Dispatcher, db, clock: MonotonicClock, within: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Rounds until every row is finished, sleeping (for real) until the next one is due."""
    async with asyncio.timeout(within):
        while True:
            await d.run_once()
            left = [r for r in (await status_of(db)).values() if r.status in ("pending", "sending")]
            if not left:
                return
            wait = (min(r.next_attempt_at for r in left) - clock.now()).total_seconds()
            await asyncio.sleep(max(0.01, wait))


def max_in_window(times: list[float], seconds: float) -> int:
    ts, best, lo = sorted(times), 0, 0
    for hi, t in enumerate(ts):
        while ts[lo] <= t - seconds + ROUNDING:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def bind_account(db, chat_id: int) -> None:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        unit = Unit(name="旧门村", path="博白县/顿谷镇/旧门村")
        s.add(unit)
        await s.flush()
        cadre = Cadre(name="王五", unit_id=unit.id, phone="13900000000", created_at=START)
        s.add(cadre)
        await s.flush()
        s.add(ChatAccount(channel="telegram", account_id=str(chat_id), chat_id=str(chat_id),
                          cadre_id=cadre.id, bound_at=START))  # fmt: skip


async def test_faults_every_row_once_or_failed_limits_kept(db, tg, sender):
    await bind_account(db, 555)
    expected: dict[int, list[str]] = {}
    for chat in range(101, 111):
        for n in range(3):
            await put(db, "telegram", str(chat), f"p{chat}:{n}", f"提醒 {chat}-{n}")
            expected.setdefault(chat, []).append(f"提醒 {chat}-{n}")
    for n in range(8):
        await put(db, "telegram", "-1001", f"g{n}", f"周报 第{n + 1}部分")
    expected[-1001] = [f"周报 第{n + 1}部分" for n in range(8)]
    for n in range(2):
        await put(db, "telegram", "555", f"b{n}", f"被拉黑 {n}")
    tg.fail("sendMessage", 429, retry_after=1, chat_id=101)
    tg.fail("sendMessage", 500, times=2)
    tg.fail("sendMessage", 502, chat_id=105)
    tg.hang(103, 2.0)
    tg.block(555)

    clock = MonotonicClock()
    d = Dispatcher(db, [sender], settings=settings(**LIMITS), clock=clock)
    await drain(d, db, clock)

    rows = await status_of(db)
    assert {k for k, r in rows.items() if r.status == "failed"} == {"b0", "b1"}
    assert {r.status for k, r in rows.items() if not k.startswith("b")} == {"sent"}
    for chat, texts in expected.items():
        assert tg.texts(chat) == texts  # each exactly once, and in order
    assert tg.texts(555) == []
    async with db.transaction() as s:
        account = await s.scalar(select(ChatAccount))
    assert account is not None and account.blocked_at is not None

    calls = tg.calls_to("sendMessage")
    assert {429, 500, 502, 403, 504} <= {c.status for c in calls}  # every fault happened
    to_101 = [c for c in calls if c.params["chat_id"] == 101]
    assert to_101[0].status == 429 and to_101[1].at - to_101[0].at >= 1.0  # retry_after
    assert max_in_window([c.at for c in calls], 0.25) <= 6
    for chat in [*expected, 555]:
        at = [c.at for c in calls if c.params["chat_id"] == chat]
        assert max_in_window(at, 0.2) <= 1, chat
    assert max_in_window([c.at for c in calls if c.params["chat_id"] == -1001], 1.0) <= 3


async def test_crash_between_claim_and_send_delivers_once(db, tg, sender):
    await put(db, "telegram", "201", "k", "不能丢")
    clock = MonotonicClock()
    async with db.transaction() as s:  # worker A claims and dies before sending
        got = await outbox.claim_due(
            s, worker="A", now=clock.now(), lease=timedelta(seconds=10), limit=5
        )
    assert len(got) == 1
    b = Dispatcher(db, [sender], settings=settings(**LIMITS), clock=clock, worker="B")
    assert (await b.run_once()).claimed == 0  # A's lease still holds
    clock.advance(timedelta(seconds=11))
    await drain(b, db, clock)
    assert tg.texts(201) == ["不能丢"]
    assert (await status_of(db))["k"].claimed_by == "B"


async def test_timeout_after_telegram_took_the_message_repeats_rather_than_loses(db, tg, sender):
    """A read timeout cannot tell "lost" from "delivered, answer lost": the Bot API has no
    idempotency key. The dispatcher retries — a reminder twice beats a reminder never."""
    await put(db, "telegram", "301", "k", "请本月联系农户")
    tg.slow("sendMessage", 2.0)  # the answer comes after the client's 1 s timeout
    clock = MonotonicClock()
    await drain(Dispatcher(db, [sender], settings=settings(**LIMITS), clock=clock), db, clock)
    async with asyncio.timeout(10):  # the slow request finishes on the server too
        while len(tg.texts(301)) < 2:  # noqa: ASYNC110 — the fake has no event for this
            await asyncio.sleep(0.05)
    assert (await status_of(db))["k"].status == "sent"
    assert Counter(tg.texts(301)) == Counter({"请本月联系农户": 2})
