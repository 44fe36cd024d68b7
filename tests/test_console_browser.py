"""The office console in a real browser (Debian's chromium driven by Playwright).

Records are made through the chat flows; the county office then signs in, drills down,
comments on a diary (the comment arrives at the fake Bot API), downloads a ledger and
reads it with openpyxl, and signs out. Screenshots of the main pages at phone and desktop
size go to BANGFU_SCREENSHOT_DIR when set (docs/screenshots/ is made that way).
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from telegram import Bot

from bot.channels.telegram_send import TelegramSender
from bot.dispatch import Dispatcher
from core.clock import FixedClock
from core.policy import Policy
from core.types import Channel
from handlers.context import Context
from storage.db import Database
from storage.models import AuditLog, Unit
from storage.webusers import add_user
from tests.chat import Chat
from tests.console_kit import PASSWORD, serve_console
from tests.dispatch_helpers import settings
from tests.fakes.telegram_api import FakeTelegram
from tests.seed import Seed, seed
from webconsole.passwords import hash_password

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"no {CHROMIUM}: apt-get install -y chromium"
    ),
    # libfaketime would be preloaded into the browser too; these tests run on an injected
    # clock anyway and run in the ordinary suite.
    pytest.mark.skipif("FAKETIME" in os.environ, reason="under libfaketime (browser excluded)"),
]
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
TG_CHAT = 880001


async def _records_through_chat(db: Database, clock: FixedClock) -> tuple[Seed, int]:
    """The cadre binds a Telegram account and reports a call, a visit and a diary."""
    s = await seed(db, NOW)
    ctx = Context(db=db, clock=clock, policy=Policy())
    chat = Chat(ctx, account=str(TG_CHAT), channel=Channel.TELEGRAM)
    await chat.command("start", s.code)
    await chat.say("今天给张叁打了电话，他家玉米收成不错")
    await chat.tap("确认保存")
    await chat.tap("报告联系")
    await chat.tap("李四")
    await chat.tap("入户走访")
    await chat.tap("昨天")
    await chat.tap("销路上帮")
    await chat.tap("完成")
    await chat.say("=帮忙联系收购商")
    await chat.tap("跳过")
    await chat.tap("完成")
    await chat.tap("确认保存")
    await chat.command("diary")
    await chat.tap("李四")
    await chat.say("走访李四，帮他联系了收购商")
    await chat.tap("跳过")
    await chat.say("建议村里修路")
    await chat.tap("民生大事")
    await chat.tap("完成")
    await chat.say("希望修通村道")
    await chat.tap("确认保存")
    assert "已保存" in chat.last_text()
    async with db.transaction() as session:
        other_town = Unit(name="沙河镇", path="博白县/沙河镇", parent_id=s.county_id, depth=1)
        session.add(other_town)
        await session.flush()
        town_id = (await session.get(Unit, s.village_id)).parent_id  # type: ignore[union-attr]
        for name, unit_id, role in (
            ("county", s.county_id, "admin"),
            ("dungu", town_id, "supervisor"),
            ("shahe", other_town.id, "supervisor"),
        ):
            await add_user(session, name=name, unit_id=unit_id, role=role,
                           password_hash=hash_password(PASSWORD), at=NOW)  # fmt: skip
    return s, town_id


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("BANGFU_SCREENSHOT_DIR") or tmp_path / "shots")
    where.mkdir(parents=True, exist_ok=True)
    return where


@pytest.fixture
async def world(db: Database, tmp_path: Path, shots: Path) -> AsyncIterator[dict[str, Any]]:
    from playwright.async_api import async_playwright

    clock = FixedClock(NOW)
    s, town_id = await _records_through_chat(db, clock)
    async with serve_console(db, clock, tmp_path / "media") as base, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield {"base": base, "seed": s, "town": town_id, "clock": clock, "browser": browser,
                   "shots": shots, "db": db}  # fmt: skip
        finally:
            await browser.close()


async def _sign_in(page: Any, base: str, name: str) -> None:
    await page.goto(base + "/")
    await page.fill("input[name=name]", name)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")


async def _shoot(page: Any, shots: Path, name: str) -> None:
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(shots / f"{name}-{label}.png"), full_page=True)
    await page.set_viewport_size(DESKTOP)


async def test_county_office_walkthrough(world: dict[str, Any]) -> None:
    base, s, shots, db = world["base"], world["seed"], world["shots"], world["db"]
    context = await world["browser"].new_context(
        viewport=DESKTOP, accept_downloads=True, locale="zh-CN"
    )
    page = await context.new_page()
    await page.goto(base + "/")
    await _shoot(page, shots, "login")
    await _sign_in(page, base, "county")
    assert await page.locator("h1").first.inner_text() == "博白县 截至 2026-11-23"
    await _shoot(page, shots, "overview-county")
    await page.click("#subunits >> text=顿谷镇")
    await page.click("#subunits >> text=旧门村")
    await _shoot(page, shots, "overview-village")
    await page.click("#households >> text=王建国 >> nth=0")
    assert "王建国" in await page.locator("h1").inner_text()
    contacts = await page.locator("#contacts").inner_text()
    assert "今天给张叁打了电话" in contacts and "=帮忙联系收购商" in contacts
    await _shoot(page, shots, "cadre")
    await page.click("#contacts >> text=李四")
    assert "李四" in await page.locator("h1").inner_text()
    body = await page.locator("main").inner_text()
    assert "走访李四，帮他联系了收购商" in body and "希望修通村道" in body and "销路" in body
    await _shoot(page, shots, "household")

    # The diary reader: filter by topic and keyword, comment; the cadre gets it on Telegram.
    await page.click("nav >> text=日记民意")
    await page.select_option("select[name=topic]", "livelihood")
    await page.fill("input[name=q]", "收购商")
    await page.click("form.filters button")
    entries = page.locator(".entry")
    assert await entries.count() == 1
    await entries.locator("textarea").fill("很好，修路的事镇里来协调")
    await entries.locator("button").click()
    assert "很好，修路的事镇里来协调" in await page.locator(".comment").inner_text()
    await _shoot(page, shots, "diaries")
    async with FakeTelegram() as tg, Bot(tg.token, base_url=tg.base_url) as bot:
        await Dispatcher(
            db, [TelegramSender(bot)], settings=settings(), clock=world["clock"]
        ).run_once()
        texts = tg.texts(TG_CHAT)
    assert any("很好，修路的事镇里来协调" in t and "county 点评了您" in t for t in texts)

    await page.click("nav >> text=问题")
    await _shoot(page, shots, "problems")

    # The contacts ledger, downloaded and read back.
    await page.click("nav >> text=导出台账")
    await _shoot(page, shots, "export")
    await page.select_option("select[name=ledger]", "contacts")
    async with page.expect_download() as info:
        await page.click("form.filters button")
    download = await info.value
    assert download.suggested_filename.endswith(".xlsx")
    data = await asyncio.to_thread(Path(await download.path()).read_bytes)
    wb = load_workbook(io.BytesIO(data))
    rows = list(wb["联系台账"].iter_rows(values_only=True))[1:]
    got = sorted((r[4], r[6], r[7].date(), r[9]) for r in rows)
    assert got == [
        ("张三", "电话联系", date(2026, 11, 23), "今天给张叁打了电话，他家玉米收成不错"),
        ("李四", "入户走访", date(2026, 11, 22), "=帮忙联系收购商"),
    ]
    assert wb["联系台账"]["J3"].data_type == "s" or wb["联系台账"]["J2"].data_type == "s"
    assert "干部汇总" in wb.sheetnames

    await page.goto(f"{base}/household/{s.households['张三']}/card")
    await _shoot(page, shots, "card")
    await page.click("header >> text=退出")
    assert await page.locator("input[type=password]").count() == 1
    await page.goto(f"{base}/household/{s.households['张三']}")
    assert await page.locator("input[type=password]").count() == 1
    await context.close()


async def test_other_township_gets_404_and_sessions_expire(world: dict[str, Any]) -> None:
    base, s = world["base"], world["seed"]
    context = await world["browser"].new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await _sign_in(page, base, "shahe")
    assert "沙河镇" in await page.locator("h1").inner_text()
    for path in (f"/household/{s.households['张三']}", f"/unit/{world['town']}",
                 f"/cadre/{s.cadre_id}", f"/unit/{s.county_id}"):  # fmt: skip
        response = await page.goto(base + path)
        assert response is not None and response.status == 404, path
        body = await page.locator("main").inner_text()
        assert "不在您的权限范围内" in body and "张三" not in body
    world["clock"].advance(timedelta(minutes=31))
    await page.goto(base + f"/unit/{world['town']}")
    assert "长时间未操作" in await page.locator("main").inner_text()
    await context.close()


async def test_form_without_csrf_token_is_refused(world: dict[str, Any]) -> None:
    base = world["base"]
    context = await world["browser"].new_context(viewport=DESKTOP, locale="zh-CN")
    page = await context.new_page()
    await _sign_in(page, base, "dungu")
    await page.click("nav >> text=日记民意")
    await page.evaluate("document.querySelectorAll('input[name=csrf]').forEach(e => e.remove())")
    await page.locator(".entry textarea").first.fill("没有令牌的点评")
    await page.locator(".entry button").first.click()
    assert "没有保存" in await page.locator("main").inner_text()
    await page.goto(base + "/diaries")
    assert "没有令牌的点评" not in await page.locator("main").inner_text()
    await context.close()


async def test_password_change_in_the_console(world: dict[str, Any]) -> None:
    base, db = world["base"], world["db"]
    context = await world["browser"].new_context(viewport=PHONE, locale="zh-CN")
    page = await context.new_page()
    await _sign_in(page, base, "dungu")
    await page.click("header >> text=改密码")
    await page.fill("input[name=current]", "wrong-password-1")
    await page.fill("input[name=new]", "brand-new-pass-9")
    await page.fill("input[name=again]", "brand-new-pass-9")
    await page.click("main button[type=submit]")
    assert "现在的密码不对" in await page.locator("main").inner_text()
    await page.fill("input[name=current]", PASSWORD)
    await page.fill("input[name=new]", "brand-new-pass-9")
    await page.fill("input[name=again]", "brand-new-pass-9")
    await page.click("main button[type=submit]")
    assert "密码已修改" in await page.locator("main").inner_text()
    await _shoot(page, world["shots"], "password")
    await page.click("header >> text=退出")
    await _sign_in(page, base, "dungu")  # the old password
    assert "登录名或密码不对" in await page.locator("main").inner_text()
    await page.fill("input[name=name]", "dungu")
    await page.fill("input[name=password]", "brand-new-pass-9")
    await page.click("button[type=submit]")
    assert "顿谷镇" in await page.locator("h1").inner_text()
    async with db.sessions() as s:
        actions = list(await s.scalars(select(AuditLog.action)))
    assert actions.count("web.password_change") == 1
    assert actions.count("web.password_change_failed") == 1
    await context.close()


async def test_back_entry_from_the_household_file(world: dict[str, Any]) -> None:
    """The office enters a call the cadre could not report; the file marks who entered it."""
    base, s, shots, db = world["base"], world["seed"], world["shots"], world["db"]
    context = await world["browser"].new_context(viewport=DESKTOP, locale="zh-CN")
    page = await context.new_page()
    await _sign_in(page, base, "county")
    await page.goto(f"{base}/household/{s.households['张三']}")
    await page.click("#back-entry summary")
    await page.select_option("#back-entry select[name=kind]", "call")
    await page.fill("#back-entry input[name=date]", "2026-10-08")
    await page.fill("#back-entry textarea[name=note]", "国庆期间电话联系，干部手机丢失未能报送")
    await _shoot(page, shots, "back-entry-form")
    await page.click("#back-entry button[type=submit]")
    assert "已补录" in await page.locator("[role=status]").inner_text()
    row = page.locator("#contacts tr", has_text="国庆期间电话联系")
    assert "2026-10-08" in await row.inner_text()
    assert "补录 · 录入人 web:county" in await row.inner_text()
    await _shoot(page, shots, "back-entry-done")
    async with db.sessions() as session:
        logged = await session.scalar(
            select(AuditLog).where(AuditLog.action == "contact.back_entry")
        )
    assert logged is not None and logged.actor == "web:county"

    # A township supervisor reads the same file without the form.
    other = await world["browser"].new_context(viewport=DESKTOP, locale="zh-CN")
    supervisor = await other.new_page()
    await _sign_in(supervisor, base, "dungu")
    await supervisor.goto(f"{base}/household/{s.households['张三']}")
    assert "补录 · 录入人 web:county" in await supervisor.locator("#contacts").inner_text()
    assert await supervisor.locator("#back-entry").count() == 0
    await other.close()
    await context.close()
