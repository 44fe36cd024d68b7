"""The core as channels see it: handle one inbound, and the few questions they may ask.

Channels translate; they never open the database. What a channel needs to know about an
account (is it bound, which language) or to leave for the dispatcher goes through here.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from core.payload import reply_to_payload
from core.types import Channel, Inbound, Reply
from handlers.context import Context
from handlers.core import handle
from storage.chat_locks import DEFAULT_POOL, ConversationLocks
from storage.outbox import NewMessage, enqueue
from storage.people import account_is_bound, account_language


class Core:
    """One process's core: `handle` is the entry point every channel calls."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._conversations: ConversationLocks | None = None
        # Connections for conversation locks (PostgreSQL): updates handled at once, at most.
        self.conversation_pool = DEFAULT_POOL

    def conversation(self, channel: Channel, key: str) -> AbstractAsyncContextManager[None]:
        """Held while one update of the conversation `key` is handled and answered.

        On PostgreSQL an advisory lock, so with several processes on one database one
        conversation is never in two of them at once; on SQLite (one process) it is free.
        """
        if self._conversations is None:
            self._conversations = ConversationLocks(self.ctx.db, self.conversation_pool)
        return self._conversations.hold(f"{channel}:{key}")

    async def close(self) -> None:
        """Release what `conversation` opened."""
        if self._conversations is not None:
            await self._conversations.close()
            self._conversations = None

    async def handle(self, inbound: Inbound) -> list[Reply]:
        """Process one inbound exactly once; the replies to send back."""
        replies: list[Reply] = await handle(self.ctx, inbound)
        return replies

    async def is_bound(self, channel: Channel, account_id: str) -> bool:
        async with self.ctx.db.transaction() as s:
            return await account_is_bound(s, str(channel), account_id)

    async def language_of(self, channel: Channel, account_id: str) -> str | None:
        """The language the account chose (/lang), None when it never chose."""
        async with self.ctx.db.transaction() as s:
            return await account_language(s, str(channel), account_id)

    async def queue_reply(self, channel: Channel, chat_id: str, key: str, reply: Reply) -> None:
        """Leave a reply the channel could not send now for the dispatcher to retry.

        `key` names it uniquely, so queueing it twice sends it once.
        """
        msg = NewMessage(
            dedupe_key=key,
            channel=str(channel),
            chat_id=chat_id,
            kind="reply",
            payload=reply_to_payload(reply),
        )
        async with self.ctx.db.transaction() as s:
            await enqueue(s, [msg], now=self.ctx.clock.now())

    def learn_bot_username(self, username: str) -> None:
        """The Telegram bot's @name, for deep links in invites."""
        if username:
            self.ctx.bot_username = username
