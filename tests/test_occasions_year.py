"""保康's personal occasions over a year: a party member's birthday and 入党纪念日 become visit
duties a week ahead, reminded once each, never in quiet hours, never to a cadre on leave.

2027, with birthdays and party anniversaries switched on in the policy (members only). The
sweep runs at 22:30 (quiet hours: messages wait for 08:00); the dispatcher at 09:00.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.config import DispatchSettings, load_settings
from bot.dispatch import Dispatcher
from core.clock import FixedClock
from core.policy import Policy
from core.programme import OccasionPolicy
from reminders.duties import staged_duties
from reminders.sweep import run_sweep
from tests import factories as f
from tests.test_escalation_year import Recorder

TZ = ZoneInfo("Asia/Shanghai")
POLICY = Policy(
    festivals=[],
    farming_seasons=[],
    occasions=OccasionPolicy(birthday=True, party_anniversary=True),
)


async def _roster(db):  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        village = await f.unit(s, "保康县/马桥镇/堰垭村")
        a = await f.cadre(s, "王芳", at=village)
        b = await f.cadre(s, "陈明", at=village, leave_until=date(2027, 7, 20))
        member = await f.household(
            s, "张三", village=village, party_member=True,
            birth_date=date(1960, 3, 15), party_date=date(1985, 7, 1),
        )  # fmt: skip
        plain = await f.household(s, "李四", village=village, birth_date=date(1970, 5, 5))
        leap = await f.household(
            s, "王五", village=village, party_member=True,
            birth_date=date(1964, 2, 29),
        )  # fmt: skip
        away = await f.household(
            s, "赵六", village=village, party_member=True, party_date=date(1990, 7, 10)
        )
        for who, hh in ((a, member), (a, plain), (a, leap), (b, away)):
            await f.pairing(s, who, hh, start=date(2026, 1, 1))
        await f.account(s, a, chat_id="501")
        await f.account(s, b, chat_id="502")
    return a, member


async def test_a_party_members_birthday_is_a_visit_duty_a_week_ahead(db) -> None:
    await _roster(db)
    async with db.sessions() as session:
        duties = await staged_duties(session, date(2027, 3, 8), POLICY)
    [birthday] = [d for d in duties if d.kind == "birthday"]
    assert (birthday.pairing.head_name, birthday.due_on) == ("张三", date(2027, 3, 22))
    async with db.sessions() as session:
        off = await staged_duties(session, date(2027, 3, 8), Policy(festivals=[]))
    assert not [d for d in off if d.kind == "birthday"]  # switched off by default (博白)


async def test_a_year_of_personal_occasions(db) -> None:
    await _roster(db)
    clock = FixedClock(datetime(2027, 1, 1, 9, tzinfo=TZ))
    recorder = Recorder(clock)
    dispatcher = Dispatcher(db, [recorder], settings=DispatchSettings(), clock=clock)
    day, queued = date(2027, 1, 1), 0
    while day <= date(2027, 12, 31):
        clock.set(datetime.combine(day, time(9), tzinfo=TZ))
        if queued:
            await dispatcher.run_once()
        clock.set(datetime.combine(day, time(22, 30), tzinfo=TZ))
        queued = (await run_sweep(db, clock.now(), POLICY)).enqueued
        if queued:
            await dispatcher.run_once()
        day += timedelta(days=1)

    for _, _, at in recorder.sent:
        assert not POLICY.in_quiet_hours(at.time()), f"sent in quiet hours at {at}"
    personal = [
        (chat, at.date(), line)
        for chat, text, at in recorder.sent
        for line in text.split("\n")
        if "生日必访" in line or "入党纪念日必访" in line
    ]
    assert personal == [
        (
            "501",
            date(2027, 2, 22),
            "· 王五（堰垭村）：2月28日（周日）生日必访，3月7日（周日）前",
        ),  # born 29 Feb
        ("501", date(2027, 3, 9), "· 张三（堰垭村）：3月15日（周一）生日必访，3月22日（周一）前"),
        (
            "501",
            date(2027, 6, 25),
            "· 张三（堰垭村）：7月1日（周四）入党纪念日必访，7月8日（周四）前",
        ),
        # 李四 is not a party member; 赵六's 入党纪念日 (10 July) falls while 陈明 is on
        # leave: nobody is told.
    ]


def test_occasions_switch_by_config_only() -> None:
    settings = load_settings(policy={"occasions": {"birthday": True, "days_before": [7, 1]}})
    assert settings.policy.occasions.birthday and settings.policy.occasions.days_before == [1, 7]
