"""WeCom's side of the callback, for tests: builds, encrypts, signs and POSTs messages."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp

from bot.channels.wecom.crypto import WXBizMsgCrypt, signature

TOKEN = "QDG6eK"
AES_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
CORP_ID = "ww_test_corp"


def cdata(value: str) -> str:
    return f"<![CDATA[{value}]]>"


def text_xml(user: str, content: str, msg_id: str, create_time: int) -> str:
    return (
        f"<xml><ToUserName>{cdata(CORP_ID)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content><MsgId>{msg_id}</MsgId><AgentID>1000002</AgentID></xml>"
    )


def message_xml(user: str, msg_type: str, create_time: int, **fields: str) -> str:
    inner = "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in fields.items())
    return (
        f"<xml><ToUserName>{cdata(CORP_ID)}</ToUserName><FromUserName>{cdata(user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>{cdata(msg_type)}</MsgType>"
        f"{inner}<AgentID>1000002</AgentID></xml>"
    )


def card_click_xml(user: str, key: str, task_id: str, response_code: str, create_time: int) -> str:
    return message_xml(
        user,
        "event",
        create_time,
        Event="template_card_event",
        EventKey=key,
        TaskId=task_id,
        CardType="button_interaction",
        ResponseCode=response_code,
    )


@dataclass
class WecomPusher:
    """Pushes callbacks to `url` the way WeCom's servers do."""

    session: aiohttp.ClientSession
    url: str
    crypt: WXBizMsgCrypt = field(default_factory=lambda: WXBizMsgCrypt(TOKEN, AES_KEY, CORP_ID))

    def signed(self, encrypted: str, timestamp: int, nonce: str | None = None) -> dict[str, str]:
        nonce = nonce or str(secrets.randbelow(10**9))
        sig = signature(self.crypt.token, str(timestamp), nonce, encrypted)
        return {"msg_signature": sig, "timestamp": str(timestamp), "nonce": nonce}

    def body(self, encrypted: str) -> bytes:
        return (
            f"<xml><ToUserName>{cdata(CORP_ID)}</ToUserName>"
            f"<Encrypt>{cdata(encrypted)}</Encrypt><AgentID>{cdata('1000002')}</AgentID></xml>"
        ).encode()

    async def post_raw(self, query: dict[str, str], body: bytes) -> tuple[int, str]:
        async with self.session.post(f"{self.url}?{urlencode(query)}", data=body) as resp:
            return resp.status, await resp.text()

    async def push(self, plaintext_xml: str, timestamp: int) -> tuple[int, str]:
        encrypted = self.crypt.encrypt(plaintext_xml)
        return await self.post_raw(self.signed(encrypted, timestamp), self.body(encrypted))

    async def verify_url(
        self, timestamp: int, echo: str = "1288432023552776189"
    ) -> tuple[int, str]:
        encrypted = self.crypt.encrypt(echo)
        query = {**self.signed(encrypted, timestamp), "echostr": encrypted}
        async with self.session.get(f"{self.url}?{urlencode(query)}") as resp:
            return resp.status, await resp.text()
