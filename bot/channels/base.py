"""What every channel's sender offers the dispatcher and the inbound path."""

from __future__ import annotations

from typing import Protocol

from core.types import Reply


class SendError(Exception):
    """A send failed. The dispatcher decides from these fields what to do next.

    retry_after: the platform asked us to wait this many seconds (429 / rate limit).
    permanent: retrying will not help (bad request, chat gone); the row is marked failed.
    blocked: the person blocked the bot / left; recorded on their chat account.
    """

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        blocked: bool = False,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent
        self.blocked = blocked


class Sender(Protocol):
    """Sends replies to one channel ("telegram", "wecom", "wecom_robot")."""

    channel: str

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Deliver one reply (text, buttons, optional image) or raise SendError."""
        ...
