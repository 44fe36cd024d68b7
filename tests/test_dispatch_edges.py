"""Limits held at the platform's edge, a stop that hands its rows back, a hand-over that
knows what was just sent: the dispatcher under virtual time, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.channels.wecom.robot import RobotSender
from bot.dispatch import Dispatcher, DispatchStats
from core.payload import reply_to_payload
from core.types import Reply
from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue
from tests.dispatch_helpers import (
    START,
    RecordingSender,
    VirtualTime,
    max_in_window,
    put,
    settings,
)
from tests.fakes.wecom_api import FakeWecom

KEY = "693a91f6-7c2e-4bc4-97a0-0ec2f1a5aaa1"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


class EdgeRobot(FakeWecom):
    """The robot webhook on the virtual clock: each request takes up to 100 ms to arrive
    and as long to be answered; the 21st message in any 60 s window gets 45009."""

    time: VirtualTime
    arrivals: list[datetime]
    refused: int

    def attach(self, time: VirtualTime, seed: int) -> EdgeRobot:
        self.time, self.arrivals, self.refused = time, [], 0
        self._rng = random.Random(seed)
        return self

    async def _webhook(self, request: web.Request) -> web.Response:
        await self.time.sleep(self._rng.uniform(0, 0.1))
        self.now = self.time.now().timestamp()
        before = sum(len(v) for v in self.robot_sent.values())
        response = await super()._webhook(request)
        if sum(len(v) for v in self.robot_sent.values()) > before:
            self.arrivals.append(self.time.now())
        elif b"45009" in (response.body or b""):  # type: ignore[operator]
            self.refused += 1
        await self.time.sleep(self._rng.uniform(0, 0.1))
        return response


async def _rows(db) -> list[OutboxMessage]:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def _drain(d: Dispatcher, db, time: VirtualTime, rounds: int = 2000) -> None:  # type: ignore[no-untyped-def]
    for _ in range(rounds):
        await d.run_once()
        left = [r for r in await _rows(db) if r.status in ("pending", "sending")]
        if not left:
            return
        due = min(r.next_attempt_at for r in left)
        time.clock.set(max(due, time.now()))
    raise AssertionError("outbox did not drain")


async def test_robot_limit_held_at_the_edge_chart_rows_count_twice(db):
    time = VirtualTime()
    fake = await EdgeRobot(robot_keys={KEY}).start()
    fake.attach(time, seed=7)
    rows = []
    for i in range(60):  # a weekly digest: a text, then chart rows (title + image)
        reply = Reply(text=f"第{i}行", image_png=PNG if i % 3 else None)
        rows.append(
            NewMessage(f"d{i}", "wecom_robot", KEY, "digest", payload=reply_to_payload(reply))
        )
    async with db.transaction() as s:
        await enqueue(s, rows, now=START)
    expected = sum(2 if i % 3 else 1 for i in range(60))
    try:
        async with aiohttp.ClientSession() as session:
            robot = RobotSender(
                session, base_url=fake.url, monotonic=lambda: time.now().timestamp()
            )
            d = Dispatcher(db, [robot], settings=settings(), clock=time.clock, sleep=time.sleep)
            await _drain(d, db, time)
    finally:
        await fake.close()
    assert fake.refused == 0  # WeCom never answered 45009
    assert len(fake.arrivals) == expected  # every message arrived, none twice
    assert max_in_window(fake.arrivals, 60) <= 20
    texts = [m["markdown"]["content"] for m in fake.robot_sent[KEY] if m["msgtype"] == "markdown"]
    assert texts == [f"第{i}行" for i in range(60)]  # in order


async def test_stopping_mid_round_hands_back_claimed_rows_at_once(db, caplog):
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    started = asyncio.Event()

    async def hang(chat_id: str, reply: Reply) -> None:
        started.set()
        await asyncio.Event().wait()  # a request that never answers

    tg.send = hang  # type: ignore[method-assign]
    for i in range(5):
        await put(db, "telegram", str(100 + i), f"r{i}", f"提醒{i}")
    d = Dispatcher(db, [tg], settings=settings(), clock=time.clock, sleep=time.sleep)
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(d.run_once())
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    rows = await _rows(db)
    assert {r.status for r in rows} == {"pending"}  # not stranded in "sending" for the lease
    assert {r.attempts for r in rows} == {0}
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    other = RecordingSender("telegram", time)
    stats = await Dispatcher(
        db, [other], settings=settings(), clock=time.clock, sleep=time.sleep
    ).run_once()
    assert stats.sent == 5  # the next process sends them right away


async def test_taking_over_from_a_killed_dispatcher_holds_the_limits(db):
    time = VirtualTime()
    first, second = RecordingSender("telegram", time), RecordingSender("telegram", time)
    for i in range(90):  # three rows for each of 30 chats
        await put(db, "telegram", str(1000 + i % 30), f"r{i:03d}", f"提醒{i}")
    cfg = settings(batch_size=40)
    a = Dispatcher(db, [first], settings=cfg, clock=time.clock, sleep=time.sleep, worker="a")
    b = Dispatcher(db, [second], settings=cfg, clock=time.clock, sleep=time.sleep, worker="b")
    # "a" sends one batch, then dies without a word; "b" takes over at once.
    rows = await a._claim()
    await a._send_batch(rows, DispatchStats())
    await _drain(b, db, time)
    seen = first.calls + second.calls
    assert len({(x.chat_id, x.text) for x in seen}) == 90
    assert max_in_window([x.at for x in seen], 1) <= 30
    for chat in {x.chat_id for x in seen}:
        assert max_in_window([x.at for x in seen if x.chat_id == chat], 1) <= 1, chat
