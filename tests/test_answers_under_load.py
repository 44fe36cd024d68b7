"""While a 2,000-reminder round goes out, 200 cadres press their reminder's button: every
press is answered and no limit is broken at the platform (counted, not timed; the timing
is in tests/perf_answers_under_load.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import DispatchSettings, ScheduleSettings
from bot.run import start
from core.clock import FixedClock
from storage.db import Database
from storage.outbox import NewMessage, enqueue
from tests import factories as f
from tests.dispatch_helpers import max_in_window
from tests.fakes.telegram_api import Call, FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.tg_support import bot_settings

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)
REMINDERS, PRESSES = 2000, 200
# Ten times Telegram's pace, so the test takes seconds; the rules are what is checked.
OVERALL, PER_CHAT = "300/s", "1/0.1s"


def _mine_button() -> dict[str, object]:
    return {"text": "该联系张三了", "buttons": [[{"label": "我的", "data": "m:mine"}]]}


async def _seed(db: Database, cadres: list[TgUser]) -> None:
    async with db.transaction() as s:
        for user in cadres:
            cadre = await f.cadre(s, f"干部{user.id}")
            await f.account(s, cadre, account_id=str(user.id), chat_id=str(user.id))
        rows = [
            NewMessage(
                f"r{i}",
                "telegram",
                str(cadres[i].id if i < len(cadres) else 5_000_000 + i),
                "reminder",
                payload=_mine_button(),
            )
            for i in range(REMINDERS)
        ]
        await enqueue(s, rows, now=NOW)


def _at(calls: list[Call]) -> list[datetime]:
    return [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=c.at) for c in calls]


async def test_presses_during_a_big_round_are_all_answered_within_the_limits(
    db: Database,
) -> None:
    cadres = [TgUser(800_000 + i, f"干部{i}") for i in range(PRESSES)]
    await _seed(db, cadres)
    async with FakeTelegram() as tg:
        settings = bot_settings(tg, poll_timeout=1)
        settings.schedule = ScheduleSettings(enabled=False, dispatch_interval_seconds=0.2)
        settings.dispatch = DispatchSettings(
            telegram_overall=OVERALL, telegram_per_chat=PER_CHAT, batch_size=500, concurrency=64
        )
        rt = await start(settings, db=db, clock=FixedClock(NOW))
        try:
            pressed: set[int] = set()
            while len(pressed) < PRESSES:  # press as soon as the reminder is there
                await tg.wait_for("sendMessage", len(tg.calls_to("sendMessage")) + 1, 60)
                for user in cadres:
                    if user.id not in pressed and tg.buttons(user.id):
                        tg.press(user, "m:mine")
                        pressed.add(user.id)
            for _ in range(2000):
                if all(len(tg.texts(u.id)) >= 2 for u in cadres):
                    break
                await tg.wait_for("sendMessage", len(tg.calls_to("sendMessage")) + 1, 60)
            reminders_done = len(tg.calls_to("sendMessage"))
        finally:
            await rt.stop()
    answered = [u for u in cadres if len(tg.texts(u.id)) >= 2]
    assert len(answered) == PRESSES  # every press answered
    sends = [c for c in tg.calls_to("sendMessage") if c.status == 200]
    assert reminders_done <= len(sends)
    assert not [c for c in tg.calls_to("sendMessage") if c.status == 429]
    limits = settings.dispatch
    overall, per_chat = limits.telegram_overall, limits.telegram_per_chat
    assert max_in_window(_at(sends), overall.per_seconds) <= overall.count
    by_chat: dict[object, list[Call]] = {}
    for call in sends:
        by_chat.setdefault(call.params["chat_id"], []).append(call)
    violations = sum(
        1
        for calls in by_chat.values()
        if max_in_window(_at(calls), per_chat.per_seconds) > per_chat.count
    )
    assert violations == 0
