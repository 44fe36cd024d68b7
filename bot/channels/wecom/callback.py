"""The WeCom callback URL on aiohttp: GET verification and POSTed encrypted messages.

WeCom waits 5 s for a 200 and then retries (three times in all), so a POST is checked,
decrypted and answered at once; the message is processed in the background. The core
stores each (channel, message id) once; here concurrent retries of one message are also
kept from starting a second background run. Refusals are logged with their reason and
the sender's address, never with the body.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import replace

from aiohttp import web

from bot.channels.base import SendError
from bot.channels.wecom.adapter import Translated, to_inbound
from bot.channels.wecom.crypto import CryptoError, WXBizMsgCrypt
from bot.channels.wecom.media import PhotoNotSaved
from bot.channels.wecom.sender import AppSender
from bot.channels.wecom.xmlmsg import XmlError, encrypted_field, parse_message
from bot.deliver import Deliverer
from core.clock import Clock
from core.i18n import t
from core.types import Channel, Inbound, InboundKind, Reply

log = logging.getLogger(__name__)

Handle = Callable[[Inbound], Awaitable[list[Reply]]]
IsBound = Callable[[str], Awaitable[bool]]
# Called with (message id, index, chat id, reply) for a reply that could not be sent now.
Undelivered = Callable[[str, int, str, Reply], Awaitable[None]]
# Fetches a photo by WeCom media id and returns its durable reference (PhotoSaver.save).
SavePhoto = Callable[[str], Awaitable[str]]

MAX_BODY = 64 * 1024  # WeCom's largest callback (a 2,048-byte text) is far below this
MAX_SKEW = 300  # seconds between WeCom's timestamp and our clock
RECENT = 10_000  # message ids remembered in memory to skip retries cheaply


class Refused(Exception):
    def __init__(self, reason: str, status: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class WecomCallback:
    """Request handlers for one self-built app; mount with `add_routes`."""

    def __init__(
        self,
        crypt: WXBizMsgCrypt,
        handle: Handle,
        sender: AppSender,
        clock: Clock,
        *,
        is_bound: IsBound | None = None,
        undelivered: Undelivered | None = None,
        save_photo: SavePhoto | None = None,
        delivery: Deliverer | None = None,
        max_body: int = MAX_BODY,
        max_skew: int = MAX_SKEW,
    ) -> None:
        self.crypt = crypt
        self.handle = handle
        self.sender = sender
        self.clock = clock
        self.is_bound = is_bound
        self.undelivered = undelivered
        self.save_photo = save_photo
        # Answers paced in the process's shared budget, retried, queued past a deadline.
        self.delivery = delivery
        self.max_body = max_body
        self.max_skew = max_skew
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._user_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    # -- HTTP -----------------------------------------------------------------------------

    def _signed_query(self, request: web.Request) -> tuple[str, str, str]:
        q = request.query
        sig, ts, nonce = q.get("msg_signature", ""), q.get("timestamp", ""), q.get("nonce", "")
        if not (sig and ts and nonce):
            raise Refused("missing_query", 400)
        try:
            skew = abs(self.clock.now().timestamp() - int(ts))
        except (ValueError, OverflowError):
            raise Refused("bad_timestamp", 400) from None
        if skew > self.max_skew:
            raise Refused("stale_timestamp", 403)
        return sig, ts, nonce

    def _refuse(self, request: web.Request, exc: Refused | CryptoError | XmlError) -> web.Response:
        if isinstance(exc, Refused):
            reason, status = exc.reason, exc.status
        elif isinstance(exc, CryptoError):
            reason = exc.reason
            status = 403 if reason in ("bad_signature", "bad_receive_id") else 400
        else:
            reason, status = f"xml_{exc}", 400
        log.warning("wecom callback refused: %s (%s %s)", reason, request.method, request.remote)
        return web.Response(status=status, text="")

    async def verify(self, request: web.Request) -> web.Response:
        """GET: the URL check when the callback is saved in the admin console."""
        try:
            sig, ts, nonce = self._signed_query(request)
            # Base64 has no spaces: a "+" that reached us unescaped was decoded as one.
            echostr = request.query.get("echostr", "").replace(" ", "+")
            if not echostr:
                raise Refused("missing_echostr", 400)
            plain = self.crypt.verify_and_decrypt(sig, ts, nonce, echostr)
        except (Refused, CryptoError) as exc:
            return self._refuse(request, exc)
        log.info("wecom callback URL verified")
        return web.Response(text=plain)

    async def _read_body(self, request: web.Request) -> bytes:
        if request.content_length is not None and request.content_length > self.max_body:
            raise Refused("oversized", 413)
        body = bytearray()
        async for chunk in request.content.iter_chunked(8192):
            body += chunk
            if len(body) > self.max_body:
                raise Refused("oversized", 413)
        return bytes(body)

    async def receive(self, request: web.Request) -> web.Response:
        """POST: check, decrypt, answer 200 at once, process in the background.

        Cheapest checks first, since anyone may post: the query, the body's size, its
        encoding and the absence of a DTD (scans), the signature (one SHA-1); the AES
        decryption and the XML parser only for a message WeCom signed.
        """
        try:
            sig, ts, nonce = self._signed_query(request)
            # No XML parser sees an unauthenticated body: a bounded scan finds Encrypt,
            # and only a correctly signed message is decrypted and parsed.
            encrypted = encrypted_field(await self._read_body(request))
            plain = self.crypt.verify_and_decrypt(sig, ts, nonce, encrypted)
            message = parse_message(plain)
        except (Refused, CryptoError, XmlError) as exc:
            return self._refuse(request, exc)
        translated = to_inbound(message)
        if translated is not None:
            self._start(translated)
        return web.Response(text="")

    # -- background -----------------------------------------------------------------------

    def _start(self, translated: Translated) -> None:
        key = translated.inbound.message_id
        if key in self._inflight or key in self._recent:
            log.info("wecom callback: repeated delivery skipped")
            return
        received = time.monotonic()  # the reply latency runs from here to the answer sent
        task = asyncio.get_running_loop().create_task(self._process(translated, received))
        self._inflight[key] = task
        task.add_done_callback(lambda t, k=key: self._finished(k, t))  # type: ignore[misc]

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        self._inflight.pop(key, None)
        if task.cancelled():
            return
        if exc := task.exception():
            log.error("wecom message processing failed: %s", type(exc).__name__, exc_info=exc)
            return  # not remembered: a later redelivery may succeed
        self._recent[key] = None
        while len(self._recent) > RECENT:
            self._recent.popitem(last=False)

    async def _process(self, translated: Translated, received: float | None = None) -> None:
        # One member's messages run one at a time, in arrival order (asyncio.Lock is FIFO):
        # a click and the text typed right after it must reach the core in that order.
        user = translated.inbound.account_id
        lock = self._user_locks.get(user)
        if lock is None:
            lock = self._user_locks[user] = asyncio.Lock()
        async with lock:
            await self._process_one(translated, received)

    async def _process_one(self, translated: Translated, received: float | None = None) -> None:
        inbound = translated.inbound
        if translated.only_if_unbound and self.is_bound and await self.is_bound(inbound.account_id):
            return
        if inbound.kind in (InboundKind.PHOTO, InboundKind.VOICE) and self.save_photo is not None:
            kept = await self._keep_photo(translated)
            if kept is None:
                return
            inbound = kept
        if translated.response_code:
            # First, so a second press of the same card is impossible while we work.
            await self.sender.disable_card(inbound.account_id, translated.response_code)
        replies = await self.handle(inbound)
        await self._answer(inbound, replies, received)

    async def _answer(
        self, inbound: Inbound, replies: list[Reply], received: float | None = None
    ) -> None:
        if self.delivery is not None:
            await self.delivery.deliver(
                Channel.WECOM, inbound.chat_id, replies, ref=inbound.message_id, received=received
            )
            return
        for index, reply in enumerate(replies):
            await self._deliver(inbound, index, reply)

    async def _keep_photo(self, translated: Translated) -> Inbound | None:
        """The inbound with the photo stored and referenced; None when it was not (answered)."""
        inbound = translated.inbound
        if self.is_bound and not await self.is_bound(inbound.account_id):
            return inbound  # a stranger's photo is not kept: the core asks them to bind
        assert self.save_photo is not None
        try:
            ref = await self.save_photo(translated.media_id)
        except PhotoNotSaved:
            # The core never sees the photo, so the draft stays as it was; the cadre is
            # still at the scene and can send it again (see docs/wecom.md).
            lang = await self.sender.language(inbound.account_id)
            key = "voice_not_saved" if inbound.kind == InboundKind.VOICE else "photo_not_saved"
            await self._answer(inbound, [Reply(t(f"wecom_media.{key}", lang))])
            return None
        return replace(inbound, photo_ref=ref)

    async def _deliver(self, inbound: Inbound, index: int, reply: Reply) -> None:
        try:
            await self.sender.send(inbound.chat_id, reply)
        except SendError as exc:
            log.warning("wecom reply not sent now: %s", exc)
            if self.undelivered is not None and not exc.permanent:
                await self.undelivered(inbound.message_id, index, inbound.chat_id, reply)

    async def drain(self) -> None:
        """Wait for background work (on shutdown, and in tests)."""
        while self._inflight:
            await asyncio.gather(*list(self._inflight.values()), return_exceptions=True)


def add_routes(app: web.Application, callback: WecomCallback, path: str) -> None:
    """Mount the callback on bangfu's aiohttp app at `path` (settings.wecom.callback_path)."""
    app.router.add_get(path, callback.verify)
    app.router.add_post(path, callback.receive)

    async def _drain(_app: web.Application) -> None:
        await callback.drain()

    app.on_shutdown.append(_drain)
