"""End to end on WeCom, the outbound half: the reminder reaches the cadre through the app,
the weekly digest reaches the supervisors' group through its robot.

The real sweep and digest write outbox rows; the real dispatcher drains them through the
WeCom senders into the fake WeCom server on loopback; the cadre answers the reminder by
clicking its card, which opens the report for that household.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.channels.wecom.api import WecomApi
from bot.channels.wecom.callback import WecomCallback, add_routes
from bot.channels.wecom.robot import RobotSender
from bot.channels.wecom.sender import AppSender
from bot.config import DispatchSettings
from bot.dispatch import Dispatcher
from core.clock import FixedClock
from core.policy import Policy
from core.types import Channel
from handlers.context import Context
from handlers.core import handle
from reminders.digest_send import enqueue_digests
from reminders.sweep import run_sweep
from storage.people import register_group
from tests.fakes.wecom_api import FakeWecom
from tests.fakes.wecom_push import CORP_ID, WecomPusher, card_click_xml, text_xml
from tests.seed import seed

TZ = ZoneInfo("Asia/Shanghai")
NOV_20 = datetime(2026, 11, 20, 9, 0, tzinfo=TZ)  # a monthly-contact reminder day
TS = int(NOV_20.timestamp())
USER = "wangjianguo"
ROBOT_KEY = "693a91f6-7c2e-4bc4-97a0-0ec2f1a5aaa1"


@pytest.fixture
async def world(db):
    clock = FixedClock(NOV_20)
    policy = Policy()
    ctx = Context(db=db, clock=clock, policy=policy)
    s = await seed(db, NOV_20)
    fake = await FakeWecom(corp_id=CORP_ID, users={USER}, robot_keys={ROBOT_KEY}).start()
    async with aiohttp.ClientSession() as session:
        api = WecomApi(
            session, base_url=fake.url, corp_id=CORP_ID, secret=fake.secret, agent_id=fake.agent_id
        )
        app_sender = AppSender(api)
        robot = RobotSender(session, base_url=fake.url)
        pusher = WecomPusher(session, "")
        callback = WecomCallback(
            pusher.crypt, lambda inbound: handle(ctx, inbound), app_sender, clock
        )
        app = web.Application()
        add_routes(app, callback, "/wecom/callback")
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        pusher.url = str(server.make_url("/wecom/callback"))
        dispatcher = Dispatcher(db, [app_sender, robot], settings=DispatchSettings(), clock=clock)
        yield ctx, s, fake, pusher, callback, dispatcher
        await server.close()
    await fake.close()


async def test_reminder_through_the_app_opens_the_report_when_clicked(world, db):
    ctx, s, fake, pusher, callback, dispatcher = world
    await pusher.push(text_xml(USER, f"绑定 {s.code}", "1", TS), TS)
    await callback.drain()

    # The morning sweep: one reminder for the cadre, listing the four households due.
    await run_sweep(db, NOV_20, ctx.policy)
    stats = await dispatcher.run_once()
    assert stats.sent == 1
    reminder = [t for t in fake.texts_to(USER) if "张三" in t and "李四" in t]
    assert reminder, fake.texts_to(USER)[-3:]
    card = fake.cards_to(USER)[-1]
    button = next(b for b in card["button_list"] if "张三" in b["text"])
    assert button["key"] == f"rep:h:{s.households['张三']}"

    # The cadre clicks the reminder's card: the report opens for that household.
    click = card_click_xml(
        USER, button["key"], card["task_id"], fake.click_code(card["task_id"]), TS
    )
    await pusher.push(click, TS)
    await callback.drain()
    assert fake.texts_to(USER)[-1].startswith("联系方式")
    assert fake.card_updates[-1]["task_id"] == card["task_id"]

    # The same sweep again that day sends nothing more.
    await run_sweep(db, NOV_20, ctx.policy)
    assert (await dispatcher.run_once()).sent == 0


async def test_weekly_digest_through_the_group_robot(world, db):
    ctx, s, fake, _pusher, _callback, dispatcher = world
    # The weekly digest for the county reaches its WeCom group through the robot.
    async with db.transaction() as session:
        await register_group(
            session,
            channel=Channel.WECOM_ROBOT,
            chat_id=ROBOT_KEY,
            unit_id=s.county_id,
            title="博白县督导群",
            now=NOV_20,
        )
    assert await enqueue_digests(db, NOV_20, ctx.policy) == 1
    stats = await dispatcher.run_once()
    assert stats.sent >= 2 and stats.failed == 0
    sent = fake.robot_sent[ROBOT_KEY]
    texts = [m["markdown"]["content"] for m in sent if m["msgtype"] == "markdown"]
    assert texts and all(len(t.encode()) <= 4096 for t in texts)
    assert "博白县" in "\n".join(texts)
    (image,) = [m["image"] for m in sent if m["msgtype"] == "image"]
    png = base64.b64decode(image["base64"])
    assert png.startswith(b"\x89PNG") and hashlib.md5(png).hexdigest() == image["md5"]

    # Running the digest again the same week sends nothing more.
    assert await enqueue_digests(db, NOV_20, ctx.policy) == 0
    assert (await dispatcher.run_once()).sent == 0
