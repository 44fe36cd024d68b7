"""The long-running bot process: database, core context, web server, Telegram, services.

`serve(settings)` runs until SIGINT/SIGTERM. `start()`/`Runtime.stop()` are the same steps
without signals, for tests and embedding. Other areas plug in at two hook points:
`extra_web_routes` (e.g. the WeCom callback) and `background_services` (the outbox
dispatcher bot/dispatch.py, the scheduler bot/schedule.py, WeCom's token refresher…).

A service starter is `async def start_x(rt: Runtime) -> Stopper`: it gets the running
process (`rt.db`, `rt.ctx`, `rt.settings`, and `rt.telegram.bot` when Telegram is enabled —
wrap it in `TelegramSender` to send) and returns an `async def stop()`. Starters run after
Telegram and the web server are up; stoppers run first at shutdown, in reverse order.
"""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from aiohttp import web

from bot.channels.base import Sender
from bot.channels.telegram_app import (
    TelegramChannel,
    TgApplication,
    build_application,
    set_command_menu,
)
from bot.config import ConfigError, Settings
from bot.web import TelegramWebhook, build_web_app, database_ok, start_web
from core.clock import Clock, SystemClock
from core.types import Inbound, Reply
from handlers.context import Context
from reminders.group_commands import DigestGroupCommands
from storage.db import Database

if TYPE_CHECKING:
    from bot.channels.wecom.channel import WecomChannel

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
# Telegram accepts 1-256 of these characters; we ask for at least 16 to make guessing futile.
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{16,256}")

Stopper = Callable[[], Awaitable[None]]
# A background service: started with the runtime, returns how to stop it.
ServiceStarter = Callable[["Runtime"], Awaitable[Stopper]]


@dataclass
class Runtime:
    """Everything one running bot process holds; `stop()` undoes `start()`."""

    settings: Settings
    db: Database
    ctx: Context
    web: web.AppRunner | None = None
    telegram: TgApplication | None = None
    channel: TelegramChannel | None = None
    stoppers: list[Stopper] = field(default_factory=list)
    owns_db: bool = True
    # Outbound senders by channel name, for the dispatcher ("wecom", "wecom_robot", ...).
    senders: dict[str, Sender] = field(default_factory=dict)
    wecom: WecomChannel | None = None

    async def stop(self) -> None:
        """Stop in reverse order of start; each step runs even if an earlier one failed."""
        for stop in reversed(self.stoppers):
            try:
                await stop()
            except Exception:
                log.exception("error while stopping")
        self.stoppers.clear()


async def core_handle(ctx: Context, inbound: Inbound) -> list[Reply]:
    """The core entry point (handlers.core.handle), imported late to keep start-up light."""
    from handlers.core import handle

    replies: list[Reply] = await handle(ctx, inbound)
    return replies


def extra_web_routes(runtime: Runtime) -> list[web.AbstractRouteDef]:
    """Hook point: routes other channels serve on the same web app (e.g. WeCom's callback)."""
    routes: list[web.AbstractRouteDef] = []
    if runtime.settings.wecom.enabled:
        routes += _start_wecom(runtime)
    return routes


def _start_wecom(rt: Runtime) -> list[web.RouteDef]:
    """WeCom: the callback on our web app, its senders for the dispatcher."""
    from bot.channels.wecom.channel import build_wecom

    ctx = rt.ctx
    channel = build_wecom(
        rt.settings.wecom,
        handle=lambda inbound: core_handle(ctx, inbound),
        db=rt.db,
        clock=ctx.clock,
        lang=rt.settings.language,
        media_dir=rt.settings.media_dir,
    )
    rt.stoppers.append(channel.close)  # runs after the web server stopped taking requests
    rt.senders.update(channel.senders())
    rt.wecom = channel
    log.info("wecom: callback at %s", rt.settings.wecom.callback_path)
    return channel.routes()


def background_services(settings: Settings) -> list[ServiceStarter]:
    """Hook point: the outbox dispatcher, the scheduler and WeCom start here when enabled.

    e.g. `if settings.schedule.enabled: starters.append(bot.schedule.start)`.
    """
    from bot.services import default_services  # imports bot.run: resolve at call time

    return default_services()


