"""The console as a part of `bangfu run` (settings.services names this module), and for
`bangfu web`: mounted under /console on the process's one web app."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web

from bot.config import Settings
from bot.host import Host
from core.clock import Clock
from storage.db import Database
from webconsole.app import console_app, mount_console

log = logging.getLogger(__name__)


def add_console(app: web.Application, settings: Settings, db: Database, clock: Clock) -> None:
    """Serve the console under /console on `app`."""
    key = settings.web.session_key.get_secret_value()
    if not key:
        log.warning(
            "web console: no BANGFU_WEB__SESSION_KEY; sign-ins end when the process restarts"
        )
    mount_console(
        app,
        console_app(
            db=db,
            clock=clock,
            policy=settings.policy,
            media_dir=settings.media_dir,
            session_key=key,
            idle_minutes=settings.web.idle_minutes,
        ),
    )


class ConsolePart:
    """Nothing to start or stop: the console lives and dies with the web server."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return ()

    def mount(self, app: web.Application) -> None:
        add_console(app, self.host.settings, self.host.db, self.host.ctx.clock)
        log.info("web console at /console/")

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def plug(host: Host) -> ConsolePart | None:
    """The console, unless BANGFU_WEB__CONSOLE=false."""
    return ConsolePart(host) if host.settings.web.console else None
