"""TelegramSender and TelegramChannel against the fake Bot API, with the real PTB client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.base import SendError
from bot.channels.telegram_app import TelegramChannel, build_application, set_command_menu
from bot.channels.telegram_send import TelegramSender
from core.types import Button, Inbound, InboundKind, Reply
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgUser

USER = TgUser(7001, "赵六")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def sender(tg: FakeTelegram) -> AsyncIterator[TelegramSender]:
    request = HTTPXRequest(read_timeout=0.5)
    async with Bot(tg.token, base_url=tg.base_url, request=request) as bot:
        yield TelegramSender(bot)


async def test_reply_with_buttons(tg: FakeTelegram, sender: TelegramSender) -> None:
    assert sender.channel == "telegram"
    await sender.send(str(USER.id), Reply.with_buttons("哪天？", [[Button("今天", "d:0")]]))
    assert tg.texts(USER.id) == ["哪天？"]
    assert tg.buttons(USER.id) == ["d:0"]


async def test_long_reply_is_split_with_buttons_on_the_last_piece(
    tg: FakeTelegram, sender: TelegramSender
) -> None:
    text = "\n".join(f"第{i}户 " + "情况良好" * 40 for i in range(60))
    await sender.send(str(USER.id), Reply.with_buttons(text, [[Button("好", "ok")]]))
    sent = tg.sent(USER.id)
    assert len(sent) == 3
    assert "\n".join(m["text"] for m in sent) == text
    assert [bool(m.get("reply_markup")) for m in sent] == [False, False, True]


@pytest.mark.parametrize(
    "reply",
    [
        Reply("提醒"),
        Reply.with_buttons("✅ 确认保存？", [[Button("✅ 确认保存", "c:1"), Button("取消", "x")]]),
        Reply.with_buttons("情况良好\n" * 1500, [[Button("好", "ok")]]),
    ],
)
async def test_send_makes_the_requests_send_messages_makes(
    tg: FakeTelegram, sender: TelegramSender, reply: Reply
) -> None:
    """send() keeps Telegram's answer as JSON; Telegram must see exactly the same requests."""
    await sender.send_messages(str(USER.id), reply)
    first = [(c.method, c.params) for c in tg.calls if c.method.startswith("send")]
    tg.calls.clear()
    await sender.send(str(USER.id), reply)
    again = [(c.method, c.params) for c in tg.calls if c.method.startswith("send")]
    assert again == first and first


async def test_image_reply_is_a_photo_with_caption(
    tg: FakeTelegram, sender: TelegramSender
) -> None:
    await sender.send("-500", Reply("本周汇总", image_png=b"\x89PNG chart"))
    (call,) = tg.calls_to("sendPhoto")
    assert b"\x89PNG chart" in call.files.values()
    assert tg.texts(-500) == ["本周汇总"]


@pytest.mark.parametrize(
    ("status", "description", "expect"),
    [
        (429, "Too Many Requests: retry after 7", {"retry_after": 7.0}),
        (400, "Bad Request: chat not found", {"permanent": True}),
        (502, "Bad Gateway", {"permanent": False, "retry_after": None}),
        (500, "Internal Server Error", {"permanent": False}),
    ],
)
async def test_api_failures_become_send_errors(
    tg: FakeTelegram, sender: TelegramSender, status: int, description: str, expect: dict
) -> None:
    tg.fail("sendMessage", status, description, retry_after=7 if status == 429 else None)
    with pytest.raises(SendError) as err:
        await sender.send(str(USER.id), Reply("提醒"))
    for field, value in expect.items():
        assert getattr(err.value, field) == value
    await sender.send(str(USER.id), Reply("提醒"))  # the next try goes through
    assert tg.texts(USER.id) == ["提醒"]


async def test_blocked_user(tg: FakeTelegram, sender: TelegramSender) -> None:
    tg.block(USER.id)
    with pytest.raises(SendError) as err:
        await sender.send(str(USER.id), Reply("提醒"))
    assert err.value.blocked and err.value.permanent


async def test_timeout_is_transient(tg: FakeTelegram, sender: TelegramSender) -> None:
    tg.slow("sendMessage", 2.0)
    with pytest.raises(SendError) as err:
        await sender.send(str(USER.id), Reply("慢"))
    assert not err.value.permanent and err.value.retry_after is None


class Echo:
    """A stand-in for the core: records what it got and answers with one button."""

    def __init__(self, fail: bool = False) -> None:
        self.seen: list[Inbound] = []
        self.fail = fail
        self.in_place = False  # a press's answer takes the pressed message's place

    async def __call__(self, inbound: Inbound) -> list[Reply]:
        self.seen.append(inbound)
        if self.fail:
            raise RuntimeError("database down")
        label = inbound.data or inbound.text or inbound.kind.value
        reply = Reply.with_buttons(f"收到：{label}", [[Button("下一步", f"n{len(self.seen)}")]])
        if self.in_place and inbound.kind == InboundKind.BUTTON:
            return [replace(reply, in_place=True), Reply("另起一条")]
        return [reply]


