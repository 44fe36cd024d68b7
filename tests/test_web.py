"""bangfu's HTTP server: health check and the Telegram webhook's secret token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.channels.telegram_app import TelegramChannel, build_application, webhook_route
from bot.web import bound_port, build_web_app, database_ok, start_web
from core.types import Inbound, Reply
from storage.db import Database
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser, post_webhook

SECRET = "s3cret-token-for-tests"
USER = TgUser(3003, "孙七")


async def _get(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as s, s.get(url) as resp:
        return resp.status, await resp.json()


async def test_healthz_ok_when_the_database_answers(db: Database) -> None:
    runner = await start_web(
        build_web_app(health=lambda: database_ok(db)), host="127.0.0.1", port=0
    )
    try:
        status, body = await _get(f"http://127.0.0.1:{bound_port(runner)}/healthz")
    finally:
        await runner.cleanup()
    assert (status, body["database"]) == (200, "ok")


async def test_healthz_503_when_the_database_is_down() -> None:
    down = Database("postgresql://postgres@127.0.0.1:1/none")
    runner = await start_web(
        build_web_app(health=lambda: database_ok(down)), host="127.0.0.1", port=0
    )
    try:
        status, body = await _get(f"http://127.0.0.1:{bound_port(runner)}/healthz")
    finally:
        await runner.cleanup()
        await down.dispose()
    assert (status, body["status"]) == (503, "unavailable")


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Inbound] = []

    async def __call__(self, inbound: Inbound) -> list[Reply]:
        self.seen.append(inbound)
        return [Reply(f"收到：{inbound.text}")]


@pytest.fixture
async def webhook(tg: FakeTelegram) -> AsyncIterator[tuple[str, Recorder]]:
    app = build_application(tg.token, api_url=tg.base_url, polling=False)
    recorder = Recorder()
    hook = webhook_route("/telegram", SECRET, TelegramChannel(app, recorder))

    async def ping(_r: web.Request) -> web.Response:
        return web.Response(text="pong")

    web_app = build_web_app(health=_healthy, routes=[hook, web.get("/wecom/ping", ping)])
    async with app:
        runner = await start_web(web_app, host="127.0.0.1", port=0)
        yield f"http://127.0.0.1:{bound_port(runner)}", recorder
        await runner.cleanup()


async def _healthy() -> bool:
    return True


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def test_webhook_with_right_secret_is_processed(
    tg: FakeTelegram, webhook: tuple[str, Recorder]
) -> None:
    base, recorder = webhook
    status = await post_webhook(f"{base}/telegram", tg.updates.text(USER, "你好"), SECRET)
    assert status == 200
    assert [i.text for i in recorder.seen] == ["你好"]
    assert tg.texts(USER.id) == ["收到：你好"]  # answered before the webhook returned


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET.upper()])
async def test_webhook_without_the_right_secret_is_refused(
    tg: FakeTelegram, webhook: tuple[str, Recorder], secret: str | None
) -> None:
    base, recorder = webhook
    status = await post_webhook(f"{base}/telegram", tg.updates.text(USER, "你好"), secret)
    assert status == 403
    assert recorder.seen == [] and tg.sent() == []


async def test_webhook_garbage_body_is_rejected(webhook: tuple[str, Recorder]) -> None:
    base, recorder = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{base}/telegram", data=b"{not json", headers=headers) as resp,
    ):
        assert resp.status == 400
    assert recorder.seen == []


async def test_extra_routes_are_served(webhook: tuple[str, Recorder]) -> None:
    base, _ = webhook
    async with aiohttp.ClientSession() as s, s.get(f"{base}/wecom/ping") as resp:
        assert (resp.status, await resp.text()) == (200, "pong")


def test_webhook_without_secret_cannot_be_built(tg: FakeTelegram) -> None:
    app = build_application(tg.token, api_url="http://127.0.0.1:9/bot", polling=False)
    with pytest.raises(ValueError):
        webhook_route("/telegram", "", TelegramChannel(app, Recorder()))


@pytest.mark.parametrize(
    "body",
    [
        b"[1, 2]",
        b'"just a string"',
        b"42",
        b"null",
        b'{"update_id": 5, "message": "x"}',
        b'{"update_id": 6, "message": {"message_id": 1, "date": 99999999999999999999,'
        b' "chat": {"id": 3003, "type": "private"}, "text": "hi"}}',
        b'{"update_id": 7, "callback_query": []}',
        b'{"message": {}}',
        b"\xff\xfe{}",
    ],
)
async def test_webhook_malformed_updates_get_400_and_a_log_line(
    webhook: tuple[str, Recorder], body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    base, recorder = webhook
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with (
        aiohttp.ClientSession() as s,
        s.post(f"{base}/telegram", data=body, headers=headers) as resp,
    ):
        assert resp.status == 400
    assert recorder.seen == []
    assert [r for r in caplog.records if "unreadable update" in r.getMessage()]
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
