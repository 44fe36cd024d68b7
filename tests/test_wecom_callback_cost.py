"""Anyone may post to the callback URL: an unauthenticated body must cost next to nothing.

The Encrypt field is found by a bounded scan and its signature checked before the body goes
anywhere near the XML parser or the AES decryption; a body that is not UTF-8, or that holds
a DTD in any encoding, is refused by cheap scans. Shown by counting calls into the parser
and the decryption, not by timing: with the real vectors from Tencent's and wechatpy's
samples, a correctly signed body reaches both, a wrongly signed one neither.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.channels.wecom.api import WecomApi
from bot.channels.wecom.callback import WecomCallback, add_routes
from bot.channels.wecom.crypto import WXBizMsgCrypt, signature
from bot.channels.wecom.sender import AppSender
from core.clock import FixedClock
from core.types import Inbound, Reply
from tests.fakes.wecom_api import FakeWecom

VECTORS = json.loads((Path(__file__).parent / "data" / "wecom_callback_vectors.json").read_text())
# Tencent's sample (weworkapi_python): a whole POST body, signed, from a WeCom corp.
SAMPLE = next(v for v in VECTORS if v.get("post_body") and v["receive_id"].startswith("ww"))
PATH = "/wecom/callback"
LAUGHS = (
    '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    + "".join(
        f'<!ENTITY {c} "{("&" + p + ";") * 10}">'
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "]>\n<xml><Encrypt>&i;</Encrypt></xml>"
)


class Counted:
    """Counts the calls into the XML parser and the decryption."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, crypt: WXBizMsgCrypt) -> None:
        self.parsed = self.decrypted = 0
        real_parser, real_decrypt = ET.XMLParser, crypt.decrypt

        def parser(*args: Any, **kw: Any) -> ET.XMLParser:
            self.parsed += 1  # every ElementTree parse (fromstring too) starts here
            return real_parser(*args, **kw)

        def decrypt(encrypted: str) -> str:
            self.decrypted += 1
            return real_decrypt(encrypted)

        monkeypatch.setattr(ET, "XMLParser", parser)
        monkeypatch.setattr(crypt, "decrypt", decrypt)


class Rig:
    def __init__(self, url: str, callback: WecomCallback, count: Counted) -> None:
        self.url, self.callback, self.count = url, callback, count
        self.inbounds: list[Inbound] = []

    async def post(self, query: dict[str, str], body: bytes) -> int:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.url}?{urlencode(query)}", data=body) as resp,
        ):
            await resp.read()
            status = resp.status
        await self.callback.drain()
        return status


@pytest.fixture
async def rig(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Rig]:
    crypt = WXBizMsgCrypt(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE["receive_id"])
    clock = FixedClock(datetime.fromtimestamp(int(SAMPLE["timestamp"]), UTC))
    fake = await FakeWecom(corp_id=SAMPLE["receive_id"]).start()
    inbounds: list[Inbound] = []

    async def handle(inbound: Inbound) -> list[Reply]:
        inbounds.append(inbound)
        return []

    async with aiohttp.ClientSession() as session:
        api = WecomApi(session, base_url=fake.url, corp_id=fake.corp_id, secret=fake.secret,
                       agent_id=fake.agent_id)  # fmt: skip
        callback = WecomCallback(crypt, handle, AppSender(api), clock)
        app = web.Application()
        add_routes(app, callback, PATH)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        rig = Rig(str(server.make_url(PATH)), callback, Counted(monkeypatch, crypt))
        rig.inbounds = inbounds
        yield rig
        await server.close()
    await fake.close()


def _query(encrypted: str = "", *, signed: bool = True) -> dict[str, str]:
    sig = SAMPLE["msg_signature"] if signed else signature("wrong", "1", "2", encrypted)
    return {"msg_signature": sig, "timestamp": SAMPLE["timestamp"], "nonce": SAMPLE["nonce"]}


async def test_the_signed_sample_reaches_the_parser_after_its_signature(rig: Rig) -> None:
    assert await rig.post(_query(), SAMPLE["post_body"].encode()) == 200
    # Decrypted once, and the parser saw only the decrypted, signed message.
    assert (rig.count.decrypted, rig.count.parsed) == (1, 1)


async def test_a_wrongly_signed_body_never_reaches_the_parser_or_the_decryption(
    rig: Rig,
) -> None:
    assert await rig.post(_query(signed=False), SAMPLE["post_body"].encode()) == 403
    tampered = SAMPLE["post_body"].replace("<AgentID>", "<Extra>x</Extra><AgentID>")
    query = {**_query(), "nonce": "1"}  # the sample's body under another nonce
    assert await rig.post(query, tampered.encode()) == 403
    assert (rig.count.decrypted, rig.count.parsed) == (0, 0)
    assert rig.inbounds == []


@pytest.mark.parametrize(
    "body",
    [
        LAUGHS.encode("utf-16"),  # UTF-16 with a byte order mark, entity expansion inside
        LAUGHS.encode("utf-16-be"),  # without one
        LAUGHS.encode("utf-32"),
        LAUGHS.replace("UTF-16", "UTF-8").encode(),  # a DTD in UTF-8
        SAMPLE["post_body"]
        .replace("<xml>", '<?xml version="1.0" encoding="UTF-16"?><xml>')
        .encode(),
        SAMPLE["post_body"].replace("<xml>", '<?xml version="1.0" encoding="gbk"?><xml>').encode(),
        SAMPLE["post_body"].encode() + b"\xff\xfe",  # not UTF-8 at all
        SAMPLE["post_body"].encode("utf-16"),  # the genuine, signed body, re-encoded
    ],
    ids=[
        "utf16-bom-dtd",
        "utf16be-dtd",
        "utf32-dtd",
        "utf8-dtd",
        "declares-utf16",
        "declares-gbk",
        "invalid-utf8",
        "genuine-as-utf16",
    ],
)
async def test_bodies_not_plain_utf8_are_refused_before_any_parsing(rig: Rig, body: bytes) -> None:
    assert await rig.post(_query(), body) == 400
    assert (rig.count.decrypted, rig.count.parsed) == (0, 0)
    assert rig.inbounds == []


async def test_a_signed_message_holding_a_dtd_is_refused_before_parsing(rig: Rig) -> None:
    """Even a message WeCom's key decrypts is not parsed when it carries a DTD."""
    crypt = WXBizMsgCrypt(SAMPLE["token"], SAMPLE["encoding_aes_key"], SAMPLE["receive_id"])
    encrypted = crypt.encrypt(LAUGHS.replace("UTF-16", "UTF-8"))
    sig = signature(SAMPLE["token"], SAMPLE["timestamp"], SAMPLE["nonce"], encrypted)
    body = f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()
    query = {**_query(), "msg_signature": sig}
    assert await rig.post(query, body) == 400
    assert (rig.count.decrypted, rig.count.parsed) == (1, 0)
