"""Reminders rendered when sent: the sweep stores the duties, the dispatcher sends the text.

The text a cadre gets is `build_reply`'s, made from what the sweep saw; a household renamed,
or a pairing ended, between the sweep and the send does not change the message (it says what
was due that morning, as it did when the text was made by the sweep). Rows queued with their
text (before this form) still send as they are.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.dispatch import Dispatcher
from core.payload import payload_to_reply
from core.policy import Policy
from reminders.duties import staged_duties
from reminders.sweep import run_sweep
from storage.db import Database
from storage.models import Household, OutboxMessage, Pairing
from tests import factories as f
from tests.dispatch_helpers import RecordingSender, VirtualTime, put, settings
from tests.reminder_reference import build_reply

TZ = ZoneInfo("Asia/Shanghai")
NOV_27 = datetime(2026, 11, 27, 9, 0, tzinfo=TZ)  # a monthly contact stage day


async def _county(db: Database) -> tuple[int, list[int]]:
    """A cadre with 35 households due (more than a message lists), an event overdue."""
    async with db.transaction() as s:
        who = await f.cadre(s, "王芳")
        await f.account(s, who, chat_id="777")
        homes = [await f.household(s, f"户{i:02d}") for i in range(35)]
        for h in homes:
            await f.pairing(s, who, h)
        await f.event(s, who, homes[3], "illness", date(2026, 11, 21), date(2026, 11, 23))
        return who.id, [h.id for h in homes]


def _dispatcher(db: Database, time: VirtualTime, tg: RecordingSender) -> Dispatcher:
    return Dispatcher(db, [tg], settings=settings(), clock=time.clock, sleep=time.sleep)


async def test_the_sent_text_is_build_replys(db: Database) -> None:
    await _county(db)
    policy = Policy()
    async with db.sessions() as s:
        duties = await staged_duties(s, NOV_27.date(), policy)
    assert {d.kind for d in duties} == {"contact", "event"}
    await run_sweep(db, NOV_27, policy)
    async with db.sessions() as s:
        (row,) = (await s.scalars(select(OutboxMessage))).all()
    assert "text" not in row.payload  # the facts are stored, the text is made when sent
    time = VirtualTime(datetime(2026, 11, 27, 2, 0, tzinfo=ZoneInfo("UTC")))
    tg = RecordingSender("telegram", time)
    assert (await _dispatcher(db, time, tg).run_once()).sent == 1
    expected = build_reply("王芳", duties, NOV_27.date(), "zh")
    assert [d.text for d in tg.delivered] == [expected.text]
    assert payload_to_reply(row.payload) == expected  # the buttons too
    assert "……另有 5 户" in expected.text and "入户已逾期" in expected.text


async def test_renamed_household_and_ended_pairing_send_as_swept(db: Database) -> None:
    _, homes = await _county(db)
    await run_sweep(db, NOV_27, Policy())
    async with db.sessions() as s:
        (row,) = (await s.scalars(select(OutboxMessage))).all()
    swept = payload_to_reply(row.payload).text
    async with db.transaction() as s:  # after the sweep, before the send
        await s.execute(update(Household).where(Household.id == homes[0]).values(head_name="新名"))
        await s.execute(
            update(Pairing)
            .where(Pairing.household_id == homes[1])
            .values(active=False, end_date=date(2026, 11, 26))
        )
    time = VirtualTime(datetime(2026, 11, 27, 2, 0, tzinfo=ZoneInfo("UTC")))
    tg = RecordingSender("telegram", time)
    await _dispatcher(db, time, tg).run_once()
    assert [d.text for d in tg.delivered] == [swept]
    assert "户00" in swept and "新名" not in swept
    # A sweep run again sees the change: the ended pairing is no longer due.
    async with db.sessions() as s:
        later = await staged_duties(s, NOV_27.date(), Policy())
    assert homes[1] not in {d.household_id for d in later}
    assert homes[0] in {d.household_id for d in later}


async def test_a_row_queued_with_its_text_still_sends(db: Database) -> None:
    time = VirtualTime()
    tg = RecordingSender("telegram", time)
    await put(db, "telegram", "555", "remind:old", "请联系张三")
    assert (await _dispatcher(db, time, tg).run_once()).sent == 1
    assert [d.text for d in tg.delivered] == ["请联系张三"]
