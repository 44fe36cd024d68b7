"""Escalation taken a chunk of cadres at a time (as the reminder sweep): with chunks of two
cadres, a township's five lapses still reach its group once, in one message; an appeal goes
also to its handling unit's group; a rerun (any chunk size) adds nothing."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.config import DispatchSettings
from bot.dispatch import Dispatcher
from core.clock import FixedClock
from core.policy import Policy
from reminders.escalate import run_escalation
from storage.models import Problem
from storage.people import bind_group
from tests import factories as f
from tests.test_escalation_year import Recorder

TZ = ZoneInfo("Asia/Shanghai")
TOWN_GROUP, DEPT_GROUP = "-100100", "-100300"


async def test_chunks_of_two_cadres_still_give_each_group_one_message(db) -> None:
    async with db.transaction() as s:
        village = await f.unit(s, "博白县/顿谷镇/旧门村")
        town = await f.unit(s, "博白县/顿谷镇")
        dept = await f.unit(s, "博白县/县直/住建局")
        names = ["王一", "王二", "王三", "王四", "王五"]
        cadres = [await f.cadre(s, n, at=town) for n in names]
        for n, cadre in enumerate(cadres):
            hh = await f.household(s, f"李{n}", village=village)
            await f.pairing(s, cadre, hh, start=date(2026, 12, 15))
        hh = await f.household(s, "张三", village=village)
        s.add(Problem(household_id=hh.id, cadre_id=cadres[4].id, description="房屋漏雨",
                      raised_on=date(2027, 1, 2), category="住房", handler_unit_id=dept.id,
                      due_on=date(2027, 1, 20), created_at=f.T0))  # fmt: skip
        for chat, unit in ((TOWN_GROUP, town), (DEPT_GROUP, dept)):
            await bind_group(s, channel="telegram", chat_id=chat, unit_id=unit.id, title="",
                             now=f.T0)  # fmt: skip
    clock = FixedClock(datetime(2027, 2, 1, 10, 0, tzinfo=TZ))  # January's calls are missing
    result = await run_escalation(db, clock.now(), Policy(), chunk=2)
    assert (result.lapses, result.groups) == (6, 2)
    recorder = Recorder(clock)
    await Dispatcher(db, [recorder], settings=DispatchSettings(), clock=clock).run_once()

    town_texts = [text for chat, text, _ in recorder.sent if chat == TOWN_GROUP]
    dept_texts = [text for chat, text, _ in recorder.sent if chat == DEPT_GROUP]
    assert len(town_texts) == 1 and len(dept_texts) == 1
    for name in names:
        assert town_texts[0].count(name) == 1 + (name == "王五")  # 王五: the call and the appeal
    assert "房屋漏雨" in dept_texts[0] and "王一" not in dept_texts[0]

    for size in (1, 2000):
        again = await run_escalation(db, clock.now(), Policy(), chunk=size)
        assert (again.lapses, again.enqueued) == (0, 0)
