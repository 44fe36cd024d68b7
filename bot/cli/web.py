"""`bangfu web`: only the office's web console (for an office that runs the bot elsewhere)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from bot.config import load_settings
from bot.database import open_database
from bot.logs import setup_logging
from bot.web import build_web_app, database_ok, start_web
from core.clock import SystemClock
from webconsole.serve import add_console

log = logging.getLogger(__name__)


async def _web(args: argparse.Namespace) -> int:
    settings = load_settings()
    setup_logging(settings)
    db = open_database(settings)
    app = build_web_app(health=lambda: database_ok(db))
    add_console(
        app,
        settings.model_copy(update={"web": settings.web.model_copy(update={"console": True})}),
        db,
        SystemClock(settings.tz),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    runner = await start_web(app, host=settings.web.host, port=settings.web.port)
    log.info("web console on http://%s:%s/console/", settings.web.host, settings.web.port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await db.dispose()
    return 0
