"""The web console's accounts: sign-in, throttling, sessions, CSRF, scope (404 outside)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from storage.db import Database
from storage.models import AuditLog, DiaryComment
from tests.console_kit import NOW, PASSWORD, Browser, County, make_county, serve_console


@pytest.fixture
async def site(db: Database, tmp_path: Path) -> AsyncIterator[tuple[str, County, FixedClock]]:
    county = await make_county(db)
    clock = FixedClock(NOW)
    async with serve_console(db, clock, tmp_path) as base:
        yield base, county, clock


@pytest.fixture
async def browser(site: tuple[str, County, FixedClock]) -> AsyncIterator[Browser]:
    b = Browser(site[0])
    yield b
    await b.close()


async def test_sign_in_lands_on_own_unit_and_is_audited(
    site, browser: Browser, db: Database
) -> None:
    _base, _county, _ = site
    status, body = await browser.login("dungu")
    assert status == 200
    assert "顿谷镇" in body and "旧门村" in body  # its sub-units
    assert "沙河镇" not in body
    async with db.sessions() as s:
        actions = list(await s.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert "web.sign_in" in actions


async def test_wrong_password_and_unknown_user_get_the_same_answer(site, browser: Browser) -> None:
    s1, wrong = await browser.login("dungu", "nope-nope-nope")
    s2, unknown = await browser.login("nobody", "nope-nope-nope")
    assert s1 == s2 == 401
    assert "登录名或密码不对" in wrong and "登录名或密码不对" in unknown


async def test_too_many_failures_are_throttled_even_with_the_right_password(
    site, browser: Browser
) -> None:
    _base, _county, clock = site
    for _ in range(5):
        await browser.login("dungu", "wrong-password")
    status, body = await browser.login("dungu")
    assert status == 429 and "分钟后再试" in body
    clock.advance(timedelta(minutes=16))
    status, body = await browser.login("dungu")
    assert status == 200 and "顿谷镇" in body


async def test_session_expires_after_idle_time(site, browser: Browser) -> None:
    _base, county, clock = site
    await browser.login("dungu")
    clock.advance(timedelta(minutes=29))
    status, body = await browser.get(f"/unit/{county.town.id}")
    assert status == 200 and "顿谷镇" in body
    clock.advance(timedelta(minutes=31))
    status, body = await browser.get(f"/unit/{county.town.id}")
    assert "重新登录" in body and "黄大福" not in body


async def test_forged_cookie_is_not_signed_in(site, browser: Browser) -> None:
    _base, county, _ = site
    browser.http.cookie_jar.update_cookies({"bangfu_console": "gAAAAABforgedforgedforged"})
    _status, body = await browser.get(f"/unit/{county.town.id}")
    assert 'type="password"' in body and "旧门村" not in body


async def test_cookie_flags(site) -> None:
    base, _, _ = site
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(base + "/login") as r:
        cookie = r.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback
    async with (
        aiohttp.ClientSession() as http,
        http.get(base + "/login", headers={"X-Forwarded-Proto": "https"}) as r,
    ):
        assert "Secure" in r.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    "path",
    [
        "unit/{other_town}",
        "unit/{other_village}",
        "cadre/{other_cadre}",
        "household/{other_household}",
        "household/{other_household}/card",
        "unit/{county}",
        "unit/999999",
        "household/abc",
    ],
)
async def test_outside_scope_is_404(site, browser: Browser, path: str) -> None:
    _base, c, _ = site
    await browser.login("dungu")
    ids = {
        "other_town": c.other_town.id,
        "other_village": c.other_village.id,
        "other_cadre": c.other_cadre.id,
        "other_household": c.other_household.id,
        "county": c.county.id,
    }
    status, body = await browser.get("/" + path.format(**ids))
    assert status == 404
    assert "不在您的权限范围内" in body
    assert "陈阿婆" not in body and "李明" not in body


async def test_diary_reader_keeps_to_scope(site, browser: Browser) -> None:
    _base, _c, _ = site
    await browser.login("dungu")
    status, body = await browser.get("/diaries")
    assert "帮黄大福联系了养牛技术员" in body and "沙河镇的秘密" not in body
    status, body = await browser.get("/diaries", params={"unit": "博白县/沙河镇"})
    assert status == 400 and "沙河镇的秘密" not in body


async def test_post_without_csrf_is_refused_and_changes_nothing(
    site, browser: Browser, db: Database
) -> None:
    _base, c, _ = site
    await browser.login("dungu")
    await browser.get("/diaries")
    status, body = await browser.post(f"/diary/{c.diary.id}/comment", {"text": "好"}, csrf=False)
    assert status == 403 and "没有保存" in body
    status, _ = await browser.post(
        f"/diary/{c.diary.id}/comment", {"text": "好", "csrf": "forged"}, csrf=False
    )
    assert status == 403
    async with db.sessions() as s:
        assert list(await s.scalars(select(DiaryComment))) == []


async def test_comment_on_a_diary_outside_scope_is_404(site, browser: Browser) -> None:
    _base, c, _ = site
    await browser.login("dungu")
    await browser.get("/diaries")
    status, _ = await browser.post(f"/diary/{c.other_diary.id}/comment", {"text": "看看"})
    assert status == 404


async def test_huge_query_string_is_refused(site, browser: Browser) -> None:
    _base, _c, _ = site
    await browser.login("dungu")
    status, _ = await browser.get("/diaries", params={"q": "x" * 5000})
    assert status == 414


async def test_from_after_to_and_bad_dates_are_explained(site, browser: Browser) -> None:
    await browser.login("dungu")
    status, body = await browser.get("/diaries", params={"from": "2026-11-10", "to": "2026-11-01"})
    assert status == 400 and "晚于截止日期" in body
    status, body = await browser.get("/diaries", params={"from": "11/10"})
    assert status == 400 and "看不懂" in body


async def test_sign_out_ends_the_session(site, browser: Browser) -> None:
    _base, c, _ = site
    await browser.login("dungu")
    await browser.get(f"/unit/{c.town.id}")
    _, body = await browser.post("/logout", {})
    assert 'type="password"' in body
    _status, body = await browser.get(f"/unit/{c.town.id}")
    assert "旧门村" not in body and 'type="password"' in body


async def test_english_on_request_chinese_by_default(site, browser: Browser) -> None:
    _, c, _ = site
    _, body = await browser.login("dungu")
    assert "本月已联系" in body
    status, body = await browser.get(
        "/lang/en", headers={"Referer": f"{browser.base}/unit/{c.village.id}"}
    )
    assert status == 200 and "contacted this month" in body and "本月已联系" not in body
    _, body = await browser.get("/lang/zh", headers={"Referer": "http://evil.example/phish"})
    assert "本月已联系" in body  # back home, never to another site


async def test_password_change_needs_the_current_password_and_a_token(
    site, browser: Browser, db: Database
) -> None:
    base, _, _ = site
    other_device = Browser(base)
    try:
        await browser.login("dungu")
        await other_device.login("dungu")
        await browser.get("/password")
        new = "a-new-password-42"
        form = {"current": PASSWORD, "new": new, "again": new}
        status, body = await browser.post("/password", form, csrf=False)
        assert status == 403 and "没有保存" in body
        for bad_form, code, says in (
            ({**form, "current": "not-it-at-all"}, 403, "现在的密码不对"),
            ({**form, "new": "short", "again": "short"}, 400, "太短"),
            ({**form, "again": new + "x"}, 400, "不一样"),
            ({**form, "new": PASSWORD, "again": PASSWORD}, 400, "不能和现在的一样"),
        ):
            status, body = await browser.post("/password", bad_form)
            assert status == code and says in body, says
        status, _ = await browser.login("dungu", new)  # nothing changed yet
        assert status == 401
        await browser.login("dungu")
        await browser.get("/password")
        status, body = await browser.post("/password", form)
        assert status == 200 and "密码已修改" in body
        status, body = await browser.get("/diaries")  # this session goes on
        assert status == 200 and "日记民意" in body
        status, body = await other_device.get("/diaries")  # the other one has ended
        assert "input" in body and 'name="password"' in body
        assert (await browser.login("dungu"))[0] == 401  # the old password no longer works
        assert (await browser.login("dungu", new))[0] == 200
    finally:
        await other_device.close()
    async with db.sessions() as s:
        actions = list(await s.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions.count("web.password_change") == 1
    assert actions.count("web.password_change_failed") == 4
