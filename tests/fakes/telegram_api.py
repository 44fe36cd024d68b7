"""A fake Telegram Bot API server on loopback, speaking the HTTP protocol PTB speaks.

`POST {base_url}<token>/<method>` with form, multipart or JSON parameters; answers
`{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description", "parameters"}`.
Every call is recorded with a monotonic timestamp (`calls`), so tests can check pacing
without reading the wall clock. Faults: `fail()` (429 with retry_after, 500, 502, 400...),
`slow()` (a delayed answer, to trip client timeouts) and `block()` (403 for one chat).

    async with FakeTelegram() as tg:
        app = Application.builder().token(tg.token).base_url(tg.base_url).build()
        tg.push(tg.updates.text(user, "你好"))
        await tg.wait_for("sendMessage")
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.telegram_methods import ApiError, BotApiMethods, _Queued
from tests.fakes.telegram_updates import TgUser, UpdateFactory

INT_PARAMS = {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time"}
JSON_PARAMS = {"reply_markup", "allowed_updates", "commands", "scope", "entities",
               "caption_entities", "link_preview_options", "reply_parameters"}  # fmt: skip
SEND_METHODS = {"sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes]
    at: float  # time.monotonic() when the request arrived
    status: int = 200


@dataclass
class Fault:
    method: str
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None
    delay: float = 0.0
    times: int = 1


def _coerce(key: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if key in JSON_PARAMS:
        return json.loads(value)
    if key in INT_PARAMS:
        try:
            return int(value)
        except ValueError:
            return value
    return value


@dataclass
class FakeTelegram(BotApiMethods):
    token: str = "123456:TEST-token"
    bot_id: int = 123456
    username: str = "bangfu_test_bot"
    calls: list[Call] = field(default_factory=list)
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)
    # The command menus, by (scope type, language_code): ("all_private_chats", "en").
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    updates: UpdateFactory = field(default_factory=UpdateFactory)

    def __post_init__(self) -> None:
        self._queue: list[_Queued] = []
        self._faults: list[Fault] = []
        self._blocked: set[int] = set()
        self._chats: dict[int, dict[str, Any]] = {}
        self._arrived = asyncio.Event()
        self._called = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.closing = False
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=20 * 1024**2)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self.closing = True
        self._arrived.set()  # end waiting long polls now rather than at their timeout
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For Application.builder().base_url(...): PTB appends the token and method."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- what tests inject ----------------------------------------------------------------
    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates; returns it (for redelivery or webhook posting)."""
        self._remember_chat(update)
        self._queue.append(_Queued(update))
        self._arrived.set()
        return update

    def redeliver(self, update: dict[str, Any]) -> None:
        """Serve an already-confirmed update once more, as Telegram may after a crash."""
        self._queue.append(_Queued(update, forced=True))
        self._arrived.set()

    def press(self, user: TgUser, data: str, chat_id: int | None = None) -> dict[str, Any]:
        """Queue the press of the newest visible button with `data` in the user's chat."""
        chat = user.id if chat_id is None else chat_id
        for msg in reversed(self.sent(chat)):
            rows = (msg.get("reply_markup") or {}).get("inline_keyboard", [])
            if any(b.get("callback_data") == data for row in rows for b in row):
                return self.push(self.updates.callback(user, msg, data))
        raise AssertionError(f"no visible button {data!r} in chat {chat}: {self.buttons(chat)}")

    def fail(
        self,
        method: str,
        status: int = 500,
        description: str = "Internal Server Error",
        *,
        retry_after: int | None = None,
        chat_id: int | None = None,
        times: int = 1,
    ) -> None:
        """The next `times` calls of `method` (to `chat_id`, if given) fail with `status`."""
        if status == 429 and description == "Internal Server Error":
            description = f"Too Many Requests: retry after {retry_after}"
        self._faults.append(Fault(method, status, description, retry_after, chat_id, 0.0, times))

    def slow(self, method: str, delay: float, *, times: int = 1) -> None:
        """The next `times` calls of `method` answer only after `delay` seconds."""
        self._faults.append(Fault(method, 200, "", None, None, delay, times))

    def block(self, chat_id: int) -> None:
        """The user blocked the bot: every send to this chat gets 403 Forbidden."""
        self._blocked.add(chat_id)

    # -- what tests read ------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (current state after edits), oldest first."""
        return [m for (c, _), m in self.messages.items() if chat_id is None or c == chat_id]

    def texts(self, chat_id: int | None = None) -> list[str]:
        return [m.get("text") or m.get("caption") or "" for m in self.sent(chat_id)]

    def buttons(self, chat_id: int) -> list[str]:
        """callback_data of every button still visible in the chat."""
        return [
            b.get("callback_data", "")
            for m in self.sent(chat_id)
            for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
            for b in row
        ]

    async def wait_for(self, method: str, count: int = 1, within: float = 10.0) -> list[Call]:
        """Wait until `count` calls of `method` arrived and were not refused.

        A call counts from its arrival (so a waiting long poll counts); one that then fails
        stops counting. Sends are answered at once unless `slow()` delays them.
        """
        async with asyncio.timeout(within):
            while True:
                done = [c for c in self.calls_to(method) if c.status == 200]
                if len(done) >= count:
                    return done
                self._called.clear()
                await self._called.wait()

    # -- the protocol ---------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(method, params, files, time.monotonic())
        self.calls.append(call)
        self._called.set()
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            await self._apply_faults(method, params)
            handler = getattr(self, f"_m_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params, files)
            body: dict[str, Any] = {"ok": True, "result": result}
        except ApiError as err:
            call.status = err.status
            body = {"ok": False, "error_code": err.status, "description": err.description}
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
        self._called.set()
        return web.json_response(body, status=call.status)

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        raw: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            raw = await request.json()
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename is not None:  # type: ignore[union-attr]
                    files[part.name or ""] = await part.read()  # type: ignore[union-attr]
                else:
                    raw[part.name or ""] = await part.text()  # type: ignore[union-attr]
        else:
            raw = dict(await request.post()) if request.can_read_body else dict(request.query)
        return {k: _coerce(k, v) for k, v in raw.items()}, files

    async def _apply_faults(self, method: str, params: dict[str, Any]) -> None:
        chat = params.get("chat_id")
        if method in SEND_METHODS and chat in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, chat):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                    return
                raise ApiError(fault.status, fault.description, fault.retry_after)

    async def _download(self, request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG fake " + request.match_info["path"].encode())

    def _remember_chat(self, update: dict[str, Any]) -> None:
        msg = update.get("message") or (update.get("callback_query") or {}).get("message")
        if msg:
            self._chats[msg["chat"]["id"]] = msg["chat"]
