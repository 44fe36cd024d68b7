"""Concurrent updates with per-chat order: different chats never wait for each other, two
updates of one chat are handled one after the other, in the order they arrived.

`PerChatUpdateProcessor` is a PTB `BaseUpdateProcessor`. PTB starts one task per update, in
order, and each enters `do_process_update` in that order (its semaphore is FIFO and is sized
so it never makes anyone wait); the chat's lock (FIFO too) then keeps one chat's updates in
sequence, and a second semaphore bounds how many run at once — taken after the chat's lock,
so one chat's burst holds one running slot, not all of them.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Queued (waiting for their chat) updates are cheap; the bound is on running ones.
MAX_QUEUED = 100_000


def chat_key(update: object) -> str:
    """The conversation an update belongs to: its chat (a button press: the message's chat)."""
    if isinstance(update, Update):
        chat = update.effective_chat
        if chat is not None:
            return f"chat:{chat.id}"
        user = update.effective_user
        if user is not None:
            return f"user:{user.id}"
    return "other"


class ChatLocks:
    """One FIFO lock per conversation key, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    def __call__(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Up to `running` updates at once, one at a time per chat."""

    def __init__(self, running: int = 64) -> None:
        super().__init__(MAX_QUEUED)
        self._running = asyncio.Semaphore(running)
        self._locks = ChatLocks()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        async with self._locks(chat_key(update)), self._running:
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
