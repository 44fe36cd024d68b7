"""The dispatcher with a recording Sender under virtual time, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.channels.base import SendError
from bot.dispatch import Dispatcher, backoff_seconds
from storage import outbox
from storage.db import Database
from storage.models import Cadre, ChatAccount, OutboxMessage, SupervisorGroup, Unit
from tests.dispatch_helpers import (
    START,
    RecordingSender,
    VirtualTime,
    max_in_window,
    put,
    retryable,
    settings,
)


def dispatcher(db, time, *senders, worker=None, **cfg):  # type: ignore[no-untyped-def]
    return Dispatcher(
        db, senders, settings=settings(**cfg), clock=time.clock, sleep=time.sleep, worker=worker
    )


async def rows(db) -> dict[str, OutboxMessage]:  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        return {r.dedupe_key: r for r in await s.scalars(select(OutboxMessage))}


async def drain(d: Dispatcher, db, time: VirtualTime, rounds: int = 100) -> None:  # type: ignore[no-untyped-def]
    """Run rounds, jumping the clock to the next due row in between, until nothing is left."""
    for _ in range(rounds):
        await d.run_once()
        pending = [r for r in (await rows(db)).values() if r.status in ("pending", "sending")]
        if not pending:
            return
        nxt = min(r.next_attempt_at for r in pending)
        if nxt > time.now():
            time.clock.set(nxt)
    raise AssertionError("outbox did not drain")


async def test_each_due_row_sent_once_and_marked_sent(db):
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    for i in range(5):
        await put(db, "telegram", str(100 + i), f"r{i}", f"提醒{i}")
    d = dispatcher(db, time, tg)
    stats = await d.run_once()
    assert stats.sent == 5
    assert sorted(x.text for x in tg.delivered) == [f"提醒{i}" for i in range(5)]
    assert {r.status for r in (await rows(db)).values()} == {"sent"}
    assert (await d.run_once()).claimed == 0
    assert len(tg.delivered) == 5


async def test_row_waits_for_not_before(db):
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    await put(db, "telegram", "7", "later", "早上好", not_before=START + timedelta(hours=7))
    d = dispatcher(db, time, tg)
    await d.run_once()
    assert tg.delivered == []
    time.clock.advance(timedelta(hours=7))
    await d.run_once()
    assert [x.text for x in tg.delivered] == ["早上好"]


async def test_rows_of_a_channel_without_sender_stay_pending(db):
    time = VirtualTime()
    await put(db, "wecom", "zhangsan", "w1", "hi")
    await dispatcher(db, time, RecordingSender("telegram", time)).run_once()
    assert (await rows(db))["w1"].status == "pending"


async def test_retry_after_is_honoured(db):
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    tg.plan["9"] = [SendError("Too Many Requests", retry_after=7)]
    await put(db, "telegram", "9", "k", "一条")
    d = dispatcher(db, time, tg)
    await d.run_once()
    first_call = tg.calls[0].at
    row = (await rows(db))["k"]
    assert row.status == "pending" and row.attempts == 1
    time.clock.set(first_call + timedelta(seconds=6.9))
    await d.run_once()
    assert len(tg.calls) == 1  # not before retry_after
    await drain(d, db, time)
    assert [x.text for x in tg.delivered] == ["一条"]
    assert tg.delivered[0].at - first_call >= timedelta(seconds=7)
    assert (await rows(db))["k"].status == "sent"


async def test_backoff_grows_then_row_is_dead_after_max_attempts(db):
    time = VirtualTime()
    tg = RecordingSender("telegram", time, latency=0, always_fail=retryable())
    await put(db, "telegram", "5", "k", "x")
    d = dispatcher(db, time, tg, max_attempts=4, backoff_base_seconds=10)
    await drain(d, db, time)
    row = (await rows(db))["k"]
    assert row.status == "dead" and row.attempts == 4 and "502" in row.last_error
    assert len(tg.calls) == 4
    gaps = [(b.at - a.at).total_seconds() for a, b in zip(tg.calls, tg.calls[1:], strict=False)]
    cfg = settings(max_attempts=4, backoff_base_seconds=10)
    expected = [backoff_seconds(n, row.id, cfg) for n in (1, 2, 3)]
    assert gaps == [round(e, 6) for e in expected]
    assert 10 <= expected[0] < expected[1] < expected[2] <= 44  # 10, 20, 40 (+ <=10 %)


async def test_unexpected_exception_is_retried_not_lost(db):
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    tg.plan["5"] = [ConnectionResetError("reset"), TimeoutError()]
    await put(db, "telegram", "5", "k", "x")
    await drain(dispatcher(db, time, tg), db, time)
    assert [x.text for x in tg.delivered] == ["x"]
    assert (await rows(db))["k"].attempts == 3


async def test_permanent_error_fails_without_retry(db):
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    tg.plan["5"] = [SendError("Bad Request: chat not found", permanent=True)]
    await put(db, "telegram", "5", "k", "x")
    await drain(dispatcher(db, time, tg), db, time)
    row = (await rows(db))["k"]
    assert row.status == "failed" and len(tg.calls) == 1 and "chat not found" in row.last_error


async def test_blocked_user_recorded_on_chat_account(db):
    time = VirtualTime()
    async with db.transaction() as s:
        unit = Unit(name="旧门村", path="博白县/顿谷镇/旧门村")
        s.add(unit)
        await s.flush()
        cadre = Cadre(name="李四", unit_id=unit.id, phone="13800000001", created_at=START)
        s.add(cadre)
        await s.flush()
        s.add(
            ChatAccount(
                channel="telegram", account_id="42", chat_id="42", cadre_id=cadre.id, bound_at=START
            )
        )
    tg = RecordingSender("telegram", time)
    tg.plan["42"] = [SendError("Forbidden: bot was blocked by the user", blocked=True)]
    await put(db, "telegram", "42", "a", "提醒")
    await put(db, "telegram", "43", "b", "另一位")
    stats = await dispatcher(db, time, tg).run_once()
    assert stats.blocked == 1 and stats.sent == 1
    async with db.transaction() as s:
        acct = await s.scalar(select(ChatAccount))
    assert acct is not None and acct.blocked_at is not None
    assert (await rows(db))["a"].status == "failed"
    assert [x.chat_id for x in tg.delivered] == ["43"]


async def test_group_that_removed_the_bot_stops_getting_digests(db):
    time = VirtualTime()
    async with db.transaction() as s:
        unit = Unit(name="顿谷镇", path="博白县/顿谷镇")
        s.add(unit)
        await s.flush()
        s.add(
            SupervisorGroup(unit_id=unit.id, channel="wecom_robot", chat_id="KEY-1", bound_at=START)
        )
    robot = RecordingSender("wecom_robot", time)
    robot.plan["KEY-1"] = [SendError("93000 robot removed", blocked=True)]
    await put(db, "wecom_robot", "KEY-1", "d1", "周汇总")
    await dispatcher(db, time, robot).run_once()
    async with db.transaction() as s:
        group = await s.scalar(select(SupervisorGroup))
    assert group is not None and group.active is False
    assert (await rows(db))["d1"].status == "failed"


async def test_bad_payload_is_failed_not_retried(db):
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    async with db.transaction() as s:
        await outbox.enqueue(
            s,
            [outbox.NewMessage("bad", "telegram", "1", "reminder", {"buttons": [[{"x": 1}]]})],
            now=START,
        )
    await drain(dispatcher(db, time, tg), db, time)
    assert (await rows(db))["bad"].status == "failed" and tg.calls == []


async def test_a_chats_rows_arrive_in_order_despite_a_retry(db):
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    tg.plan["-100"] = [retryable()]
    for part in range(1, 5):
        await put(db, "telegram", "-100", f"digest:{part}", f"第{part}部分")
    await drain(dispatcher(db, time, tg), db, time)
    assert [x.text for x in tg.delivered] == [f"第{p}部分" for p in range(1, 5)]


async def test_telegram_limits_never_exceeded(db):
    """60 rows to 3 private chats, 45 to two groups: every window within the limits."""
    time = VirtualTime()
    tg = RecordingSender("telegram", time, latency=0.3)
    for i in range(60):
        await put(db, "telegram", str(1000 + i % 3), f"p{i}", f"p{i}")
    for i in range(45):
        await put(db, "telegram", f"-200{i % 2}", f"g{i}", f"g{i}")
    # A small overall limit makes the overall window bite too.
    d = dispatcher(db, time, tg, telegram_overall="4/s", max_wait_seconds=5)
    await drain(d, db, time, rounds=500)
    assert Counter(x.text for x in tg.delivered) == Counter(
        [f"p{i}" for i in range(60)] + [f"g{i}" for i in range(45)]
    )
    assert all(n == 1 for n in Counter(x.text for x in tg.delivered).values())
    times = [x.at for x in tg.calls]
    assert max_in_window(times, 1) <= 4
    by_chat: dict[str, list] = {}
    for x in tg.calls:
        by_chat.setdefault(x.chat_id, []).append(x.at)
    for chat, ts in by_chat.items():
        assert max_in_window(ts, 1) <= 1, chat
        if chat.startswith("-"):
            assert max_in_window(ts, 60) <= 20, chat
    # Deferred, not slowed to a crawl: 23 group rows need at least 22 s + a minute.
    assert (await rows(db))["g44"].status == "sent"


async def test_wecom_robot_limit_per_key(db):
    time = VirtualTime()
    robot = RecordingSender("wecom_robot", time)
    for i in range(25):
        await put(db, "wecom_robot", "key-A", f"a{i}", f"a{i}")
        await put(db, "wecom_robot", "key-B", f"b{i}", f"b{i}")
    await drain(dispatcher(db, time, robot), db, time)
    assert len(robot.delivered) == 50
    for key in ("key-A", "key-B"):
        ts = [x.at for x in robot.calls if x.chat_id == key]
        assert max_in_window(ts, 60) <= 20
        assert len(ts) == 25


async def test_logs_hold_no_message_text_nor_robot_key(db, caplog):
    time = VirtualTime()
    robot = RecordingSender("wecom_robot", time, always_fail=retryable())
    tg = RecordingSender("telegram", time, always_fail=retryable())
    await put(db, "wecom_robot", "SECRET-KEY-123", "w", "绝密文本")
    await put(db, "telegram", "77", "t", "私人内容")
    with caplog.at_level(logging.DEBUG, logger="bangfu"):
        await drain(dispatcher(db, time, robot, tg, max_attempts=2), db, time)
    assert "row" in caplog.text and "77" in caplog.text  # it does log, with chat ids
    for secret in ("SECRET-KEY-123", "绝密文本", "私人内容"):
        assert secret not in caplog.text


async def test_crash_between_claim_and_send_loses_nothing(db):
    time = VirtualTime()
    await put(db, "telegram", "5", "k", "别丢")
    async with db.transaction() as s:  # a worker claims, then dies before sending
        claimed = await outbox.claim_due(
            s, worker="dead", now=time.now(), lease=timedelta(seconds=300), limit=10
        )
    assert len(claimed) == 1
    tg = RecordingSender("telegram", time)
    d = dispatcher(db, time, tg, worker="alive", lease_seconds=300)
    await d.run_once()
    assert tg.calls == []  # still leased to the dead worker
    time.clock.advance(timedelta(seconds=301))
    await d.run_once()
    await d.run_once()
    assert [x.text for x in tg.delivered] == ["别丢"]
    row = (await rows(db))["k"]
    assert row.status == "sent" and row.claimed_by == "alive"
    async with db.transaction() as s:  # the dead worker's late report changes nothing
        assert not await outbox.mark_sent(s, row.id, worker="dead", now=time.now())


async def test_row_claimed_forever_ends_dead(db):
    time = VirtualTime()
    await put(db, "telegram", "5", "k", "poison")
    for _ in range(3):  # three workers each die holding it
        async with db.transaction() as s:
            await outbox.claim_due(
                s, worker="w", now=time.now(), lease=timedelta(seconds=60), limit=1
            )
        time.clock.advance(timedelta(seconds=61))
    tg = RecordingSender("telegram", time)
    await dispatcher(db, time, tg, max_attempts=3, lease_seconds=60).run_once()
    assert tg.calls == [] and (await rows(db))["k"].status == "dead"


class FirstSendWaits:
    """Holds a dispatcher's first send until the other one sends too: both hold claims."""

    def __init__(self, inner: RecordingSender, barrier: asyncio.Barrier) -> None:
        self.channel, self.inner, self.barrier, self.first = inner.channel, inner, barrier, True

    async def send(self, chat_id, reply):  # type: ignore[no-untyped-def]
        if self.first:
            self.first = False
            await asyncio.wait_for(self.barrier.wait(), 10)
        await self.inner.send(chat_id, reply)


