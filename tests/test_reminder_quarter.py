"""A quarter lived day by day: every cadre gets exactly the reminders due, on the right day, once.

Q4 2026 with the default (博白) policy: monthly contact on the 20th and 27th, quarterly visit
on Dec 1 and Dec 21, 重阳 (Oct 18) reminded a week before, events on day 3 and day 6.
Each day the sweep runs at 09:00 and again at 15:00; reports arrive in the evening.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.payload import payload_to_reply
from core.policy import Policy
from reminders.sweep import run_sweep
from storage.models import OutboxMessage
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
POLICY = Policy()
Q_START, Q_END = date(2026, 10, 1), date(2026, 12, 31)


async def _roster(db):  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        village = await f.unit(s)
        a = await f.cadre(s, "王芳")
        b = await f.cadre(s, "陈明")
        c = await f.cadre(s, "刘强", leave_until=date(2026, 10, 31))  # on leave in October
        d = await f.cadre(s, "周静")
        hh = {
            n: await f.household(s, n, village=village)
            for n in ["李一", "李二", "张三", "赵四", "钱五", "孙六", "吴七"]
        }
        exited = await f.household(s, "郑八", village=village, status="exited")
        for who, names in ((a, ["李一", "李二"]), (b, ["张三"]), (c, ["赵四"]), (d, ["钱五"])):
            for n in names:
                await f.pairing(s, who, hh[n])
        await f.pairing(s, b, hh["孙六"], end_date=date(2026, 10, 31))  # ends with October
        await f.pairing(s, a, hh["吴七"], active=False)  # handed over earlier
        await f.pairing(s, a, exited)
        await f.account(s, a)
        await f.account(s, b)
        await f.account(s, c)
        await f.account(s, c, "wecom")  # two channels: both are reminded
        await f.account(s, d, blocked_at=datetime(2026, 9, 1, tzinfo=UTC))  # blocked the bot
        await f.event(s, a, hh["李一"], "illness", date(2026, 11, 10), date(2026, 11, 17))
        await f.event(s, a, hh["李二"], "dispute", date(2026, 11, 10), date(2026, 11, 17),
                      deleted_at=datetime(2026, 11, 11, tzinfo=UTC))  # fmt: skip
    reports = {
        date(2026, 10, 5): [(b, hh["张三"], "call")],
        date(2026, 10, 15): [(b, hh["张三"], "visit")],  # after the 重阳 reminder, in its window
        date(2026, 11, 14): [(a, hh["李一"], "visit")],  # answers the event; also Nov contact
        date(2026, 11, 22): [(b, hh["张三"], "call")],
        date(2026, 12, 3): [(b, hh["张三"], "call")],
        date(2026, 12, 22): [(c, hh["赵四"], "visit")],  # a visit is also the month's contact
    }
    return (a, b, c, d), hh, reports


def _expected(a, b, c, hh):  # type: ignore[no-untyped-def]
    """Written by hand from the rules, not computed by the code under test."""
    h = {n: x.id for n, x in hh.items()}
    return {
        date(2026, 10, 11): {a.id: {(h["李一"], "festival"), (h["李二"], "festival")},
                             b.id: {(h["张三"], "festival"), (h["孙六"], "festival")}},
        date(2026, 10, 20): {a.id: {(h["李一"], "contact"), (h["李二"], "contact")},
                             b.id: {(h["孙六"], "contact")}},
        date(2026, 10, 27): {a.id: {(h["李一"], "contact"), (h["李二"], "contact")},
                             b.id: {(h["孙六"], "contact")}},
        date(2026, 11, 13): {a.id: {(h["李一"], "event")}},
        date(2026, 11, 20): {a.id: {(h["李二"], "contact")}, b.id: {(h["张三"], "contact")},
                             c.id: {(h["赵四"], "contact")}},
        date(2026, 11, 27): {a.id: {(h["李二"], "contact")}, c.id: {(h["赵四"], "contact")}},
        date(2026, 12, 1): {a.id: {(h["李二"], "visit")}, c.id: {(h["赵四"], "visit")}},
        date(2026, 12, 20): {a.id: {(h["李一"], "contact"), (h["李二"], "contact")},
                             c.id: {(h["赵四"], "contact")}},
        date(2026, 12, 21): {a.id: {(h["李二"], "visit")}, c.id: {(h["赵四"], "visit")}},
        date(2026, 12, 27): {a.id: {(h["李一"], "contact"), (h["李二"], "contact")}},
    }  # fmt: skip


async def test_a_quarter_day_by_day(db):
    (a, b, c, d), hh, reports = await _roster(db)
    got: dict[date, dict[int, set[tuple[int, str]]]] = defaultdict(lambda: defaultdict(set))
    unreachable_days = []
    day = Q_START
    while day <= Q_END:
        morning = await run_sweep(db, datetime.combine(day, time(9), tzinfo=TZ), POLICY)
        for r in morning.reminders:
            got[day][r.cadre_id] |= {(x.household_id, x.kind) for x in r.duties}
        assert morning.enqueued == len(morning.messages)
        again = await run_sweep(db, datetime.combine(day, time(15), tzinfo=TZ), POLICY)
        assert again.reminders == () and again.enqueued == 0, day
        if d.id in morning.unreachable:
            unreachable_days.append(day)
        async with db.transaction() as s:
            for who, household, kind in reports.get(day, []):
                await f.contact(s, who, household, kind, day)
        day += timedelta(days=1)

    expected = _expected(a, b, c, hh)
    assert {k: dict(v) for k, v in got.items() if v} == expected
    # 周静 owes the same as anyone, but her only account blocked the bot: never enqueued.
    assert unreachable_days == [date(2026, 10, 11), date(2026, 10, 20), date(2026, 10, 27),
                                date(2026, 11, 20), date(2026, 11, 27), date(2026, 12, 1),
                                date(2026, 12, 20), date(2026, 12, 21), date(2026, 12, 27)]  # fmt: skip

    async with db.sessions() as s:
        rows = (await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    # One message per cadre per reminder day per account (刘强 has Telegram and WeCom).
    per_day = [(r.next_attempt_at.astimezone(TZ).date(), r.cadre_id, r.channel) for r in rows]
    want = sorted(
        (day, cid, ch)
        for day, cadres in expected.items()
        for cid in cadres
        for ch in (["telegram", "wecom"] if cid == c.id else ["telegram"])
    )
    assert sorted(per_day) == want
    assert d.id not in {r.cadre_id for r in rows}
    # Each message lists every due household with a button that opens its report.
    for row in rows:
        reply = payload_to_reply(row.payload)
        day = row.next_attempt_at.astimezone(TZ).date()
        due = {hid for hid, _ in expected[day][row.cadre_id]}
        assert {bt.data for line in reply.buttons for bt in line} == {f"rep:h:{i}" for i in due}
        names = {n for n, x in hh.items() if x.id in due}
        assert all(n in reply.text for n in names)
