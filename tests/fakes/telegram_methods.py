"""The Bot API methods of the fake Telegram server (a mixin of FakeTelegram's state)."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

from tests.fakes.telegram_updates import TgChat, UpdateFactory


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


class _Queued:
    """An update waiting for getUpdates; `forced` marks a redelivery below the offset."""

    def __init__(self, update: dict[str, Any], forced: bool = False) -> None:
        self.update, self.forced = update, forced


class BotApiMethods:
    """`_m_<method>` answers one Bot API method; state lives on the FakeTelegram instance."""

    bot_id: int
    username: str
    messages: dict[tuple[int, int], dict[str, Any]]
    commands: dict[tuple[str, str], list[dict[str, Any]]]
    webhook: dict[str, Any]
    updates: UpdateFactory
    _queue: list[_Queued]
    _chats: dict[int, dict[str, Any]]
    _arrived: asyncio.Event
    closing: bool

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id not in self._chats:
            kind = "private" if chat_id > 0 else "group"
            self._chats[chat_id] = TgChat(
                chat_id, kind, None if kind == "private" else "群"
            ).as_dict()
        return self._chats[chat_id]

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "帮扶助手",
                "username": self.username, "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False}  # fmt: skip

    def _new_message(self, chat_id: int, **content: Any) -> dict[str, Any]:
        msg = {
            "message_id": self.updates.next_message_id(),
            "from": self._bot_user(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **{k: v for k, v in content.items() if v is not None},
        }
        self.messages[(chat_id, msg["message_id"])] = msg
        return msg

    def _message(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (params.get("chat_id"), params.get("message_id"))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]  # type: ignore[index]

    # -- methods (one per Bot API method the bot uses) ------------------------------------
    async def _m_getMe(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return self._bot_user()

    async def _m_getUpdates(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(p.get("timeout") or 0)
        while True:
            self._queue = [q for q in self._queue if q.forced or q.update["update_id"] >= offset]
            remaining = deadline - loop.time()
            if self._queue or remaining <= 0 or self.closing:
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        batch = self._queue[:limit]
        for q in batch:
            q.forced = False
        return [q.update for q in batch]

    @staticmethod
    def _check_markup(p: dict[str, Any]) -> None:
        """Telegram refuses callback_data over 64 bytes and buttons without a label."""
        for row in (p.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )

    async def _m_sendMessage(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        if not str(p.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(str(p["text"]).encode("utf-16-le")) // 2 > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        self._check_markup(p)
        return self._new_message(p["chat_id"], text=p["text"], reply_markup=p.get("reply_markup"))

    async def _m_sendPhoto(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        ref = str(p.get("photo") or "")
        data = f.get(ref.removeprefix("attach://")) if ref else f.get("photo")
        if data is None and not ref:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if len(str(p.get("caption") or "").encode("utf-16-le")) // 2 > 1024:
            raise ApiError(400, "Bad Request: message caption is too long")
        self._check_markup(p)
        n = len(self.messages) + 1
        photo = [{"file_id": f"sent{n}", "file_unique_id": f"s{n}", "width": 800,
                  "height": 600, "file_size": len(data or b"")}]  # fmt: skip
        return self._new_message(
            p["chat_id"], photo=photo, caption=p.get("caption"), reply_markup=p.get("reply_markup")
        )

    async def _m_editMessageText(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        msg = self._message(p)
        self._check_markup(p)
        if msg.get("text") == p.get("text") and msg.get("reply_markup") == p.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        msg["text"] = p.get("text")
        msg.pop("reply_markup", None)
        if p.get("reply_markup"):
            msg["reply_markup"] = p["reply_markup"]
        return msg

    async def _m_editMessageReplyMarkup(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        msg = self._message(p)
        self._check_markup(p)
        new = p.get("reply_markup") or None
        if new and not new.get("inline_keyboard"):
            new = None
        if msg.get("reply_markup") == new:
            raise ApiError(400, "Bad Request: message is not modified")
        msg.pop("reply_markup", None)
        if new:
            msg["reply_markup"] = new
        return msg

    async def _m_answerCallbackQuery(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return True

    async def _m_setMyCommands(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        commands = p.get("commands") or []
        for c in commands:  # Telegram's own rules for a menu entry
            if not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", "")):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(c.get("description", "")) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._menu_key(p)] = commands
        return True

    @staticmethod
    def _menu_key(p: dict[str, Any]) -> tuple[str, str]:
        scope = (p.get("scope") or {}).get("type", "default")
        return scope, str(p.get("language_code") or "")

    async def _m_getMyCommands(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return self.commands.get(self._menu_key(p), [])

    async def _m_setWebhook(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        self.webhook = {"url": p.get("url", ""), "secret_token": p.get("secret_token")}
        return True

    async def _m_deleteWebhook(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        self.webhook = {}
        if str(p.get("drop_pending_updates")).lower() == "true":
            self._queue.clear()
        return True

    async def _m_getWebhookInfo(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self._queue)}  # fmt: skip

    async def _m_getFile(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        fid = str(p.get("file_id"))
        return {"file_id": fid, "file_unique_id": f"u{fid}", "file_size": 10,
                "file_path": f"photos/{fid}.jpg"}  # fmt: skip

    async def _m_close(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return True

    async def _m_logOut(self, p: dict[str, Any], f: dict[str, bytes]) -> Any:
        return True