def check_settings(settings: Settings) -> None:
    """Refuse to start with settings that cannot work, naming the setting."""
    _check_half_set(settings)
    if settings.wecom.enabled:
        from bot.channels.wecom.channel import check_wecom_settings

        check_wecom_settings(settings.wecom)
    tg = settings.telegram
    if not tg.enabled:
        return
    if not tg.token.get_secret_value():
        raise ConfigError("配置错误 / bad setting BANGFU_TELEGRAM__TOKEN: required")
    if tg.mode == "webhook":
        if not tg.webhook_url.startswith(("https://", "http://")):
            raise ConfigError("配置错误 / bad setting BANGFU_TELEGRAM__WEBHOOK_URL: an https URL")
        if not WEBHOOK_SECRET_RE.fullmatch(tg.webhook_secret.get_secret_value()):
            raise ConfigError(
                "配置错误 / bad setting BANGFU_TELEGRAM__WEBHOOK_SECRET: "
                "16-256 characters of A-Z a-z 0-9 _ -"
            )


def _check_half_set(settings: Settings) -> None:
    """Credentials without `enabled` would start without that channel and say nothing."""
    wecom = settings.wecom
    credentials = {
        "TELEGRAM": settings.telegram.token.get_secret_value(),
        "WECOM": wecom.corp_id or wecom.secret.get_secret_value() or wecom.token.get_secret_value(),
    }
    for channel, given in credentials.items():
        enabled = getattr(settings, channel.lower()).enabled
        if given and not enabled:
            raise ConfigError(
                f"配置错误 / bad setting BANGFU_{channel}__ENABLED: 已填写凭据但未启用，"
                f"请设为 true 或删去凭据 / credentials are set but the channel is not enabled"
            )


async def start(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    services: Iterable[ServiceStarter] | None = None,
    poll_timeout: int = 10,
) -> Runtime:
    """Start every part of the process; a failure stops what was already started."""
    check_settings(settings)
    owns_db = db is None
    database = db or Database(settings.database_url)
    ctx = Context(
        db=database,
        clock=clock or SystemClock(settings.tz),
        policy=settings.policy,
        invite_ttl=timedelta(hours=settings.invite_ttl_hours),
        bot_username=settings.telegram.bot_username,
        digest_day=settings.schedule.digest_day,
        digest_time=settings.schedule.digest_time,
    )
    ctx.group_commands = DigestGroupCommands(database, ctx.clock, settings.policy)
    rt = Runtime(settings=settings, db=database, ctx=ctx, owns_db=owns_db)
    if owns_db:
        rt.stoppers.append(database.dispose)
    try:
        await _start_parts(rt, services, poll_timeout)
    except BaseException:
        await rt.stop()
        raise
    return rt


async def _start_parts(
    rt: Runtime, services: Iterable[ServiceStarter] | None, poll_timeout: int
) -> None:
    tg = rt.settings.telegram
    hook: TelegramWebhook | None = None
    if tg.enabled:
        await _init_telegram(rt)
        if tg.mode == "webhook" and rt.channel is not None:
            hook = TelegramWebhook(
                tg.webhook_path, tg.webhook_secret.get_secret_value(), rt.channel
            )
    app = build_web_app(
        health=lambda: database_ok(rt.db), telegram=hook, extra_routes=extra_web_routes(rt)
    )
    rt.web = await start_web(app, host=rt.settings.web.host, port=rt.settings.web.port)
    rt.stoppers.append(rt.web.cleanup)
    if tg.enabled:
        await _run_telegram(rt, poll_timeout)
    for starter in background_services(rt.settings) if services is None else services:
        rt.stoppers.append(await starter(rt))


async def _init_telegram(rt: Runtime) -> None:
    """Build and initialize the Application (getMe), set the menu; nothing received yet."""
    tg = rt.settings.telegram
    app = build_application(
        tg.token.get_secret_value(),
        api_url=tg.api_url,
        file_url=tg.file_url,
        polling=tg.mode == "polling",
    )
    ctx = rt.ctx
    rt.channel = TelegramChannel(app, lambda inbound: core_handle(ctx, inbound))
    await app.initialize()
    rt.telegram = app
    rt.stoppers.append(app.shutdown)
    rt.ctx.bot_username = app.bot.username or rt.ctx.bot_username
    await set_command_menu(app)


async def _run_telegram(rt: Runtime, poll_timeout: int) -> None:
    """Start processing: poll the Bot API, or tell Telegram where the webhook is."""
    app, tg = rt.telegram, rt.settings.telegram
    assert app is not None
    await app.start()
    rt.stoppers.append(app.stop)
    if tg.mode == "polling":
        assert app.updater is not None
        await app.updater.start_polling(timeout=poll_timeout, allowed_updates=ALLOWED_UPDATES)
        rt.stoppers.append(app.updater.stop)
    else:
        await app.bot.set_webhook(
            tg.webhook_url,
            secret_token=tg.webhook_secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
    log.info("telegram: %s as @%s", tg.mode, app.bot.username)


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    rt = await start(settings)
    log.info("bangfu running; web on %s:%s", settings.web.host, settings.web.port)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await rt.stop()
