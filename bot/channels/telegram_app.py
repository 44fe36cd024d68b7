"""The python-telegram-bot Application wired to the core: update → Inbound → handle → replies.

`build_application` points PTB at the configured Bot API base URL (a local Bot API server, or
the fake one in tests). `TelegramChannel` registers one catch-all handler; polling and the
webhook route (`webhook_route`) both end in `TelegramChannel.process`. `plug(host)` builds
the channel from settings for `bangfu run`.

The webhook route accepts an update only with the right X-Telegram-Bot-Api-Secret-Token
header (compared in constant time) and answers after the update has been processed, so a
slow database slows Telegram down rather than piling up work in memory.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    Message,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot import metrics
from bot.channels.base import Sender
from bot.channels.telegram import keyboard_json, slim_update, to_inbound
from bot.channels.telegram_http import AiohttpRequest, UpdatesRequest, post_json
from bot.channels.telegram_order import ChatLocks, PerChatUpdateProcessor, chat_key
from bot.channels.telegram_send import TelegramSender
from bot.config import ConfigError, TelegramSettings
from bot.deliver import Deliverer
from bot.host import Host
from core.i18n import LANGS, t
from core.textsplit import split_for
from core.types import Channel, Inbound, Reply

log = logging.getLogger(__name__)

Handle = Callable[[Inbound], Awaitable[list[Reply]]]
Hold = Callable[[Channel, str], AbstractAsyncContextManager[None]]
TgApplication = Application  # type: ignore[type-arg]

ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram accepts 1-256 of these characters; we ask for at least 16 to make guessing futile.
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{16,256}")

# The command menus, in order; descriptions come from the catalogue (telegram_menu.*).
PRIVATE_MENU = (
    "report",
    "diary",
    "event",
    "problem",
    "progress",
    "resolve",
    "followup",
    "score",
    "measure",
    "deed",
    "plan",
    "mine",
    "undo",
    "correct",
    "leave",
    "back",
    "menu",
    "help",
    "cancel",
)
GROUP_MENU = ("digest", "overdue", "bind", "group_help")  # group_help is shown as /help


def file_url_for(api_url: str) -> str:
    """The file download base matching a Bot API base: …/bot → …/file/bot."""
    base = api_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


def build_application(
    token: str, *, api_url: str, file_url: str = "", polling: bool = True
) -> TgApplication:
    """A PTB Application talking to `api_url`; without an updater when not polling.

    Its HTTP client is aiohttp (one pooled keep-alive session for calls, one for the long
    poll); updates of different chats are handled concurrently, each chat's in order.
    """
    builder = (
        Application.builder()
        .token(token)
        .base_url(api_url)
        .base_file_url(file_url or file_url_for(api_url))
        .job_queue(None)  # timed work belongs to bangfu's own scheduler (bot/schedule.py)
        .request(AiohttpRequest())
        .get_updates_request(UpdatesRequest(pool_size=2))
        .concurrent_updates(PerChatUpdateProcessor())
    )
    if not polling:
        builder = builder.updater(None)
    return builder.build()


def _menu(names: tuple[str, ...], lang: str) -> list[BotCommand]:
    return [
        BotCommand(name.removeprefix("group_"), t(f"telegram_menu.{name}", lang)) for name in names
    ]


async def set_command_menu(app: TgApplication) -> None:
    """Cadres' menu in private chats, supervisors' in groups; Chinese, and English for
    clients set to English."""
    for lang in LANGS:
        code = None if lang == "zh" else lang
        for scope, names in (
            (BotCommandScopeAllPrivateChats(), PRIVATE_MENU),
            (BotCommandScopeAllGroupChats(), GROUP_MENU),
        ):
            await app.bot.set_my_commands(_menu(names, lang), scope=scope, language_code=code)


NOT_ENABLED = "已填写凭据但未启用，请设为 true 或删去凭据 / credentials are set but not enabled"


def _bad(name: str, what: str) -> ConfigError:
    return ConfigError(f"配置错误 / bad setting BANGFU_TELEGRAM__{name}: {what}")


def check_telegram_settings(tg: TelegramSettings) -> None:
    """Refuse to start Telegram with settings that cannot work, naming the setting."""
    if not tg.token.get_secret_value():
        raise _bad("TOKEN", "required")
    if tg.mode == "webhook":
        if not tg.webhook_url.startswith(("https://", "http://")):
            raise _bad("WEBHOOK_URL", "an https URL")
        if not WEBHOOK_SECRET_RE.fullmatch(tg.webhook_secret.get_secret_value()):
            raise _bad("WEBHOOK_SECRET", "16-256 characters of A-Z a-z 0-9 _ -")


def plug(host: Host) -> TelegramChannel | None:
    """The channel when settings.telegram.enabled, else None."""
    tg = host.settings.telegram
    if not tg.enabled:
        if tg.token.get_secret_value():  # else it would start without Telegram, silently
            raise _bad("ENABLED", NOT_ENABLED)
        return None
    check_telegram_settings(tg)
    app = build_application(
        tg.token.get_secret_value(),
        api_url=tg.api_url,
        file_url=tg.file_url,
        polling=tg.mode == "polling",
    )
    return TelegramChannel(
        app,
        host.core.handle,
        tg,
        on_username=host.core.learn_bot_username,
        delivery=host.delivery,
        hold=host.core.conversation,
    )


class TelegramChannel:
    """Feeds a PTB Application's updates to the core and sends back its replies.

    Implements bot.channels.base.ChannelAdapter; `settings` are needed only to `start()`.
    """

    channel = Channel.TELEGRAM

    def __init__(
        self,
        app: TgApplication,
        handle: Handle,
        settings: TelegramSettings | None = None,
        *,
        on_username: Callable[[str], None] | None = None,
        delivery: Deliverer | None = None,
        hold: Hold | None = None,
    ) -> None:
        self.app = app
        # Across processes (PostgreSQL): one conversation handled in one process at a time.
        self.hold = hold
        self.handle = handle
        self.settings = settings or TelegramSettings()
        self.on_username = on_username
        self.sender = TelegramSender(app.bot)
        # Standalone (tests, tools): answers paced and retried, but with nowhere to queue.
        self.delivery = delivery or Deliverer.standalone({self.channel: self.sender})
        self._chats = ChatLocks()
        self.processed = 0  # updates fully handled (answers sent): for health and tests
        self._progress = asyncio.Condition()
        self._stoppers: list[Callable[[], Awaitable[Any]]] = []
        app.add_handler(TypeHandler(Update, self._on_update))

    # -- the channel contract -------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        """The webhook route in webhook mode; none when polling."""
        tg = self.settings
        if tg.mode != "webhook":
            return []
        return [webhook_route(tg.webhook_path, tg.webhook_secret.get_secret_value(), self)]

    def senders(self) -> Sequence[Sender]:
        return [self.sender]

    def to_inbound(self, raw: Any) -> Inbound | None:
        return to_inbound(raw, self.app.bot.username or "")

    async def start(self) -> None:
        """Initialize (getMe), set the menu, then poll or tell Telegram the webhook URL."""
        tg, app = self.settings, self.app
        await app.initialize()
        self._stoppers.append(app.shutdown)
        if self.on_username is not None:
            self.on_username(app.bot.username or "")
        await set_command_menu(app)
        await app.start()
        self._stoppers.append(app.stop)
        if tg.mode == "polling":
            assert app.updater is not None
            await app.updater.start_polling(
                timeout=tg.poll_timeout, allowed_updates=ALLOWED_UPDATES
            )
            self._stoppers.append(app.updater.stop)
        else:
            await app.bot.set_webhook(
                tg.webhook_url,
                secret_token=tg.webhook_secret.get_secret_value(),
                allowed_updates=ALLOWED_UPDATES,
            )
        log.info("telegram: %s as @%s", tg.mode, app.bot.username)

    async def stop(self) -> None:
        """Undo `start()` in reverse order; each step runs even if an earlier one failed."""
        while self._stoppers:
            try:
                await self._stoppers.pop()()
            except Exception:
                log.exception("error while stopping telegram")

    # -- processing -----------------------------------------------------------------------

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.process(update)

    async def process(self, update: Update) -> None:
        """Handle one update end to end; never raises (the person is told when it fails)."""
        try:
            await self._process(update)
        finally:
            async with self._progress:
                self.processed += 1
                self._progress.notify_all()

    async def wait_processed(self, count: int, within: float = 10.0) -> None:
        """Wait until `count` updates in total have been processed."""
        async with asyncio.timeout(within), self._progress:
            await self._progress.wait_for(lambda: self.processed >= count)

    async def _process(self, update: Update) -> None:
        received = time.monotonic()  # the reply latency runs from here to the answer sent
        # One chat's updates one at a time, in arrival order; other chats run meanwhile.
        # With a `hold`, also one at a time across processes: handled and answered (or
        # queued) before another process may take the chat's next update.
        key = chat_key(update)
        async with self._chats(key):
            if self.hold is None:
                await self._process_in_order(update, received)
                return
            async with self.hold(self.channel, key):
                await self._process_in_order(update, received)
                # The answers' send history written and announced before another process
                # may take the chat: it has heard of them when it answers the next update.
                await self.delivery.history_written()

    async def _process_in_order(self, update: Update, received: float | None = None) -> None:
        inbound = to_inbound(update, self.app.bot.username or "")
        if inbound is None:
            return
        query = update.callback_query
        # The button's spinner is stopped while the press is handled, not before.
        spinner = None if query is None else asyncio.create_task(self._stop_spinner(query))
        try:
            replies = await self.handle(inbound)
        except Exception:
            log.exception("handling %s failed", inbound.message_id)
            replies = [Reply(t("telegram.error", inbound.language))]
        finally:
            if spinner is not None:
                await asyncio.shield(spinner)
        # The card becomes the answer: one editMessageText instead of a sendMessage and the
        # keyboard's removal. Should the edit fail, the answer is sent as usual.
        in_place = query is not None and bool(replies) and replies[0].in_place
        if in_place and query is not None and await self._edit_into(query, replies[0], received):
            replies = replies[1:]
            query = None  # its keyboard went with the edit
        first, done = self.delivery.submit(
            self.channel, inbound.chat_id, replies, ref=inbound.message_id, received=received
        )
        if query is not None:
            await asyncio.shield(first)  # the answer is on its way: now the keyboard may go
            await self._remove_keyboard(query)
        await asyncio.shield(done)

    # The calls below are the requests PTB's answer_callback_query, edit_message_text and
    # edit_message_reply_markup make, posted as JSON: nobody reads their answers, and PTB
    # would build a Message from the edited one on every press.

    async def _stop_spinner(self, query: CallbackQuery) -> None:
        try:
            await post_json(self.app.bot, "answerCallbackQuery", {"callback_query_id": query.id})
        except TelegramError as err:  # too old or already answered: harmless
            log.info("answerCallbackQuery failed: %s", err)

    async def _edit_into(self, query: CallbackQuery, reply: Reply, received: float | None) -> bool:
        """Edit the pressed message into `reply` (its text and buttons); False when it
        could not be: an image, a text longer than one message, or Telegram refused."""
        message = query.message
        if not isinstance(message, Message) or reply.image_png is not None:
            return False
        pieces = [p for p in split_for(self.channel, reply.text) if p.strip()]
        if len(pieces) != 1:
            return False
        data = {
            "chat_id": message.chat.id,
            "message_id": message.message_id,
            "text": pieces[0],
            "reply_markup": keyboard_json(reply),
        }
        try:
            await post_json(self.app.bot, "editMessageText", data)
        except TelegramError as err:  # the message is gone, too old, …: send it instead
            log.info("editing the pressed message failed: %s", err)
            return False
        if received is not None:
            metrics.answer_sent(self.channel, time.monotonic() - received)
        return True

    async def _remove_keyboard(self, query: CallbackQuery) -> None:
        """Take the pressed keyboard away so it cannot be pressed again."""
        message = query.message
        if isinstance(message, Message) and message.reply_markup is not None:
            data = {"chat_id": message.chat.id, "message_id": message.message_id}
            try:
                await post_json(self.app.bot, "editMessageReplyMarkup", data)
            except TelegramError as err:  # already removed, or the message is gone
                log.info("removing keyboard failed: %s", err)


def webhook_route(path: str, secret: str, channel: TelegramChannel) -> web.RouteDef:
    """POST `path`: Telegram's webhook, accepted only with the secret token."""
    if not secret:
        raise ValueError("the Telegram webhook needs a secret token")
    expected = secret.encode()

    async def telegram_update(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: wrong or missing secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        update = read_update(await request.read(), channel.app.bot)
        if update is None:
            return web.Response(status=400, text="bad update")
        await channel.process(update)
        return web.Response(text="ok")

    return web.post(path, telegram_update)


def read_update(body: bytes, bot: Bot) -> Update | None:
    """The update in a webhook body, or None (logged) when it is not a well-formed one.

    Only a secret-holder gets here, but a proxy or a bug can still post anything: whatever
    PTB or our own translation cannot read is refused here, not with a 500 later.
    """
    try:
        data = json.loads(body)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise TypeError("not an update object")
        update = Update.de_json(slim_update(data), bot)
        to_inbound(update)  # translated once here, so a malformed field fails here
    except Exception as exc:  # PTB raises whatever its constructors raise on odd input
        log.warning("telegram webhook: unreadable update: %s", type(exc).__name__)
        return None
    return update
