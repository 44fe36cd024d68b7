"""The programme's records in the office console, in a real browser (chromium + Playwright):
an appeal raised by chat shows on the household page (category, handling unit, deadline,
stage, call-back) and on the problems board; the help plan's measures and 办实事 and the
household's status with its date show on the household page; the exports carry them too."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.policy import Policy
from core.types import Channel
from handlers.context import Context
from storage import ledgers
from storage.db import Database
from storage.household_status import set_household_status
from storage.models import Household, Unit
from storage.webusers import add_user
from tests.chat import Chat
from tests.console_kit import PASSWORD, serve_console
from tests.seed import Seed, seed
from webconsole.passwords import hash_password

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no {CHROMIUM}"),
    pytest.mark.skipif("FAKETIME" in os.environ, reason="under libfaketime (browser excluded)"),
]
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)


async def _by_chat(db: Database, clock: FixedClock) -> Seed:
    s = await seed(db, NOW)
    chat = Chat(Context(db=db, clock=clock, policy=Policy()), account="880001",
                channel=Channel.TELEGRAM)  # fmt: skip
    await chat.command("start", s.code)
    await chat.command("problem")
    await chat.tap("张三")
    await chat.tap("住房")
    await chat.say("顿谷镇")
    await chat.tap("按规定")
    await chat.say("房屋漏雨需要维修")
    saved = await chat.tap("确认")
    assert any("诉求已受理，由顿谷镇办理，期限 12月23日（周三）" in r.text for r in saved)
    await chat.command("measure")
    await chat.tap("张三")
    await chat.tap("技术上帮")
    await chat.tap("完成")
    await chat.say("发展养牛2头")
    await chat.tap("确认保存")
    await chat.command("deed")
    await chat.tap("张三")
    await chat.say("帮助申请危房改造补助")
    await chat.tap("昨天")
    await chat.say("3000")
    await chat.tap("确认保存")
    assert "办实事已记录（张三）" in chat.last_text()
    async with db.transaction() as session:
        household = await session.get(Household, s.households["张三"])
        assert household is not None
        await set_household_status(session, household.id, "监测户", on=date(2026, 10, 1),
                                   now=NOW, actor="test")  # fmt: skip
        await add_user(session, name="county", unit_id=s.county_id, role="admin",
                       password_hash=hash_password(PASSWORD), at=NOW)  # fmt: skip
    return s


@pytest.fixture
async def world(db: Database, tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    from playwright.async_api import async_playwright

    clock = FixedClock(NOW)
    s = await _by_chat(db, clock)
    async with serve_console(db, clock, tmp_path / "media") as base, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield {"base": base, "seed": s, "browser": browser, "db": db, "clock": clock}
        finally:
            await browser.close()


async def _sign_in(page: Any, base: str) -> None:
    await page.goto(base + "/")
    await page.fill("input[name=name]", "county")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def test_household_page_and_board_show_the_appeal_plan_and_status(world) -> None:
    base, s = world["base"], world["seed"]
    context = await world["browser"].new_context(locale="zh-CN")
    page = await context.new_page()
    await _sign_in(page, base)

    await page.goto(f"{base}/household/{s.households['张三']}")
    assert "户状态：监测户（2026-10-01 起）" in await page.locator("#standing").inner_text()
    cells = await page.locator("#appeals tr >> nth=1 >> td").all_inner_texts()
    assert cells[1:7] == ["住房", "房屋漏雨需要维修", "顿谷镇", "2026-12-23", "受理", "—"]
    measure = await page.locator("#measures tr >> nth=1 >> td").all_inner_texts()
    assert [m.strip() for m in measure] == ["技术上帮", "发展养牛2头", "—"]
    deeds = await page.locator("#plan").inner_text()
    assert "办实事（1 件，合计 3,000元）" in deeds
    deed = await page.locator("#deeds tr >> nth=1 >> td").all_inner_texts()
    assert deed == ["2026-11-22", "帮助申请危房改造补助", "3,000"]

    await page.goto(f"{base}/problems?unit={s.county_id}")
    row = await page.locator("#problems tr >> nth=1 >> td").all_inner_texts()
    assert row[1:6] == ["住房", "房屋漏雨需要维修", "顿谷镇", "2026-12-23", "受理"]
    overdue = f"{base}/problems?unit={s.county_id}&status=overdue"
    await page.goto(overdue)
    assert "房屋漏雨需要维修" not in await page.locator("#problems").inner_text()
    # Overdue by its own deadline (2026-12-23), not by a fixed number of days.
    world["clock"].set(datetime(2026, 12, 24, 10, 0, tzinfo=TZ))
    await _sign_in(page, base)  # a month later the session has expired
    await page.goto(overdue)
    assert "房屋漏雨需要维修" in await page.locator("#problems").inner_text()
    assert "逾期（过期限或超过 30 天）（1）" in await page.locator(".tabs").inner_text()
    await context.close()


async def test_exports_carry_the_status_and_the_appeal(world) -> None:
    db, s = world["db"], world["seed"]
    async with db.sessions() as session:
        county = await session.get(Unit, s.county_id)
        assert county is not None
        r = ledgers.Range(county.path, None, None, TZ)
        households = [row async for row in ledgers.households(session, r)]
        problems = [row async for row in ledgers.problems(session, r)]
        head = await session.scalar(
            select(Household.head_name).where(Household.id == s.households["张三"])
        )
    by_head = {row[ledgers.HOUSEHOLD_HEADERS.index("户主")]: row for row in households}
    mine = dict(zip(ledgers.HOUSEHOLD_HEADERS, by_head[head], strict=True))
    assert (mine["户状态"], mine["状态日期"]) == ("监测户", date(2026, 10, 1))
    [appeal] = [dict(zip(ledgers.PROBLEM_HEADERS, row, strict=True)) for row in problems]
    assert (appeal["诉求类别"], appeal["承办单位"], appeal["办理期限"], appeal["办理环节"]) == (
        "住房", "顿谷镇", date(2026, 12, 23), "受理",
    )  # fmt: skip
