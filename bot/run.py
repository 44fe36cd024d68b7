"""The long-running bot process: database, core, channels, web server, services.

`serve(settings)` runs until SIGINT/SIGTERM. `start()`/`Runtime.stop()` are the same steps
without signals, for tests and embedding.

Nothing here names a channel. `settings.channels` and `settings.services` name the parts
(bot/registry.py); each is built from the `Host` (bot/host.py) and follows one lifecycle
(bot.channels.base.Part): its `routes()` go on the one web app, `start()` runs in order,
`stop()` in reverse. Channels start before the web server listens and stop after it has
stopped taking requests; services (the scheduler and dispatcher, a web console...) start
last and stop first. A part may also have `mount(app)`, to add a sub-application with its
own middlewares (the office console under /console does).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.channels.base import ChannelAdapter, Part, Sender
from bot.config import Settings
from bot.database import open_database
from bot.host import ChannelPlug, Host, ServicePlug
from bot.metrics import MeteredCore
from bot.registry import resolve_all
from bot.web import build_web_app, database_ok, start_web
from core.clock import Clock, SystemClock
from core.types import Channel
from core.understand.text import warm_up as warm_up_reading
from handlers.context import Context
from reminders.digest_chart import warm_up as warm_up_chart
from reminders.group_commands import DigestGroupCommands
from reminders.score import ScoreCommands
from storage.db import Database, is_sqlite
from storage.roster_journal import recover

log = logging.getLogger(__name__)

Stopper = Callable[[], Awaitable[None]]

# The cyclic collector's first threshold: allocations (net) between young collections.
GC_YOUNG_THRESHOLD = 10_000


@dataclass
class Runtime:
    """Everything one running bot process holds; `stop()` undoes `start()`."""

    host: Host
    web: web.AppRunner | None = None
    channels: dict[Channel, ChannelAdapter] = field(default_factory=dict)
    services: list[Part] = field(default_factory=list)
    stoppers: list[Stopper] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.host.settings

    @property
    def db(self) -> Database:
        return self.host.db

    @property
    def ctx(self) -> Context:
        return self.host.ctx

    @property
    def senders(self) -> dict[Channel, Sender]:
        """Outbound senders by destination, for the dispatcher."""
        return self.host.senders

    async def stop(self) -> None:
        """Stop in reverse order of start; each step runs even if an earlier one failed."""
        for stop in reversed(self.stoppers):
            try:
                await stop()
            except Exception:
                log.exception("error while stopping")
        self.stoppers.clear()


def build_host(settings: Settings, db: Database, clock: Clock | None = None) -> Host:
    """The core context for `settings` on `db`, as every part receives it."""
    ctx = Context(
        db=db,
        clock=clock or SystemClock(settings.tz),
        policy=settings.policy,
        invite_ttl=timedelta(hours=settings.invite_ttl_hours),
        bot_username=settings.telegram.bot_username,
        digest_day=settings.schedule.digest_day,
        digest_time=settings.schedule.digest_time,
    )
    ctx.group_commands = DigestGroupCommands(db, ctx.clock, settings.policy)
    ctx.scores = ScoreCommands(db, ctx.clock, settings.policy)
    core = MeteredCore(ctx)
    core.conversation_pool = settings.database_pool_size
    return Host(settings=settings, db=db, ctx=ctx, core=core)


async def start(
    settings: Settings,
    *,
    db: Database | None = None,
    clock: Clock | None = None,
    channels: Iterable[ChannelPlug] | None = None,
    services: Iterable[ServicePlug] | None = None,
) -> Runtime:
    """Start every part of the process; a failure stops what was already started.

    `channels` and `services` replace the plugs settings name (tests use this).
    """
    channel_plugs: list[ChannelPlug] = (
        list(channels) if channels is not None else _named(settings.channels, "CHANNELS")
    )
    service_plugs: list[ServicePlug] = (
        list(services) if services is not None else _named(settings.services, "SERVICES")
    )
    pool: dict[str, Any] = {}
    if not is_sqlite(settings.database_url):
        size = settings.database_pool_size
        pool = {"pool_size": size, "max_overflow": size}
    database = db or open_database(
        settings,
        hide_parameters=not settings.log.personal_data,
        **pool,
    )
    rt = Runtime(host=build_host(settings, database, clock))
    if db is None:
        rt.stoppers.append(database.dispose)
    rt.stoppers.append(rt.host.core.close)  # after the channels stopped handling
    # Once the channels have stopped (stoppers run in reverse): answers still under way go
    # or are queued, and the send history of direct answers is written for the next process.
    assert rt.host.delivery is not None
    rt.stoppers.append(rt.host.delivery.close)
    try:
        _build(rt, channel_plugs, service_plugs)
        # The one-line reader's character table, before any update is handled (on the
        # loop: a table half built in a thread could be read by the first message).
        warm_up_reading()
        await _start_parts(rt)
        rt.host.delivery.listen()  # other processes' sends, heard at once (PostgreSQL)
        # The chart's imports and font, found off the event loop: a supervisor's first
        # /digest then takes as long as the later ones (0.7-1 s more otherwise).
        asyncio.get_running_loop().run_in_executor(None, _warm_chart)
    except BaseException:
        await rt.stop()
        raise
    return rt


def settle_heap() -> None:
    """After start-up: what is loaded for good is left out of the cyclic collector's scans.

    The process holds some 350,000 objects once started (SQLAlchemy's tables and compiled
    statements, PTB, the catalogue, the reader's tables) that live as long as it does.
    Every full collection scanned them all again, and the young collections ran every
    700 allocations: about a tenth of the CPU an update took. `gc.freeze()` moves them to
    the permanent generation (never scanned; never freed, which they would not be anyway),
    and young collections run every `GC_YOUNG_THRESHOLD` allocations. Garbage cycles made
    later are collected as before. Only the process's entry point calls this, not
    `start()`: a test process starting many bots must not keep each one's objects.
    """
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def _warm_chart() -> None:
    try:
        warm_up_chart()
    except Exception:  # the first digest draws it then, and says what is wrong
        log.exception("chart warm-up failed")


def _named(names: Iterable[str], setting: str) -> list[Callable[[Host], Any]]:
    return resolve_all(names, f"BANGFU_{setting}")


def _build(rt: Runtime, channels: list[ChannelPlug], services: list[ServicePlug]) -> None:
    """Build every part (no I/O yet), so a bad setting stops start-up before anything runs."""
    for plug in channels:
        channel = plug(rt.host)
        if channel is not None:
            rt.channels[channel.channel] = channel
            rt.host.add_channel(channel)
    for make in services:
        service = make(rt.host)
        if service is not None:
            rt.services.append(service)


async def _start_parts(rt: Runtime) -> None:
    for channel in rt.channels.values():
        await _start_one(rt, channel)
    routes = [route for part in _parts(rt) for route in part.routes()]
    app = build_web_app(health=lambda: database_ok(rt.db), routes=routes)
    for part in _parts(rt):
        # A part that brings a whole sub-application (its own middlewares: sessions,
        # CSRF...) mounts it; routes alone cannot carry those.
        mount = getattr(part, "mount", None)
        if mount is not None:
            mount(app)
    rt.web = await start_web(app, host=rt.settings.web.host, port=rt.settings.web.port)
    rt.stoppers.append(rt.web.cleanup)
    for service in rt.services:
        await _start_one(rt, service)


def _parts(rt: Runtime) -> list[Part]:
    return [*rt.channels.values(), *rt.services]


async def _start_one(rt: Runtime, part: Part) -> None:
    # Registered before starting: a part that fails half-way still undoes what it did.
    rt.stoppers.append(part.stop)
    await part.start()


async def _recover_roster_import(settings: Settings) -> None:
    """Take back a roster import that a killed process left half-written (docs/roster.md)."""
    db = open_database(settings)
    try:
        count = await recover(db)
    except Exception as exc:  # an unmigrated database: the start-up says so, in one line
        log.debug("roster import journal not checked: %s", type(exc).__name__)
        return
    finally:
        await db.dispose()
    if count is None:
        log.info("a roster import is running; its journal is left to it")
    elif count:
        log.warning("took back an unfinished roster import (%d batches)", count)


async def serve(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then stop gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await _recover_roster_import(settings)
    rt = await start(settings)
    settle_heap()
    log.info("bangfu running; web on %s:%s", settings.web.host, settings.web.port)
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await rt.stop()
