"""Telegram ⇄ core types: Update → Inbound, Reply → Bot API parameters.

Pure translation; no I/O. The sender lives in telegram_send.py, the Application wiring in
telegram_app.py.

Dedupe ids: a message is `m:<chat_id>:<message_id>` (unique for ever within a chat) and a
button press is `cb:<callback_query_id>` (unique per press). Both are what a redelivered
update carries again; update_id alone is not used because Telegram may restart its sequence
at a random number after a week without updates.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from telegram import (
    Chat,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    MessageEntity,
    Update,
    User,
)

from core.types import Channel, Inbound, InboundKind, Reply

# A photo caption holds 1024 UTF-16 code units (a message's text: core.textsplit).
CAPTION_LIMIT = 1024
GROUP_TYPES = (Chat.GROUP, Chat.SUPERGROUP)


def to_inbound(update: Update, bot_username: str = "") -> Inbound | None:
    """The core's view of an update, or None when it is nothing for us (edits, channels…)."""
    if update.callback_query is not None:
        return _from_callback(update)
    msg = update.message
    if msg is None or msg.from_user is None or msg.from_user.is_bot:
        return None
    base = _base(msg.from_user, msg.chat, f"m:{msg.chat.id}:{msg.message_id}", msg.date)
    if msg.text is not None:
        return _from_text(msg, base, bot_username)
    if msg.photo:
        largest = max(msg.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        return replace(
            base, kind=InboundKind.PHOTO, photo_ref=largest.file_id, text=msg.caption or ""
        )
    if msg.voice is not None:  # kept as evidence by its file id, like photos
        return replace(base, kind=InboundKind.VOICE, photo_ref=msg.voice.file_id)
    if msg.location is not None:
        loc = msg.location
        return replace(
            base, kind=InboundKind.LOCATION, latitude=loc.latitude, longitude=loc.longitude
        )
    return base  # sticker, document, video…: UNSUPPORTED


def _base(user: User, chat: Chat, message_id: str, sent_at: datetime | None) -> Inbound:
    """Who, where and which message; the caller fills in kind and content."""
    return Inbound(
        channel=Channel.TELEGRAM,
        account_id=str(user.id),
        chat_id=str(chat.id),
        message_id=message_id,
        kind=InboundKind.UNSUPPORTED,
        is_group=chat.type in GROUP_TYPES,
        chat_title=chat.title or "",
        language=user.language_code or "",
        sent_at=sent_at,
    )


def _from_callback(update: Update) -> Inbound | None:
    query = update.callback_query
    assert query is not None
    message: MaybeInaccessibleMessage | None = query.message
    if message is None or query.data is None:  # inline-mode or game buttons: not ours
        return None
    base = _base(query.from_user, message.chat, f"cb:{query.id}", None)
    return replace(base, kind=InboundKind.BUTTON, data=query.data)


def _from_text(msg: Message, base: Inbound, bot_username: str) -> Inbound | None:
    text = msg.text or ""
    entity = msg.entities[0] if msg.entities else None
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return replace(base, kind=InboundKind.TEXT, text=text)
    head = text[: entity.length]
    name, _, addressee = head[1:].partition("@")
    if addressee and bot_username and addressee.lower() != bot_username.lower():
        return None  # "/help@otherbot" in a group is for another bot
    args = text[entity.length :].strip()
    return replace(base, kind=InboundKind.COMMAND, command=name.lower(), text=args)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The reply's button rows as an inline keyboard (None when it has none)."""
    data = keyboard_json(reply)
    return InlineKeyboardMarkup.de_json(data, None) if data else None


def keyboard_json(reply: Reply) -> dict[str, Any] | None:
    """`keyboard` as the Bot API's JSON, for requests posted without PTB's objects."""
    rows = [
        [{"text": b.label, "callback_data": b.data} for b in row] for row in reply.buttons if row
    ]
    return {"inline_keyboard": rows} if rows else None


def slim_update(data: dict[str, Any]) -> dict[str, Any]:
    """An update's JSON without what bangfu never reads, changed in place (and returned).

    A button press carries the whole pressed message: the card's text, its entities and
    its keyboard, which PTB would build into a `Message` with every button an object on
    every press. bangfu reads of it only which message it is (chat, message id, date: an
    inaccessible message has date 0) and whether it still has a keyboard (to remove it):
    that is what is kept, the keyboard as an empty one.
    """
    query = data.get("callback_query")
    message = query.get("message") if isinstance(query, dict) else None
    if isinstance(message, dict):
        slim = {key: message[key] for key in _PRESSED_KEPT if key in message}
        if message.get("reply_markup") is not None:
            slim["reply_markup"] = {"inline_keyboard": []}
        query["message"] = slim  # type: ignore[index]
    return data


_PRESSED_KEPT = ("message_id", "date", "chat", "message_thread_id", "is_topic_message")
