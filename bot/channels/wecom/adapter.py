"""Translation between WeCom's messages and the core types, and nothing else."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from core.types import Channel, Inbound, InboundKind

# "绑定 ABCD234567" is how a WeCom user types what a Telegram deep link sends as /start CODE.
_BIND = re.compile(r"^\s*(?:绑定|綁定)\s*[:：]?\s*(\S.*?)\s*$", re.S)
_COMMAND = re.compile(r"^\s*/([A-Za-z_][A-Za-z0-9_]*)(?:\s+(.*?))?\s*$", re.S)


@dataclass(frozen=True, slots=True)
class Translated:
    """One callback message as the core sees it, with what the channel itself needs."""

    inbound: Inbound
    response_code: str = ""  # a card click: the single-use code to disable that card
    only_if_unbound: bool = False  # enter_agent: greet newcomers, stay quiet for members
    media_id: str = ""  # an image: WeCom's id for it, to fetch before the core sees it


def dedupe_key(msg: dict[str, str]) -> str:
    """A stable id: MsgId for messages; for events (no MsgId) sender + time + what it was."""
    if msg.get("MsgId"):
        return msg["MsgId"]
    parts = "|".join(
        msg.get(k, "") for k in ("FromUserName", "CreateTime", "Event", "EventKey", "TaskId")
    )
    # Hashed: the core stores message ids in 120 characters; task ids alone may be 128.
    return "ev:" + hashlib.sha256(parts.encode("utf-8")).hexdigest()[:40]


def _sent_at(msg: dict[str, str]) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(msg.get("CreateTime", "")), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _float(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _text(content: str) -> tuple[InboundKind, str, str]:
    """(kind, command, text) for a text message: commands and 绑定 CODE become COMMAND."""
    if m := _BIND.match(content):
        return InboundKind.COMMAND, "start", m.group(1)
    if m := _COMMAND.match(content):
        return InboundKind.COMMAND, m.group(1).lower(), m.group(2) or ""
    return InboundKind.TEXT, "", content


def to_inbound(msg: dict[str, str]) -> Translated | None:
    """The core's Inbound for a decrypted callback message, or None to ignore it."""
    user = msg.get("FromUserName", "")
    if not user:
        return None
    msg_type = msg.get("MsgType", "")
    base = Inbound(
        channel=Channel.WECOM,
        account_id=user,
        chat_id=user,  # app messages are one-to-one: answer the sender
        message_id=dedupe_key(msg),
        kind=InboundKind.UNSUPPORTED,
        data=msg_type[:20],
        sent_at=_sent_at(msg),
    )
    if msg_type == "text":
        kind, command, text = _text(msg.get("Content", ""))
        return Translated(replace(base, kind=kind, command=command, text=text, data=""))
    if msg_type == "image":
        ref = msg.get("MediaId") or msg.get("PicUrl", "")
        inbound = replace(base, kind=InboundKind.PHOTO, photo_ref=ref, data="")
        return Translated(inbound, media_id=msg.get("MediaId", ""))
    if msg_type == "voice":  # stored in the media directory like a photo, before the core
        inbound = replace(base, kind=InboundKind.VOICE, photo_ref=msg.get("MediaId", ""), data="")
        return Translated(inbound, media_id=msg.get("MediaId", ""))
    if msg_type == "location":
        lat, lon = _float(msg.get("Location_X", "")), _float(msg.get("Location_Y", ""))
        if lat is None or lon is None:
            return None
        place = msg.get("Label", "")
        inbound = replace(
            base, kind=InboundKind.LOCATION, latitude=lat, longitude=lon, text=place, data=""
        )
        return Translated(inbound)
    if msg_type == "event":
        return _event(msg, replace(base, data=""))
    return Translated(base)  # video, file, link, ...: answered as unsupported


def _event(msg: dict[str, str], base: Inbound) -> Translated | None:
    event = msg.get("Event", "").lower()
    key = msg.get("EventKey", "")
    if event == "template_card_event" and key:
        inbound = replace(base, kind=InboundKind.BUTTON, data=key)
        return Translated(inbound, response_code=msg.get("ResponseCode", ""))
    if event == "click" and key.strip("/"):
        # App menu items are configured with a command name as key: help, cancel, ...
        command = key.strip().lstrip("/").lower()
        return Translated(replace(base, kind=InboundKind.COMMAND, command=command))
    if event == "enter_agent":
        inbound = replace(base, kind=InboundKind.COMMAND, command="start")
        return Translated(inbound, only_if_unbound=True)
    return None  # location reports, subscribe, menu views: nothing to answer
