"""Answers to people: sent at once and paced, retried, queued past the deadline, in order,
once; urgent before reminders. Virtual time, recording senders, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time as _time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.channels.base import SendError
from bot.deliver import Deliverer, Outcome
from bot.dispatch import Dispatcher
from bot.metrics import REGISTRY
from bot.ratelimit import RateLimiter
from core.clock import SystemClock
from core.types import Reply
from storage.models import OutboxMessage
from storage.outbox import count_by_status
from tests.dispatch_helpers import (
    START,
    RecordingSender,
    VirtualTime,
    max_in_window,
    put,
    settings,
)


def world(db, time: VirtualTime, **cfg):  # type: ignore[no-untyped-def]
    tg = RecordingSender("telegram", time)
    conf = settings(**cfg)
    limiter = RateLimiter(time.clock, time.sleep, margin_seconds=conf.margin_seconds)
    deliverer = Deliverer(
        db, {"telegram": tg}, limiter=limiter, settings=conf, clock=time.clock, sleep=time.sleep
    )
    dispatcher = Dispatcher(
        db, [tg], settings=conf, clock=time.clock, sleep=time.sleep, limiter=limiter
    )
    return tg, deliverer, dispatcher


async def replies_in_outbox(db) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        query = select(OutboxMessage).where(OutboxMessage.kind == "reply")
        return list(await s.scalars(query.order_by(OutboxMessage.id)))


async def test_an_answer_survives_one_502(db):
    time = VirtualTime()
    tg, deliverer, _ = world(db, time)
    tg.plan["42"] = [SendError("HTTP 502")]
    outcomes = await deliverer.deliver("telegram", "42", [Reply("绑定成功"), Reply("菜单")])
    assert outcomes == [Outcome.SENT, Outcome.SENT]
    assert [d.text for d in tg.delivered] == ["绑定成功", "菜单"]  # once each, in order
    assert await replies_in_outbox(db) == []


async def test_past_the_deadline_answers_go_through_the_outbox_in_order_once(db):
    time = VirtualTime()
    tg, deliverer, dispatcher = world(db, time, reply_deadline_seconds=15)
    tg.plan["42"] = [SendError("Too Many Requests", retry_after=40)]
    first = await deliverer.deliver("telegram", "42", [Reply("一"), Reply("二")], ref="m:42:1")
    assert first == [Outcome.QUEUED, Outcome.QUEUED]
    # A later answer of the same chat joins the queue instead of overtaking it.
    assert await deliverer.deliver("telegram", "42", [Reply("三")], ref="m:42:2") == [
        Outcome.QUEUED
    ]
    assert [r.payload["text"] for r in await replies_in_outbox(db)] == ["一", "二", "三"]
    time.clock.advance(timedelta(seconds=41))
    await dispatcher.run_once()
    assert [d.text for d in tg.delivered] == ["一", "二", "三"]
    assert {r.status for r in await replies_in_outbox(db)} == {"sent"}
    # Drained: the next answer goes at once again.
    assert await deliverer.deliver("telegram", "42", [Reply("四")]) == [Outcome.SENT]
    assert [d.text for d in tg.delivered] == ["一", "二", "三", "四"]


async def test_a_blocked_chat_is_not_queued(db):
    time = VirtualTime()
    tg, deliverer, _ = world(db, time)
    tg.plan["42"] = [SendError("Forbidden", permanent=True, blocked=True)]
    assert await deliverer.deliver("telegram", "42", [Reply("x")]) == [Outcome.FAILED]
    assert await replies_in_outbox(db) == []


async def test_one_chat_in_a_flood_pause_does_not_hold_up_another(db):
    time = VirtualTime()
    tg, deliverer, _ = world(db, time, reply_deadline_seconds=60)
    tg.plan["1"] = [SendError("Too Many Requests", retry_after=20)]
    answered = asyncio.Event()

    async def pause(seconds: float) -> None:
        # Virtual time passes 20 s at once, while chat 2's send may still wait on the
        # database (its slot, on PostgreSQL): the pause ends no sooner than real 20 s would.
        await time.sleep(seconds)
        await answered.wait()

    deliverer.sleep = pause
    slow = asyncio.create_task(deliverer.deliver("telegram", "1", [Reply("甲")]))
    await asyncio.sleep(0)
    # (held up by chat 1's pause, this would never end: bounded in real time)
    fast = await asyncio.wait_for(deliverer.deliver("telegram", "2", [Reply("乙")]), 30)
    answered.set()
    assert fast == [Outcome.SENT]
    assert await slow == [Outcome.SENT]
    assert [d.text for d in tg.delivered] == ["乙", "甲"]


async def test_answers_paced_per_chat_and_in_order(db):
    time = VirtualTime()
    tg, deliverer, _ = world(db, time, reply_deadline_seconds=600)
    done = [deliverer.submit("telegram", "7", [Reply(f"{i}")])[1] for i in range(12)]
    await asyncio.gather(*done)
    assert [d.text for d in tg.delivered] == [f"{i}" for i in range(12)]
    assert max_in_window([d.at for d in tg.calls], 1) <= 1  # Telegram: 1 a second per chat


LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


class RealTime(VirtualTime):
    """The real clock (contention for the limiter needs sleepers that really wait)."""

    def __init__(self) -> None:
        self.clock = SystemClock()  # type: ignore[assignment]

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def test_answers_go_before_reminders_and_limits_hold(db):
    """Judged on what the limiter granted and what the platform recorded, not on how fast the
    machine is: while any answer waits for a slot, no reminder is granted one; the bot's
    limit holds over the platform's timestamps (the limiter reads the same clock)."""
    time = RealTime()
    # A fast budget so the test takes seconds: 20 per 0.25 s for the bot, 1 per 0.25 s a chat.
    tg, deliverer, dispatcher = world(
        db, time, telegram_overall="20/0.25s", telegram_per_chat="1/0.25s", margin_seconds=0
    )
    tg.latency = 0
    for i in range(200):
        await put(db, "telegram", str(10_000 + i), f"r{i}", f"提醒{i}", not_before=LONG_AGO)
    under_way, send = asyncio.Event(), tg.send

    async def counting(chat_id: str, reply: Reply) -> None:
        if len(tg.calls) >= 30:  # the round has spent a window's budget and waits on it
            under_way.set()
        await send(chat_id, reply)

    tg.send = counting  # type: ignore[method-assign]
    # Watch the shared limiter (the real one decides): answers waiting, reminders granted.
    limiter, acquire = deliverer.limiter, deliverer.limiter.acquire
    answers_waiting, granted_while_answers_wait, reminders_granted = 0, 0, 0

    async def watched(rules, weight=1, *, urgent=False):  # type: ignore[no-untyped-def]
        nonlocal answers_waiting, granted_while_answers_wait, reminders_granted
        answers_waiting += urgent  # registered at once, in this same step
        try:
            await acquire(rules, weight, urgent=urgent)
        finally:
            answers_waiting -= urgent
        if not urgent:  # granted in this step: compare with the answers still waiting
            reminders_granted += 1
            granted_while_answers_wait += answers_waiting > 0

    limiter.acquire = watched  # type: ignore[method-assign]
    round_ = asyncio.create_task(dispatcher.run_once())
    await under_way.wait()
    answers = []
    for i in range(40):  # then cadres press their reminder's button, all at once
        answers.append(deliverer.submit("telegram", str(20_000 + i), [Reply(f"答{i}")])[1])
    outcomes = await asyncio.gather(*answers)
    granted_when_answered = reminders_granted
    await round_
    assert all(o == [Outcome.SENT] for o in outcomes)
    calls = [d.text for d in tg.calls]
    assert {t for t in calls if t.startswith("答")} == {f"答{i}" for i in range(40)}
    # Answers go first: no reminder got a slot while an answer was waiting for one, and the
    # answers were all out before the round's last reminder got its slot.
    assert granted_while_answers_wait == 0
    assert granted_when_answered < 200
    assert len(tg.delivered) == 240
    assert max_in_window([d.at for d in tg.calls], 0.25) <= 20


