"""Telegram updates become the core's Inbound; replies become Bot API keyboards and pieces."""

from __future__ import annotations

import copy
from typing import Any

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.channels.telegram import keyboard, slim_update, to_inbound
from bot.channels.telegram_send import to_send_error
from core.types import Button, Channel, InboundKind, Reply
from tests.fakes.telegram_updates import TgChat, TgUser, UpdateFactory

BOT = "bangfu_test_bot"
USER = TgUser(42, "王五", language_code="en")
GROUP = TgChat(-100123, "supergroup", "东村帮扶工作群")


def inbound(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    return to_inbound(Update.de_json(data, None), BOT)


def test_text_message() -> None:
    u = UpdateFactory().text(USER, "今天给张三打了电话")
    got = inbound(u)
    assert got is not None
    assert got.channel is Channel.TELEGRAM and got.kind is InboundKind.TEXT
    assert got.text == "今天给张三打了电话"
    assert (got.account_id, got.chat_id, got.language) == ("42", "42", "en")
    assert got.message_id == f"m:42:{u['message']['message_id']}"
    assert not got.is_group and got.sent_at is not None and got.sent_at.tzinfo is not None


def test_redelivered_update_has_the_same_message_id() -> None:
    u = UpdateFactory().text(USER, "一")
    first, again = inbound(u), inbound(dict(u))
    assert first is not None and again is not None
    assert first.message_id == again.message_id


def test_start_deep_link_code() -> None:
    got = inbound(UpdateFactory().command(USER, "start", "K7M2Q9XR4T"))
    assert got is not None and got.kind is InboundKind.COMMAND
    assert (got.command, got.text) == ("start", "K7M2Q9XR4T")


def test_group_command_addressed_to_us() -> None:
    f = UpdateFactory()
    got = inbound(f.command(USER, "Digest", chat=GROUP, bot_username=BOT))
    assert got is not None and got.kind is InboundKind.COMMAND
    assert got.command == "digest" and got.text == ""
    assert got.is_group and got.chat_title == "东村帮扶工作群" and got.chat_id == str(GROUP.id)
    assert inbound(f.command(USER, "bind", "CODE", chat=GROUP)).command == "bind"  # type: ignore[union-attr]


def test_command_for_another_bot_is_ignored() -> None:
    assert (
        inbound(UpdateFactory().command(USER, "help", chat=GROUP, bot_username="otherbot")) is None
    )


def test_button_press() -> None:
    f = UpdateFactory()
    bot_msg = {"message_id": 9, "chat": {"id": 42, "type": "private"}, "date": 1,
               "text": "哪户？", "from": {"id": 1, "is_bot": True, "first_name": "b"}}  # fmt: skip
    u = f.callback(USER, bot_msg, "hh:17")
    got = inbound(u)
    assert got is not None and got.kind is InboundKind.BUTTON
    assert got.data == "hh:17" and got.chat_id == "42" and got.account_id == "42"
    assert got.message_id == f"cb:{u['callback_query']['id']}"


def test_a_press_read_from_its_slimmed_update_is_the_same_press() -> None:
    # The pressed card's text and keyboard are not built into PTB objects: the press, its
    # chat and message, and that the card still has a keyboard (to remove it) stay.
    f = UpdateFactory()
    card = {"message_id": 9, "chat": {"id": -100123, "type": "supergroup", "title": "东村"},
            "date": 1, "text": "确认？", "from": {"id": 1, "is_bot": True, "first_name": "b"},
            "reply_markup": {"inline_keyboard": [[{"text": "✅", "callback_data": "ok"}]]}}  # fmt: skip
    u = f.callback(USER, card, "ok")
    slim = slim_update(copy.deepcopy(u))
    assert inbound(slim) == inbound(u)
    message = Update.de_json(slim, None).effective_message
    assert isinstance(message, Message) and message.text is None
    assert (message.chat.id, message.message_id) == (-100123, 9)
    assert message.reply_markup is not None
    card.pop("reply_markup")
    bare = Update.de_json(slim_update(f.callback(USER, card, "ok")), None).effective_message
    assert isinstance(bare, Message) and bare.reply_markup is None
    gone = f.callback(
        USER, {"message_id": 9, "chat": {"id": 42, "type": "private"}, "date": 0}, "ok"
    )
    old = Update.de_json(slim_update(copy.deepcopy(gone)), None)
    assert old.to_dict() == Update.de_json(gone, None).to_dict()  # nothing to drop
    text = UpdateFactory().text(USER, "今天")
    assert slim_update(copy.deepcopy(text)) == text


def test_photo_takes_the_largest_size_and_caption() -> None:
    got = inbound(UpdateFactory().photo(USER, caption="院子"))
    assert got is not None and got.kind is InboundKind.PHOTO
    assert got.photo_ref.endswith("-large") and got.text == "院子"


def test_location() -> None:
    got = inbound(UpdateFactory().location(USER, 22.27, 109.98))
    assert got is not None and got.kind is InboundKind.LOCATION
    assert (got.latitude, got.longitude) == (22.27, 109.98)


def test_sticker_and_document_are_unsupported() -> None:
    f = UpdateFactory()
    for u in (f.sticker(USER), f.document(USER)):
        got = inbound(u)
        assert got is not None and got.kind is InboundKind.UNSUPPORTED
        assert got.message_id.startswith("m:42:")


def test_voice_is_kept_by_its_file_id() -> None:
    got = inbound(UpdateFactory().voice(USER))
    assert got is not None and got.kind is InboundKind.VOICE
    assert got.photo_ref == "voice1"


def test_edited_message_is_ignored() -> None:
    u = UpdateFactory().text(USER, "x")
    u["edited_message"] = u.pop("message") | {"edit_date": 2}
    assert inbound(u) is None


def test_keyboard_rows() -> None:
    reply = Reply.with_buttons(
        "选", [[Button("今天", "d:0"), Button("昨天", "d:1")], [], [Button("取消", "x")]]
    )
    markup = keyboard(reply)
    assert markup is not None
    assert [[b.callback_data for b in row] for row in markup.inline_keyboard] == [
        ["d:0", "d:1"],
        ["x"],
    ]
    assert keyboard(Reply("无按钮")) is None


def test_errors_map_to_send_errors() -> None:
    wait = to_send_error(RetryAfter(7))
    assert wait.retry_after == 7 and not wait.permanent
    blocked = to_send_error(Forbidden("Forbidden: bot was blocked by the user"))
    assert blocked.blocked and blocked.permanent
    assert to_send_error(BadRequest("Bad Request: chat not found")).permanent
    for transient in (TimedOut(), NetworkError("Bad Gateway")):
        err = to_send_error(transient)
        assert not err.permanent and not err.blocked and err.retry_after is None
