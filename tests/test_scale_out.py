"""Two real `bangfu run` processes in webhook mode on one PostgreSQL schema, one fake Bot API.

Updates are posted to both, alternately: a cadre's report whose steps land on either
process, the same update posted to both at once (a redelivery to the other process), two
messages of one cadre at the same moment on the two processes, strangers in a crowd. Then a
reminder round both dispatchers could send. Counted at the fake Bot API: every update
answered once, each conversation's answers in order and never interleaved, every reminder
sent once, Telegram's overall and per-chat limits held across the two processes.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import select

from storage.db import Database
from storage.models import Contact, OutboxMessage
from storage.people import bind_account
from tests.conftest import PG_URL, _truncate_pg
from tests.dispatch_helpers import max_in_window, put
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser, post_webhook
from tests.seed import seed
from tests.tg_support import WEBHOOK_SECRET, free_port

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
CADRE, OTHER = TgUser(5001, "王建国"), TgUser(5002, "李卫东")
OVERALL, PER = 10, 1.0  # the bot's limit in these processes: 10 messages a second
ROUND = [f"{9000 + i}" for i in range(30)] + ["9000"] * 3  # one chat is reminded 4 times


@pytest.fixture
async def pg(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    schema = request.getfixturevalue("pg_schema")  # skips cleanly without PostgreSQL
    database = Database(PG_URL, schema=schema)
    await _truncate_pg(database)
    try:
        yield database
    finally:
        await database.dispose()


async def spawn(db: Database, tg: FakeTelegram, tmp: Path, name: str) -> tuple[Any, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")},
        "PYTHONPATH": str(ROOT),
        "BANGFU_DATABASE_URL": PG_URL,
        "BANGFU_DATABASE_SCHEMA": db.schema or "",
        "BANGFU_TELEGRAM__ENABLED": "true",
        "BANGFU_TELEGRAM__TOKEN": tg.token,
        "BANGFU_TELEGRAM__API_URL": tg.base_url,
        "BANGFU_TELEGRAM__MODE": "webhook",
        "BANGFU_TELEGRAM__WEBHOOK_URL": url,
        "BANGFU_TELEGRAM__WEBHOOK_SECRET": WEBHOOK_SECRET,
        "BANGFU_WEB__PORT": str(port),
        "BANGFU_SCHEDULE__ENABLED": "false",  # the round is put in the outbox by the test
        "BANGFU_SCHEDULE__DISPATCH_INTERVAL_SECONDS": "0.1",
        "BANGFU_POLICY__QUIET_START": "00:00",  # no quiet hours: the test runs at any hour
        "BANGFU_POLICY__QUIET_END": "00:00",
        "BANGFU_DISPATCH__TELEGRAM_OVERALL": f"{OVERALL}/s",
        "BANGFU_DISPATCH__TELEGRAM_PER_CHAT": "1/s",
        "BANGFU_MEDIA_DIR": str(tmp / f"media-{name}"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    health = f"http://127.0.0.1:{port}/healthz"
    async with asyncio.timeout(60), aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(health) as resp:
                    if resp.status == 200:
                        return proc, url
            except aiohttp.ClientError:
                pass
            assert proc.returncode is None, "bangfu run exited at start"
            await asyncio.sleep(0.2)


async def post(url: str, update: dict[str, Any]) -> None:
    assert await post_webhook(url, update, WEBHOOK_SECRET) == 200


def press(tg: FakeTelegram, user: TgUser, label: str) -> dict[str, Any]:
    for msg in reversed(tg.sent(user.id)):
        for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if label in button["text"]:
                    return tg.updates.callback(user, msg, button["callback_data"])
    raise AssertionError(f"no button {label!r}")


def answers(tg: FakeTelegram, chat: int) -> list[Any]:
    return [c for c in tg.calls_to("sendMessage") if c.params["chat_id"] == chat]


async def test_two_processes_share_one_bot(pg: Database, tmp_path: Path) -> None:
    s = await seed(pg, NOW)
    async with pg.transaction() as session:
        for user, cadre in ((CADRE, s.cadre_id), (OTHER, s.other_cadre_id)):
            await bind_account(
                session, channel="telegram", account_id=str(user.id), chat_id=str(user.id),
                cadre_id=cadre, language="zh", now=NOW,
            )  # fmt: skip
    async with FakeTelegram() as tg:
        procs = [await spawn(pg, tg, tmp_path, name) for name in ("a", "b")]
        urls = [url for _, url in procs]
        try:
            await _conversation_split(tg, urls)
            await _redelivery_and_crowd(tg, urls)
            await _one_cadre_on_both(tg, urls)
            await asyncio.sleep(1.5)  # answers' windows behind us: the round starts afresh
            await _reminder_round(pg, tg)
        finally:
            for proc, _ in procs:
                if proc.returncode is None:
                    proc.terminate()
            logs = [(await proc.communicate())[1].decode() for proc, _ in procs]
    for (proc, _), log in zip(procs, logs, strict=True):
        assert proc.returncode == 0, log[-2000:]
    async with pg.transaction() as session:
        [contact] = list(await session.scalars(select(Contact)))
    assert contact.kind == "visit" and contact.household_id == s.households["张三"]


async def _conversation_split(tg: FakeTelegram, urls: list[str]) -> None:
    """A report by buttons, each step on the other process; a step redelivered elsewhere."""
    steps = ["报告联系", "张三", "入户走访", "昨天", "政策上帮", "完成"]
    first = tg.updates.text(CADRE, "菜单")
    await post(urls[0], first)
    for n, label in enumerate(steps, start=1):
        update = press(tg, CADRE, label)
        await post(urls[n % 2], update)
        before = len(answers(tg, CADRE.id))
        await post(urls[(n + 1) % 2], update)  # Telegram redelivers it to the other one
        assert len(answers(tg, CADRE.id)) == before  # handled once
    await post(urls[1], tg.updates.text(CADRE, "了解了玉米收成"))
    await post(urls[0], tg.updates.text(CADRE, "无"))
    await post(urls[1], press(tg, CADRE, "完成"))
    assert "请核对" in tg.texts(CADRE.id)[-1] or any("请核对" in t for t in tg.texts(CADRE.id)[-2:])
    await post(urls[0], press(tg, CADRE, "确认保存"))
    assert any("已保存" in t for t in tg.texts(CADRE.id)[-2:])


async def _redelivery_and_crowd(tg: FakeTelegram, urls: list[str]) -> None:
    """Forty strangers write at once, each update posted to both processes together."""
    crowd = [TgUser(7000 + i, f"路人{i}") for i in range(40)]
    updates = [tg.updates.text(user, "你好") for user in crowd]
    await asyncio.gather(*(post(url, u) for u in updates for url in urls))
    for user in crowd:
        [answer] = tg.texts(user.id)  # answered once, by one of the two
        assert "绑定" in answer


async def _one_cadre_on_both(tg: FakeTelegram, urls: list[str]) -> None:
    """Two messages of one cadre at the same moment on the two processes: both answered,
    one after the other — the answers of one never interleave with the other's."""
    await post(urls[0], tg.updates.text(OTHER, "我的"))
    each = len(answers(tg, OTHER.id))
    assert each >= 1
    tg.slow("sendMessage", 0.3, times=2 * each)  # answers take a while: room to overlap
    start = len(answers(tg, OTHER.id))
    pair = [tg.updates.text(OTHER, "我的"), tg.updates.text(OTHER, "我的")]
    await asyncio.gather(post(urls[0], pair[0]), post(urls[1], pair[1]))
    calls = answers(tg, OTHER.id)[start:]
    assert len(calls) == 2 * each
    # One conversation in one process at a time: the second batch of answers began after
    # the first batch was done with (its last request answered, 0.3 s after arriving).
    assert calls[each].at >= calls[each - 1].at + 0.3 - 0.05


