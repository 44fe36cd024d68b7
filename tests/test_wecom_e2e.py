"""End to end on WeCom: the real callback, the real core, the fake WeCom server on loopback.

A cadre binds with "绑定 CODE", reports a visit by clicking cards (template_card_event
callbacks built and encrypted as WeCom does and POSTed to the aiohttp endpoint), and the
record is stored once, however often WeCom delivers the same callback.
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import func, select

from bot.channels.wecom.api import WecomApi
from bot.channels.wecom.callback import WecomCallback, add_routes
from bot.channels.wecom.media import PhotoSaver
from bot.channels.wecom.sender import AppSender
from bot.media import MediaStore
from core.clock import FixedClock
from core.policy import Policy
from handlers.context import Context
from handlers.core import handle
from storage.models import ChatAccount, Contact, ProcessedMessage
from storage.people import account_language
from tests.fakes.wecom_api import FakeWecom
from tests.fakes.wecom_push import CORP_ID, WecomPusher, card_click_xml, message_xml, text_xml
from tests.seed import seed

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
TS = int(NOW.timestamp())
USER = "wangjianguo"
PATH = "/wecom/callback"
_ids = itertools.count(5000)


class Phone:
    """A cadre's WeCom client: reads what the fake server delivered, taps card buttons."""

    def __init__(self, fake: FakeWecom, pusher: WecomPusher, callbacks: list[WecomCallback]):
        self.fake, self.pusher, self.callbacks = fake, pusher, callbacks

    async def _drain(self) -> None:
        for cb in self.callbacks:
            await cb.drain()

    async def type(self, text: str) -> None:
        status, _ = await self.pusher.push(text_xml(USER, text, str(next(_ids)), TS), TS)
        assert status == 200
        await self._drain()

    def find(self, label: str) -> tuple[dict, dict]:
        """The newest card with a button whose text holds `label`, and that button."""
        for card in reversed(self.fake.cards_to(USER)):
            for button in card["button_list"]:
                if label in button["text"]:
                    return card, button
        raise AssertionError(f"no card button {label!r}; last: {self.fake.texts_to(USER)[-3:]}")

    def click_xml(self, label: str) -> str:
        card, button = self.find(label)
        code = self.fake.click_code(card["task_id"])
        return card_click_xml(USER, button["key"], card["task_id"], code, TS + next(_ids))

    async def tap(self, label: str, times: int = 1) -> None:
        xml = self.click_xml(label)
        for _ in range(times):
            status, _ = await self.pusher.push(xml, TS)
            assert status == 200
        await self._drain()

    def last(self) -> str:
        return self.fake.texts_to(USER)[-1]

    def all_text(self) -> str:
        return "\n".join(self.fake.texts_to(USER))


async def _callback(
    ctx: Context, fake: FakeWecom, session: aiohttp.ClientSession, pusher, store: MediaStore
):
    api = WecomApi(
        session, base_url=fake.url, corp_id=CORP_ID, secret=fake.secret, agent_id=fake.agent_id
    )

    async def language_of(userid: str) -> str | None:
        async with ctx.db.transaction() as s:
            return await account_language(s, "wecom", userid)

    return WecomCallback(
        pusher.crypt,
        lambda inbound: handle(ctx, inbound),
        AppSender(api, language_of=language_of),
        ctx.clock,
        save_photo=PhotoSaver(api, store).save,
    )


@pytest.fixture
def store(tmp_path) -> MediaStore:
    return MediaStore(tmp_path / "media")


@pytest.fixture
async def world(db, store):
    clock = FixedClock(NOW)
    ctx = Context(db=db, clock=clock, policy=Policy())
    s = await seed(db, NOW)
    fake = await FakeWecom(corp_id=CORP_ID, users={USER}).start()
    async with aiohttp.ClientSession() as session:
        pusher = WecomPusher(session, "")
        first = await _callback(ctx, fake, session, pusher, store)
        second = await _callback(ctx, fake, session, pusher, store)  # another bot process
        servers = []
        for cb in (first, second):
            app = web.Application()
            add_routes(app, cb, PATH)
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            servers.append(server)
        pusher.url = str(servers[0].make_url(PATH))
        phone = Phone(fake, pusher, [first, second])
        yield ctx, s, phone, servers
        for server in servers:
            await server.close()
    await fake.close()


