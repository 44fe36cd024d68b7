"""The console as an aiohttp sub-application, and how a process mounts it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp_jinja2
import aiohttp_session
import jinja2
from aiohttp import web

from core.clock import Clock
from core.policy import Policy
from storage.db import Database
from webconsole import account, auth, back_entry, exports, lists, pages
from webconsole.context import CONSOLE, Console
from webconsole.passwords import no_account_hash
from webconsole.throttle import LoginThrottle

PREFIX = "/console"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def console_app(
    *,
    db: Database,
    clock: Clock,
    policy: Policy,
    media_dir: Path | str,
    session_key: str = "",
    idle_minutes: int = 30,
) -> web.Application:
    """The console sub-application; mount it with `mount_console(app, ...)`."""
    no_account_hash()  # now, so that the first unknown name is answered as slowly as any
    app = web.Application(client_max_size=64 * 1024)
    app[CONSOLE] = Console(
        db=db,
        clock=clock,
        policy=policy,
        media_dir=Path(media_dir),
        idle=timedelta(minutes=idle_minutes),
        throttle=LoginThrottle(clock),
    )
    aiohttp_jinja2.setup(
        app,
        loader=jinja2.PackageLoader("webconsole", "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,
    )
    aiohttp_session.setup(app, auth.ConsoleCookies(auth.session_key(session_key)))
    app.middlewares.append(_errors)
    app.middlewares.append(auth.guard)
    app.router.add_routes(_routes())
    return app


def mount_console(app: web.Application, console: web.Application) -> None:
    """Serve the console under /console, and send "/" there."""
    app.add_subapp(PREFIX, console)

    async def to_console(_request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(PREFIX + "/")

    app.router.add_get("/", to_console)


def _routes() -> list[web.RouteDef]:
    return [
        web.get("/login", auth.login_page, name="login"),
        web.post("/login", auth.login_submit, name="login_submit"),
        web.post("/logout", auth.logout, name="logout"),
        web.get("/lang/{code}", auth.set_lang, name="lang"),
        web.get("/password", account.password_page, name="password"),
        web.post("/password", account.password_submit),
        web.get("/", pages.home, name="home"),
        web.get("/unit/{unit_id}", pages.unit_page, name="unit"),
        web.get("/cadre/{cadre_id}", pages.cadre_page, name="cadre"),
        web.get("/household/{household_id}", pages.household_page, name="household"),
        web.get("/household/{household_id}/card", pages.card_page, name="card"),
        web.post("/household/{household_id}/record", back_entry.back_entry, name="back_entry"),
        web.get("/photo/{contact_id}/{index}", pages.photo, name="photo"),
        web.get("/diaries", lists.diaries, name="diaries"),
        web.post("/diary/{diary_id}/comment", lists.comment, name="comment"),
        web.get("/problems", lists.problems, name="problems"),
        web.get("/export", exports.export_form, name="export"),
        web.post("/export", exports.export_download),
    ]


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """404 and 400 as plain pages in the reader's language; nothing else is revealed."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return auth.refuse(request, 404, "console.not_found")
    except web.HTTPBadRequest as exc:
        return auth.refuse(request, 400, "console.bad_request", reason=exc.text or "")
