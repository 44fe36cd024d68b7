"""bangfu's own HTTP server (aiohttp): health check, Telegram webhook, and any other routes.

    app = build_web_app(
        health=lambda: database_ok(db),
        telegram=TelegramWebhook(path="/telegram", secret="…", channel=channel),
        extra_routes=[web.post("/wecom/callback", wecom_handler)],  # the WeCom callback
    )
    runner = await start_web(app, host="127.0.0.1", port=8080)
    …
    await runner.cleanup()

GET /healthz answers 200 when the database answers, 503 otherwise. The Telegram route
accepts an update only with the right X-Telegram-Bot-Api-Secret-Token header (compared in
constant time) and answers after the update has been processed, so a slow database
slows Telegram down rather than piling up work in memory.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import text
from telegram import Bot, Update

from bot.channels.telegram import to_inbound
from bot.channels.telegram_app import TelegramChannel
from storage.db import Database

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_TIMEOUT_SECONDS = 5.0

HealthCheck = Callable[[], Awaitable[bool]]


@dataclass(frozen=True)
class TelegramWebhook:
    """Where Telegram posts updates, the secret it must present, and who processes them."""

    path: str
    secret: str
    channel: TelegramChannel


async def database_ok(db: Database) -> bool:
    """True when the database answers a trivial query within a few seconds."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_SECONDS), db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not healthy"; the reason goes to the log
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return False
    return True


def build_web_app(
    *,
    health: HealthCheck,
    telegram: TelegramWebhook | None = None,
    extra_routes: Iterable[web.AbstractRouteDef] = (),
) -> web.Application:
    """The one aiohttp application of the process; channels add their routes here."""
    app = web.Application(client_max_size=2 * 1024**2)
    app.router.add_get("/healthz", _health_route(health))
    if telegram is not None:
        if not telegram.secret:
            raise ValueError("the Telegram webhook needs a secret token")
        app.router.add_post(telegram.path, _telegram_route(telegram))
    app.router.add_routes(list(extra_routes))
    return app


def _health_route(health: HealthCheck) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def healthz(_request: web.Request) -> web.Response:
        if await health():
            return web.json_response({"status": "ok", "database": "ok"})
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)

    return healthz


def _telegram_route(hook: TelegramWebhook) -> Callable[[web.Request], Awaitable[web.Response]]:
    expected = hook.secret.encode()

    async def telegram_update(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: wrong or missing secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        update = read_update(await request.read(), hook.channel.app.bot)
        if update is None:
            return web.Response(status=400, text="bad update")
        await hook.channel.process(update)
        return web.Response(text="ok")

    return telegram_update


def read_update(body: bytes, bot: Bot) -> Update | None:
    """The update in a webhook body, or None (logged) when it is not a well-formed one.

    Only a secret-holder gets here, but a proxy or a bug can still post anything: whatever
    PTB or our own translation cannot read is refused here, not with a 500 later.
    """
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise TypeError("not an update object")
        update = Update.de_json(data, bot)
        to_inbound(update)  # translated once here, so a malformed field fails here
    except Exception as exc:  # PTB raises whatever its constructors raise on odd input
        log.warning("telegram webhook: unreadable update: %s", type(exc).__name__)
        return None
    return update


async def start_web(app: web.Application, *, host: str, port: int) -> web.AppRunner:
    """Serve `app` on host:port (port 0 picks a free one); stop with `runner.cleanup()`."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port a started runner listens on (useful with port 0)."""
    for address in runner.addresses:
        return int(address[1])
    raise RuntimeError("the web server is not listening")
