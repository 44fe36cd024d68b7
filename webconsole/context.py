"""What every console request can reach: the database, the clock, and who is signed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from core.clock import Clock
from core.i18n import t
from core.policy import Policy
from storage.db import Database
from webconsole.throttle import LoginThrottle


@dataclass
class Console:
    db: Database
    clock: Clock
    policy: Policy
    media_dir: Path
    idle: timedelta
    throttle: LoginThrottle
    # Unit figures computed within the last `figures_ttl`, by (unit id, day): a county's
    # figures take seconds to compute, and several supervisors open the same page.
    figures: dict[tuple[int, date], tuple[datetime, Any]] = field(default_factory=dict)
    figures_ttl: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class SignedIn:
    """The account behind a request; `scope` is its unit path (the subtree it may see)."""

    user_id: int
    name: str
    role: str
    unit_id: int
    scope: str
    csrf: str

    @property
    def actor(self) -> str:
        return f"web:{self.user_id}"

    @property
    def can_comment(self) -> bool:
        return self.role in ("admin", "supervisor")

    @property
    def can_back_enter(self) -> bool:
        """Records entered on a cadre's behalf count in the cadre's 考核: the office only."""
        return self.role == "admin"


CONSOLE = web.AppKey("console", Console)
USER = web.RequestKey("console_user", SignedIn)
LANG = web.RequestKey("console_lang", str)  # the page language


def console(request: web.Request) -> Console:
    return request.app[CONSOLE]


def user(request: web.Request) -> SignedIn:
    return request[USER]


def lang(request: web.Request) -> str:
    return request.get(LANG, "zh")


def render(template: str, request: web.Request, context: dict[str, Any]) -> web.Response:
    """A page, with what every template uses: texts, language, the account, the zone."""
    language = lang(request)

    def text(key: str, **params: Any) -> str:
        return t(key, language, **params)

    common = {"_": text, "lang": language, "me": request.get(USER), "tz": console(request).clock.tz}
    return aiohttp_jinja2.render_template(template, request, {**common, **context})
