"""Answers while a reminder round goes out: press → answer latency and limit violations.

A benchmark, not a test (it prints figures); it lives with the tests because it drives the
fake Bot API in tests/fakes, which bench/ may not import.

    python -m tests.perf_answers_under_load                    # 2,000 reminders, 200 presses
    python -m tests.perf_answers_under_load --reminders 500 --presses 50

The real `bangfu run` process (polling, SQLite in a temporary file) against the fake Bot API
with Telegram's own limits (30/s for the bot, 1/s a chat). The round starts; each of
`--presses` cadres presses 我的 on their reminder as soon as it arrives. Prints p50 and p99
of press → answer, how many presses were answered, and the limit violations seen at the
fake (sendMessage arrivals over 30 in a second, or over 1 a second in one chat).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import DispatchSettings, ScheduleSettings
from bot.run import start
from core.clock import FixedClock
from storage.db import Database
from storage.migrate import upgrade_async
from storage.outbox import NewMessage, enqueue
from tests import factories as f
from tests.dispatch_helpers import max_in_window
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.tg_support import bot_settings

# 09:00 Beijing, in the county's zone: a UTC clock would read 01:00, inside the quiet hours.
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


class Timed(FakeTelegram):
    """The fake Bot API, noting when each chat got a message."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.got: dict[int, list[float]] = {}

    async def _m_sendMessage(self, p: dict[str, Any], files: dict[str, bytes]) -> Any:
        msg = await super()._m_sendMessage(p, files)
        self.got.setdefault(int(p["chat_id"]), []).append(time.perf_counter())
        return msg


async def run(reminders: int, presses: int) -> None:
    cadres = [TgUser(800_000 + i, f"干部{i}") for i in range(presses)]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/load.db"
        await upgrade_async(url)
        db = Database(url)
        async with db.transaction() as s:
            for user in cadres:
                cadre = await f.cadre(s, f"干部{user.id}")
                await f.account(s, cadre, account_id=str(user.id), chat_id=str(user.id))
            payload = {"text": "该联系张三了", "buttons": [[{"label": "我的", "data": "m:mine"}]]}
            chats = [str(u.id) for u in cadres] + [
                str(5_000_000 + i) for i in range(reminders - presses)
            ]
            # Cadres' reminders spread through the round, not all first.
            step = max(1, len(chats) // max(1, presses))
            order = sorted(range(len(chats)), key=lambda i: (i * step) % len(chats))
            rows = [
                NewMessage(f"r{i}", "telegram", chats[j], "reminder", payload=payload)
                for i, j in enumerate(order)
            ]
            await enqueue(s, rows, now=NOW)
        async with Timed() as tg:
            settings = bot_settings(tg, poll_timeout=10)
            settings.schedule = ScheduleSettings(enabled=False, dispatch_interval_seconds=0.5)
            settings.dispatch = DispatchSettings()
            began = time.perf_counter()
            rt = await start(settings, db=db, clock=FixedClock(NOW))
            pressed_at: dict[int, float] = {}
            try:
                while len(pressed_at) < presses:
                    await tg.wait_for("sendMessage", len(tg.calls_to("sendMessage")) + 1, 300)
                    for user in cadres:
                        if user.id not in pressed_at and tg.buttons(user.id):
                            pressed_at[user.id] = time.perf_counter()
                            tg.press(user, "m:mine")
                while len(tg.calls_to("sendMessage")) < reminders + presses:
                    await tg.wait_for("sendMessage", len(tg.calls_to("sendMessage")) + 1, 300)
                elapsed = time.perf_counter() - began
            finally:
                await rt.stop()
                await db.dispose()
    latency = sorted(
        next(t for t in tg.got[u] if t > pressed_at[u]) - pressed_at[u]
        for u in pressed_at
        if any(t > pressed_at[u] for t in tg.got.get(u, []))
    )
    sends = [c for c in tg.calls_to("sendMessage") if c.status == 200]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    overall = max_in_window([base + timedelta(seconds=c.at) for c in sends], 1.0)
    by_chat: dict[Any, list[datetime]] = {}
    for c in sends:
        by_chat.setdefault(c.params["chat_id"], []).append(base + timedelta(seconds=c.at))
    per_chat = sum(1 for v in by_chat.values() if max_in_window(v, 1.0) > 1)
    p99 = latency[min(len(latency) - 1, int(len(latency) * 0.99))]
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, "
        f"{os.cpu_count()} cores; {reminders} reminders, {presses} presses"
    )
    print(
        f"round: {elapsed:.1f} s; answered {len(latency)}/{presses}; "
        f"press→answer p50 {statistics.median(latency) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
    )
    print(
        f"most sendMessage in any 1 s: {overall} (limit 30); chats over 1/s: {per_chat}; "
        f"429 answers: {sum(1 for c in tg.calls_to('sendMessage') if c.status == 429)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reminders", type=int, default=2000)
    ap.add_argument("--presses", type=int, default=200)
    args = ap.parse_args()
    asyncio.run(run(args.reminders, args.presses))


if __name__ == "__main__":
    main()
