"""Shared set-up for tests that start the whole bot process against the fake Bot API."""

from __future__ import annotations

import socket
from typing import Any

from bot.channels.telegram_app import TelegramChannel
from bot.config import Settings, TelegramSettings, WebSettings
from bot.run import Runtime
from core.types import Channel
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgChat, TgUser, post_webhook

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


class Phone:
    """One Telegram user talking to a running bot through the fake Bot API.

    Each call delivers one update (queued for polling, or POSTed to the webhook), waits until
    the bot has processed it, and returns the texts the bot sent to this chat meanwhile.
    """

    def __init__(
        self, tg: FakeTelegram, rt: Runtime, user: TgUser, chat: TgChat | None = None
    ) -> None:
        self.tg, self.rt, self.user = tg, rt, user
        self.chat = chat or TgChat(user.id)

    async def deliver(self, update: dict[str, Any], *, again: bool = False) -> list[str]:
        """Deliver `update`; `again=True` redelivers one the bot already fetched."""
        before = self._shown()
        channel = self.rt.channels[Channel.TELEGRAM]
        assert isinstance(channel, TelegramChannel)
        if self.rt.settings.telegram.mode == "webhook":
            url = self.rt.settings.telegram.webhook_url
            assert await post_webhook(url, update, WEBHOOK_SECRET) == 200
        else:
            target = channel.processed + 1
            if again:
                self.tg.redeliver(update)
            else:
                self.tg.push(update)
            await channel.wait_processed(target)
        # What the person sees change: new messages, and a message edited into another
        # text (a confirmation card that became the 已保存 answer).
        return [text for key, text in self._shown().items() if before.get(key) != text]

    def _shown(self) -> dict[tuple[int, int], str]:
        return {
            key: m.get("text") or m.get("caption") or ""
            for key, m in self.tg.messages.items()
            if key[0] == self.chat.id
        }

    async def say(self, text: str) -> list[str]:
        return await self.deliver(self.tg.updates.text(self.user, text, self.chat))

    async def command(self, name: str, args: str = "", *, addressed: bool = False) -> list[str]:
        """`/name args`; `addressed` writes `/name@bot args` as group clients do."""
        bot = self.tg.username if addressed else None
        return await self.deliver(self.tg.updates.command(self.user, name, args, self.chat, bot))

    async def tap(self, label_part: str) -> list[str]:
        """Press the newest visible button whose label contains `label_part`."""
        return await self.deliver(self.press_update(label_part))

    def press_update(self, label_part: str) -> dict[str, Any]:
        for msg in reversed(self.tg.sent(self.chat.id)):
            for row in (msg.get("reply_markup") or {}).get("inline_keyboard", []):
                for button in row:
                    if label_part in button["text"]:
                        return self.tg.updates.callback(self.user, msg, button["callback_data"])
        raise AssertionError(f"no visible button {label_part!r}; last: {self.last()!r}")

    def last(self) -> str:
        texts = self.tg.texts(self.chat.id)
        return texts[-1] if texts else ""
