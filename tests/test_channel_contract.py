"""The channel contract: a channel from outside bot/ joins `bangfu run` through one setting."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.config import ConfigError, ScheduleSettings, Settings, WebSettings, load_settings
from bot.run import start
from core.clock import FixedClock
from core.types import Channel
from storage.db import Database
from storage.outbox import NewMessage, enqueue
from tests import toy_channel
from tests.seed import seed
from tests.tg_support import free_port

# Daytime in Beijing, so the dispatcher is not holding messages for the morning.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def toy_settings(**changes: object) -> Settings:
    return Settings(
        database_url="sqlite:///unused.db",
        web=WebSettings(host="127.0.0.1", port=free_port()),
        schedule=ScheduleSettings(enabled=False, dispatch_interval_seconds=0.05),
        **changes,  # type: ignore[arg-type]
    )


async def test_a_toy_channel_named_in_settings_binds_a_cadre_and_gets_the_outbox(
    db: Database,
) -> None:
    s = await seed(db, NOW)
    settings = toy_settings(channels=("tests.toy_channel",))
    rt = await start(settings, db=db, clock=FixedClock(NOW))
    toy = toy_channel.BUILT[-1]
    try:
        assert toy.events == ["started"] and set(rt.channels) == {Channel.CONSOLE}
        url = f"http://127.0.0.1:{settings.web.port}{toy_channel.PATH}"
        async with aiohttp.ClientSession() as http:
            body = {"user": "u1", "text": f"/start {s.code}"}
            async with http.post(url, json=body) as resp:
                assert resp.status == 200
        assert any("绑定成功" in text for _, text in toy.sent)
        # The dispatcher (the default service) sends through the toy channel's sender too.
        reminder = NewMessage(
            "toy:1", str(Channel.CONSOLE), "u1", "reminder", {"text": "本月请联系"}
        )
        async with db.transaction() as session:
            await enqueue(session, [reminder], now=NOW)
        await toy.wait_sent("u1", "本月请联系")
    finally:
        await rt.stop()
    assert toy.events == ["started", "stopped"]


async def test_an_unknown_channel_module_stops_start_up_naming_the_setting(db: Database) -> None:
    with pytest.raises(ConfigError, match="BANGFU_CHANNELS"):
        await start(toy_settings(channels=("tests.no_such_channel",)), db=db, services=[])


def test_channels_are_one_comma_separated_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANGFU_CHANNELS", "bot.channels.telegram_app, tests.toy_channel")
    assert load_settings().channels == ("bot.channels.telegram_app", "tests.toy_channel")


def test_by_default_telegram_and_wecom_are_the_channels_and_both_stay_off() -> None:
    settings = Settings()
    assert settings.channels == ("bot.channels.telegram_app", "bot.channels.wecom.channel")
    assert not settings.telegram.enabled and not settings.wecom.enabled
