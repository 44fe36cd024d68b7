"""What bangfu's aiohttp request class puts on the wire for the Bot API.

Calls without files go as one JSON object (cheaper to build than a form: no multipart
writer, no percent-encoding of every byte of Chinese text); uploads stay multipart. The Bot
API reads the JSON object's string values as it reads a form's fields, so a message, its
keyboard and a photo arrive as they did.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.channels.telegram_http import AiohttpRequest, post_json

TOKEN = "123456:TEST-token"


class Capture:
    """A Bot API stand-in that keeps each request's content type and parameters."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []
        self.bodies: list[str] = []  # the JSON bodies as sent
        self.refuse = ""  # a description: answer 400 with it

    async def handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            self.bodies.append((await request.read()).decode())
            params = await request.json()
        elif request.content_type == "multipart/form-data":
            params = {}
            async for part in await request.multipart():
                params[part.name or ""] = await part.read()  # type: ignore[union-attr]
        else:
            params = dict(await request.post())
        self.seen.append((method, request.content_type, params))
        if self.refuse:
            body = {"ok": False, "error_code": 400, "description": self.refuse}
            return web.json_response(body, status=400)
        if method == "getMe":
            result: dict[str, Any] = {"id": 1, "is_bot": True, "first_name": "b", "username": "b"}
        else:
            result = {"message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"}}
        return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def api() -> AsyncIterator[tuple[Capture, str]]:
    capture = Capture()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", capture.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield capture, f"http://127.0.0.1:{port}/bot"
    finally:
        await runner.cleanup()


async def test_a_message_with_buttons_goes_as_json_and_arrives_intact(
    api: tuple[Capture, str],
) -> None:
    capture, base = api
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("✅ 确认保存", callback_data="c:1")]])
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest()) as bot:
        capture.seen.clear()  # getMe
        await bot.send_message(42, "今天去李四家走访，看了新房 & 50% = ok", reply_markup=keyboard)
    [(method, content_type, params)] = capture.seen
    assert (method, content_type) == ("sendMessage", "application/json")
    assert params["text"] == "今天去李四家走访，看了新房 & 50% = ok"
    assert int(params["chat_id"]) == 42
    assert json.loads(params["reply_markup"]) == {
        "inline_keyboard": [[{"text": "✅ 确认保存", "callback_data": "c:1"}]]
    }


async def test_an_upload_stays_multipart(api: tuple[Capture, str]) -> None:
    capture, base = api
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest()) as bot:
        capture.seen.clear()
        await bot.send_photo(42, b"\x89PNG fake", caption="走访照片")
    [(method, content_type, params)] = capture.seen
    assert (method, content_type) == ("sendPhoto", "multipart/form-data")
    assert params["caption"] == "走访照片".encode()
    assert params["photo"] == b"\x89PNG fake"


async def test_post_json_sends_one_json_object_encoded_once(api: tuple[Capture, str]) -> None:
    """`post_json`: the keyboard as a JSON object inside the body (not JSON text in it),
    the text as UTF-8 (not escaped), None left out; a URL posted to twice, parsed once."""
    capture, base = api
    keyboard = {"inline_keyboard": [[{"text": "✅ 确认保存", "callback_data": "c:1"}]]}
    request = AiohttpRequest()
    async with Bot(TOKEN, base_url=base, request=request) as bot:
        capture.seen.clear()
        for _ in range(2):
            data = {"chat_id": 42, "text": "已保存", "reply_markup": keyboard, "x": None}
            await post_json(bot, "sendMessage", data)
        assert len(request._urls) == 2  # getMe's and sendMessage's
    assert (
        capture.seen
        == [
            (
                "sendMessage",
                "application/json",
                {"chat_id": 42, "text": "已保存", "reply_markup": keyboard},
            )
        ]
        * 2
    )
    assert (
        capture.bodies
        == [
            '{"chat_id": 42, "text": "已保存", "reply_markup": '
            + json.dumps(keyboard, ensure_ascii=False)
            + "}"
        ]
        * 2
    )


async def test_post_json_raises_the_bot_apis_refusal(api: tuple[Capture, str]) -> None:
    capture, base = api
    async with Bot(TOKEN, base_url=base, request=AiohttpRequest()) as bot:
        capture.refuse = "Bad Request: message is not modified"
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await post_json(bot, "editMessageText", {"chat_id": 42, "message_id": 1, "text": "x"})