async def test_two_concurrent_dispatchers_never_send_a_row_twice(db):
    time = VirtualTime()
    tg = RecordingSender("telegram", time, latency=0.01)
    tg.plan["3"] = [retryable(), retryable()]
    n = 120
    for i in range(n):
        await put(db, "telegram", str(i % 40), f"k{i}", f"m{i}")
    other = Database(db.url, schema=db.schema)  # a second "process": its own engine
    barrier = asyncio.Barrier(2)
    cfg = {"batch_size": 7, "telegram_overall": "1000/s"}
    a = dispatcher(db, time, FirstSendWaits(tg, barrier), worker="A", **cfg)
    b = dispatcher(other, time, FirstSendWaits(tg, barrier), worker="B", **cfg)
    try:
        for _ in range(50):
            stats = await asyncio.gather(a.run_once(), b.run_once())
            if all(st.claimed == 0 for st in stats):
                left = [r for r in (await rows(db)).values() if r.status != "sent"]
                if not left:
                    break
                time.clock.set(min(r.next_attempt_at for r in left))
    finally:
        await other.dispose()
    texts = Counter(x.text for x in tg.delivered)
    assert len(texts) == n and set(texts.values()) == {1}
    assert {r.status for r in (await rows(db)).values()} == {"sent"}
    workers = Counter(r.claimed_by for r in (await rows(db)).values())
    assert set(workers) == {"A", "B"}, workers  # both really took part


