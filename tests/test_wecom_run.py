"""`bangfu run` with WeCom on: the callback mounted on bangfu's web app, senders registered."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import select

from bot.channels.wecom.channel import WecomChannel
from bot.config import ConfigError, ScheduleSettings, Settings, WebSettings, WecomSettings
from bot.run import Runtime, start
from core.clock import FixedClock
from core.types import Channel
from storage.db import Database
from storage.models import OutboxMessage
from storage.outbox import NewMessage, enqueue
from tests.fakes.wecom_api import FakeWecom
from tests.fakes.wecom_push import AES_KEY, CORP_ID, TOKEN, WecomPusher, message_xml, text_xml
from tests.seed import seed
from tests.tg_support import free_port

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TS = int(NOW.timestamp())


def wecom_settings(fake: FakeWecom, **changes: object) -> Settings:
    fields: dict = {
        "enabled": True,
        "corp_id": CORP_ID,
        "agent_id": fake.agent_id,
        "secret": fake.secret,
        "token": TOKEN,
        "encoding_aes_key": AES_KEY,
        "api_url": fake.url,
        **changes,
    }
    return Settings(
        database_url="sqlite:///unused.db",
        media_dir=tempfile.mkdtemp(prefix="bangfu-media-"),  # never ./media in the worktree
        wecom=WecomSettings(**fields),
        web=WebSettings(host="127.0.0.1", port=free_port()),
    )


async def _settle(rt: Runtime) -> None:
    channel = rt.channels[Channel.WECOM]
    assert isinstance(channel, WecomChannel)
    await channel.callback.drain()


@pytest.fixture
async def fake() -> AsyncIterator[FakeWecom]:
    server = await FakeWecom(corp_id=CORP_ID, users={"wangjianguo"}).start()
    yield server
    await server.close()


async def test_wecom_runs_beside_health_on_the_one_web_app(fake: FakeWecom, db: Database):
    s = await seed(db, NOW)
    settings = wecom_settings(fake)
    rt = await start(settings, db=db, clock=FixedClock(NOW), services=[])
    base = f"http://127.0.0.1:{settings.web.port}"
    try:
        assert set(rt.senders) == {"wecom", "wecom_robot"}
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/healthz") as resp:
                assert resp.status == 200
            pusher = WecomPusher(session, f"{base}/wecom/callback")
            assert await pusher.verify_url(TS, echo="42") == (200, "42")
            status, _ = await pusher.push(text_xml("wangjianguo", f"绑定 {s.code}", "1", TS), TS)
            assert status == 200
    finally:
        await rt.stop()  # waits for the background work of the callback
    assert any("绑定成功" in text for text in fake.texts_to("wangjianguo"))


async def test_enter_agent_greets_newcomers_and_undeliverable_replies_wait_in_the_outbox(
    fake: FakeWecom, db: Database
):
    s = await seed(db, NOW)
    settings = wecom_settings(fake)
    rt = await start(settings, db=db, clock=FixedClock(NOW), services=[])
    url = f"http://127.0.0.1:{settings.web.port}/wecom/callback"
    enter = message_xml("wangjianguo", "event", TS, Event="enter_agent", EventKey="")
    try:
        async with aiohttp.ClientSession() as session:
            pusher = WecomPusher(session, url)
            await pusher.push(enter, TS)
            await _settle(rt)
            assert len(fake.texts_to("wangjianguo")) == 1  # the binding explanation
            await pusher.push(text_xml("wangjianguo", f"绑定 {s.code}", "1", TS), TS)
            await _settle(rt)
            sent = len(fake.texts_to("wangjianguo"))
            await pusher.push(enter, TS + 5)  # a bound cadre opens the app: no message
            fake.inject["/cgi-bin/message/send"] = [45009]  # WeCom is rate limiting
            await pusher.push(text_xml("wangjianguo", "/help", "2", TS), TS)
            await _settle(rt)
    finally:
        await rt.stop()
    assert len(fake.texts_to("wangjianguo")) == sent
    async with db.transaction() as session:
        rows = list(
            await session.scalars(select(OutboxMessage).where(OutboxMessage.kind != "answered"))
        )
    assert [(r.channel, r.chat_id, r.kind, r.dedupe_key) for r in rows] == [
        ("wecom", "wangjianguo", "reply", "reply:wecom:2:0")
    ]
    assert rows[0].payload["text"]


async def test_run_keeps_a_members_photo_in_the_media_dir(fake: FakeWecom, db: Database):
    s = await seed(db, NOW)
    settings = wecom_settings(fake)
    photo = b"\xff\xd8\xff\xe0" + b"p" * 300
    fake.add_media("M1", photo)
    rt = await start(settings, db=db, clock=FixedClock(NOW), services=[])
    url = f"http://127.0.0.1:{settings.web.port}/wecom/callback"

    def image(msg_id: str) -> str:
        return message_xml("wangjianguo", "image", TS, MediaId="M1", MsgId=msg_id)

    try:
        async with aiohttp.ClientSession() as session:
            pusher = WecomPusher(session, url)
            await pusher.push(image("1"), TS)  # not bound yet: the photo is not fetched
            await _settle(rt)
            assert fake.count("/cgi-bin/media/get") == 0
            await pusher.push(text_xml("wangjianguo", f"绑定 {s.code}", "2", TS), TS)
            await pusher.push(image("3"), TS)
            await _settle(rt)
    finally:
        await rt.stop()
    assert _photos(settings.media_dir) == [photo]


def _photos(media_dir: str) -> list[bytes]:
    return [p.read_bytes() for p in Path(media_dir).rglob("*.jpg")]


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"corp_id": ""}, "BANGFU_WECOM__CORP_ID"),
        ({"agent_id": 0}, "BANGFU_WECOM__AGENT_ID"),
        ({"secret": ""}, "BANGFU_WECOM__SECRET"),
        ({"token": ""}, "BANGFU_WECOM__TOKEN"),
        ({"encoding_aes_key": "too-short"}, "BANGFU_WECOM__ENCODING_AES_KEY"),
        ({"callback_path": "wecom"}, "BANGFU_WECOM__CALLBACK_PATH"),
    ],
)
async def test_unusable_wecom_settings_stop_start_up(fake: FakeWecom, changes, setting):
    with pytest.raises(ConfigError, match=setting):
        await start(wecom_settings(fake, **changes))


async def test_the_dispatcher_in_the_process_sends_through_the_wecom_senders(
    fake: FakeWecom, db: Database
):
    key = "693a91f6-7c2e-4bc4-97a0-0ec2f1a5aaa1"
    fake.robot_keys.add(key)
    settings = wecom_settings(fake).model_copy(
        update={"schedule": ScheduleSettings(enabled=False, dispatch_interval_seconds=0.05)}
    )
    rows = [
        NewMessage("remind:1", "wecom", "wangjianguo", "reminder", {"text": "本月请联系张三"}),
        NewMessage("digest:1:1", "wecom_robot", key, "digest", {"text": "## 本周简报"}),
    ]
    async with db.transaction() as s:
        await enqueue(s, rows, now=NOW)
    rt = await start(settings, db=db, clock=FixedClock(NOW))  # bangfu run's own services
    try:
        for _ in range(200):  # until the dispatcher's ticks have sent both (or give up)
            if fake.texts_to("wangjianguo") and fake.robot_sent[key]:
                break
            await asyncio.sleep(0.05)
    finally:
        await rt.stop()
    assert fake.texts_to("wangjianguo") == ["本月请联系张三"]
    assert fake.robot_sent[key] == [{"msgtype": "markdown", "markdown": {"content": "## 本周简报"}}]
