"""The console channel: a terminal chat with the same core the phone channels use.

Buttons are numbered: type the number to press one. A line starting with "/" is a command
("/start CODE", "/help"); anything else is text.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Callable
from functools import partial
from typing import TextIO

from core.types import Button, Channel, Inbound, InboundKind, Reply
from handlers.context import Context
from handlers.core import handle


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


async def chat_loop(
    ctx: Context,
    *,
    account: str = "console",
    first: list[Reply] | None = None,
    read_line: Callable[[], str] | None = None,
    out: TextIO = sys.stdout,
) -> None:
    """Read lines until end of input or /quit, printing the bot's replies."""
    read = read_line or sys.stdin.readline
    buttons: list[Button] = []
    for reply in first or []:
        buttons = render(reply, out) or buttons
    ids = itertools.count(1)
    while True:
        print("\n> ", end="", file=out, flush=True)
        line = await asyncio.to_thread(read)
        if not line or line.strip() in ("/quit", "/exit", "退出"):
            print("再见 / bye", file=out)
            return
        if not line.strip():
            continue
        replies = await handle(ctx, to_inbound(line, buttons, account, f"console-{next(ids)}"))
        for reply in replies:
            buttons = render(reply, out) or buttons