async def _contacts(db) -> list[Contact]:
    async with db.transaction() as session:
        return list(await session.scalars(select(Contact)))


async def test_bind_and_report_a_visit_by_clicking_cards(world, db):
    _ctx, s, phone, servers = world
    await phone.type("你好")
    assert "还没有绑定" in phone.last()
    await phone.type(f"绑定 {s.code}")
    assert "绑定成功" in phone.all_text()
    async with db.transaction() as session:
        account = await session.scalar(select(ChatAccount).where(ChatAccount.channel == "wecom"))
        assert account is not None and (account.account_id, account.cadre_id) == (USER, s.cadre_id)

    await phone.tap("报告联系")
    await phone.tap("张三")
    await phone.tap("入户走访")
    await phone.tap("昨天")
    await phone.tap("政策上帮")
    phone.find("✅ 政策上帮")  # the new card shows the toggled tag
    await phone.tap("完成")
    await phone.type("了解了玉米收成，讲解了产业奖补政策")
    await phone.tap("跳过")
    await phone.tap("完成")  # no photo or location this time
    assert "户主：张三" in phone.all_text().split("请核对")[-1]

    # WeCom delivers the final click three times, and once more to a second process.
    confirm = phone.click_xml("确认保存")
    for _ in range(3):
        await phone.pusher.push(confirm, TS)
    await phone.callbacks[0].drain()
    phone.pusher.url = str(servers[1].make_url(PATH))
    await phone.pusher.push(confirm, TS)
    await phone.callbacks[1].drain()

    [contact] = await _contacts(db)
    assert (contact.kind, contact.occurred_on, contact.household_id) == (
        "visit",
        date(2026, 11, 22),
        s.households["张三"],
    )
    assert contact.help_tags == ["政策"] and contact.source_channel == "wecom"
    assert sum("已保存" in t for t in phone.fake.texts_to(USER)) == 1
    # Every clicked card was greyed out, and no card twice.
    updated = [u["task_id"] for u in phone.fake.card_updates]
    assert len(updated) == len(set(updated)) >= 7
    async with db.transaction() as session:
        done = await session.scalar(
            select(func.count())
            .select_from(ProcessedMessage)
            .where(ProcessedMessage.channel == "wecom")
        )
    assert done >= 10


async def test_stale_card_click_changes_nothing(world, db):
    _ctx, s, phone, _servers = world
    await phone.type(f"/start {s.code}")
    await phone.tap("报告联系")
    stale = phone.click_xml("张三")
    await phone.tap("李四")
    # The same card pressed again (a second device, before the grey-out reached it).
    await phone.pusher.push(stale, TS)
    await phone.callbacks[0].drain()
    assert phone.fake.texts_to(USER)[-2:] == ["请点下面的按钮选择。", "联系方式？（李四）"]
    await phone.tap("电话")
    await phone.tap("今天")
    await phone.tap("完成")
    await phone.type("问了问近况")
    await phone.tap("跳过")
    await phone.tap("完成")
    assert "户主：李四" in phone.all_text().split("请核对")[-1]
    assert await _contacts(db) == []  # nothing saved before the cadre confirms


AMR = b"#!AMR\n" + bytes(range(256)) * 8  # a small "voice message"


async def test_voice_in_a_report_is_kept_in_the_media_directory_and_the_draft_stays(
    world, db, store
):
    _ctx, s, phone, _servers = world
    await phone.type(f"绑定 {s.code}")
    await phone.tap("报告联系")
    await phone.tap("张三")
    phone.fake.add_media("V1", AMR, "audio/amr")
    voice = message_xml(USER, "voice", TS, MediaId="V1", Format="amr", MsgId="8801")
    await phone.pusher.push(voice, TS)
    await phone.callbacks[0].drain()
    answer, again = phone.fake.texts_to(USER)[-2:]
    assert "凭证" in answer
    assert again.startswith("联系方式")  # still at the same step, household kept
    await phone.tap("入户走访")
    assert "哪天" in phone.last()
    for label in ("今天", "完成"):
        await phone.tap(label)
    await phone.type("问了低保的事")
    await phone.tap("跳过")
    await phone.tap("完成")
    assert any("语音：1 条" in t for t in phone.fake.texts_to(USER)[-3:])
    await phone.tap("确认保存")
    [contact] = await _contacts(db)
    [ref] = contact.photo_refs
    assert ref.endswith(".amr")
    kept = store.path_of(ref)
    assert kept is not None and kept.read_bytes() == AMR


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 40  # a small "photo"


