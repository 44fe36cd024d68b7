"""The python-telegram-bot Application wired to the core: update → Inbound → handle → replies.

`build_application` points PTB at the configured Bot API base URL (a local Bot API server, or
the fake one in tests). `TelegramChannel` registers one catch-all handler; polling and the
webhook route (bot/web.py) both end in `TelegramChannel.process`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    Message,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels.base import SendError
from bot.channels.telegram import to_inbound
from bot.channels.telegram_send import TelegramSender
from core.i18n import LANGS, t
from core.types import Inbound, Reply

log = logging.getLogger(__name__)

# A person is waiting for the answer: wait out a short flood-control pause, not a long one.
MAX_INLINE_WAIT_SECONDS = 5.0

Handle = Callable[[Inbound], Awaitable[list[Reply]]]
TgApplication = Application  # type: ignore[type-arg]

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
    """A PTB Application talking to `api_url`; without an updater when not polling."""
    builder = (
        Application.builder()
        .token(token)
        .base_url(api_url)
        .base_file_url(file_url or file_url_for(api_url))
        .job_queue(None)  # timed work belongs to bangfu's own scheduler (bot/schedule.py)
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


class TelegramChannel:
    """Feeds a PTB Application's updates to the core and sends back its replies."""

    def __init__(self, app: TgApplication, handle: Handle) -> None:
        self.app = app
        self.handle = handle
        self.sender = TelegramSender(app.bot)
        self.processed = 0  # updates fully handled (answers sent): for health and tests
        self._progress = asyncio.Condition()
        app.add_handler(TypeHandler(Update, self._on_update))

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
        inbound = to_inbound(update, self.app.bot.username or "")
        if inbound is None:
            return
        if update.callback_query is not None:
            await self._acknowledge(update.callback_query)
        try:
            replies = await self.handle(inbound)
        except Exception:
            log.exception("handling %s failed", inbound.message_id)
            replies = [Reply(t("telegram.error", inbound.language))]
        for reply in replies:
            try:
                await self._send(inbound.chat_id, reply)
            except SendError as err:
                log.warning("reply to chat %s not sent: %s", inbound.chat_id, err)
                if err.permanent:
                    break

    async def _send(self, chat_id: str, reply: Reply) -> None:
        """Send a reply; when Telegram asks for a short pause, wait and try once more."""
        try:
            await self.sender.send(chat_id, reply)
        except SendError as err:
            if err.retry_after is None or err.retry_after > MAX_INLINE_WAIT_SECONDS:
                raise
            await asyncio.sleep(err.retry_after)
            await self.sender.send(chat_id, reply)

    async def _acknowledge(self, query: CallbackQuery) -> None:
        """Stop the client's spinner and remove the pressed keyboard so it cannot be reused."""
        try:
            await query.answer()
        except TelegramError as err:  # too old or already answered: harmless
            log.info("answerCallbackQuery failed: %s", err)
        message = query.message
        if isinstance(message, Message) and message.reply_markup is not None:
            try:
                await self.app.bot.edit_message_reply_markup(
                    message.chat.id, message.message_id, reply_markup=None
                )
            except TelegramError as err:  # already removed, or the message is gone
                log.info("removing keyboard failed: %s", err)
