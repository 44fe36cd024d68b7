"""TelegramSender: delivers a Reply through a telegram.Bot, failures as SendError."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, Message
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.channels.base import SendError
from bot.channels.telegram import CAPTION_LIMIT, keyboard, keyboard_json
from bot.channels.telegram_http import post_json
from core.textsplit import measure, split_for
from core.types import Channel, Reply

log = logging.getLogger(__name__)
T = TypeVar("T")


def retry_after_seconds(err: RetryAfter) -> float:
    """RetryAfter.retry_after is int seconds in PTB 22, a timedelta later; accept both."""
    value = err._retry_after if hasattr(err, "_retry_after") else err.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def to_send_error(err: TelegramError) -> SendError:
    """Map a PTB error to what the dispatcher needs to decide: wait, give up, or retry."""
    if isinstance(err, RetryAfter):
        return SendError(str(err), retry_after=retry_after_seconds(err), code="429")
    if isinstance(err, Forbidden):  # blocked, kicked, deactivated: the person is gone
        return SendError(err.message, permanent=True, blocked=True, code="403")
    if isinstance(err, InvalidToken):
        return SendError(err.message, permanent=True, code="401")
    if isinstance(err, (BadRequest, ChatMigrated)):
        return SendError(err.message, permanent=True, code="400")
    if isinstance(err, TimedOut):
        return SendError(err.message, code="timeout")
    if isinstance(err, NetworkError):  # includes 5xx answers
        return SendError(err.message, code="network")
    return SendError(err.message, code="error")


class TelegramSender:
    """Sends replies to Telegram chats; implements bot.channels.base.Sender."""

    channel = Channel.TELEGRAM

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def slots(self, reply: Reply) -> int:
        """How many Telegram messages the reply makes (each counts against the limits)."""
        pieces = sum(1 for p in split_for(self.channel, reply.text) if p.strip())
        if reply.image_png is None:
            return max(1, pieces)
        return 1 if measure(reply.text, "utf16") <= CAPTION_LIMIT else 1 + pieces

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Send one reply when the messages sent are not needed.

        Text goes out as the same sendMessage request `send_messages` makes, but the answer
        stays JSON: PTB's `Message` built from every answer was about a sixth of the CPU
        of a one-line report's update.
        """
        if reply.image_png is not None:
            await self.send_messages(chat_id, reply)
            return
        markup = keyboard_json(reply)
        pieces = [p for p in split_for(self.channel, reply.text) if p.strip()]
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            data = {"chat_id": chat_id, "text": piece, "reply_markup": markup if last else None}
            await _guard(post_json(self.bot, "sendMessage", data))

    async def send_messages(self, chat_id: str, reply: Reply) -> list[Message]:
        """Send one reply (split when long, photo when it has an image); the messages sent."""
        markup = keyboard(reply)
        sent: list[Message] = []
        text = reply.text
        if reply.image_png is not None:
            fits = measure(text, "utf16") <= CAPTION_LIMIT
            photo = self.bot.send_photo(
                chat_id,
                photo=reply.image_png,
                caption=text if fits and text else None,
                reply_markup=markup if fits else None,
            )
            sent.append(await _guard(photo))
            if fits:
                return sent
        pieces = [p for p in split_for(self.channel, text) if p.strip()]
        for i, piece in enumerate(pieces):
            last = i == len(pieces) - 1
            message = self.bot.send_message(chat_id, piece, reply_markup=markup if last else None)
            sent.append(await _guard(message))
        return sent


async def _guard(call: Awaitable[T]) -> T:
    try:
        return await call
    except TelegramError as err:
        error = to_send_error(err)
        log.info("telegram send failed: %s", error)
        raise error from err
