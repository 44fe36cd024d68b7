"""The console channel: a terminal chat with the same core the phone channels use.

Buttons are numbered: type the number to press one. A line starting with "/" is a command
("/start CODE", "/help"); anything else is text. `bangfu demo` runs it; it is never a part
of `bangfu run`.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import Any, TextIO

from aiohttp import web

from bot.channels.base import Sender
from core.types import Button, Channel, Inbound, InboundKind, Reply

Handle = Callable[[Inbound], Awaitable[list[Reply]]]
QUIT_WORDS = ("/quit", "/exit", "退出")
ACCOUNT = "console"  # the one person at the terminal: account and chat id


def render(reply: Reply, out: TextIO) -> list[Button]:
    """Print one reply; return its buttons in the order they are numbered."""
    print(f"\n🤖 {reply.text}", file=out)
    buttons = [b for row in reply.buttons for b in row]
    for n, button in enumerate(buttons, 1):
        print(f"   [{n}] {button.label}", file=out)
    if reply.image_png:
        print(f"   🖼 ({len(reply.image_png)} bytes image)", file=out)
    return buttons


def to_inbound(line: str, buttons: list[Button], account: str, message_id: str) -> Inbound:
    line = line.strip()
    base = partial(
        Inbound, channel=Channel.CONSOLE, account_id=account, chat_id=account, message_id=message_id
    )
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        return base(kind=InboundKind.BUTTON, data=buttons[int(line) - 1].data)
    if line.startswith("/") and len(line) > 1:
        command, _, rest = line[1:].partition(" ")
        return base(kind=InboundKind.COMMAND, command=command.lower(), text=rest)
    return base(kind=InboundKind.TEXT, text=line)


class ConsoleChannel:
    """Implements bot.channels.base.ChannelAdapter for one person at a terminal."""

    channel = Channel.CONSOLE

    def __init__(self, handle: Handle, *, account: str = ACCOUNT, out: TextIO = sys.stdout):
        self.handle = handle
        self.account = account
        self.out = out
        self.buttons: list[Button] = []  # the latest buttons shown, numbered from 1
        self._ids = itertools.count(1)

    def routes(self) -> Sequence[web.AbstractRouteDef]:
        return []

    def senders(self) -> Sequence[Sender]:
        return [self]

    async def start(self) -> None:
        """Nothing to start: `chat()` reads the terminal."""

    async def stop(self) -> None:
        """Nothing to stop."""

    def to_inbound(self, raw: Any) -> Inbound:
        """A typed line; a number presses the button shown with it."""
        message_id = f"console-{next(self._ids)}"
        return to_inbound(str(raw), self.buttons, self.account, message_id)

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Print a reply; its buttons become the numbered ones."""
        self.buttons = render(reply, self.out) or self.buttons

    async def chat(
        self, *, first: list[Reply] | None = None, read_line: Callable[[], str] | None = None
    ) -> None:
        """Read lines until end of input or /quit, printing the bot's replies."""
        read = read_line or sys.stdin.readline
        for reply in first or []:
            await self.send(self.account, reply)
        while True:
            print("\n> ", end="", file=self.out, flush=True)
            line = await asyncio.to_thread(read)
            if not line or line.strip() in QUIT_WORDS:
                print("再见 / bye", file=self.out)
                return
            if not line.strip():
                continue
            for reply in await self.handle(self.to_inbound(line)):
                await self.send(self.account, reply)
