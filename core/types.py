"""The channel-neutral message types every adapter translates to and from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    """Every destination a message can have; the value is what the database stores."""

    TELEGRAM = "telegram"
    WECOM = "wecom"  # a member, through the self-built app
    WECOM_ROBOT = "wecom_robot"  # a supervisors' group, through its robot webhook
    CONSOLE = "console"


class InboundKind(StrEnum):
    TEXT = "text"
    COMMAND = "command"  # "/start CODE": command="start", text="CODE"
    BUTTON = "button"  # a pressed inline button / card button: data in `data`
    PHOTO = "photo"  # photo_ref holds the platform's file id / media id
    LOCATION = "location"
    VOICE = "voice"  # a voice message: photo_ref holds its file id / media reference
    UNSUPPORTED = "unsupported"  # sticker, file, video, anything we do not understand


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a person sent us, whatever the channel."""

    channel: Channel
    account_id: str  # who sent it (Telegram user id, WeCom userid)
    chat_id: str  # where to answer (private chat or group)
    message_id: str  # unique per channel, for exactly-once processing
    kind: InboundKind
    text: str = ""
    command: str = ""
    data: str = ""
    photo_ref: str = ""  # a photo's or a voice message's file id / media reference
    latitude: float | None = None
    longitude: float | None = None
    is_group: bool = False
    chat_title: str = ""
    language: str = ""  # the client's language hint, e.g. "zh-hans" or "en"
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to send back. `buttons` is a list of rows.

    `in_place`: the first answer to a button press may take the place of the message whose
    button was pressed (the confirmation card becomes the 已保存 answer). A channel that
    can edit a sent message edits it; one that cannot sends the answer as a new message.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    image_png: bytes | None = field(default=None, repr=False)
    in_place: bool = False

    @staticmethod
    def with_buttons(text: str, rows: list[list[Button]]) -> Reply:
        return Reply(text=text, buttons=tuple(tuple(r) for r in rows if r))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A reply addressed to a chat, as the dispatcher and adapters send it."""

    channel: Channel
    chat_id: str
    reply: Reply
