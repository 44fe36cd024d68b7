"""Real Bot API update JSON, as Telegram would send it, for injection into the fake server.

`UpdateFactory` numbers updates and user messages; every builder returns a plain dict
(the wire format), so the same update can be queued for polling or POSTed to a webhook.
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class TgUser:
    id: int
    first_name: str = "张三"
    username: str | None = None
    language_code: str | None = "zh-hans"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            out["username"] = self.username
        if self.language_code:
            out["language_code"] = self.language_code
        return out


@dataclass(frozen=True)
class TgChat:
    id: int
    type: str = "private"  # private | group | supergroup
    title: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            out["title"] = self.title
        return out


def private_chat(user: TgUser) -> TgChat:
    return TgChat(id=user.id, type="private")


class UpdateFactory:
    """Builds update dicts with increasing update_id and per-factory message ids."""

    def __init__(self, first_update_id: int = 500_001) -> None:
        self._update_ids = itertools.count(first_update_id)
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def _update(self, **body: Any) -> dict[str, Any]:
        return {"update_id": next(self._update_ids), **body}

    def message(self, user: TgUser, chat: TgChat | None = None, **content: Any) -> dict[str, Any]:
        """An update carrying a user's message with arbitrary content fields."""
        chat = chat or private_chat(user)
        msg = {
            "message_id": self.next_message_id(),
            "from": user.as_dict(),
            "chat": chat.as_dict(),
            "date": int(time.time()),
            **content,
        }
        return self._update(message=msg)

    def text(self, user: TgUser, text: str, chat: TgChat | None = None) -> dict[str, Any]:
        return self.message(user, chat, text=text)

    def command(
        self,
        user: TgUser,
        name: str,
        args: str = "",
        chat: TgChat | None = None,
        bot_username: str | None = None,
    ) -> dict[str, Any]:
        """`/name[@bot] args` with the bot_command entity Telegram adds."""
        head = f"/{name}" + (f"@{bot_username}" if bot_username else "")
        text = f"{head} {args}" if args else head
        entities = [{"type": "bot_command", "offset": 0, "length": len(head)}]
        return self.message(user, chat, text=text, entities=entities)

    def photo(
        self, user: TgUser, chat: TgChat | None = None, caption: str | None = None
    ) -> dict[str, Any]:
        """A photo in three sizes; the largest has file_id ending in '-large'."""
        n = self.next_message_id()
        sizes = [
            {"file_id": f"photo{n}-{tag}", "file_unique_id": f"u{n}{tag}", "width": w,
             "height": w * 3 // 4, "file_size": w * 40}
            for tag, w in (("small", 90), ("large", 1280), ("medium", 320))
        ]  # fmt: skip
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self.message(user, chat, **content)

    def location(
        self, user: TgUser, latitude: float, longitude: float, chat: TgChat | None = None
    ) -> dict[str, Any]:
        return self.message(user, chat, location={"latitude": latitude, "longitude": longitude})

    def sticker(self, user: TgUser, chat: TgChat | None = None) -> dict[str, Any]:
        sticker = {
            "file_id": "sticker1", "file_unique_id": "us1", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍",
        }  # fmt: skip
        return self.message(user, chat, sticker=sticker)

    def voice(self, user: TgUser, chat: TgChat | None = None) -> dict[str, Any]:
        voice = {"file_id": "voice1", "file_unique_id": "uv1", "duration": 3}
        return self.message(user, chat, voice=voice)

    def document(self, user: TgUser, chat: TgChat | None = None) -> dict[str, Any]:
        doc = {"file_id": "doc1", "file_unique_id": "ud1", "file_name": "表格.xlsx"}
        return self.message(user, chat, document=doc)

    def callback(self, user: TgUser, message: dict[str, Any], data: str) -> dict[str, Any]:
        """The user pressed a button carrying `data` under `message` (a message the bot sent)."""
        query = {
            "id": f"cb{next(self._callback_ids)}",
            "from": user.as_dict(),
            "message": message,
            "chat_instance": f"ci{message['chat']['id']}",
            "data": data,
        }
        return self._update(callback_query=query)


async def post_webhook(url: str, update: dict[str, Any], secret: str | None) -> int:
    """POST one update to a webhook URL as Telegram does; returns the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=json.dumps(update), headers=headers) as resp,
    ):
        await resp.read()
        return resp.status
