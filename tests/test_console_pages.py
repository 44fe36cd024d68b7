"""The console's pages against a small county: overview = digest figures, drill-down,
records, photos (scoped, no traversal), comments reaching the cadre's Telegram, exports."""

from __future__ import annotations

import html
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update
from telegram import Bot

from bot.channels.telegram_send import TelegramSender
from bot.dispatch import Dispatcher
from core.clock import FixedClock
from core.policy import Policy
from storage.db import Database
from storage.models import AuditLog, Contact, DiaryEntry, OutboxMessage, Pairing
from storage.outbox import NewMessage, enqueue
from storage.stats import unit_stats
from tests.console_kit import NOW, Browser, County, make_county, serve_console
from tests.dispatch_helpers import settings
from tests.fakes.telegram_api import FakeTelegram
from webconsole.pages import console_window

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SHA = "ab" + "0" * 62


@pytest.fixture
async def site(db: Database, tmp_path: Path) -> AsyncIterator[tuple[Browser, County, Path]]:
    county = await make_county(db)
    media = tmp_path / "media"
    (media / "ab").mkdir(parents=True)
    (media / "ab" / f"{SHA}.png").write_bytes(PNG)
    (tmp_path / "secret.txt").write_text("top secret")
    async with db.transaction() as s:
        await s.execute(
            update(Contact)
            .where(Contact.household_id == county.household.id)
            .values(
                photo_refs=[f"media:{SHA}.png", "media:../../secret.txt"],
                latitude=22.27,
                longitude=109.98,
            )
        )
    async with serve_console(db, FixedClock(NOW), media) as base:
        b = Browser(base)
        yield b, county, media
        await b.close()


def _card(body: str, label: str) -> str:
    """The big number shown above a card's label."""
    m = re.search(
        r'<div class="n">([^<]+)</div><div class="l">(?:<a[^>]*>)?' + re.escape(label), body
    )
    assert m, label
    return m.group(1)


async def test_overview_shows_the_digest_figures(site, db: Database) -> None:
    b, c, _ = site
    await b.login("county")
    status, body = await b.get(f"/unit/{c.county.id}")
    assert status == 200
    async with db.sessions() as s:
        st = await unit_stats(s, c.county, console_window(NOW, Policy()), cap=10)
    assert _card(body, "结对关系") == str(st.pairings) == "2"
    assert _card(body, "联系户") == str(st.coverage.households)
    assert _card(body, "未解决问题") == str(st.problems_open) == "1"
    assert _card(body, "本月民情日记") == str(st.diaries_period) == "2"
    assert "<svg" in body and "11月" in body  # the trend chart
    # Sub-units, worst first: both townships have full coverage this month -> by name.
    assert body.index("沙河镇") < body.index("顿谷镇") or body.index("顿谷镇") < body.index(
        "沙河镇"
    )


async def test_drill_down_county_to_household(site) -> None:
    b, c, _ = site
    await b.login("county")
    _, body = await b.get(f"/unit/{c.county.id}")
    assert f"/console/unit/{c.town.id}" in body
    _, body = await b.get(f"/unit/{c.town.id}")
    assert f"/console/unit/{c.village.id}" in body
    _, body = await b.get(f"/unit/{c.village.id}")
    assert "黄大福" in body and "周小明" in body and "从未联系" in body
    _, body = await b.get(f"/cadre/{c.cadre.id}")
    assert "王建国" in body and "黄大福" in body and "帮黄大福联系了养牛技术员" in body
    assert "telegram" in body
    status, body = await b.get(f"/household/{c.household.id}")
    assert status == 200
    assert "王建国" in body and "13800000001" in body and "屋顶漏雨" in body
    assert "=HYPERLINK" in body and '<a href="http://evil' not in body  # shown as text
    assert "22.27000" in body
    _, card = await b.get(f"/household/{c.household.id}/card")
    assert "连心卡" in card and "13800000001" in card and "技术上帮" in card  # its 六帮 measures


