"""A toy channel that lives only in the tests: JSON over HTTP, replies kept in a list.

It is what a new platform's package looks like: a `plug(host)`, routes, start/stop, its
own translation to `Inbound` and its sender. `bangfu run` learns of it from one setting.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from bot.channels.base import Sender
from bot.host import Host
from core.types import Channel, Inbound, InboundKind, Reply

PATH = "/toy"
# What every built toy channel did, for the test to read (plug builds a new one per run).
BUILT: list[ToyChannel] = []


class ToyChannel:
    """Implements bot.channels.base.ChannelAdapter; speaks as the console destination."""

    channel = Channel.CONSOLE

    def __init__(self, host: Host) -> None:
        self.core = host.core
        self.sent: list[tuple[str, str]] = []  # (chat id, text), by the handler or dispatcher
        self.events: list[str] = []
        self._sent_more = asyncio.Condition()
        self._ids = itertools.count(1)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return [web.post(PATH, self._receive)]

    async def start(self) -> None:
        self.events.append("started")

    async def stop(self) -> None:
        self.events.append("stopped")

    def senders(self) -> Sequence[Sender]:
        return [self]

    def to_inbound(self, raw: Any) -> Inbound | None:
        user, text = str(raw.get("user", "")), str(raw.get("text", ""))
        if not user:
            return None
        command, _, rest = text[1:].partition(" ") if text.startswith("/") else ("", "", text)
        return Inbound(
            channel=self.channel,
            account_id=user,
            chat_id=user,
            message_id=f"toy-{next(self._ids)}",
            kind=InboundKind.COMMAND if command else InboundKind.TEXT,
            command=command,
            text=rest,
        )

    async def send(self, chat_id: str, reply: Reply) -> None:
        async with self._sent_more:
            self.sent.append((chat_id, reply.text))
            self._sent_more.notify_all()

    async def wait_sent(self, chat_id: str, text: str) -> None:
        async with asyncio.timeout(10), self._sent_more:
            await self._sent_more.wait_for(lambda: (chat_id, text) in self.sent)

    async def _receive(self, request: web.Request) -> web.Response:
        inbound = self.to_inbound(await request.json())
        if inbound is None:
            return web.Response(status=400)
        for reply in await self.core.handle(inbound):
            await self.send(inbound.chat_id, reply)
        return web.Response(text="ok")


def plug(host: Host) -> ToyChannel:
    channel = ToyChannel(host)
    BUILT.append(channel)
    return channel