@pytest.fixture
async def polling(tg: FakeTelegram) -> AsyncIterator[tuple[Echo, TelegramChannel]]:
    app = build_application(tg.token, api_url=tg.base_url)
    echo = Echo()
    channel = TelegramChannel(app, echo)
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        yield echo, channel
        await app.updater.stop()
        await app.stop()


async def test_button_press_is_answered_and_its_keyboard_removed(
    tg: FakeTelegram, polling: tuple[Echo, TelegramChannel]
) -> None:
    echo, _ = polling
    tg.push(tg.updates.text(USER, "你好"))
    await tg.wait_for("sendMessage")
    tg.press(USER, "n1")
    await tg.wait_for("sendMessage", 2)
    await tg.wait_for("editMessageReplyMarkup")  # after the answer: it is on its way
    assert [i.kind for i in echo.seen] == [InboundKind.TEXT, InboundKind.BUTTON]
    assert len(tg.calls_to("answerCallbackQuery")) == 1
    assert tg.texts(USER.id) == ["收到：你好", "收到：n1"]
    assert tg.buttons(USER.id) == ["n2"]  # the pressed one is gone, the new one is there


async def test_an_answer_in_place_edits_the_pressed_message(
    tg: FakeTelegram, polling: tuple[Echo, TelegramChannel]
) -> None:
    echo, _ = polling
    echo.in_place = True
    tg.push(tg.updates.text(USER, "你好"))
    await tg.wait_for("sendMessage")
    tg.press(USER, "n1")
    await tg.wait_for("sendMessage", 2)  # the second answer, after the edit
    [edit] = tg.calls_to("editMessageText")
    assert len(tg.calls_to("answerCallbackQuery")) == 1
    assert tg.calls_to("editMessageReplyMarkup") == []  # the edit replaced the keyboard
    assert tg.texts(USER.id) == ["收到：n1", "另起一条"]  # the first message, edited
    assert tg.buttons(USER.id) == ["n2"]
    assert edit.params["message_id"] == tg.sent(USER.id)[0]["message_id"]


async def test_an_answer_in_place_is_sent_when_the_edit_fails(
    tg: FakeTelegram, polling: tuple[Echo, TelegramChannel]
) -> None:
    echo, _ = polling
    echo.in_place = True
    tg.push(tg.updates.text(USER, "你好"))
    await tg.wait_for("sendMessage")
    tg.fail("editMessageText", 400, "Bad Request: message can't be edited")
    tg.press(USER, "n1")
    await tg.wait_for("sendMessage", 3)
    await tg.wait_for("editMessageReplyMarkup")  # the keyboard removed as without it
    assert tg.texts(USER.id) == ["收到：你好", "收到：n1", "另起一条"]
    assert tg.buttons(USER.id) == ["n2"]


async def test_short_flood_wait_is_waited_out_once(
    tg: FakeTelegram, polling: tuple[Echo, TelegramChannel]
) -> None:
    tg.fail("sendMessage", 429, retry_after=1)
    tg.push(tg.updates.text(USER, "你好"))
    await tg.wait_for("sendMessage")
    refused, sent = tg.calls_to("sendMessage")
    assert (refused.status, sent.status) == (429, 200)
    assert sent.at - refused.at >= 1.0  # Telegram's retry_after was respected
    assert tg.texts(USER.id) == ["收到：你好"]


async def test_long_flood_wait_drops_the_reply(
    tg: FakeTelegram, polling: tuple[Echo, TelegramChannel]
) -> None:
    _, channel = polling
    tg.fail("sendMessage", 429, retry_after=60)
    tg.push(tg.updates.text(USER, "你好"))
    await channel.wait_processed(1)
    assert [c.status for c in tg.calls_to("sendMessage")] == [429]
    assert tg.texts(USER.id) == []


async def test_failure_in_the_core_tells_the_user(tg: FakeTelegram) -> None:
    app = build_application(tg.token, api_url=tg.base_url, polling=False)
    channel = TelegramChannel(app, Echo(fail=True))
    async with app:
        from telegram import Update

        await channel.process(Update.de_json(tg.updates.text(USER, "你好"), app.bot))
    assert tg.texts(USER.id) == ["抱歉，出了点问题，请稍后再试。刚才的内容没有保存。"]


async def test_command_menu_in_chinese_and_english(tg: FakeTelegram) -> None:
    app = build_application(tg.token, api_url=tg.base_url, polling=False)
    async with app:
        await set_command_menu(app)
    for scope in ("all_private_chats", "all_group_chats"):
        zh, en = tg.commands[(scope, "")], tg.commands[(scope, "en")]
        assert [c["command"] for c in zh] == [c["command"] for c in en]
        assert "help" in [c["command"] for c in zh]
        assert any(c["description"] == "帮助" for c in zh)
        assert any(c["description"] == "Help" for c in en)
    private = [c["command"] for c in tg.commands[("all_private_chats", "")]]
    group = [c["command"] for c in tg.commands[("all_group_chats", "")]]
    assert "report" in private and "report" not in group
    assert "digest" in group and "digest" not in private
