"""What the running process hands every part it builds: settings, database, the core."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channels.base import ChannelAdapter, Part, Sender
from bot.config import Settings
from core.types import Channel
from handlers.context import Context
from handlers.gateway import Core
from storage.db import Database


@dataclass
class Host:
    """The process as parts see it. Channels use `core` only; services may use `db`."""

    settings: Settings
    db: Database
    ctx: Context
    core: Core
    # Outbound senders by destination, filled by the channels as they are built.
    senders: dict[Channel, Sender] = field(default_factory=dict)

    def add_channel(self, channel: ChannelAdapter) -> None:
        for sender in channel.senders():
            self.senders[sender.channel] = sender


# How a part is made: None when its settings leave it off.
ChannelPlug = Callable[[Host], ChannelAdapter | None]
ServicePlug = Callable[[Host], Part | None]