def reply_seconds(stat: str) -> float:
    value = REGISTRY.get_sample_value(f"bangfu_reply_seconds_{stat}", {"channel": "telegram"})
    return value or 0.0


class SlowSender(RecordingSender):
    """A platform that takes real time to accept each message."""

    async def send(self, chat_id: str, reply: Reply) -> None:
        await asyncio.sleep(0.3)
        await super().send(chat_id, reply)


async def test_the_reply_latency_metric_ends_when_the_platform_accepted_the_answer(db):
    time = VirtualTime()
    _, deliverer, dispatcher = world(db, time, reply_deadline_seconds=15)
    slow = SlowSender("telegram", time)
    deliverer.senders = dispatcher.senders = {"telegram": slow}
    count, total = reply_seconds("count"), reply_seconds("sum")
    # Sent at once: the measure includes the 0.3 s the platform took to accept it.
    sent = await deliverer.deliver("telegram", "8", [Reply("好")], received=_time.monotonic())
    assert sent == [Outcome.SENT]
    assert reply_seconds("count") == count + 1
    assert reply_seconds("sum") - total >= 0.3
    # Queued behind a flood pause, the answer is measured when the dispatcher sends it.
    slow.plan["9"] = [SendError("Too Many Requests", retry_after=40)]
    queued = await deliverer.deliver(
        "telegram", "9", [Reply("一"), Reply("二")], received=_time.monotonic()
    )
    assert queued == [Outcome.QUEUED, Outcome.QUEUED]
    assert reply_seconds("count") == count + 1  # not answered yet: nothing observed
    total = reply_seconds("sum")
    time.clock.advance(timedelta(seconds=41))
    await dispatcher.run_once()
    assert [d.text for d in slow.delivered][-2:] == ["一", "二"]
    assert reply_seconds("count") == count + 2  # one update, one measure
    assert reply_seconds("sum") - total >= 41


