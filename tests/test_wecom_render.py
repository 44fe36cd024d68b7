"""Replies as WeCom messages: byte limits, card pages, button keys."""

from __future__ import annotations

from bot.channels.wecom.render import render_reply
from core.types import Button, Reply


def _cards(reply: Reply) -> list[dict]:
    return [m["template_card"] for m in render_reply(reply) if m["msgtype"] == "template_card"]


def test_six_buttons_fit_one_card_seven_make_two_even_pages():
    six = Reply.with_buttons("选择", [[Button(str(i), f"d{i}") for i in range(6)]])
    seven = Reply.with_buttons("选择", [[Button(str(i), f"d{i}") for i in range(7)]])
    assert [len(c["button_list"]) for c in _cards(six)] == [6]
    assert [len(c["button_list"]) for c in _cards(seven)] == [4, 3]
    assert (
        "main_title" in _cards(seven)[1] and _cards(seven)[1]["main_title"]["desc"] == "第 2/2 页"
    )


def test_button_data_is_the_card_key_and_duplicates_are_dropped():
    reply = Reply.with_buttons(
        "选择", [[Button("甲", "a"), Button("乙", "b")], [Button("甲2", "a")]]
    )
    (card,) = _cards(reply)
    assert [(b["text"], b["key"]) for b in card["button_list"]] == [("甲", "a"), ("乙", "b")]


def test_title_and_subtitle_carry_a_short_prompt():
    reply = Reply.with_buttons("请核对：\n张三 入户走访 2026-11-22", [[Button("确认保存", "ok")]])
    messages = render_reply(reply)
    assert [m["msgtype"] for m in messages] == ["template_card"]
    card = messages[0]["template_card"]
    assert card["main_title"]["title"] == "请核对："
    assert card["sub_title_text"] == "张三 入户走访 2026-11-22"


def test_english_card_texts():
    reply = Reply.with_buttons("x" * 200, [[Button(str(i), f"d{i}") for i in range(7)]])
    messages = render_reply(reply, "en")
    assert messages[0] == {"msgtype": "text", "text": {"content": "x" * 200}}
    assert messages[1]["template_card"]["main_title"] == {
        "title": "Please choose:",
        "desc": "page 1/2",
    }
    assert messages[2]["template_card"]["main_title"]["title"] == "More options"


def test_question_too_long_for_a_title_goes_in_the_subtitle():
    text = "可发送照片或位置作为凭证（已收：照片 0 张，位置 —）。好了点「完成」。"
    (message,) = render_reply(Reply.with_buttons(text, [[Button("完成", "done")]]))
    card = message["template_card"]
    assert card["main_title"]["title"] == "请选择：" and card["sub_title_text"] == text


def test_empty_text_sends_nothing():
    assert render_reply(Reply(text="  ")) == []
