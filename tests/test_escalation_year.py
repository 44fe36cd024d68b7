"""A year of escalation, day by day with the injected clock: every lapse named once, in the
nearest supervisors' group, never in quiet hours, never for a cadre on leave.

2027 with the default (博白) policy: the month's call and the quarter's visit are raised on
the 1st after their period, an event visit the day after its deadline. Escalation runs at
22:30 (quiet hours: its messages wait for 08:00); the dispatcher runs at 22:30 and 09:00.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import DispatchSettings
from bot.dispatch import Dispatcher
from core.clock import FixedClock
from core.policy import Policy
from core.types import Reply
from reminders.escalate import run_escalation
from storage.people import bind_group
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
POLICY = Policy()
TOWN_GROUP, COUNTY_GROUP = "-100100", "-100200"


class Recorder:
    """A Telegram sender that keeps what it was given and when (by the injected clock)."""

    channel = "telegram"

    def __init__(self, clock: FixedClock) -> None:
        self.clock, self.sent = clock, []  # type: ignore[var-annotated]

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent.append((chat_id, reply.text, self.clock.now()))


async def _roster(db):  # type: ignore[no-untyped-def]
    start = date(2026, 12, 15)  # no whole December 2026 to answer for
    async with db.transaction() as s:
        village = await f.unit(s, "博白县/顿谷镇/旧门村")
        town = await f.unit(s, "博白县/顿谷镇")
        county = await f.unit(s, "博白县")
        a = await f.cadre(s, "王芳", at=town)
        b = await f.cadre(s, "陈明", at=town, leave_until=date(2027, 3, 10))
        c = await f.cadre(s, "刘强", at=await f.unit(s, "博白县/县直/组织部"))
        hh = {n: await f.household(s, n, village=village) for n in ["李一", "李二", "张三", "赵四"]}
        for who, name in ((a, "李一"), (a, "李二"), (b, "张三"), (c, "赵四")):
            await f.pairing(s, who, hh[name], start=start)
        await f.event(s, a, hh["李一"], "illness", date(2027, 6, 10), date(2027, 6, 17))
        await f.event(s, b, hh["张三"], "death", date(2027, 2, 1), date(2027, 2, 8))  # on leave
        for chat, unit in ((TOWN_GROUP, town), (COUNTY_GROUP, county)):
            await bind_group(
                s, channel="telegram", chat_id=chat, unit_id=unit.id, title="", now=f.T0
            )
    return a, c, hh


async def _report_on_the_5th(db, day: date, a, c, hh) -> None:  # type: ignore[no-untyped-def]
    """The 5th of each month: 李一 visited, 李二 called in odd months, 赵四 called."""
    if day.day != 5:
        return
    async with db.transaction() as s:
        await f.contact(s, a, hh["李一"], "visit", day)
        if day.month % 2:
            await f.contact(s, a, hh["李二"], "call", day)
        await f.contact(s, c, hh["赵四"], "call", day)


def lines(sent: list[tuple[str, str, datetime]], chat: str) -> list[str]:
    return [ln for c, text, _ in sent if c == chat for ln in text.split("\n") if ln.startswith("·")]


async def test_a_year_of_escalation(db) -> None:
    a, c, hh = await _roster(db)
    clock = FixedClock(datetime(2027, 1, 1, 9, 0, tzinfo=TZ))
    recorder = Recorder(clock)
    dispatcher = Dispatcher(db, [recorder], settings=DispatchSettings(), clock=clock)
    day, queued = date(2027, 1, 1), 0
    while day <= date(2027, 12, 31):
        clock.set(datetime.combine(day, time(9), tzinfo=TZ))
        if queued:  # (only then: a round over an empty outbox proves nothing and costs time)
            await dispatcher.run_once()  # what the night's run deferred goes out now
        await _report_on_the_5th(db, day, a, c, hh)
        clock.set(datetime.combine(day, time(22, 30), tzinfo=TZ))
        queued = (await run_escalation(db, clock.now(), POLICY)).enqueued
        if queued:
            await dispatcher.run_once()  # quiet hours: nothing may leave now
            assert not recorder.sent or recorder.sent[-1][2] < clock.now(), "sent at night"
        day += timedelta(days=1)

    for _, _, at in recorder.sent:
        assert not POLICY.in_quiet_hours(at.time()), f"sent in quiet hours at {at}"
    town, county = lines(recorder.sent, TOWN_GROUP), lines(recorder.sent, COUNTY_GROUP)
    assert len(town) == len(set(town)) and len(county) == len(set(county)), "a lapse named twice"

    def named(who: str, household: str, what: str) -> int:
        return sum(who in ln and household in ln and what in ln for ln in town + county)

    # 李二 is called in odd months only: Feb, Apr, Jun, Aug, Oct (December's is for 2028).
    assert named("王芳", "李二", "未联系") == 5
    assert sum("李二" in ln and "2月1日至2月28日未联系" in ln for ln in town) == 1
    assert named("王芳", "李二", "未入户走访") == 3  # Q1–Q3
    assert named("王芳", "李一", "") == 1 and named("王芳", "李一", "重病") == 1  # the event
    # 陈明 was on leave until 10 March: January to March are excused, and so is the death
    # in 张三's family while he was away; from April his lapses are raised.
    assert named("陈明", "张三", "未联系") == 8  # April to November
    assert named("陈明", "张三", "未入户走访") == 2  # Q2, Q3
    assert named("陈明", "张三", "丧事") == 0
    excused = ("至1月31日", "至2月28日", "至3月31日")
    assert not any(e in ln for ln in town if "陈明" in ln for e in excused)
    # The county office's cadre goes to the county group (nearest above), the town's to the town.
    assert named("刘强", "赵四", "未入户走访") == 3
    assert all("刘强" in ln for ln in county) and not any("刘强" in ln for ln in town)
    assert Counter(c for c, _, _ in recorder.sent) == {
        TOWN_GROUP: len({at.date() for c, _, at in recorder.sent if c == TOWN_GROUP}),
        COUNTY_GROUP: 3,
    }, "more than one message per group per day"
