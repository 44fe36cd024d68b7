"""Two processes on one PostgreSQL starting answers to *different* chats at the same
instant: the platform's overall budget holds at the fake Bot API because each send takes
its slot in the database before it starts (bot/budgets.py). Hearing each other's sends
(NOTIFY) is not enough: a send is heard only once it has ended. SQLite is one process only:
its limiter alone holds the budget, and no slot is taken there."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import event, text

from bot.budgets import CONTENDED_PAUSE_SECONDS
from bot.deliver import Deliverer, Outcome
from bot.dispatch import Dispatcher
from bot.ratelimit import RateLimiter
from core.types import Reply
from storage.db import Database
from tests.dispatch_helpers import START, RecordingSender, VirtualTime, max_in_window, put, settings
from tests.test_update_round_trips import Trips

PER = 0.5  # 10 overall and 1 a chat per 0.5 s: fast, so the test takes seconds
OVERALL = 10
# The slot is counted from the moment it is taken; the send starts a round trip later and
# reaches the platform within its latency. The margin covers both (as the default 0.25 s does).
MARGIN = 0.05


class PatientTime(VirtualTime):
    """Moves the clock only once the tasks ready at this instant have run: a send whose
    turn has just come (its waiter woken a few loop turns later) is not dated at another
    task's wake-up, which a real clock would not have reached yet."""

    async def sleep(self, seconds: float) -> None:
        for _ in range(5):
            await asyncio.sleep(0)
        await super().sleep(seconds)


def conf():  # type: ignore[no-untyped-def]
    return settings(
        telegram_overall=f"{OVERALL}/{PER}s",
        telegram_per_chat=f"1/{PER}s",
        margin_seconds=MARGIN,
        reply_deadline_seconds=60,
    )


def process(db: Database, worker: str, time: VirtualTime, platform: RecordingSender) -> Deliverer:
    """One process's answers: its own limiter (memory), its own engine."""
    return Deliverer(
        db,
        {"telegram": platform},
        limiter=RateLimiter(time.clock, time.sleep, margin_seconds=MARGIN),
        settings=conf(),
        clock=time.clock,
        sleep=time.sleep,
        worker=worker,
    )


async def answer(deliverer: Deliverer, chats: list[str]) -> list[list[Outcome]]:
    done = [deliverer.submit("telegram", c, [Reply(f"好的 {c}")])[1] for c in chats]
    return await asyncio.gather(*done)


def overall_in_a_window(platform: RecordingSender) -> int:
    return max_in_window([c.at for c in platform.calls], PER)


def assert_each_chat_once_a_window(platform: RecordingSender) -> None:
    by_chat = defaultdict(list)
    for call in platform.calls:
        by_chat[call.chat_id].append(call.at)
    assert max(max_in_window(times, PER) for times in by_chat.values()) <= 1


@pytest.mark.parametrize("slots", [True, False], ids=["slots", "no-slots"])
async def test_two_processes_starting_at_once_hold_the_overall_budget(db, slots):
    """Without the slots (as before: each process's limiter, hearing the other's sends as
    they end) each process sends its 10 at once and the platform sees 20 in one window."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    time = PatientTime()
    platform = RecordingSender("telegram", time, latency=0.001)
    other_engine = Database(db.url, schema=db.schema)
    a = process(db, "host-a:1", time, platform)
    b = process(other_engine, "host-b:2", time, platform)
    try:
        for d in (a, b):
            d.turns.shared = slots
            d.listen()
            assert d.listener is not None
            await asyncio.wait_for(d.listener.listening.wait(), 10)
        # Twenty cadres write at once, ten reach each process: different chats, so nothing
        # orders them but the overall budget.
        outcomes = await asyncio.gather(
            answer(a, [str(60_000 + i) for i in range(10)]),
            answer(b, [str(70_000 + i) for i in range(10)]),
        )
        assert all(o == [Outcome.SENT] for side in outcomes for o in side)
        assert len(platform.delivered) == 20
        assert_each_chat_once_a_window(platform)
        if slots:
            assert overall_in_a_window(platform) <= OVERALL
        else:  # both processes' ten in one window (20 in the runs so far)
            assert overall_in_a_window(platform) > OVERALL
    finally:
        await a.close()
        await b.close()
        await other_engine.dispose()


async def test_a_dispatcher_and_answers_elsewhere_share_the_slots(db):
    """A reminder round in one process and answers in another, started together."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    time = PatientTime()
    platform = RecordingSender("telegram", time, latency=0.001)
    other_engine = Database(db.url, schema=db.schema)
    answers = process(other_engine, "host-b:2", time, platform)
    dispatcher = Dispatcher(
        db,
        {"telegram": platform},
        settings=conf(),
        clock=time.clock,
        sleep=time.sleep,
        limiter=RateLimiter(time.clock, time.sleep, margin_seconds=MARGIN),
        worker="host-a:1",
    )
    try:
        for i in range(10):
            c = str(80_000 + i)
            await put(db, "telegram", c, f"r{c}", f"提醒{c}", not_before=START)
        stats, outcomes = await asyncio.gather(
            dispatcher.run_once(), answer(answers, [str(90_000 + i) for i in range(10)])
        )
        assert stats.sent == 10 and all(o == [Outcome.SENT] for o in outcomes)
        assert overall_in_a_window(platform) <= OVERALL
    finally:
        await answers.close()
        await other_engine.dispose()