async def _reminder_round(db: Database, tg: FakeTelegram) -> None:
    """A round both dispatchers see at once: sent once in total, within the limits."""
    before = len(tg.calls_to("sendMessage"))
    for n, chat in enumerate(ROUND):
        await put(db, "telegram", chat, f"round:{n}", f"提醒{n:02d}")
    async with asyncio.timeout(60):
        while True:
            async with db.transaction() as session:
                statuses = {r.status for r in await session.scalars(select(OutboxMessage))
                            if r.kind == "reminder"}  # fmt: skip
            if statuses == {"sent"}:
                break
            await asyncio.sleep(0.2)
    await asyncio.sleep(0.5)  # a second dispatcher would have sent by now
    calls = [c for c in tg.calls_to("sendMessage")[before:] if c.status == 200]
    sent = Counter(str(c.params["text"]) for c in calls)
    assert sent == Counter(f"提醒{n:02d}" for n in range(len(ROUND)))  # each once
    base = datetime(2026, 1, 1, tzinfo=UTC)
    times = [base + timedelta(seconds=c.at) for c in calls]
    assert max_in_window(times, PER) <= OVERALL
    repeated = [t for t, c in zip(times, calls, strict=True) if c.params["chat_id"] == 9000]
    assert len(repeated) == 4 and max_in_window(repeated, 1.0) <= 1
