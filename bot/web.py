"""bangfu's own HTTP server (aiohttp): the health check and every part's routes.

    app = build_web_app(
        health=lambda: database_ok(db),
        routes=[*telegram.routes(), *wecom.routes()],  # each part's `routes()`
    )
    runner = await start_web(app, host="127.0.0.1", port=8080)
    …
    await runner.cleanup()

GET /healthz answers 200 when the database answers, 503 otherwise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web
from sqlalchemy import text

from storage.db import Database

log = logging.getLogger(__name__)

HEALTH_TIMEOUT_SECONDS = 5.0

HealthCheck = Callable[[], Awaitable[bool]]


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
    *, health: HealthCheck, routes: Iterable[web.AbstractRouteDef] = ()
) -> web.Application:
    """The one aiohttp application of the process; every part adds its routes here."""
    app = web.Application(client_max_size=2 * 1024**2)
    app.router.add_get("/healthz", _health_route(health))
    app.router.add_routes(list(routes))
    return app


def _health_route(health: HealthCheck) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def healthz(_request: web.Request) -> web.Response:
        if await health():
            return web.json_response({"status": "ok", "database": "ok"})
        return web.json_response({"status": "unavailable", "database": "unreachable"}, status=503)

    return healthz


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
