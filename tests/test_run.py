"""`bangfu run` start-up and shutdown: Telegram, web server, services, against the fake API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web

from bot.cli import build_parser
from bot.config import ConfigError
from bot.run import start
from storage.db import Database
from tests.clocks import RunningClock
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser
from tests.tg_support import WEBHOOK_SECRET, bot_settings

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def test_polling_start_sets_menu_polls_and_stops(tg: FakeTelegram, db: Database) -> None:
    events: list[str] = []

    class Service:
        def routes(self) -> list[web.RouteDef]:
            return []

        async def start(self) -> None:
            events.append("started")

        async def stop(self) -> None:
            events.append("stopped")

    settings = bot_settings(tg, poll_timeout=1)
    rt = await start(settings, db=db, clock=RunningClock(NOW), services=[lambda host: Service()])
    try:
        await tg.wait_for("getUpdates")
        assert rt.ctx.bot_username == tg.username
        assert {lang for _, lang in tg.commands} == {"", "en"}
        url = f"http://127.0.0.1:{settings.web.port}/healthz"
        async with aiohttp.ClientSession() as s, s.get(url) as resp:
            assert resp.status == 200
        assert events == ["started"]
    finally:
        await rt.stop()
    assert events == ["started", "stopped"]
    # Stopped means stopped: a message arriving now is not fetched.
    polls = len(tg.calls_to("getUpdates"))
    tg.push(tg.updates.text(TgUser(1), "x"))
    await asyncio.sleep(0.3)
    assert len(tg.calls_to("getUpdates")) == polls


async def test_webhook_start_registers_url_and_secret(tg: FakeTelegram, db: Database) -> None:
    settings = bot_settings(tg, mode="webhook")
    rt = await start(settings, db=db, clock=RunningClock(NOW))
    try:
        assert tg.webhook["url"] == settings.telegram.webhook_url
        assert tg.webhook["secret_token"] == WEBHOOK_SECRET
        assert tg.calls_to("getUpdates") == []
    finally:
        await rt.stop()


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"token": ""}, "BANGFU_TELEGRAM__TOKEN"),
        ({"webhook_secret": "short"}, "BANGFU_TELEGRAM__WEBHOOK_SECRET"),
        ({"webhook_secret": "spaces are not allowed!"}, "BANGFU_TELEGRAM__WEBHOOK_SECRET"),
        ({"webhook_url": ""}, "BANGFU_TELEGRAM__WEBHOOK_URL"),
    ],
)
async def test_unusable_telegram_settings_stop_start_up(
    tg: FakeTelegram, changes: dict, setting: str
) -> None:
    with pytest.raises(ConfigError, match=setting):
        await start(bot_settings(tg, mode="webhook", **changes))
    assert tg.calls == []


@pytest.mark.parametrize("channel", ["telegram", "wecom"])
async def test_credentials_without_enabled_stop_start_up(tg: FakeTelegram, channel: str) -> None:
    # Once Telegram silently did not start: a token was set without BANGFU_TELEGRAM__ENABLED.
    settings = bot_settings(tg, enabled=False)
    if channel == "wecom":
        settings = settings.model_copy(
            update={"telegram": settings.telegram.model_copy(update={"enabled": True})}
        )
        settings.wecom.corp_id = "ww0123"
    with pytest.raises(ConfigError, match=f"BANGFU_{channel.upper()}__ENABLED"):
        await start(settings)
    assert tg.calls == []


async def test_the_group_bind_reply_names_the_configured_digest_day(
    tg: FakeTelegram, db: Database
) -> None:
    # Once it said 每周一 whatever BANGFU_SCHEDULE__DIGEST_DAY was.
    from bot.config import ScheduleSettings
    from tests.chat import Chat, texts
    from tests.seed import seed

    settings = bot_settings(tg, poll_timeout=1).model_copy(
        update={"schedule": ScheduleSettings(digest_day="fri", digest_time="17:05")}
    )
    rt = await start(settings, db=db, clock=RunningClock(NOW), services=[])
    try:
        s = await seed(db, NOW)
        said = texts(await Chat(rt.ctx, account="7", group="-1001").command("bind", s.group_code))
        assert "每周五 17:05 收到周汇总" in said and "周一" not in said
    finally:
        await rt.stop()


def test_run_command_is_registered() -> None:
    args = build_parser().parse_args(["run"])
    assert args.command == "run" and callable(args.func)
