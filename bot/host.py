"""What the running process hands every part it builds: settings, database, the core."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.channels.base import ChannelAdapter, Part, Sender
from bot.config import Settings
from bot.deliver import Deliverer
from bot.ratelimit import RateLimiter
from core.clock import SystemClock
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
    # One rate budget for the process: answers (delivery) and the dispatcher share it.
    limiter: RateLimiter | None = None
    # How channels send answers: paced, retried, queued when they cannot go now.
    delivery: Deliverer | None = None
    # This process's name in the outbox (claims, send history); its dispatcher and its
    # answers share it, since they share one limiter.
    worker: str = field(
        default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
    )

    def __post_init__(self) -> None:
        cfg, clock = self.settings.dispatch, self.ctx.clock
        if self.limiter is None:
            # Pacing is physical: real time, whatever business clock the core is given.
            pace = SystemClock(self.settings.tz)
            self.limiter = RateLimiter(pace, margin_seconds=cfg.margin_seconds)
        if self.delivery is None:
            self.delivery = Deliverer(
                self.db,
                self.senders,
                limiter=self.limiter,
                settings=cfg,
                clock=clock,
                worker=self.worker,
            )

    def add_channel(self, channel: ChannelAdapter) -> None:
        for sender in channel.senders():
            self.senders[sender.channel] = sender


# How a part is made: None when its settings leave it off.
ChannelPlug = Callable[[Host], ChannelAdapter | None]
ServicePlug = Callable[[Host], Part | None]
