"""Fault injection: the dispatching process is SIGKILLed mid-round, again and again, and
another takes over. Every message is counted at the fake Bot API: none lost, duplicates no
more than the messages in flight at the kills, per-chat pacing held across the hand-overs."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from storage.db import Database
from storage.models import OutboxMessage
from tests.dispatch_helpers import max_in_window, put
from tests.fakes.telegram_api import FakeTelegram
from tests.kill_worker import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
CHATS, EACH = 60, 3
KILL_AFTER = (25, 70, 115)  # messages seen by the platform before each SIGKILL


async def spawn(db: Database, tg: FakeTelegram, worker: str) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.kill_worker",
        db.url, db.schema or "", tg.base_url, tg.token, worker,
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stdout is not None
    assert (await asyncio.wait_for(proc.stdout.readline(), 60)).strip() == b"ready"
    return proc


async def rows(db: Database) -> list[OutboxMessage]:
    async with db.transaction() as s:
        return list(await s.scalars(select(OutboxMessage)))


def received(tg: FakeTelegram) -> list[tuple[str, str]]:
    return [
        (str(c.params["chat_id"]), str(c.params["text"]))
        for c in tg.calls_to("sendMessage")
        if c.status == 200
    ]


async def test_sigkill_mid_dispatch_loses_nothing(db: Database) -> None:
    for i in range(CHATS * EACH):
        await put(db, "telegram", str(9000 + i % CHATS), f"k{i}", f"提醒{i:03d}")
    in_flight = 0
    async with FakeTelegram() as tg:
        tg.slow("sendMessage", 0.05, times=10**6)  # every request takes a while: some in flight
        for n, after in enumerate(KILL_AFTER):
            proc = await spawn(db, tg, f"victim-{n}")
            try:
                await tg.wait_for("sendMessage", count=after, within=60)
            finally:
                proc.kill()
                await proc.wait()
            seen = set(received(tg))
            # In flight: reached the platform, not yet recorded as sent by the dead worker.
            in_flight += sum(
                1
                for r in await rows(db)
                if r.status == "sending" and (r.chat_id, r.payload["text"]) in seen
            )
        last = await spawn(db, tg, "survivor")
        try:
            async with asyncio.timeout(120):
                while {r.status for r in await rows(db)} != {"sent"}:
                    with suppress(TimeoutError):  # the next send, or a moment to record one
                        more = len(tg.calls_to("sendMessage")) + 1
                        await tg.wait_for("sendMessage", count=more, within=0.5)
        finally:
            last.terminate()
            await last.wait()
        counts = Counter(received(tg))
        arrivals = {
            chat: [c.at for c in tg.calls_to("sendMessage") if str(c.params["chat_id"]) == chat]
            for chat in {chat for chat, _ in counts}
        }
    expected = {(str(9000 + i % CHATS), f"提醒{i:03d}") for i in range(CHATS * EACH)}
    assert set(counts) == expected  # nothing lost
    duplicates = sum(n - 1 for n in counts.values())
    assert duplicates <= in_flight
    per = SETTINGS.telegram_per_chat
    for chat, times in arrivals.items():
        assert max_in_window(_as_datetimes(times), per.per_seconds) <= per.count, chat


def _as_datetimes(monotonic: list[float]) -> list[datetime]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return [base + timedelta(seconds=t) for t in monotonic]
