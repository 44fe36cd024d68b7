"""The WeCom channel put together from settings: `build_wecom` → WecomChannel.

`WecomChannel.add_routes` mounts the callback on bangfu's aiohttp app; its `sender` (channel
"wecom") and `robot` (channel "wecom_robot") go to the dispatcher.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiohttp
from aiohttp import web

from bot.channels.wecom.api import WecomApi
from bot.channels.wecom.callback import Handle, WecomCallback, add_routes
from bot.channels.wecom.crypto import WXBizMsgCrypt
from bot.channels.wecom.robot import RobotSender
from bot.channels.wecom.sender import AppSender
from bot.config import WecomSettings
from core.clock import Clock
from core.payload import reply_to_payload
from core.types import Reply
from storage.db import Database
from storage.outbox import NewMessage, enqueue
from storage.wecom_queries import account_is_bound


@dataclass
class WecomChannel:
    api: WecomApi
    sender: AppSender
    robot: RobotSender
    callback: WecomCallback
    path: str

    def add_routes(self, app: web.Application) -> None:
        add_routes(app, self.callback, self.path)


def build_wecom(
    settings: WecomSettings,
    *,
    session: aiohttp.ClientSession,
    handle: Handle,
    db: Database,
    clock: Clock,
    lang: str = "zh",
) -> WecomChannel:
    """The channel's parts from settings; `handle` is the core's entry point for one Inbound."""
    api = WecomApi(
        session,
        base_url=settings.api_url,
        corp_id=settings.corp_id,
        secret=settings.secret.get_secret_value(),
        agent_id=settings.agent_id,
    )
    sender = AppSender(api, lang=lang)
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
        now: datetime = clock.now()
        async with db.transaction() as s:
            await enqueue(s, [msg], now=now)

    callback = WecomCallback(
        crypt, handle, sender, clock, is_bound=is_bound, undelivered=undelivered
    )
    robot = RobotSender(session, base_url=settings.api_url)
    return WecomChannel(api, sender, robot, callback, settings.callback_path)
