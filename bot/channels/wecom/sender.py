"""The "wecom" sender: replies to a member as app messages (text, button cards, images)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.channels.base import SendError
from bot.channels.wecom.api import WecomApi, WecomError
from bot.channels.wecom.errors import to_send_error
from bot.channels.wecom.render import render_reply
from core.i18n import normalize_lang, t
from core.types import Channel, Reply

log = logging.getLogger(__name__)

# The account's language (chat_accounts.language) by userid; None when not bound.
LanguageOf = Callable[[str], Awaitable[str | None]]


class AppSender:
    """Implements bot.channels.base.Sender for channel "wecom"; chat_id is the userid."""

    channel = Channel.WECOM

    def __init__(
        self, api: WecomApi, *, lang: str = "zh", language_of: LanguageOf | None = None
    ) -> None:
        self.api = api
        self.lang = lang  # the default (settings.language), for members not yet bound
        self.language_of = language_of

    async def language(self, userid: str) -> str:
        """The member's own language when known, else the default."""
        if self.language_of is None:
            return self.lang
        try:
            own = await self.language_of(userid)
        except Exception:  # a database hiccup must not stop a reply: fall back
            log.warning("wecom: account language lookup failed", exc_info=True)
            return self.lang
        return normalize_lang(own) if own else self.lang

    def slots(self, reply: Reply) -> int:
        """How many app messages the reply makes (each counts against the limits)."""
        return max(1, len(render_reply(reply, self.lang)) + (reply.image_png is not None))

    async def send(self, chat_id: str, reply: Reply) -> None:
        lang = await self.language(chat_id)
        try:
            for message in render_reply(reply, lang):
                await self.api.send(chat_id, message)
            if reply.image_png is not None:
                media_id = await self.api.upload_image(reply.image_png)
                await self.api.send(chat_id, {"msgtype": "image", "image": {"media_id": media_id}})
        except WecomError as exc:
            raise to_send_error(exc) from None

    async def disable_card(self, userid: str, response_code: str) -> bool:
        """Grey out a clicked card so it cannot be pressed twice; False when WeCom refused."""
        if not response_code:
            return False
        try:
            await self.api.update_card_button(
                userid, response_code, t("wecom.card_done", await self.language(userid))
            )
        except WecomError as exc:
            # A reused or expired code (72 h) changes nothing for the cadre: log and go on.
            log.warning("wecom card update refused: errcode=%s", exc.errcode)
            return False
        return True


__all__ = ["AppSender", "SendError"]
