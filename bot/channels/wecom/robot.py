"""The "wecom_robot" sender: digests to a supervisors' group through its robot webhook.

chat_id is the robot's webhook key — a secret. It appears only in the request URL, never
in a log line or an error message (mask_key shows a safe prefix).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any

import aiohttp

from bot.channels.base import SendError
from bot.channels.wecom.api import WecomError
from bot.channels.wecom.errors import to_send_error
from core.textsplit import split_for
from core.types import Channel, Reply

log = logging.getLogger(__name__)

IMAGE_MAX_BYTES = 2 * 1024 * 1024  # before base64
PER_MINUTE = 20  # WeCom: at most 20 messages a minute per robot
WINDOW = 60.0


def mask_key(key: str) -> str:
    """A webhook key fit for logs and screens: the first 4 characters only."""
    return f"{key[:4]}…" if len(key) > 4 else "…"


def robot_messages(reply: Reply) -> list[dict[str, Any]]:
    """Webhook bodies: the text as markdown pieces under 4,096 bytes, then the image."""
    out: list[dict[str, Any]] = [
        {"msgtype": "markdown", "markdown": {"content": piece}}
        for piece in split_for(Channel.WECOM_ROBOT, reply.text)
        if piece.strip()
    ]
    png = reply.image_png
    if png is not None:
        if len(png) > IMAGE_MAX_BYTES:
            log.warning("wecom robot: image of %d bytes over the 2 MB limit, not sent", len(png))
        else:
            image = {
                "base64": base64.b64encode(png).decode("ascii"),
                "md5": hashlib.md5(png).hexdigest(),
            }
            out.append({"msgtype": "image", "image": image})
    return out


class RobotSender:
    """Implements bot.channels.base.Sender for channel "wecom_robot"."""

    channel = Channel.WECOM_ROBOT

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        base_url: str,
        per_minute: int = PER_MINUTE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.per_minute = per_minute
        self._now = monotonic
        self._sent: dict[str, deque[float]] = defaultdict(deque)  # when each message ended
        self._inflight: dict[str, int] = defaultdict(int)

    def slots(self, reply: Reply) -> int:
        """How many robot messages the reply makes: each counts against the minute."""
        return len(robot_messages(reply))

    def _reserve(self, key: str, n: int) -> None:
        """Take n slots of the robot's minute, or raise with how long to wait for them.

        A slot is freed a minute after its message's request ENDED: WeCom counts arrivals,
        somewhere between our start and our end.
        """
        if n > self.per_minute:
            raise SendError(
                f"reply needs {n} robot messages; limit {self.per_minute}/min",
                permanent=True,
                code="too_many_parts",
            )
        now = self._now()
        window = self._sent[key]
        while window and window[0] <= now - WINDOW:
            window.popleft()
        overflow = self._inflight[key] + len(window) + n - self.per_minute
        if overflow > 0:
            wait = window[overflow - 1] + WINDOW - now if overflow <= len(window) else WINDOW
            raise SendError("wecom robot rate limit", retry_after=wait, code="local_rate_limit")
        self._inflight[key] += n

    async def _post(self, key: str, body: dict[str, Any]) -> None:
        url = f"{self.base_url}/cgi-bin/webhook/send"
        try:
            async with self.session.post(url, params={"key": key}, json=body) as resp:
                if resp.status != 200:
                    raise WecomError(None, f"HTTP {resp.status}", status=resp.status)
                data = json.loads(await resp.read())
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise WecomError(None, type(exc).__name__) from None  # the URL holds the key
        code = data.get("errcode", 0) if isinstance(data, dict) else None
        if code != 0:
            raise WecomError(code, "webhook/send refused")

    async def send(self, chat_id: str, reply: Reply) -> None:
        messages = robot_messages(reply)
        self._reserve(chat_id, len(messages))
        left = len(messages)
        try:
            for body in messages:
                try:
                    await self._post(chat_id, body)
                finally:  # refused or not, the request reached WeCom: it counts
                    left -= 1
                    self._inflight[chat_id] -= 1
                    self._sent[chat_id].append(self._now())
        except WecomError as exc:
            log.warning("wecom robot %s: errcode=%s", mask_key(chat_id), exc.errcode)
            raise to_send_error(exc, robot=True) from None
        finally:
            self._inflight[chat_id] -= left  # messages never posted free their slots