async def test_nothing_is_sent_in_quiet_hours(db):
    """A row due at 22:00 Shanghai (a late catch-up, a retry) waits for 08:00."""
    from zoneinfo import ZoneInfo

    from core.policy import Policy

    sh = ZoneInfo("Asia/Shanghai")
    time = VirtualTime(datetime(2026, 11, 23, 22, 0, tzinfo=sh))
    time.clock.tz = sh
    tg = RecordingSender("telegram", time)
    await put(db, "telegram", "5", "k", "夜里别发")
    d = Dispatcher(
        db, [tg], settings=settings(), clock=time.clock, sleep=time.sleep, policy=Policy()
    )
    await d.run_once()
    row = (await rows(db))["k"]
    assert tg.calls == [] and row.status == "pending"
    assert row.next_attempt_at == datetime(2026, 11, 24, 8, 0, tzinfo=sh)
    time.clock.set(row.next_attempt_at)
    await d.run_once()
    assert [x.text for x in tg.delivered] == ["夜里别发"]


async def test_wecom_app_limits_overall_and_per_user(db):
    time = VirtualTime()
    app = RecordingSender("wecom", time)
    for i in range(12):
        await put(db, "wecom", "zhangsan", f"z{i}", f"z{i}")
        await put(db, "wecom", f"user{i}", f"u{i}", f"u{i}")
    d = dispatcher(db, time, app, wecom_app_overall="6/10s", wecom_app_per_user="4/min")
    await drain(d, db, time)
    assert len(app.delivered) == 24
    assert max_in_window([x.at for x in app.calls], 10) <= 6
    assert max_in_window([x.at for x in app.calls if x.chat_id == "zhangsan"], 60) <= 4
