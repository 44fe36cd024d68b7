"""The daily sweep opens the day's round; the dispatcher derives its reminders as it sends.

What a cadre notices: the same reminders as the sweep that wrote them all at once (the same
rows, rendered to the same text, over the generated histories of test_sweep_one_pass), the
most overdue first, each once — across reruns, concurrent dispatchers and processes — and
what changed between the sweep and the send (a pairing ended, leave, a blocked account, a
duty done, an account bound) is read when the reminder is derived. Night sweeps wait for the
morning. Reminders for a channel no dispatcher sends, or a round that fails to derive, do not
hold back what else can go. Downgraded mid-round, the day's sweep is released for the older
version to run.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select, update

from bot.dispatch import Dispatcher
from core.policy import Policy
from reminders import rounds
from reminders.rounds import RoundFeeder, open_round
from reminders.sweep import run_sweep
from storage import sweep_rows
from storage.db import Database
from storage.migrate import alembic_config, upgrade
from storage.models import Cadre, ChatAccount, OutboxMessage, Pairing, SweepRound
from tests import factories as f
from tests.conftest import _off_loop
from tests.dispatch_helpers import RecordingSender, VirtualTime, put, settings
from tests.test_sweep_one_pass import (
    DAYS,
    POLICIES,
    _forget,
    _history,
    _outbox,
    _reference_messages,
)

TZ = ZoneInfo("Asia/Shanghai")
NOV_27 = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)  # a monthly contact stage day


async def _feed_all(db: Database, policy: Policy, now: datetime, want: int = 3) -> int:
    """Derive every open round, `want` rows at a time (as a dispatcher running low)."""
    feeder, total = RoundFeeder(db, policy), 0
    while True:
        fed = await feeder.feed(now=now, want=want)
        total += fed.enqueued
        async with db.sessions() as s:
            left = (
                await s.scalars(select(SweepRound.id).where(SweepRound.done_at.is_(None)))
            ).all()
        if not left:
            return total


async def _dues_in_order(db: Database) -> list[date]:
    async with db.sessions() as s:
        return list(
            (await s.scalars(select(OutboxMessage.due_on).order_by(OutboxMessage.id))).all()
        )


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_round_derived_in_batches_enqueues_what_the_whole_sweep_did(
    db: Database, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    if seed == 2:  # events matched by the subquery used when they are too many to list
        monkeypatch.setattr(sweep_rows, "MAX_LISTED", 0)
    monkeypatch.setattr(rounds, "ROUND_CADRES", 4)  # many batches, every pass split
    await _history(db, seed)
    for name, policy in POLICIES.items():
        for day in DAYS:
            at = datetime(day.year, day.month, day.day, 9, tzinfo=TZ)
            expected = await _reference_messages(db, day, policy)
            opened = await open_round(db, at, policy)
            assert await _outbox(db) == [], (name, day)  # the sweep itself writes no message
            fed = await _feed_all(db, policy, at + timedelta(minutes=1))
            assert await _outbox(db) == expected, (name, day)
            assert fed == len(expected), (name, day)
            dues = await _dues_in_order(db)
            assert dues == sorted(dues), (name, day)  # the most overdue derived first
            # Opened again (a rerun, the next process's catch-up): nothing is said twice.
            again = await open_round(db, at.replace(hour=15), policy)
            assert again.round_id != opened.round_id or opened.round_id is None
            assert await _feed_all(db, policy, at.replace(hour=15)) == 0, (name, day)
            assert (await run_sweep(db, at, policy, dry_run=True)).messages == []
            await _forget(db)


async def _two_cadres(db: Database) -> tuple[Any, Any]:
    """A and B due a call on 27 November; B (the higher id) also a visit overdue since the
    23rd after an illness on the 21st."""
    async with db.transaction() as s:
        a, b = await f.cadre(s, "甲"), await f.cadre(s, "乙")
        await f.account(s, a, chat_id="701")
        await f.account(s, b, chat_id="702")
        for who in (a, a, b):
            await f.pairing(s, who, await f.household(s))
        sick = await f.household(s, "病户")
        await f.pairing(s, b, sick)
        await f.event(s, b, sick, "illness", date(2026, 11, 21), date(2026, 11, 23))
    return a, b


async def test_the_dispatcher_sends_a_round_once_the_most_overdue_first(db: Database) -> None:
    await _two_cadres(db)
    time = VirtualTime(NOV_27.astimezone(TZ) + timedelta(minutes=5))
    tg = RecordingSender("telegram", time)
    cfg = settings(reminders_ahead=1, batch_size=1)
    policy = Policy()
    opened = await open_round(db, NOV_27, policy)
    assert opened.round_id is not None and opened.not_before is None
    dispatcher = Dispatcher(
        db, [tg], settings=cfg, clock=time.clock, sleep=time.sleep, policy=policy
    )
    stats = await dispatcher.run_once()
    assert stats.sent == 2
    assert [d.chat_id for d in tg.delivered] == ["702", "701"]  # B's visit is overdue
    assert "病户" in tg.delivered[0].text
    # Again, and after the day's sweep runs again: nothing more.
    assert (await dispatcher.run_once()).sent == 0
    await open_round(db, NOV_27.replace(hour=15), policy)
    assert (await dispatcher.run_once()).sent == 0
    assert len(tg.delivered) == 2


async def test_two_dispatchers_at_once_send_each_reminder_once(db: Database) -> None:
    async with db.transaction() as s:
        cadres = await f.county(s, cadres=12, households_each=2)
    policy = Policy()
    await open_round(db, NOV_27, policy)
    time = VirtualTime(NOV_27 + timedelta(minutes=5))
    senders = [RecordingSender("telegram", time), RecordingSender("telegram", time)]
    cfg = settings(reminders_ahead=2, batch_size=2)
    workers = [
        Dispatcher(db, [tg], settings=cfg, clock=time.clock, sleep=time.sleep, policy=policy)
        for tg in senders
    ]
    await asyncio.gather(*(w.run_once() for w in workers))
    for w in workers:
        await w.run_once()
    chats = sorted(d.chat_id for tg in senders for d in tg.delivered)
    async with db.sessions() as s:
        expected = sorted(
            (await s.scalars(select(ChatAccount.chat_id).where(
                ChatAccount.cadre_id.in_([c.id for c in cadres])
            ))).all()
        )  # fmt: skip
    assert chats == expected


async def test_what_changed_after_the_sweep_is_read_when_the_reminder_is_derived(
    db: Database,
) -> None:
    async with db.transaction() as s:
        who = {}
        for name in ("结对已结束", "请假", "已屏蔽", "已联系", "后来绑定", "照常"):
            who[name] = await f.cadre(s, name)
            home = await f.household(s)
            await f.pairing(s, who[name], home)
            if name == "已联系":
                done_home = home
            if name != "后来绑定":
                await f.account(s, who[name])
    policy = Policy()
    await open_round(db, NOV_27, policy)
    async with db.transaction() as s:
        await s.execute(
            update(Pairing).where(Pairing.cadre_id == who["结对已结束"].id).values(active=False)
        )
        await s.execute(
            update(Cadre).where(Cadre.id == who["请假"].id).values(leave_until=date(2026, 12, 5))
        )
        await s.execute(
            update(ChatAccount)
            .where(ChatAccount.cadre_id == who["已屏蔽"].id)
            .values(blocked_at=NOV_27)
        )
        await f.contact(s, who["已联系"], done_home, "call", date(2026, 11, 27))
        await f.account(s, who["后来绑定"])
    await _feed_all(db, policy, NOV_27 + timedelta(hours=1))
    async with db.sessions() as s:
        reminded = set((await s.scalars(select(OutboxMessage.cadre_id))).all())
    assert reminded == {who["后来绑定"].id, who["照常"].id}


async def test_a_night_sweeps_reminders_wait_for_the_morning(db: Database) -> None:
    await _two_cadres(db)
    policy = Policy()
    night = datetime(2026, 11, 27, 22, 0, tzinfo=TZ)
    opened = await open_round(db, night, policy)
    morning = datetime(2026, 11, 28, 8, 0, tzinfo=TZ)
    assert opened.not_before == morning
    time = VirtualTime(night + timedelta(minutes=1))
    tg = RecordingSender("telegram", time)
    dispatcher = Dispatcher(
        db, [tg], settings=settings(), clock=time.clock, sleep=time.sleep, policy=policy
    )
    await dispatcher.run_once()
    assert tg.delivered == []
    async with db.sessions() as s:
        waits = (await s.scalars(select(OutboxMessage.next_attempt_at))).all()
    assert len(waits) == 2 and all(w == morning for w in waits)


async def test_the_downgrade_releases_the_days_sweep_of_an_unfinished_round(
    db: Database,
) -> None:
    await _two_cadres(db)
    policy = Policy()
    done_day = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)
    await open_round(db, done_day, policy)
    await _feed_all(db, policy, done_day)
    await open_round(db, NOV_27, policy)  # not derived yet
    stamp = NOV_27.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    async with db.transaction() as s:
        for key in ("2026-11-20", "2026-11-27"):
            await s.execute(
                sa.text(
                    "INSERT INTO job_runs (job, run_key, claimed_at, claimed_by, detail)"
                    " VALUES ('sweep', :key, :at, 'w', '{}')"
                ),
                {"key": key, "at": stamp},
            )
    await db.dispose()
    _off_loop(command.downgrade, alembic_config(db.url, schema=db.schema), "0021_cadres_by_name")
    async with db.sessions() as s:
        keys = (await s.execute(sa.text("SELECT run_key FROM job_runs"))).scalars().all()
    assert keys == ["2026-11-20"]  # the older version's catch-up sweeps the 27th again
    await db.dispose()
    _off_loop(upgrade, db.url, schema=db.schema)
    rerun = await run_sweep(db, NOV_27, policy, keep=False)
    assert rerun.enqueued == 2


async def test_reminders_for_a_channel_nobody_sends_do_not_hold_the_round_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rounds, "ROUND_CADRES", 1)  # a cadre a batch
    async with db.transaction() as s:
        on_wecom, on_telegram = await f.cadre(s, "企微"), await f.cadre(s, "电报")
        await f.account(s, on_wecom, "wecom", chat_id="wx1")
        await f.account(s, on_telegram, chat_id="703")
        for who in (on_wecom, on_telegram):
            await f.pairing(s, who, await f.household(s))
    policy = Policy()
    await open_round(db, NOV_27, policy)
    time = VirtualTime(NOV_27 + timedelta(minutes=5))
    tg = RecordingSender("telegram", time)  # this process sends on Telegram only
    dispatcher = Dispatcher(
        db, [tg], settings=settings(reminders_ahead=1), clock=time.clock, sleep=time.sleep,
        policy=policy,
    )  # fmt: skip
    for _ in range(3):
        await dispatcher.run_once()
    assert [d.chat_id for d in tg.delivered] == ["703"]


class _Broken(RoundFeeder):
    async def feed(self, *, now: datetime, want: int) -> rounds.Fed:
        raise RuntimeError("the round's statement failed")


async def test_a_round_that_cannot_be_derived_does_not_stop_what_is_queued(db: Database) -> None:
    await _two_cadres(db)
    policy = Policy()
    await open_round(db, NOV_27, policy)
    time = VirtualTime(NOV_27 + timedelta(minutes=5))
    tg = RecordingSender("telegram", time)
    await put(db, "telegram", "555", "digest:1", "周汇总")
    dispatcher = Dispatcher(
        db, [tg], settings=settings(), clock=time.clock, sleep=time.sleep, policy=policy,
        rounds=_Broken(db, policy),
    )  # fmt: skip
    assert (await dispatcher.run_once()).sent == 1
    assert [d.text for d in tg.delivered] == ["周汇总"]