async def test_photos_served_only_in_scope_and_never_by_path(site) -> None:
    b, c, _ = site
    async with b.http.get(b.base + "/photo/1/0") as r:  # not signed in
        assert b"PNG" not in await r.read()
    await b.login("dungu")
    _, body = await b.get(f"/household/{c.household.id}")
    (contact_id,) = set(re.findall(r"/console/photo/(\d+)/0", body))
    async with b.http.get(f"{b.base}/photo/{contact_id}/0") as r:
        assert r.status == 200 and r.headers["Content-Type"] == "image/png"
        assert await r.read() == PNG
    for path in (
        f"/photo/{contact_id}/1",
        f"/photo/{contact_id}/9",
        "/photo/..%2F..%2Fsecret.txt/0",
        f"/photo/{contact_id}/..%2F..%2Fsecret.txt",
    ):
        async with b.http.get(b.base + path) as r:
            assert r.status == 404, path
            assert b"top secret" not in await r.read()
    await b.close()
    other = Browser(b.base)
    await other.login("shahe")
    async with other.http.get(f"{b.base}/photo/{contact_id}/0") as r:
        assert r.status == 404
    await other.close()


async def test_comment_reaches_the_cadre_on_telegram(site, db: Database) -> None:
    b, c, _ = site
    await b.login("dungu")
    await b.get("/diaries")
    status, body = await b.post(
        f"/diary/{c.diary.id}/comment", {"text": "写得好，修路的事镇里跟进"}
    )
    assert status == 200 and "写得好，修路的事镇里跟进" in body
    async with FakeTelegram() as tg, Bot(tg.token, base_url=tg.base_url) as bot:
        d = Dispatcher(db, [TelegramSender(bot)], settings=settings(), clock=FixedClock(NOW))
        await d.run_once()
        texts = tg.texts(880001)
    assert len(texts) == 1
    assert "dungu 点评了您 2026-11-04 的民情日记" in texts[0] and "修路的事镇里跟进" in texts[0]
    async with db.sessions() as s:
        row = await s.scalar(select(OutboxMessage))
        assert row is not None and row.status == "sent" and row.cadre_id == c.cadre.id


async def test_viewer_cannot_comment(site) -> None:
    b, _, _ = site
    await b.login("county")
    await b.close()
    v = Browser(b.base)
    await v.login("shahe")
    _, body = await v.get("/diaries")
    assert "发送点评" not in body
    await v.close()


async def test_problems_board(site) -> None:
    b, _, _ = site
    await b.login("dungu")
    _, body = await b.get("/problems")
    assert "屋顶漏雨" in body and "80 天" in body  # raised 2026-09-01, today 2026-11-20
    _, body = await b.get("/problems", params={"status": "overdue"})
    assert "屋顶漏雨" in body
    _, body = await b.get("/problems", params={"status": "resolved"})
    assert "屋顶漏雨" not in body


async def test_export_from_the_console(site, db: Database) -> None:
    b, _, _ = site
    await b.login("dungu")
    await b.get("/export")
    async with b.http.post(
        b.base + "/export",
        data={
            "csrf": b.csrf,
            "ledger": "contacts",
            "unit": "",
            "from": "2026-11-01",
            "to": "",
            "format": "xlsx",
        },
    ) as r:
        assert r.status == 200
        assert "attachment" in r.headers["Content-Disposition"]
        data = await r.read()
    wb = load_workbook(io.BytesIO(data))
    rows = list(wb["联系台账"].iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][4] == "黄大福"  # only 顿谷镇's contact
    async with db.sessions() as s:
        assert "web.export" in list(await s.scalars(select(AuditLog.action)))
    status, body = await b.post(
        "/export", {"ledger": "contacts", "from": "2026-11-10", "to": "2026-11-01"}
    )
    assert status == 400 and "晚于" in body
    status, body = await b.post("/export", {"ledger": "contacts", "unit": "博白县/沙河镇"})
    assert status == 400 and "找不到单位" in body


async def test_cadre_page_shows_reminders_and_when_they_were_answered(site, db: Database) -> None:
    b, c, _ = site
    sent = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    async with db.transaction() as s:
        await enqueue(
            s,
            [
                NewMessage(
                    "remind:x",
                    "telegram",
                    "880001",
                    "reminder",
                    {"text": "该联系了"},
                    cadre_id=c.cadre.id,
                )
            ],
            now=sent,
        )
        await s.execute(update(OutboxMessage).values(status="sent", sent_at=sent))
    await b.login("dungu")
    _, body = await b.get(f"/cadre/{c.cadre.id}")
    row = re.search(r"<tr><td>2026-11-02 09:00</td><td>2026-11-02 09:00</td><td>([^<]+)</td>", body)
    assert row and row.group(1) == "2026-11-03 20:00"  # the visit reported that evening


