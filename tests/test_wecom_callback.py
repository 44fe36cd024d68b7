"""The callback endpoint on a real aiohttp server, pushed to as WeCom does.

The core is replaced here by a recorder of Inbounds (the seam the channel is built around);
tests/test_wecom_e2e.py runs the real core behind the same endpoint.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.channels.wecom.api import WecomApi
from bot.channels.wecom.callback import WecomCallback, add_routes
from bot.channels.wecom.crypto import WXBizMsgCrypt, aes_key
from bot.channels.wecom.sender import AppSender
from core.clock import FixedClock
from core.types import Inbound, InboundKind, Reply
from tests.fakes.wecom_api import FakeWecom
from tests.fakes.wecom_push import AES_KEY, CORP_ID, TOKEN, WecomPusher, message_xml, text_xml

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
PATH = "/wecom/callback"
SECRET_WORD = "机密内容XYZ"  # never to be seen in a log


class Recorder:
    def __init__(self) -> None:
        self.inbounds: list[Inbound] = []
        self.gate: asyncio.Event | None = None
        self.bound: set[str] = set()

    async def handle(self, inbound: Inbound) -> list[Reply]:
        if self.gate is not None:
            await self.gate.wait()
        self.inbounds.append(inbound)
        return [Reply(text=f"收到：{inbound.kind}")]

    async def is_bound(self, userid: str) -> bool:
        return userid in self.bound


class Rig:
    def __init__(
        self,
        fake: FakeWecom,
        session: aiohttp.ClientSession,
        callback: WecomCallback,
        recorder: Recorder,
        pusher: WecomPusher,
        server: TestServer,
    ) -> None:
        self.fake, self.session, self.callback = fake, session, callback
        self.recorder, self.pusher, self.server = recorder, pusher, server


async def _start(crypt: WXBizMsgCrypt, clock: FixedClock, fake: FakeWecom, session, recorder):
    api = WecomApi(
        session, base_url=fake.url, corp_id=fake.corp_id, secret=fake.secret, agent_id=fake.agent_id
    )
    callback = WecomCallback(
        crypt, recorder.handle, AppSender(api), clock, is_bound=recorder.is_bound
    )
    app = web.Application()
    add_routes(app, callback, PATH)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return callback, server


@pytest.fixture
async def rig():
    fake = await FakeWecom(corp_id=CORP_ID).start()
    recorder = Recorder()
    async with aiohttp.ClientSession() as session:
        crypt = WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID)
        callback, server = await _start(crypt, FixedClock(NOW), fake, session, recorder)
        pusher = WecomPusher(session, str(server.make_url(PATH)))
        yield Rig(fake, session, callback, recorder, pusher, server)
        await server.close()
    await fake.close()


async def _push(rig: Rig, xml: str) -> int:
    status, _ = await rig.pusher.push(xml, TS)
    await rig.callback.drain()
    return status


# -- URL verification ---------------------------------------------------------------------


async def test_url_verification_answers_the_plaintext(rig):
    status, text = await rig.pusher.verify_url(TS, echo="8765309")
    assert (status, text) == (200, "8765309")


async def test_url_verification_with_tencents_sample_vector_and_raw_plus_signs():
    vectors = json.loads(
        (Path(__file__).parent / "data" / "wecom_callback_vectors.json").read_text()
    )
    v = next(v for v in vectors if v["kind"] == "url_verify" and "+" in v["encrypted"])
    crypt = WXBizMsgCrypt(v["token"], v["encoding_aes_key"], v["receive_id"])
    clock = FixedClock(datetime.fromtimestamp(int(v["timestamp"]), UTC))
    fake = await FakeWecom().start()
    async with aiohttp.ClientSession() as session:
        _cb, server = await _start(crypt, clock, fake, session, Recorder())
        q = {k: v[k] for k in ("msg_signature", "timestamp", "nonce")}
        encoded = f"{server.make_url(PATH)}?{urlencode({**q, 'echostr': v['encrypted']})}"
        raw = f"{server.make_url(PATH)}?{urlencode(q)}&echostr={v['encrypted']}"  # "+" unescaped
        for url in (encoded, raw):
            async with session.get(aiohttp.client.URL(url, encoded=True)) as resp:
                assert (resp.status, await resp.text()) == (200, v["decrypted_plaintext_observed"])
        await server.close()
    await fake.close()


# -- messages → Inbound -------------------------------------------------------------------


async def test_text_is_answered_200_at_once_and_handled_in_the_background(rig):
    rig.recorder.gate = asyncio.Event()
    status, body = await rig.pusher.push(text_xml("zhangsan", "今天给张三打了电话", "7001", TS), TS)
    assert (status, body) == (200, "")
    assert rig.recorder.inbounds == []  # the core has not even run yet
    rig.recorder.gate.set()
    await rig.callback.drain()
    (inbound,) = rig.recorder.inbounds
    assert inbound.kind == InboundKind.TEXT and inbound.text == "今天给张三打了电话"
    assert (inbound.account_id, inbound.chat_id, inbound.message_id) == (
        "zhangsan",
        "zhangsan",
        "7001",
    )
    assert inbound.sent_at == NOW
    assert rig.fake.texts_to("zhangsan") == ["收到：text"]


async def test_three_concurrent_deliveries_are_processed_once(rig):
    rig.recorder.gate = asyncio.Event()
    xml = text_xml("zhangsan", "重复", "7002", TS)
    statuses = await asyncio.gather(*(rig.pusher.push(xml, TS) for _ in range(3)))
    assert [s for s, _ in statuses] == [200, 200, 200]
    rig.recorder.gate.set()
    await rig.callback.drain()
    status, _ = await rig.pusher.push(xml, TS)  # a late fourth one, after processing
    await rig.callback.drain()
    assert status == 200
    assert len(rig.recorder.inbounds) == 1
    assert rig.fake.texts_to("zhangsan") == ["收到：text"]


@pytest.mark.parametrize(
    ("content", "command", "text"),
    [
        ("绑定 AB23CD45EF", "start", "AB23CD45EF"),
        ("绑定：AB23-CD45", "start", "AB23-CD45"),
        ("/start AB23CD45EF", "start", "AB23CD45EF"),
        ("/help", "help", ""),
        ("/Cancel", "cancel", ""),
    ],
)
async def test_binding_text_and_commands_become_commands(rig, content, command, text):
    await _push(rig, text_xml("zhangsan", content, "7003", TS))
    (inbound,) = rig.recorder.inbounds
    assert (inbound.kind, inbound.command, inbound.text) == (InboundKind.COMMAND, command, text)


async def test_image_location_and_voice(rig):
    await _push(
        rig, message_xml("zhangsan", "image", TS, PicUrl="http://p/1", MediaId="MID1", MsgId="1")
    )
    await _push(
        rig,
        message_xml(
            "zhangsan",
            "location",
            TS,
            Location_X="22.27",
            Location_Y="109.98",
            Scale="15",
            Label="博白县旧门村",
            MsgId="2",
        ),
    )
    await _push(rig, message_xml("zhangsan", "voice", TS, MediaId="V1", Format="amr", MsgId="3"))
    photo, place, voice = rig.recorder.inbounds
    assert (photo.kind, photo.photo_ref) == (InboundKind.PHOTO, "MID1")
    assert (place.kind, place.latitude, place.longitude) == (InboundKind.LOCATION, 22.27, 109.98)
    assert voice.kind == InboundKind.VOICE
    assert len(rig.fake.texts_to("zhangsan")) == 3  # each got its answer


async def test_card_click_becomes_a_button_and_disables_the_card(rig):
    api = WecomApi(
        rig.session,
        base_url=rig.fake.url,
        corp_id=CORP_ID,
        secret=rig.fake.secret,
        agent_id=rig.fake.agent_id,
    )
    code = await api.send_card(
        "zhangsan",
        {
            "card_type": "button_interaction",
            "main_title": {"title": "走访还是电话？"},
            "task_id": "bf_t1",
            "button_list": [{"text": "走访", "key": "kind:visit"}],
        },
    )
    xml = message_xml(
        "zhangsan",
        "event",
        TS,
        Event="template_card_event",
        EventKey="kind:visit",
        TaskId="bf_t1",
        CardType="button_interaction",
        ResponseCode=code,
    )
    for _ in range(3):  # WeCom's retries of the same click
        await _push(rig, xml)
    (inbound,) = rig.recorder.inbounds
    assert (inbound.kind, inbound.data) == (InboundKind.BUTTON, "kind:visit")
    assert inbound.message_id.startswith("ev:")
    assert [u["task_id"] for u in rig.fake.card_updates] == ["bf_t1"]


async def test_menu_click_is_a_command_and_enter_agent_greets_only_newcomers(rig):
    await _push(rig, message_xml("zhangsan", "event", TS, Event="click", EventKey="help"))
    rig.recorder.bound.add("lisi")
    await _push(rig, message_xml("lisi", "event", TS, Event="enter_agent", EventKey=""))
    await _push(rig, message_xml("zhangsan", "event", TS + 1, Event="enter_agent", EventKey=""))
    await _push(rig, message_xml("zhangsan", "event", TS, Event="LOCATION", Latitude="1"))
    kinds = [(i.account_id, i.kind, i.command) for i in rig.recorder.inbounds]
    assert kinds == [
        ("zhangsan", InboundKind.COMMAND, "help"),
        ("zhangsan", InboundKind.COMMAND, "start"),
    ]


# -- refusals -----------------------------------------------------------------------------


def _padded_badly(crypt: WXBizMsgCrypt, message: str) -> str:
    body = message.encode()
    plain = b"R" * 16 + len(body).to_bytes(4, "big") + body + crypt.receive_id.encode()
    plain += b"\x00" * (32 - len(plain) % 32 - 1) + b"\x00"  # pad byte 0: invalid
    key = aes_key(AES_KEY)
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


async def _refused(rig, caplog, query: dict[str, str], body: bytes) -> int:
    caplog.set_level(logging.INFO)
    status, _ = await rig.pusher.post_raw(query, body)
    await rig.callback.drain()
    assert rig.recorder.inbounds == []
    assert rig.fake.sent == []
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot."))
    assert "refused" in ours
    assert SECRET_WORD not in ours and "Encrypt" not in ours
    return status


def _signed_body(rig, xml: str, *, ts: int = TS, crypt: WXBizMsgCrypt | None = None):
    encrypted = (crypt or rig.pusher.crypt).encrypt(xml)
    return rig.pusher.signed(encrypted, ts), rig.pusher.body(encrypted)


SECRET_XML = text_xml("zhangsan", SECRET_WORD, "9001", TS)


async def test_wrong_signature_is_refused(rig, caplog):
    query, body = _signed_body(rig, SECRET_XML)
    query["msg_signature"] = "0" * 40
    assert await _refused(rig, caplog, query, body) == 403
    assert "bad_signature" in caplog.text


@pytest.mark.parametrize("offset", [-301, 301])
async def test_stale_timestamp_is_refused(rig, caplog, offset):
    query, body = _signed_body(rig, SECRET_XML, ts=TS + offset)
    assert await _refused(rig, caplog, query, body) == 403
    assert "stale_timestamp" in caplog.text


async def test_wrong_receive_id_is_refused(rig, caplog):
    other_corp = WXBizMsgCrypt(TOKEN, AES_KEY, "ww_other_corp")
    query, body = _signed_body(rig, SECRET_XML, crypt=other_corp)
    assert await _refused(rig, caplog, query, body) == 403
    assert "bad_receive_id" in caplog.text


async def test_bad_padding_is_refused(rig, caplog):
    encrypted = _padded_badly(rig.pusher.crypt, SECRET_XML)
    status = await _refused(
        rig, caplog, rig.pusher.signed(encrypted, TS), rig.pusher.body(encrypted)
    )
    assert status == 400 and "bad_padding" in caplog.text


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><Encrypt>abc",
        b"not xml at all " + SECRET_WORD.encode(),
        b"<xml></xml>",
        b'<!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>',
    ],
)
async def test_malformed_body_is_refused(rig, caplog, body):
    assert await _refused(rig, caplog, rig.pusher.signed("abc", TS), body) == 400


async def test_oversized_body_is_refused(rig, caplog):
    big = SECRET_XML.replace(SECRET_WORD, SECRET_WORD * 10_000)
    query, body = _signed_body(rig, big)
    assert await _refused(rig, caplog, query, body) == 413


@pytest.mark.parametrize("timestamp", ["yesterday", "9" * 400, "-1"])
async def test_nonsense_timestamps_are_refused(rig, caplog, timestamp):
    query, body = _signed_body(rig, SECRET_XML)
    query["timestamp"] = timestamp
    assert await _refused(rig, caplog, query, body) in (400, 403)


async def test_missing_signature_fields_are_refused(rig, caplog):
    _query, body = _signed_body(rig, SECRET_XML)
    assert await _refused(rig, caplog, {"timestamp": str(TS)}, body) == 400


async def test_forged_url_verification_is_refused(rig, caplog):
    encrypted = rig.pusher.crypt.encrypt("123")
    query = {**rig.pusher.signed(encrypted, TS), "echostr": encrypted, "nonce": "changed"}
    async with rig.session.get(f"{rig.pusher.url}?{urlencode(query)}") as resp:
        assert resp.status == 403 and await resp.text() == ""


async def test_one_members_messages_reach_the_core_in_arrival_order(rig):
    # A click needs a round trip to WeCom (the card update) before the core sees it; the
    # text typed right after must still come second.
    api = WecomApi(
        rig.session,
        base_url=rig.fake.url,
        corp_id=CORP_ID,
        secret=rig.fake.secret,
        agent_id=rig.fake.agent_id,
    )
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": "选择"},
        "task_id": "bf_order",
        "button_list": [{"text": "张三", "key": "h:1"}],
    }
    code = await api.send_card("zhangsan", card)
    click = message_xml(
        "zhangsan",
        "event",
        TS,
        Event="template_card_event",
        EventKey="h:1",
        TaskId="bf_order",
        ResponseCode=code,
    )
    await rig.pusher.push(click, TS)
    await rig.pusher.push(text_xml("zhangsan", "下一步", "7100", TS), TS)
    await rig.callback.drain()
    assert [i.kind for i in rig.recorder.inbounds] == [InboundKind.BUTTON, InboundKind.TEXT]
