"""A recording fake channel for flow tests (Errbot's push_message/pop_message idea)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from core.types import Channel, Inbound, InboundKind, Reply
from handlers.context import Context
from handlers.core import handle

_ids = itertools.count(1)


@dataclass
class Chat:
    """One person talking to the bot; each call returns the bot's replies."""

    ctx: Context
    account: str = "1001"
    channel: Channel = Channel.CONSOLE
    group: str = ""
    language: str = "zh"
    log: list[Reply] = field(default_factory=list)

    async def send(
        self, kind: InboundKind, message_id: str | None = None, **kw: object
    ) -> list[Reply]:
        inbound = Inbound(
            channel=self.channel,
            account_id=self.account,
            chat_id=self.group or self.account,
            message_id=message_id or f"m{next(_ids)}",
            kind=kind,
            is_group=bool(self.group),
            language=self.language,
            **kw,  # type: ignore[arg-type]
        )
        replies = await handle(self.ctx, inbound)
        self.log.extend(replies)
        return replies

    async def say(self, text: str, message_id: str | None = None) -> list[Reply]:
        return await self.send(InboundKind.TEXT, message_id, text=text)

    async def command(self, command: str, args: str = "") -> list[Reply]:
        return await self.send(InboundKind.COMMAND, command=command, text=args)

    async def press(self, data: str) -> list[Reply]:
        return await self.send(InboundKind.BUTTON, data=data)

    async def tap(self, label_part: str) -> list[Reply]:
        """Press the button whose label contains `label_part` on the last reply with buttons."""
        for reply in reversed(self.log):
            for row in reply.buttons:
                for button in row:
                    if label_part in button.label:
                        return await self.press(button.data)
            if reply.buttons:
                break
        raise AssertionError(f"no button {label_part!r} in {self.last_text()!r}")

    def confirm_data(self) -> str:
        """The data of the 确认 button on the newest confirmation card."""
        for reply in reversed(self.log):
            for row in reply.buttons:
                for button in row:
                    if button.data.startswith("ok:"):
                        return button.data
        raise AssertionError(f"no confirmation card in {self.last_text()!r}")

    def last_text(self) -> str:
        return self.log[-1].text if self.log else ""

    def labels(self) -> list[str]:
        for reply in reversed(self.log):
            if reply.buttons:
                return [b.label for row in reply.buttons for b in row]
        return []


def texts(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)
