"""The fake Bot API server answers the real python-telegram-bot client as Telegram would."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_updates import TgChat, TgUser

USER = TgUser(1001, "李四")


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    b = Bot(tg.token, base_url=tg.base_url, base_file_url=tg.base_file_url)
    async with b:
        yield b


async def test_get_me_and_send_message_with_keyboard(tg: FakeTelegram, bot: Bot) -> None:
    assert bot.username == tg.username
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("走访", callback_data="k:visit")]])
    msg = await bot.send_message(USER.id, "选择类型", reply_markup=markup)
    assert msg.text == "选择类型"
    assert tg.texts(USER.id) == ["选择类型"]
    assert tg.buttons(USER.id) == ["k:visit"]
    call = tg.calls_to("sendMessage")[0]
    assert call.params["chat_id"] == USER.id


async def test_get_updates_long_polls_and_honours_offset(tg: FakeTelegram, bot: Bot) -> None:
    first = tg.push(tg.updates.text(USER, "一"))
    got = await bot.get_updates(timeout=1)
    assert [u.update_id for u in got] == [first["update_id"]]
    assert got[0].message is not None and got[0].message.text == "一"

    # A long poll returns as soon as an update arrives.
    async def later() -> None:
        await asyncio.sleep(0.1)
        tg.push(tg.updates.text(USER, "二"))

    task = asyncio.create_task(later())
    got = await bot.get_updates(offset=first["update_id"] + 1, timeout=5)
    await task
    assert [u.message.text for u in got if u.message] == ["二"]
    # Confirmed updates are gone.
    assert await bot.get_updates(offset=got[0].update_id + 1, timeout=0) == ()


async def test_redelivered_update_is_served_again(tg: FakeTelegram, bot: Bot) -> None:
    upd = tg.push(tg.updates.text(USER, "一"))
    await bot.get_updates(timeout=0)
    tg.redeliver(upd)
    again = await bot.get_updates(offset=upd["update_id"] + 1, timeout=0)
    assert [u.update_id for u in again] == [upd["update_id"]]


async def test_press_builds_callback_for_visible_button(tg: FakeTelegram, bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("今天", callback_data="d:0")]])
    sent = await bot.send_message(USER.id, "哪天？", reply_markup=markup)
    tg.press(USER, "d:0")
    (upd,) = await bot.get_updates(timeout=0)
    assert upd.callback_query is not None
    assert upd.callback_query.data == "d:0"
    assert upd.callback_query.message.message_id == sent.message_id  # type: ignore[union-attr]
    assert await bot.answer_callback_query(upd.callback_query.id)
    await bot.edit_message_reply_markup(USER.id, sent.message_id, reply_markup=None)
    assert tg.buttons(USER.id) == []
    with pytest.raises(AssertionError):
        tg.press(USER, "d:0")
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_reply_markup(USER.id, sent.message_id, reply_markup=None)


async def test_update_builders_parse_in_ptb(tg: FakeTelegram, bot: Bot) -> None:
    group = TgChat(-500, "group", "东村帮扶组")
    tg.push(tg.updates.command(USER, "start", "ABC123"))
    tg.push(tg.updates.command(USER, "digest", chat=group, bot_username=tg.username))
    tg.push(tg.updates.photo(USER))
    tg.push(tg.updates.location(USER, 25.1, 102.7))
    tg.push(tg.updates.sticker(USER))
    tg.push(tg.updates.voice(USER))
    got = [u.message for u in await bot.get_updates(timeout=0)]
    assert all(m is not None for m in got)
    start, digest, photo, loc, sticker, voice = got
    assert start.text == "/start ABC123" and start.entities[0].type == "bot_command"  # type: ignore[union-attr]
    assert digest.chat.title == "东村帮扶组" and digest.text == f"/digest@{tg.username}"  # type: ignore[union-attr]
    assert photo.photo[-1].file_id.endswith("medium")  # type: ignore[union-attr]
    assert loc.location.latitude == 25.1  # type: ignore[union-attr]
    assert sticker.sticker is not None and voice.voice is not None  # type: ignore[union-attr]


async def test_send_photo_multipart(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_photo(USER.id, photo=b"\x89PNGdata", caption="周报")
    call = tg.calls_to("sendPhoto")[0]
    assert call.files and next(iter(call.files.values())) == b"\x89PNGdata"
    assert tg.texts(USER.id) == ["周报"]


async def test_faults_map_to_ptb_errors(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as err:
        await bot.send_message(USER.id, "x")
    wait = err.value.retry_after
    assert (wait.total_seconds() if hasattr(wait, "total_seconds") else wait) == 7
    tg.fail("sendMessage", 502, "Bad Gateway")
    with pytest.raises(NetworkError):
        await bot.send_message(USER.id, "x")
    tg.block(USER.id)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(USER.id, "x")
    # Other chats are unaffected; failed calls are recorded with their status.
    await bot.send_message(2002, "ok")
    assert [c.status for c in tg.calls_to("sendMessage")] == [429, 502, 403, 200]


async def test_slow_answer_trips_client_timeout(tg: FakeTelegram) -> None:
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(tg.token, base_url=tg.base_url, request=request) as bot:
        tg.slow("sendMessage", 1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(USER.id, "慢")
        await bot.send_message(USER.id, "快")


async def test_wrong_token_is_unauthorized(tg: FakeTelegram) -> None:
    from telegram.error import InvalidToken

    with pytest.raises(InvalidToken):
        async with Bot("999:wrong", base_url=tg.base_url):
            pass


async def test_telegram_limits_are_enforced(tg: FakeTelegram, bot: Bot) -> None:
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(USER.id, "x", reply_markup=too_long)
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(USER.id, "字" * 4097)
    with pytest.raises(BadRequest, match="empty"):
        await bot.send_message(USER.id, " ")
    assert tg.sent() == []
