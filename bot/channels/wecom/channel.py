"""The WeCom channel put together from settings: `build_wecom` → WecomChannel.

`WecomChannel.routes()` go on bangfu's aiohttp app (bot/web.py, via bot/run.py); its
`sender` (channel "wecom") and `robot` (channel "wecom_robot") go to the dispatcher;
`close()` waits for background work and closes the HTTP session.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp
from aiohttp import web

from bot.channels.base import Sender
from bot.channels.wecom.api import WecomApi
from bot.channels.wecom.callback import Handle, WecomCallback
from bot.channels.wecom.crypto import WXBizMsgCrypt, aes_key
from bot.channels.wecom.media import PhotoSaver
from bot.channels.wecom.robot import RobotSender
from bot.channels.wecom.sender import AppSender
from bot.config import ConfigError, WecomSettings
from bot.media import MediaStore
from core.clock import Clock
from core.payload import reply_to_payload
from core.types import Reply
from storage.db import Database
from storage.outbox import NewMessage, enqueue
from storage.people import account_language
from storage.wecom_queries import account_is_bound

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)


@dataclass
class WecomChannel:
    api: WecomApi
    sender: AppSender
    robot: RobotSender
    callback: WecomCallback
    path: str
    session: aiohttp.ClientSession

    def routes(self) -> list[web.RouteDef]:
        """The callback URL: GET verifies it, POST receives messages."""
        return [
            web.get(self.path, self.callback.verify),
            web.post(self.path, self.callback.receive),
        ]

    def senders(self) -> dict[str, Sender]:
        return {self.sender.channel: self.sender, self.robot.channel: self.robot}

    async def close(self) -> None:
        await self.callback.drain()
        await self.session.close()


def _bad(name: str, what: str) -> ConfigError:
    return ConfigError(f"配置错误 / bad setting BANGFU_WECOM__{name}: {what}")


def check_wecom_settings(settings: WecomSettings) -> None:
    """Refuse to start WeCom with settings that cannot work, naming the setting."""
    if not settings.corp_id:
        raise _bad("CORP_ID", "required (我的企业 → 企业信息 → 企业ID)")
    if settings.agent_id <= 0:
        raise _bad("AGENT_ID", "required (应用管理 → 自建应用 → AgentId)")
    for name, value in (("SECRET", settings.secret), ("TOKEN", settings.token)):
        if not value.get_secret_value():
            raise _bad(name, "required")
    try:
        aes_key(settings.encoding_aes_key.get_secret_value())
    except ValueError as exc:
        raise _bad("ENCODING_AES_KEY", str(exc)) from None
    if not settings.callback_path.startswith("/"):
        raise _bad("CALLBACK_PATH", "a path such as /wecom/callback")
    if not settings.api_url.startswith(("https://", "http://")):
        raise _bad("API_URL", "a URL such as https://qyapi.weixin.qq.com")


def build_wecom(
    settings: WecomSettings,
    *,
    handle: Handle,
    db: Database,
    clock: Clock,
    lang: str = "zh",
    media_dir: str = "./media",
    session: aiohttp.ClientSession | None = None,
) -> WecomChannel:
    """The channel's parts from settings; `handle` is the core's entry point for one Inbound.

    Photos members send are kept in `media_dir` (settings.media_dir).
    """
    check_wecom_settings(settings)
    store = MediaStore(media_dir)
    store.check()
    http = session or aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
    api = WecomApi(
        http,
        base_url=settings.api_url,
        corp_id=settings.corp_id,
        secret=settings.secret.get_secret_value(),
        agent_id=settings.agent_id,
    )

    async def language_of(userid: str) -> str | None:
        async with db.transaction() as s:
            return await account_language(s, "wecom", userid)

    sender = AppSender(api, lang=lang, language_of=language_of)
    crypt = WXBizMsgCrypt(
        settings.token.get_secret_value(),
        settings.encoding_aes_key.get_secret_value(),
        settings.corp_id,
    )

    async def is_bound(userid: str) -> bool:
        async with db.transaction() as s:
            return await account_is_bound(s, "wecom", userid)

    async def undelivered(message_id: str, index: int, chat_id: str, reply: Reply) -> None:
        # The dispatcher retries what could not be sent right away (rate limit, network).
        msg = NewMessage(
            dedupe_key=f"reply:wecom:{message_id}:{index}",
            channel="wecom",
            chat_id=chat_id,
            kind="reply",
            payload=reply_to_payload(reply),
        )
        async with db.transaction() as s:
            await enqueue(s, [msg], now=clock.now())

    callback = WecomCallback(
        crypt,
        handle,
        sender,
        clock,
        is_bound=is_bound,
        undelivered=undelivered,
        save_photo=PhotoSaver(api, store).save,
    )
    robot = RobotSender(http, base_url=settings.api_url)
    return WecomChannel(api, sender, robot, callback, settings.callback_path, http)
