"""A core Reply as WeCom app messages: text chunks and button cards within WeCom's limits."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from core.i18n import t
from core.textsplit import split_for
from core.types import Button, Channel, Reply

CARD_BUTTONS_MAX = 6  # button_interaction: button_list holds at most 6
CARD_TITLE_MAX = 36  # main_title.title, characters
CARD_SUBTITLE_MAX = 160  # sub_title_text, characters
BUTTON_TEXT_MAX = 20  # WeCom suggests <= 10; longer labels are cut by the client anyway
BUTTON_KEY_MAX_BYTES = 1024

Message = dict[str, Any]


def new_task_id() -> str:
    """A card's task id: unique per app, only letters, digits and _-@, <= 128 bytes."""
    return "bf_" + secrets.token_hex(12)


def _flat_buttons(reply: Reply) -> list[Button]:
    seen: set[str] = set()
    out: list[Button] = []
    for row in reply.buttons:
        for b in row:
            key_ok = 0 < len(b.data.encode("utf-8")) <= BUTTON_KEY_MAX_BYTES
            if key_ok and b.data not in seen:  # card keys must be unique
                seen.add(b.data)
                out.append(b)
    return out


def _card(title: str, subtitle: str, desc: str, buttons: list[Button], task_id: str) -> Message:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": title, **({"desc": desc} if desc else {})},
        "task_id": task_id,
        "button_list": [
            {"text": b.label[:BUTTON_TEXT_MAX], "style": 1, "key": b.data} for b in buttons
        ],
    }
    if subtitle:
        card["sub_title_text"] = subtitle
    return {"msgtype": "template_card", "template_card": card}


def _text_messages(text: str) -> list[Message]:
    return [
        {"msgtype": "text", "text": {"content": piece}}
        for piece in split_for(Channel.WECOM, text)
        if piece.strip()
    ]


def _pages(buttons: list[Button]) -> list[list[Button]]:
    """Split into as few cards as the limit allows, evenly: 8 buttons → 4 + 4, not 6 + 2."""
    count = -(-len(buttons) // CARD_BUTTONS_MAX)
    size = -(-len(buttons) // count)
    return [buttons[i : i + size] for i in range(0, len(buttons), size)]


def render_reply(
    reply: Reply, lang: str = "zh", task_id: Callable[[], str] = new_task_id
) -> list[Message]:
    """The message/send bodies (without touser/agentid) for one reply, in order.

    Buttons become button_interaction cards of at most six buttons, one card per page; the
    text goes in the card (title and subtitle) when it fits, else first as plain text. An image is left to the sender,
    which must upload it.
    """
    buttons = _flat_buttons(reply)
    if not buttons:
        return _text_messages(reply.text)
    head, _, rest = reply.text.strip().partition("\n")
    rest = rest.strip()
    out: list[Message] = []
    if head and len(head) <= CARD_TITLE_MAX and len(rest) <= CARD_SUBTITLE_MAX:
        title, subtitle = head, rest
    elif len(reply.text.strip()) <= CARD_SUBTITLE_MAX:
        title, subtitle = t("wecom.card_choose", lang), reply.text.strip()
    else:
        out.extend(_text_messages(reply.text))
        title, subtitle = t("wecom.card_choose", lang), ""
    pages = _pages(buttons)
    for n, page in enumerate(pages, start=1):
        desc = t("wecom.card_page", lang, page=n, pages=len(pages)) if len(pages) > 1 else ""
        if n == 1:
            out.append(_card(title, subtitle, desc, page, task_id()))
        else:
            out.append(_card(t("wecom.card_more", lang), "", desc, page, task_id()))
    return out
