"""The WeCom channel put together from settings: `plug(host)` → WecomChannel.

`WecomChannel.routes()` (the callback URL) go on bangfu's aiohttp app; its senders, "wecom"
(members) and "wecom_robot" (supervisors' groups), go to the dispatcher; `stop()` waits for
background work and closes the HTTP session.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
from aiohttp import web

from bot.channels.base import Sender
from bot.channels.wecom.adapter import to_inbound
from bot.channels.wecom.api import WecomApi
from bot.channels.wecom.callback import Handle, WecomCallback
from bot.channels.wecom.crypto import WXBizMsgCrypt
from bot.channels.wecom.media import PhotoSaver
from bot.channels.wecom.robot import RobotSender
from bot.channels.wecom.sender import AppSender
from bot.channels.wecom.setup import api_for, bad_setting, check_wecom_settings
from bot.config import WecomSettings
from bot.deliver import Deliverer
from bot.host import Host
from bot.media import MediaStore
from core.clock import Clock
from core.types import Channel, Inbound, Reply

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)


class CoreAccess(Protocol):
    """What the channel asks of the core (handlers.gateway.Core)."""

    async def handle(self, inbound: Inbound) -> list[Reply]: ...

    async def is_bound(self, channel: Channel, account_id: str) -> bool: ...

    async def language_of(self, channel: Channel, account_id: str) -> str | None: ...

    async def queue_reply(self, channel: Channel, chat_id: str, key: str, reply: Reply) -> None: ...


@dataclass
class WecomChannel:
    """Implements bot.channels.base.ChannelAdapter for WeCom's self-built app and robots."""

    api: WecomApi
    sender: AppSender
    robot: RobotSender
    callback: WecomCallback
    path: str
    session: aiohttp.ClientSession
    channel: Channel = Channel.WECOM

    def routes(self) -> list[web.RouteDef]:
        """The callback URL: GET verifies it, POST receives messages."""
        return [
            web.get(self.path, self.callback.verify),
            web.post(self.path, self.callback.receive),
        ]

    def senders(self) -> Sequence[Sender]:
        return [self.sender, self.robot]

    def to_inbound(self, raw: Any) -> Inbound | None:
        """A decrypted callback message (its XML fields) as the core's Inbound."""
        translated = to_inbound(raw)
        return translated.inbound if translated is not None else None

    async def start(self) -> None:
        """Nothing to start: WeCom posts to the callback once the web server listens."""

    async def stop(self) -> None:
        # Runs after the web server stopped taking requests: nothing new arrives meanwhile.
        await self.callback.drain()
        await self.session.close()


def plug(host: Host) -> WecomChannel | None:
    """The channel when settings.wecom.enabled, else None."""
    settings = host.settings
    wecom = settings.wecom
    if not wecom.enabled:
        if wecom.corp_id or wecom.secret.get_secret_value() or wecom.token.get_secret_value():
            # else it would start without WeCom, silently
            raise bad_setting(
                "ENABLED",
                "已填写凭据但未启用，请设为 true 或删去凭据 / credentials are set but not enabled",
            )
        return None
    return build_wecom(
        settings.wecom,
        core=host.core,
        clock=host.ctx.clock,
        lang=settings.language,
        media_dir=settings.media_dir,
        delivery=host.delivery,
    )


def build_wecom(
    settings: WecomSettings,
    *,
    core: CoreAccess,
    clock: Clock,
    lang: str = "zh",
    media_dir: str = "./media",
    session: aiohttp.ClientSession | None = None,
    delivery: Deliverer | None = None,
) -> WecomChannel:
    """The channel's parts from settings; `core` answers each Inbound and account questions.

    Photos members send are kept in `media_dir` (settings.media_dir).
    """
    check_wecom_settings(settings)
    store = MediaStore(media_dir)
    store.check()
    http = session or aiohttp.ClientSession(timeout=HTTP_TIMEOUT)
    api = api_for(settings, http)

    async def language_of(userid: str) -> str | None:
        return await core.language_of(Channel.WECOM, userid)

    async def is_bound(userid: str) -> bool:
        return await core.is_bound(Channel.WECOM, userid)

    async def undelivered(message_id: str, index: int, chat_id: str, reply: Reply) -> None:
        # The dispatcher retries what could not be sent right away (rate limit, network).
        key = f"reply:{Channel.WECOM}:{message_id}:{index}"
        await core.queue_reply(Channel.WECOM, chat_id, key, reply)

    sender = AppSender(api, lang=lang, language_of=language_of)
    crypt = WXBizMsgCrypt(
        settings.token.get_secret_value(),
        settings.encoding_aes_key.get_secret_value(),
        settings.corp_id,
    )
    handle: Handle = core.handle
    callback = WecomCallback(
        crypt,
        handle,
        sender,
        clock,
        is_bound=is_bound,
        undelivered=undelivered,
        save_photo=PhotoSaver(api, store).save,
        delivery=delivery,
    )
    robot = RobotSender(http, base_url=settings.api_url)
    return WecomChannel(api, sender, robot, callback, settings.callback_path, http)
