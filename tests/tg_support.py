"""Shared set-up for tests that start the whole bot process against the fake Bot API."""

from __future__ import annotations

import socket
from typing import Any

from bot.config import Settings, TelegramSettings, WebSettings
from tests.fakes.telegram_api import FakeTelegram

WEBHOOK_SECRET = "0123456789abcdef-webhook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bot_settings(tg: FakeTelegram, *, mode: str = "polling", **telegram: Any) -> Settings:
    """Settings for a bot talking to the fake server, web on a free loopback port."""
    port = free_port()
    fields: dict[str, Any] = {
        "enabled": True,
        "token": tg.token,
        "api_url": tg.base_url,
        "mode": mode,
        "webhook_path": "/telegram",
        "webhook_url": f"http://127.0.0.1:{port}/telegram",
        "webhook_secret": WEBHOOK_SECRET,
        **telegram,
    }
    return Settings(
        database_url="sqlite:///unused.db",
        telegram=TelegramSettings(**fields),
        web=WebSettings(host="127.0.0.1", port=port),
    )
