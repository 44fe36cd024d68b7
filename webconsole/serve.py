"""Mounting the console on a process's web app, from settings."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.config import Settings
from core.clock import Clock
from storage.db import Database
from webconsole.app import console_app, mount_console

log = logging.getLogger(__name__)


def add_console(app: web.Application, settings: Settings, db: Database, clock: Clock) -> None:
    """Serve the console under /console on `app` when enabled in settings."""
    if not settings.web.console:
        return
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
