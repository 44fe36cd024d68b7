"""`bangfu run` serves the office console on its web port, beside the health check."""

from __future__ import annotations

import aiohttp

from bot.config import Settings, WebSettings
from bot.run import start
from storage.db import Database
from tests.clocks import RunningClock
from tests.console_kit import NOW, PASSWORD, Browser, make_county
from tests.tg_support import free_port
from webconsole.serve import plug


async def test_bangfu_run_serves_the_console(db: Database) -> None:
    await make_county(db)
    port = free_port()
    settings = Settings(
        database_url="sqlite:///unused.db", web=WebSettings(host="127.0.0.1", port=port)
    )
    rt = await start(settings, db=db, clock=RunningClock(NOW), channels=[], services=[plug])
    b = Browser(f"http://127.0.0.1:{port}/console")
    try:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/") as r:
            assert r.url.path == "/console/login"
        status, body = await b.login("dungu", PASSWORD)
        assert status == 200 and "旧门村" in body
    finally:
        await b.close()
        await rt.stop()


async def test_console_can_be_switched_off(db: Database) -> None:
    port = free_port()
    settings = Settings(
        database_url="sqlite:///unused.db",
        web=WebSettings(host="127.0.0.1", port=port, console=False),
    )
    rt = await start(settings, db=db, clock=RunningClock(NOW), channels=[], services=[plug])
    try:
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/console/login") as r,
        ):
            assert r.status == 404
    finally:
        await rt.stop()


def test_the_console_is_one_of_the_default_services() -> None:
    assert "webconsole.serve" in Settings().services