async def test_answers_sent_by_one_process_count_in_another_dispatchers_limits(db):
    """Two processes share the database: one answers cadres directly, the other dispatches
    reminders. The platform's overall limit (here 20/s) holds over both."""
    time = VirtualTime()
    platform = RecordingSender("telegram", time)
    conf = settings(telegram_overall="20/s", margin_seconds=0)

    def process(worker: str) -> tuple[Deliverer, Dispatcher]:
        limiter = RateLimiter(time.clock, time.sleep, margin_seconds=0)  # its own memory
        senders = {"telegram": platform}
        deliverer = Deliverer(
            db,
            senders,
            limiter=limiter,
            settings=conf,
            clock=time.clock,
            sleep=time.sleep,
            worker=worker,
        )
        dispatcher = Dispatcher(
            db,
            senders,
            settings=conf,
            clock=time.clock,
            sleep=time.sleep,
            limiter=limiter,
            worker=worker,
        )
        return deliverer, dispatcher

    answering, _ = process("host-a:1")
    _, dispatching = process("host-b:2")
    for i in range(20):
        await put(db, "telegram", str(30_000 + i), f"r{i}", f"提醒{i}", not_before=START)
    answers = [
        answering.submit("telegram", str(40_000 + i), [Reply(f"答{i}")])[1] for i in range(20)
    ]
    assert all(o == [Outcome.SENT] for o in await asyncio.gather(*answers))
    await answering.flush_history()
    await dispatching.run_once()
    assert len(platform.delivered) == 40
    assert max_in_window([d.at for d in platform.calls], 1) <= 20
    async with db.transaction() as s:
        # The history holds no text, and is not an outbox message for status or metrics.
        rows = list(await s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "answered")))
        assert len(rows) == 20 and all("text" not in r.payload for r in rows)
        assert await count_by_status(s) == {"sent": 20}