async def test_overview_figures_are_at_most_a_minute_old(db: Database, tmp_path: Path) -> None:
    c = await make_county(db)
    clock = FixedClock(NOW)
    async with serve_console(db, clock, tmp_path) as base:
        b = Browser(base)
        await b.login("dungu")
        _, body = await b.get(f"/unit/{c.town.id}")
        assert _card(body, "本月民情日记") == "1"
        async with db.transaction() as s:
            s.add(
                DiaryEntry(
                    cadre_id=c.cadre.id, written_on=NOW.date(), created_at=NOW, done="又一篇"
                )
            )
        _, body = await b.get(f"/unit/{c.town.id}")
        assert _card(body, "本月民情日记") == "1"  # computed less than a minute ago
        clock.advance(timedelta(seconds=61))
        _, body = await b.get(f"/unit/{c.town.id}")
        assert _card(body, "本月民情日记") == "2"
        await b.close()


def _form_fields(body: str, action_end: str) -> dict[str, str]:
    """The hidden fields of the page's form posting to `action_end`, as a browser sends them."""
    m = re.search(
        r'<form method="post" action="[^"]*' + re.escape(action_end) + r'"[^>]*>(.*?)</form>',
        body,
        re.S,
    )
    assert m, action_end
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', m.group(1))
    return {k: html.unescape(v) for k, v in fields}


async def test_diary_export_holds_what_the_reader_shows(site, db: Database) -> None:
    b, c, _ = site
    async with db.transaction() as s:
        for day, topics, opinion in (
            (5, ["livelihood"], "路灯坏了"),  # same topic, other keyword
            (7, ["policy"], "希望修路也修桥"),  # keyword, other topic
        ):
            s.add(
                DiaryEntry(
                    cadre_id=c.cadre.id,
                    household_id=c.household.id,
                    written_on=date(2026, 11, day),
                    created_at=NOW,
                    opinion_topics=topics,
                    opinion=opinion,
                )
            )
    await b.login("county")
    _, body = await b.get("/diaries?topic=livelihood&q=修路")
    assert "希望修路" in body and "路灯坏了" not in body and "修桥" not in body
    fields = _form_fields(body, "/export")
    assert fields["ledger"] == "diaries" and fields["topic"] == "livelihood"
    async with b.http.post(b.base + "/export", data=fields) as r:
        assert r.status == 200
        data = await r.read()
    rows = list(load_workbook(io.BytesIO(data))["民情日记"].iter_rows(values_only=True))
    assert [row[10] for row in rows[1:]] == ["希望修路"]
    assert rows[1][9] == "民生大事"
    # Without filters the export has all four of the county's diaries.
    _, body = await b.get("/diaries")
    async with b.http.post(b.base + "/export", data=_form_fields(body, "/export")) as r:
        rows = list(
            load_workbook(io.BytesIO(await r.read()))["民情日记"].iter_rows(values_only=True)
        )
    assert len(rows) == 1 + 4
    async with db.sessions() as s:
        detail = await s.scalar(
            select(AuditLog.detail).where(AuditLog.action == "web.export").order_by(AuditLog.id)
        )
    assert detail is not None and detail["topic"] == "livelihood" and detail["keyword"] == "修路"


async def test_diary_reader_pages_back_without_gaps_or_repeats(site, db: Database) -> None:
    b, c, _ = site
    async with db.transaction() as s:
        s.add_all(
            DiaryEntry(
                cadre_id=c.cadre.id,
                written_on=date(2026, 10, 1 + i % 28),  # many entries share a day
                created_at=NOW,
                done=f"第{i}篇",
            )
            for i in range(110)
        )
    await b.login("dungu")
    seen: list[str] = []
    path = "/diaries"
    while path:
        _, body = await b.get(path)
        seen += re.findall(r'id="diary-(\d+)"', body)
        older = re.search(r'<a href="(\?[^"]+)">更早的日记', body)
        path = "/diaries" + html.unescape(older.group(1)) if older else ""
    assert len(seen) == len(set(seen)) == 111  # 110 and 王建国's November diary


async def _contacts_of(db: Database, household_id: int) -> list[tuple[date, str, str]]:
    async with db.sessions() as s:
        rows = await s.execute(
            select(Contact.occurred_on, Contact.kind, Contact.entered_by)
            .where(Contact.household_id == household_id)
            .order_by(Contact.occurred_on)
        )
    return [tuple(r) for r in rows]  # type: ignore[misc]


