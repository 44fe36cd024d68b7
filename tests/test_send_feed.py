"""Two processes on one PostgreSQL answering the same chats: each hears the other's sends
(NOTIFY on the send history's write) and the platform's limits hold over both, counted at
the fake Bot API; the listener comes back after its connection is cut. SQLite is one
process only: nothing to hear."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text

from bot.deliver import Deliverer, Outcome
from bot.dispatch import Dispatcher, limits_for
from bot.ratelimit import RateLimiter
from core.types import Reply
from storage import outbox, send_feed
from tests.dispatch_helpers import (
    START,
    RecordingSender,
    VirtualTime,
    max_in_window,
    put,
    settings,
)

PER = 0.5  # a fast budget, so the test takes seconds: 1 a chat and 10 overall per 0.5 s
CHATS = [str(50_000 + i) for i in range(10)]


def two_processes(db, time: VirtualTime, platform: RecordingSender):  # type: ignore[no-untyped-def]
    conf = settings(
        telegram_overall=f"10/{PER}s",
        telegram_per_chat=f"1/{PER}s",
        margin_seconds=0,
        reply_deadline_seconds=60,
    )

    def process(worker: str) -> Deliverer:
        limiter = RateLimiter(time.clock, time.sleep, margin_seconds=0)  # its own memory
        return Deliverer(
            db,
            {"telegram": platform},
            limiter=limiter,
            settings=conf,
            clock=time.clock,
            sleep=time.sleep,
            worker=worker,
        )

    return process("host-a:1"), process("host-b:2")


def dispatcher_of(process: Deliverer, db, platform: RecordingSender, time: VirtualTime):  # type: ignore[no-untyped-def]
    """A dispatcher in `process`: its settings, its limiter, its worker name."""
    return Dispatcher(
        db,
        {"telegram": platform},
        settings=process.cfg,
        clock=time.clock,
        sleep=time.sleep,
        limiter=process.limiter,
        worker=process.worker,
    )


async def start_listening(process: Deliverer) -> None:
    process.listen()
    assert process.listener is not None
    await asyncio.wait_for(process.listener.listening.wait(), 10)


async def heard(deliverer: Deliverer, n: int) -> None:
    """Wait (a bounded while of real time: the virtual clock of the limiters and the
    platform does not move meanwhile) until `deliverer`'s limiter counted n sends of
    others."""
    for _ in range(500):
        if deliverer.limiter.counted_elsewhere >= n:
            return
        await asyncio.sleep(0.01)


async def answer_round(deliverer: Deliverer, round_: int, chats: list[str]) -> list[list[Outcome]]:
    done = [deliverer.submit("telegram", c, [Reply(f"{round_}:{c}")])[1] for c in chats]
    outcomes = await asyncio.gather(*done)
    if deliverer._history_task is not None:  # the history written (and announced)
        await deliverer._history_task
    return outcomes


def assert_limits_held(platform: RecordingSender) -> None:
    by_chat = defaultdict(list)
    for call in platform.calls:
        by_chat[call.chat_id].append(call.at)
    assert max(max_in_window(times, PER) for times in by_chat.values()) <= 1
    assert max_in_window([c.at for c in platform.calls], PER) <= 10


@pytest.mark.parametrize("listening", [True, False], ids=["listening", "deaf"])
async def test_two_processes_answering_the_same_chats_hold_the_limits(db, listening):
    """Deaf (before this change: only the periodic read, which comes after these rounds),
    the platform sees two answers a chat and 20 messages in one window."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    time = VirtualTime()
    platform = RecordingSender("telegram", time)
    a, b = two_processes(db, time, platform)
    try:
        for d in (a, b):
            if listening:
                await start_listening(d)
        # The cadres write again at once; their next messages land on the other process,
        # then back: each process answers every chat, one round after the other.
        for round_, (here, there) in enumerate([(a, b), (b, a), (a, b)]):
            outcomes = await answer_round(here, round_, CHATS)
            assert all(o == [Outcome.SENT] for o in outcomes)
            if listening:
                await heard(there, 10 * ((round_ + 2) // 2))
        assert len(platform.delivered) == 30
        if listening:
            assert_limits_held(platform)
        else:
            with pytest.raises(AssertionError):
                assert_limits_held(platform)
    finally:
        await a.close()
        await b.close()


async def test_the_listener_reconnects_and_catches_up(db):
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    time = VirtualTime()
    platform = RecordingSender("telegram", time)
    platform.latency = 0
    a, b = two_processes(db, time, platform)
    b.listen()
    try:
        assert b.listener is not None
        b.listener.first_retry = 0.05
        await asyncio.wait_for(b.listener.listening.wait(), 10)
        pid = b.listener.backend_pid()
        async with db.transaction() as s:  # the server drops the listening connection
            await s.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        await answer_round(a, 0, CHATS)  # sent while b may not be listening
        for _ in range(500):
            if b.listener.connects >= 2 and b.listener.listening.is_set():
                break
            await asyncio.sleep(0.01)
        assert b.listener.connects >= 2
        await heard(b, 10)
        await answer_round(b, 1, CHATS)
        assert len(platform.delivered) == 20
        assert_limits_held(platform)
    finally:
        await a.close()
        await b.close()


async def test_reminders_a_dispatcher_sent_are_heard_too(db):
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    time = VirtualTime()
    platform = RecordingSender("telegram", time)
    a, b = two_processes(db, time, platform)
    dispatching = dispatcher_of(a, db, platform, time)
    try:
        await start_listening(b)
        for c in CHATS:
            await put(db, "telegram", c, f"r{c}", f"提醒{c}", not_before=START)
        assert (await dispatching.run_once()).sent == 10
        await heard(b, 10)
        await answer_round(b, 1, CHATS)  # the cadres answer their reminders at once
        assert len(platform.delivered) == 20
        assert_limits_held(platform)
    finally:
        await a.close()
        await b.close()


async def test_a_send_heard_and_read_again_from_the_history_counts_once(db):
    """Counted twice, the others' answers would take the budget twice: after A's 5 answers
    B could send nothing more in the window instead of 5."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    time = VirtualTime()
    platform = RecordingSender("telegram", time)
    a, b = two_processes(db, time, platform)
    dispatching = dispatcher_of(b, db, platform, time)
    try:
        await start_listening(b)
        await answer_round(a, 0, CHATS[:5])
        await heard(b, 5)
        await dispatching.run_once()  # nothing due; reads the same 5 from the history
        assert b.limiter.counted_elsewhere == 5
        overall = limits_for("telegram", "60000", b.cfg)[:1]
        assert b.limiter.wait_us(overall, 5) == 0  # 5 more may go in this window
        assert b.limiter.wait_us(overall, 6) != 0  # but not 6
    finally:
        await a.close()
        await b.close()


async def test_many_answers_are_written_and_announced_in_one_statement(db):
    """130 answers: 130 history rows and three notifications (60 a notification) carrying
    each row's id, chat, slots and end time to the microsecond, one statement in all."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    heard: list[tuple[str, list[send_feed.Announced]]] = []
    all_heard = asyncio.Event()

    def hear(worker: str, sends: list[send_feed.Announced]) -> None:
        heard.append((worker, sends))
        if sum(len(s) for _w, s in heard) == 130:
            all_heard.set()

    listener = send_feed.SendListener(db, hear)
    listener.start()
    statements: list[str] = []
    db.engines()  # the short transactions' engine, made now

    def count(_c, _cur, statement, *_a):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.short_engine.sync_engine, "before_cursor_execute", count)
    base = datetime(2026, 11, 30, 8, 0, 0, 123456, tzinfo=UTC)
    answers = [
        outbox.SentAnswer("telegram", str(70_000 + n), 1 + n % 2, base + timedelta(seconds=n))
        for n in range(130)
    ]
    try:
        await asyncio.wait_for(listener.listening.wait(), 10)
        await send_feed.write_and_announce(db, answers, worker="w:1", now=base, prune=False)
        await asyncio.wait_for(all_heard.wait(), 10)
    finally:
        event.remove(db.short_engine.sync_engine, "before_cursor_execute", count)
        await listener.stop()
    assert len(statements) == 1
    assert [len(s) for _w, s in heard] == [60, 60, 10] and {w for w, _s in heard} == {"w:1"}
    sends = sorted((s for _w, part in heard for s in part), key=lambda s: s.id)
    async with db.transaction() as s:
        rows = (
            await s.execute(text("SELECT id, chat_id, payload, sent_at FROM outbox ORDER BY id"))
        ).all()
    assert [(r.id, r.chat_id, r.sent_at) for r in rows] == [
        (s.id, s.chat_id, s.ended) for s in sends
    ]
    assert [(s.chat_id, s.slots, s.ended) for s in sends] == [
        (a.chat_id, a.slots, a.sent_at) for a in answers
    ]
    assert [r.payload for r in rows] == [{outbox.SLOTS_KEY: a.slots} for a in answers]
