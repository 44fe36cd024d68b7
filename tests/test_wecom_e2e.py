"""End to end on WeCom: the real callback, the real core, the fake WeCom server on loopback.

A cadre binds with "绑定 CODE", reports a visit by clicking cards (template_card_event
callbacks built and encrypted as WeCom does and POSTed to the aiohttp endpoint), and the
record is stored once, however often WeCom delivers the same callback.
"""

from __future__ import annotations

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
from bot.channels.wecom.sender import AppSender
from core.clock import FixedClock
from core.policy import Policy
from handlers.context import Context
from handlers.core import handle
from storage.models import ChatAccount, Contact, ProcessedMessage
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


async def _callback(ctx: Context, fake: FakeWecom, session: aiohttp.ClientSession, pusher):
    api = WecomApi(
        session, base_url=fake.url, corp_id=CORP_ID, secret=fake.secret, agent_id=fake.agent_id
    )
    return WecomCallback(
        pusher.crypt, lambda inbound: handle(ctx, inbound), AppSender(api), ctx.clock
    )


@pytest.fixture
async def world(db):
    clock = FixedClock(NOW)
    ctx = Context(db=db, clock=clock, policy=Policy())
    s = await seed(db, NOW)
    fake = await FakeWecom(corp_id=CORP_ID, users={USER}).start()
    async with aiohttp.ClientSession() as session:
        pusher = WecomPusher(session, "")
        first = await _callback(ctx, fake, session, pusher)
        second = await _callback(ctx, fake, session, pusher)  # another bot process
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
    assert phone.fake.texts_to(USER)[-2:] == ["请点下面的按钮选择。", "联系方式？"]
    await phone.tap("电话")
    await phone.tap("今天")
    await phone.tap("完成")
    await phone.type("问了问近况")
    await phone.tap("跳过")
    await phone.tap("完成")
    assert "户主：李四" in phone.all_text().split("请核对")[-1]
    assert await _contacts(db) == []  # nothing saved before the cadre confirms


async def test_voice_is_answered_politely_and_the_draft_stays(world, db):
    _ctx, s, phone, _servers = world
    await phone.type(f"绑定 {s.code}")
    await phone.tap("报告联系")
    await phone.tap("张三")
    voice = message_xml(USER, "voice", TS, MediaId="V1", Format="amr", MsgId="8801")
    await phone.pusher.push(voice, TS)
    await phone.callbacks[0].drain()
    answer, again = phone.fake.texts_to(USER)[-2:]
    assert "语音" in answer and "暂不支持" in answer
    assert again.startswith("联系方式")  # still at the same step, household kept
    await phone.tap("入户走访")
    assert "哪天" in phone.last()


async def test_photo_and_location_are_kept_as_visit_evidence(world, db):
    _ctx, s, phone, _servers = world
    await phone.type(f"绑定 {s.code}")
    for label in ("报告联系", "王小明", "入户走访", "今天", "完成"):
        await phone.tap(label)
    await phone.type("查看了危房改造进度")
    await phone.tap("跳过")
    photo = message_xml(USER, "image", TS, PicUrl="http://p/1", MediaId="MEDIA_1", MsgId="8901")
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
    for xml in (photo, place):
        await phone.pusher.push(xml, TS)
        await phone.callbacks[0].drain()
    await phone.tap("完成")
    await phone.tap("确认保存")
    [contact] = await _contacts(db)
    assert contact.photo_refs == ["MEDIA_1"]
    assert (contact.latitude, contact.longitude) == (22.271, 109.981)