async def test_a_direct_answer_takes_one_statement_for_its_slot(db):
    """The cost on PostgreSQL: one statement on its own before each send, no BEGIN or
    COMMIT around it (the first send of a process also makes sure the budget's rows
    exist)."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    time = PatientTime()
    platform = RecordingSender("telegram", time, latency=0.001)
    d = process(db, "host-a:1", time, platform)
    trips = Trips(db)
    try:
        await answer(d, ["61000"])  # the budget's rows made
        await d.flush_history()
        trips.take()
        statements = []
        for shared in (False, True):
            d.turns.shared = shared
            await answer(d, [str(61_001 + shared)])
            await d.flush_history()
            statements.append(trips.take())
        (before, before_commits), (after, after_commits) = statements
        print("without the slot", *before, "with it", *after, sep="\n  ")
        assert len(after) == len(before) + 1 and after_commits == before_commits == 0
        assert sum("send_slots" in s for s in after) == 1
    finally:
        await d.close()


async def test_answers_at_once_in_one_process_share_their_claims(db):
    """Forty cadres of one process answered at once: the sends waiting while a claim is in
    flight take their slots together in the next one (at most a quarter of the budget a
    statement), so far fewer claims than answers, and still the budget a window at most."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    overall, answers = 40, 80
    time = PatientTime()
    platform = RecordingSender("telegram", time, latency=0.001)
    d = Deliverer(
        db,
        {"telegram": platform},
        limiter=RateLimiter(time.clock, time.sleep, margin_seconds=MARGIN),
        settings=settings(
            telegram_overall=f"{overall}/{PER}s",
            telegram_per_chat=f"1/{PER}s",
            margin_seconds=MARGIN,
            reply_deadline_seconds=60,
        ),
        clock=time.clock,
        sleep=time.sleep,
        worker="host-a:1",
    )
    trips = Trips(db)
    try:
        outcomes = await answer(d, [str(62_000 + i) for i in range(answers)])
        assert all(o == [Outcome.SENT] for o in outcomes)
        claims = sum("send_slots" in s for s in trips.take()[0])
        print(f"{claims} claims for {answers} answers")
        assert claims <= answers // 4
        assert len(platform.delivered) == answers
        assert overall_in_a_window(platform) <= overall
        assert_each_chat_once_a_window(platform)
    finally:
        await d.close()


async def test_slots_held_elsewhere_are_waited_for_not_spun_on(db):
    """Another process holds every free slot (its claim in flight): the answer looks
    again after a short pause each time, then goes out once they are free."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    time = PatientTime()
    platform = RecordingSender("telegram", time, latency=0.001)
    d = process(db, "host-a:1", time, platform)
    other = Database(db.url, schema=db.schema)
    trips = Trips(db)
    try:
        await answer(d, ["63000"])  # the budget's rows made
        async with other.short_transaction() as s:
            await s.execute(text("SELECT slot FROM send_slots FOR UPDATE"))
            trips.take()
            before = time.now()
            sending = asyncio.ensure_future(answer(d, ["63001"]))
            for _ in range(1000):  # a few tries while the slots stay held
                if sum("send_slots" in q for q in trips.statements) >= 5:
                    break
                await asyncio.sleep(0.01)
            assert not sending.done()
            tries = sum("send_slots" in q for q in trips.take()[0])
            paused = (time.now() - before).total_seconds()
        assert paused >= (tries - 1) * CONTENDED_PAUSE_SECONDS
        assert await sending == [[Outcome.SENT]]
    finally:
        await d.close()
        await other.dispose()


async def test_a_send_later_than_its_slot_takes_a_fresh_one(db):
    """The claim's round trip took longer than the margin covers (a slow database, a busy
    process): starting now could share a window with the slot's next use, so the send
    takes a fresh slot and goes out within the window that one holds."""
    if db.dialect != "postgresql":
        pytest.skip("SQLite is one process only")
    time = PatientTime()
    platform = RecordingSender("telegram", time, latency=0.001)
    d = process(db, "host-a:1", time, platform)
    slow = {"claims": 1}  # the first claim after the budget exists is slow

    def slow_claim(_conn, _cursor, sql: str, *_a) -> None:  # type: ignore[no-untyped-def]
        if "UPDATE send_slots" in sql and slow["claims"] > 0:
            slow["claims"] -= 1
            time.clock.advance(timedelta(seconds=PER))  # the statement's virtual duration

    try:
        await answer(d, ["64000"])  # the budget's rows made, one slot used
        trips = Trips(db)
        for engine in db.engines():
            event.listen(engine.sync_engine, "before_cursor_execute", slow_claim)
        assert await answer(d, ["64001"]) == [[Outcome.SENT]]
        claims = [s for s in trips.take()[0] if "send_slots" in s]
        assert len(claims) == 2  # the late slot, then a fresh one
        async with db.short_transaction() as s:
            used = (
                await s.execute(text("SELECT count(*) FROM send_slots WHERE free_at_us > 0"))
            ).scalar_one()
        assert used == 3
        sent = platform.calls[-1].at
        assert (sent - time.now()).total_seconds() <= 0  # it did go out, after the slow claim
        assert sent >= START + timedelta(seconds=PER)
    finally:
        for engine in db.engines():
            if event.contains(engine.sync_engine, "before_cursor_execute", slow_claim):
                event.remove(engine.sync_engine, "before_cursor_execute", slow_claim)
        await d.close()
