"""The channel contract: what every channel offers the process, and what its sender does.

A channel is a `Part` (web routes, start, stop) that also turns its platform's input into
`Inbound`s and hands the dispatcher its `Sender`s. `bangfu run` builds each configured
channel from the process's `Host` (bot/host.py) and walks them; nothing names a channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from core.types import Channel, Inbound, Reply

if TYPE_CHECKING:
    from aiohttp import web


class SendError(Exception):
    """A send failed. The dispatcher decides from these fields what to do next.

    retry_after: the platform asked us to wait this many seconds (429 / rate limit).
    permanent: retrying will not help (bad request, chat gone); the row is marked failed.
    blocked: the person blocked the bot / left; recorded on their chat account.
    code: the platform's error code ("429", "403", a WeCom errcode, "network"), for metrics.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        blocked: bool = False,
        code: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after
        self.permanent = permanent
        self.blocked = blocked


class Sender(Protocol):
    """Sends replies to one destination kind (a `Channel`)."""

    channel: Channel

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one reply (text, buttons, optional image) or raise SendError."""
        ...


class Part(Protocol):
    """Anything `bangfu run` starts: a channel or a service (scheduler, web console...).

    `routes()` is asked once before the web server starts; `start()` runs after every
    part was built, `stop()` in reverse order at shutdown.
    """

    def routes(self) -> Sequence[web.AbstractRouteDef]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ChannelAdapter(Part, Protocol):
    """A chat platform: translates its input to `Inbound` and sends `Reply`s back."""

    channel: Channel

    def to_inbound(self, raw: Any) -> Inbound | None:
        """The core's view of one platform input, or None when it is nothing for us."""
        ...

    def senders(self) -> Sequence[Sender]:
        """The senders the dispatcher uses for this platform's destinations."""
        ...
