"""The reminder sweep: once per duty-stage, one message per cadre, leave, blocked, quiet hours."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.payload import payload_to_reply
from core.policy import Policy
from core.reminder_text import KEY
from reminders.sweep import preview_sweep, run_sweep
from storage.db import Database
from storage.models import OutboxMessage, ReminderMark
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
POLICY = Policy()
NOV_20 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # a monthly-contact stage day


async def _outbox(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as s:
        return list((await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


async def test_one_message_per_cadre_lists_every_due_household(db):
    async with db.transaction() as s:
        who = await f.cadre(s, "王芳")
        homes = [await f.household(s, n) for n in ("李一", "李二", "李三")]
        for h in homes:
            await f.pairing(s, who, h)
        await f.account(s, who, chat_id="777")
        await f.contact(s, who, homes[2], "call", date(2026, 11, 3))  # this one is done
        await f.contact(s, who, homes[1], "other", date(2026, 11, 4))  # "other" is no contact
    result = await run_sweep(db, NOV_20, POLICY)
    (row,) = await _outbox(db)
    reply = payload_to_reply(row.payload)
    assert (row.channel, row.chat_id, row.kind, row.cadre_id) == (
        "telegram",
        "777",
        "reminder",
        who.id,
    )
    assert "王芳" in reply.text and "李一" in reply.text and "李二" in reply.text
    assert "李三" not in reply.text and "11月30日（周一）前" in reply.text
    assert [[b.data for b in r] for r in reply.buttons] == [
        [f"rep:h:{homes[0].id}", f"rep:h:{homes[1].id}"]
    ]
    assert result.enqueued == 1 and result.duties == 2
    assert row.due_on == date(2026, 11, 30)  # its earliest duty's: the round's order


async def test_english_account_gets_english_text(db):
    async with db.transaction() as s:
        who = await f.cadre(s, "Wang")
        await f.pairing(s, who, await f.household(s, "Li"))
        await f.account(s, who, language="en")
    await run_sweep(db, NOV_20, POLICY)
    (row,) = await _outbox(db)
    assert "contact due by Mon 30 Nov" in payload_to_reply(row.payload).text


async def test_nothing_on_a_day_without_stages(db):
    async with db.transaction() as s:
        await f.county(s, cadres=2, households_each=2)
    result = await run_sweep(db, datetime(2026, 11, 19, 9, tzinfo=TZ), POLICY)
    assert result.reminders == () and await _outbox(db) == []


async def test_rerun_enqueues_nothing_twice_but_a_new_duty_still_goes_out(db):
    async with db.transaction() as s:
        (who,) = await f.county(s, cadres=1, households_each=2)
    first = await run_sweep(db, NOV_20, POLICY)
    second = await run_sweep(db, NOV_20.replace(hour=16), POLICY)
    assert (first.enqueued, first.duties, second.enqueued, second.duties) == (1, 2, 0, 0)
    async with db.transaction() as s:  # paired in the afternoon: reminded of that one only
        newcomer = await f.household(s, "新户")
        await f.pairing(s, who, newcomer)
    third = await run_sweep(db, NOV_20.replace(hour=17), POLICY)
    assert third.enqueued == 1 and [d.household_id for d in third.reminders[0].duties] == [
        newcomer.id
    ]
    assert len(await _outbox(db)) == 2


async def test_leave_pauses_reminders_until_it_ends(db):
    async with db.transaction() as s:
        who = await f.cadre(s, "休假", leave_until=date(2026, 11, 20))
        await f.pairing(s, who, await f.household(s))
        await f.account(s, who)
    assert (await run_sweep(db, NOV_20, POLICY)).reminders == ()
    later = await run_sweep(db, datetime(2026, 11, 27, 9, tzinfo=TZ), POLICY)
    assert [r.cadre_id for r in later.reminders] == [who.id]


async def test_blocked_accounts_are_skipped(db):
    async with db.transaction() as s:
        who = await f.cadre(s)
        await f.pairing(s, who, await f.household(s))
        await f.account(s, who, "telegram", blocked_at=datetime(2026, 11, 1, tzinfo=UTC))
        ok = await f.account(s, who, "wecom")
        gone = await f.cadre(s)
        await f.pairing(s, gone, await f.household(s))
        await f.account(s, gone, blocked_at=datetime(2026, 11, 1, tzinfo=UTC))
    result = await run_sweep(db, NOV_20, POLICY)
    rows = await _outbox(db)
    assert [(r.channel, r.chat_id) for r in rows] == [("wecom", ok.chat_id)]
    assert result.unreachable == (gone.id,)
    # Not marked as reminded: once the cadre binds again the same day, the sweep tells them.
    async with db.transaction() as s:
        await f.account(s, gone)
    assert [r.cadre_id for r in (await run_sweep(db, NOV_20, POLICY)).reminders] == [gone.id]


async def test_inactive_cadres_ended_pairings_and_exited_households_are_skipped(db):
    async with db.transaction() as s:
        retired = await f.cadre(s, active=False)
        await f.pairing(s, retired, await f.household(s))
        await f.account(s, retired)
        who = await f.cadre(s)
        await f.account(s, who)
        await f.pairing(s, who, await f.household(s), end_date=date(2026, 11, 19))
        await f.pairing(s, who, await f.household(s, status="exited"))
        await f.pairing(s, who, await f.household(s), start=date(2026, 11, 21))
    assert (await run_sweep(db, NOV_20, POLICY)).reminders == ()


async def test_quiet_hours_defer_sending_to_the_morning(db):
    async with db.transaction() as s:
        await f.county(s, cadres=1, households_each=1)
    result = await run_sweep(db, NOV_20.replace(hour=22, minute=30), POLICY)
    (row,) = await _outbox(db)
    morning = datetime(2026, 11, 21, 8, 0, tzinfo=TZ)
    assert result.not_before == morning and row.next_attempt_at == morning
    assert result.detail()["deferred_to"] == "2026-11-21T08:00:00+08:00"


async def test_before_quiet_end_waits_for_the_same_morning(db):
    async with db.transaction() as s:
        await f.county(s, cadres=1, households_each=1)
    await run_sweep(db, NOV_20.replace(hour=6), POLICY)
    (row,) = await _outbox(db)
    assert row.next_attempt_at == NOV_20.replace(hour=8)


async def test_daytime_sweep_sends_at_once(db):
    async with db.transaction() as s:
        await f.county(s, cadres=1, households_each=1)
    result = await run_sweep(db, NOV_20, POLICY)
    (row,) = await _outbox(db)
    assert result.not_before is None and row.next_attempt_at == NOV_20


async def test_preview_writes_nothing_and_omits_what_was_sent(db):
    async with db.transaction() as s:
        await f.county(s, cadres=2, households_each=1)
    preview = await preview_sweep(db, NOV_20, POLICY)
    assert len(preview.messages) == 2 and preview.enqueued == 0 and await _outbox(db) == []
    await run_sweep(db, NOV_20, POLICY)
    assert (await preview_sweep(db, NOV_20, POLICY)).messages == []


async def test_two_concurrent_sweeps_enqueue_each_reminder_once(db):
    async with db.transaction() as s:
        await f.county(s, cadres=60, households_each=3)
    other = Database(db.url, schema=db.schema)
    try:
        results = await asyncio.gather(
            run_sweep(db, NOV_20, POLICY), run_sweep(other, NOV_20.replace(second=1), POLICY)
        )
    finally:
        await other.dispose()
    rows = await _outbox(db)
    assert len(rows) == 60 and len({r.cadre_id for r in rows}) == 60
    assert sum(r.enqueued for r in results) == 60
    keys = [d.key for r in results for c in r.reminders for d in c.duties]
    assert len(keys) == len(set(keys)) == 180
    # The outbox rows are the claims: each of the day, listing its cadre's three duties; no
    # reminder mark is written besides them.
    assert {r.stage_on for r in rows} == {NOV_20.date()}
    claimed = [d[KEY] for r in rows for d in r.payload["reminder"]["duties"]]
    assert sorted(claimed) == sorted(keys)
    async with db.sessions() as s:
        assert (await s.execute(select(ReminderMark.key))).all() == []


@pytest.mark.parametrize("in_sql", [False, True])
async def test_marks_written_before_the_outbox_held_claims_still_hold(db, in_sql):
    """A day swept before migration 0018 claimed its duties in reminder_marks: a sweep of
    that day after the upgrade (in SQL or in Python) does not say them again."""
    async with db.transaction() as s:
        await f.county(s, cadres=4, households_each=3)
    preview = await run_sweep(db, NOV_20, POLICY, dry_run=True)
    first = preview.reminders[0]
    said = sorted(d.key for d in first.duties[:2])
    async with db.transaction() as s:
        s.add(
            ReminderMark(
                key=f"remind:{first.cadre_id}:{NOV_20.date()}:abcdef012345",
                cadre_id=first.cadre_id,
                stage_on=NOV_20.date(),
                created_at=NOV_20,
                duties="\n".join(said),
            )
        )
    await run_sweep(db, NOV_20, POLICY, keep=not in_sql)
    rows = await _outbox(db)
    assert len(rows) == 4
    mine = [r for r in rows if r.cadre_id == first.cadre_id]
    left = [d[KEY] for r in mine for d in r.payload["reminder"]["duties"]]
    assert sorted(left) == sorted({d.key for d in first.duties} - set(said))
    assert len(left) == len(first.duties) - 2 > 0


async def test_festival_and_farming_stages_and_their_windows(db):
    async with db.transaction() as s:
        who = await f.cadre(s)
        await f.account(s, who)
        visited, missed = await f.household(s, "走访过"), await f.household(s, "未走访")
        await f.pairing(s, who, visited)
        await f.pairing(s, who, missed)
        # 中秋 2026 is Sep 25, its window Sep 18 – Oct 2: a visit on the 18th fulfils it.
        await f.contact(s, who, visited, "visit", date(2026, 9, 18))
    festival = await run_sweep(db, datetime(2026, 9, 18, 9, tzinfo=TZ), POLICY)
    assert {(d.household_id, d.kind, d.label) for d in festival.reminders[0].duties} == {
        (missed.id, "festival", "中秋")
    }
    # 秋收 starts at 秋分 (Sep 23) and is reminded 3 days before; the 18th is outside it.
    # Sep 20 is also a monthly-contact day and 10 days before the quarter ends.
    farming = await run_sweep(db, datetime(2026, 9, 20, 9, tzinfo=TZ), POLICY)
    assert {(d.household_id, d.kind, d.label) for d in farming.reminders[0].duties} == {
        (visited.id, "farming", "秋收"),
        (missed.id, "farming", "秋收"),
        (missed.id, "contact", ""),
        (missed.id, "visit", ""),
    }
    (_, row) = await _outbox(db)
    assert "秋收农忙必访，10月8日（周四）前" in payload_to_reply(row.payload).text


async def test_overdue_event_says_so(db):
    policy = Policy(event_visit_days=2)
    async with db.transaction() as s:
        who = await f.cadre(s)
        await f.account(s, who)
        home = await f.household(s, "病户")
        await f.pairing(s, who, home)
        await f.event(s, who, home, "illness", date(2026, 11, 10), date(2026, 11, 12))
        await f.contact(s, who, home, "visit", date(2026, 11, 9))  # before the event: no use
    await run_sweep(db, datetime(2026, 11, 13, 9, tzinfo=TZ), policy)
    (row,) = await _outbox(db)
    assert "重病，入户已逾期，应于11月12日（周四）前" in payload_to_reply(row.payload).text
