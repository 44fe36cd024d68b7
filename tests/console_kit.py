"""A small county for the web console's tests, the console served on a free port, and a
signed-in HTTP client that reads CSRF tokens from the pages like a browser would."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bot.web import bound_port, build_web_app, start_web
from core.clock import FixedClock
from core.policy import Policy
from storage.db import Database
from storage.models import Cadre, DiaryEntry, Household, Problem, Unit
from storage.webusers import add_user
from tests import factories as f
from webconsole.app import console_app, mount_console
from webconsole.passwords import hash_password

NOW = datetime.fromisoformat("2026-11-20T10:00:00+08:00")
PASSWORD = "correct-horse-77"


@dataclass
class County:
    """Ids of what the tests look at."""

    county: Unit
    town: Unit  # 顿谷镇
    other_town: Unit  # 沙河镇
    village: Unit  # 顿谷镇/旧门村
    other_village: Unit  # 沙河镇/石桥村
    cadre: Cadre  # 王建国, 顿谷镇
    other_cadre: Cadre  # 李明, 沙河镇
    household: Household  # 黄大福, 旧门村
    other_household: Household  # 陈阿婆, 石桥村
    diary: DiaryEntry
    other_diary: DiaryEntry
    problem: Problem
    extra: dict[str, Any] = field(default_factory=dict)


async def make_county(db: Database) -> County:
    async with db.transaction() as s:
        village = await f.unit(s, "博白县/顿谷镇/旧门村")
        other_village = await f.unit(s, "博白县/沙河镇/石桥村")
        await f.unit(s, "博白县/顿谷镇/新村")
        town = await s.get(Unit, village.parent_id)
        other_town = await s.get(Unit, other_village.parent_id)
        assert town is not None and other_town is not None
        county = await s.get(Unit, town.parent_id)
        assert county is not None
        cadre = await f.cadre(s, "王建国", at=town, phone="13800000001")
        other = await f.cadre(s, "李明", at=other_town, phone="13800000002")
        await f.account(s, cadre, "telegram", account_id="880001", chat_id="880001")
        hh = await f.household(s, "黄大福", village=village, code="HDF001")
        hh2 = await f.household(s, "陈阿婆", village=other_village, code="CAP001")
        await f.household(s, "周小明", village=village, code="ZXM001")
        await f.pairing(s, cadre, hh)
        await f.pairing(s, other, hh2)
        await f.contact(
            s,
            cadre,
            hh,
            "visit",
            date(2026, 11, 3),
            help_tags=["技术"],
            summary='=HYPERLINK("http://evil")',
            photo_refs=[],
        )
        await f.contact(s, other, hh2, "call", date(2026, 11, 5))
        diary = DiaryEntry(
            cadre_id=cadre.id,
            household_id=hh.id,
            written_on=date(2026, 11, 4),
            created_at=NOW,
            done="帮黄大福联系了养牛技术员",
            seen="村道坑洼",
            thoughts="",
            opinion_topics=["livelihood"],
            opinion="希望修路",
        )
        diary2 = DiaryEntry(
            cadre_id=other.id,
            household_id=hh2.id,
            written_on=date(2026, 11, 6),
            created_at=NOW,
            done="沙河镇的秘密",
            seen="",
            thoughts="",
            opinion_topics=[],
            opinion="",
        )
        problem = Problem(
            household_id=hh.id,
            cadre_id=cadre.id,
            description="屋顶漏雨",
            raised_on=date(2026, 9, 1),
            created_at=NOW,
        )
        s.add_all([diary, diary2, problem])
        await s.flush()
        for name, unit, role in (
            ("county", county, "admin"),
            ("dungu", town, "supervisor"),
            ("shahe", other_town, "viewer"),
        ):
            await add_user(
                s,
                name=name,
                unit_id=unit.id,
                role=role,
                password_hash=hash_password(PASSWORD),
                at=NOW,
            )
    return County(
        county,
        town,
        other_town,
        village,
        other_village,
        cadre,
        other,
        hh,
        hh2,
        diary,
        diary2,
        problem,
    )


@asynccontextmanager
async def serve_console(
    db: Database, clock: FixedClock, media_dir: Path, *, extra: list[web.RouteDef] | None = None
) -> AsyncIterator[str]:
    """The console on a free loopback port; yields the base URL (…/console)."""
    app = build_web_app(health=_ok, routes=extra or [])
    mount_console(
        app, console_app(db=db, clock=clock, policy=Policy(), media_dir=media_dir, idle_minutes=30)
    )
    runner = await start_web(app, host="127.0.0.1", port=0)
    try:
        yield f"http://127.0.0.1:{bound_port(runner)}/console"
    finally:
        await runner.cleanup()


async def _ok() -> bool:
    return True


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Browser:
    """An HTTP client with a cookie jar that submits forms with the page's CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str, **kw: Any) -> tuple[int, str]:
        async with self.http.get(self.base + path, **kw) as r:
            body = await r.text(errors="replace")
            if m := CSRF.search(body):
                self.csrf = m.group(1)
            return r.status, body

    async def post(
        self, path: str, data: dict[str, str], *, csrf: bool = True, **kw: Any
    ) -> tuple[int, str]:
        form = {**data, **({"csrf": self.csrf} if csrf else {})}
        async with self.http.post(self.base + path, data=form, **kw) as r:
            return r.status, await r.text(errors="replace")

    async def login(self, name: str, password: str = PASSWORD) -> tuple[int, str]:
        await self.get("/login")
        return await self.post("/login", {"name": name, "password": password})