async def _at_evidence_step(phone: Phone, s) -> None:
    await phone.type(f"绑定 {s.code}")
    for label in ("报告联系", "王小明", "入户走访", "今天", "完成"):
        await phone.tap(label)
    await phone.type("查看了危房改造进度")
    await phone.tap("跳过")


async def _send_photo(phone: Phone, media_id: str, msg_id: str) -> None:
    xml = message_xml(USER, "image", TS, PicUrl="http://p/1", MediaId=media_id, MsgId=msg_id)
    await phone.pusher.push(xml, TS)
    await phone.callbacks[0].drain()


async def test_photo_and_location_are_kept_as_visit_evidence(world, db, store):
    _ctx, s, phone, _servers = world
    await _at_evidence_step(phone, s)
    phone.fake.add_media("MEDIA_1", JPEG)
    await _send_photo(phone, "MEDIA_1", "8901")
    assert "照片 1 张" in phone.last()
    place = message_xml(
        USER,
        "location",
        TS,
        Location_X="22.271",
        Location_Y="109.981",
        Scale="15",
        Label="博白县顿谷镇旧门村",
        MsgId="8902",
    )
    await phone.pusher.push(place, TS)
    await phone.callbacks[0].drain()
    phone.fake.expire_media("MEDIA_1")  # three days later WeCom has forgotten it
    await phone.tap("完成")
    await phone.tap("确认保存")
    [contact] = await _contacts(db)
    [ref] = contact.photo_refs
    assert ref.startswith("media:") and len(ref) < 80
    kept = store.path_of(ref)
    assert kept is not None and kept.read_bytes() == JPEG  # the evidence outlives WeCom's copy
    assert (contact.latitude, contact.longitude) == (22.271, 109.981)


async def test_a_photo_that_cannot_be_fetched_is_explained_and_the_draft_stays(world, db, store):
    _ctx, s, phone, _servers = world
    await _at_evidence_step(phone, s)
    phone.fake.add_media("GOOD", JPEG)
    await _send_photo(phone, "GOOD", "8911")
    await _send_photo(phone, "GONE", "8912")  # WeCom answers 40007: no such media
    assert "没能保存" in phone.last() and "草稿还在" in phone.last()
    phone.fake.add_media("WEB", b"<html>login</html>", "text/html")
    await _send_photo(phone, "WEB", "8913")  # not an image: refused, same answer
    assert "没能保存" in phone.last()
    await phone.tap("完成")
    summary = phone.all_text().split("请核对")[-1]
    assert "照片 1 张" in summary and "户主：王小明" in summary  # nothing lost, nothing faked
    await phone.tap("确认保存")
    [contact] = await _contacts(db)
    assert contact.photo_refs == [f"media:{hashlib.sha256(JPEG).hexdigest()}.jpg"]
    assert [p.name for p in store.root.rglob("*") if p.is_file()] == [
        f"{hashlib.sha256(JPEG).hexdigest()}.jpg"
    ]


async def test_card_texts_follow_the_accounts_language(world, db):
    _ctx, s, phone, _servers = world
    await phone.type(f"绑定 {s.code}")
    await phone.tap("报告联系")
    assert phone.fake.card_updates[-1]["button"]["replace_name"] == "已选择 ✓"
    async with db.transaction() as session:
        account = await session.scalar(select(ChatAccount).where(ChatAccount.account_id == USER))
        assert account is not None
        account.language = "en"
    await phone.tap("张三")  # a card sent in Chinese, clicked after switching to English
    assert phone.fake.card_updates[-1]["button"]["replace_name"] == "Chosen ✓"