async def test_back_entry_counts_for_the_cadre_and_is_audited(site, db: Database) -> None:
    b, c, _ = site
    await b.login("county")
    await b.get(f"/household/{c.household.id}")
    status, body = await b.post(
        f"/household/{c.household.id}/record",
        {"cadre": str(c.cadre.id), "kind": "visit", "date": "2026-10-12", "note": "纸质记录补录"},
    )
    assert status == 200 and "已补录" in body and "补录 · 录入人 web:county" in body
    assert (date(2026, 10, 12), "visit", "web:county") in await _contacts_of(db, c.household.id)
    _, cadre_page = await b.get(f"/cadre/{c.cadre.id}")
    assert "纸质记录补录" in cadre_page  # the cadre's record and figures count it
    await b.get("/export")
    form = {"csrf": b.csrf, "ledger": "contacts", "unit": "", "format": "xlsx"}
    async with b.http.post(b.base + "/export", data=form) as r:
        sheet = load_workbook(io.BytesIO(await r.read()))["联系台账"]
    header, *rows = sheet.iter_rows(values_only=True)
    by = {(row[header.index("日期")].date(), row[header.index("录入人")]) for row in rows}
    assert (date(2026, 10, 12), "web:county") in by and (
        date(2026, 11, 3),
        None,
    ) in by  # empty: the cadre reported it
    async with db.sessions() as s:
        logged = await s.scalar(select(AuditLog).where(AuditLog.action == "contact.back_entry"))
    assert logged is not None and logged.actor == "web:county"


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"date": "2026-11-21"}, "还没到"),  # NOW is 2026-11-20
        ({"date": "11月3日"}, "看不懂"),
        ({"note": "  "}, "不能为空"),
        ({"kind": "diary"}, "请选择电话或走访"),
        ({"cadre": "other"}, "请选择这户的帮扶责任人"),  # 李明 looks after another household
    ],
)
async def test_back_entry_mistakes_keep_the_form_and_write_nothing(
    site, db: Database, fields: dict[str, str], says: str
) -> None:
    b, c, _ = site
    await b.login("county")
    await b.get(f"/household/{c.household.id}")
    before = await _contacts_of(db, c.household.id)
    form = {"cadre": str(c.cadre.id), "kind": "call", "date": "2026-11-02", "note": "补录说明"}
    form.update(fields)
    if form["cadre"] == "other":
        form["cadre"] = str(c.other_cadre.id)
    status, body = await b.post(f"/household/{c.household.id}/record", form)
    assert status == 400 and says in body
    assert html.escape(form["note"].strip()) in body  # what was typed comes back
    assert await _contacts_of(db, c.household.id) == before


async def test_back_entry_after_the_pairing_ended_is_refused(site, db: Database) -> None:
    b, c, _ = site
    async with db.transaction() as s:
        await s.execute(
            update(Pairing)
            .where(Pairing.cadre_id == c.cadre.id, Pairing.household_id == c.household.id)
            .values(active=False, end_date=date(2026, 10, 31))
        )
    await b.login("county")
    await b.get(f"/household/{c.household.id}")
    form = {"cadre": str(c.cadre.id), "kind": "call", "note": "调走后"}
    status, body = await b.post(
        f"/household/{c.household.id}/record", {**form, "date": "2026-11-02"}
    )
    assert status == 400 and "已不再帮扶这户" in body
    status, _ = await b.post(f"/household/{c.household.id}/record", {**form, "date": "2026-10-30"})
    assert status == 200  # while the pairing lasted: accepted


async def test_only_the_office_may_back_enter(site, db: Database) -> None:
    b, c, _ = site
    before = await _contacts_of(db, c.household.id)
    await b.login("dungu")  # the township's supervisor: reads the file, no form
    _, page = await b.get(f"/household/{c.household.id}")
    assert "黄大福" in page and "补录联系记录" not in page
    form = {"cadre": str(c.cadre.id), "kind": "call", "date": "2026-11-02", "note": "x"}
    status, _ = await b.post(f"/household/{c.household.id}/record", form)
    assert status == 404
    status, _ = await b.post(f"/household/{c.household.id}/record", form, csrf=False)
    assert status == 403
    assert await _contacts_of(db, c.household.id) == before
