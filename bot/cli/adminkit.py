"""Shared plumbing of the admin commands: bilingual output, clean errors, the database."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

from sqlalchemy.exc import DBAPIError

from bot.config import Settings
from bot.database import open_core_database, open_database
from core.clock import Clock, SystemClock
from core.i18n import t
from storage.core_db import CoreDatabase

if TYPE_CHECKING:
    from storage.db import Database


def both(key: str, /, **params: Any) -> str:
    """Chinese first, then English: 'zh / en' (admins may read either)."""
    zh, en = t(key, "zh", **params), t(key, "en", **params)
    return zh if zh == en else f"{zh} / {en.lstrip()}"


def say(key: str, /, *, file: TextIO | None = None, **params: Any) -> None:
    print(both(key, **params), file=file or sys.stdout, flush=True)


T = TypeVar("T")


def say_first(items: Sequence[T], show: Callable[[T], None], *, limit: int, more: str) -> None:
    """`show` the first `limit` items, then the line `more` saying how many were left out."""
    for item in items[:limit]:
        show(item)
    if len(items) > limit:
        say(more, count=len(items) - limit)


class AdminError(Exception):
    """A clean refusal: the text `key`, exit status 2, no traceback."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def _missing_schema(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def _locked(exc: DBAPIError) -> bool:
    """SQLite's busy timeout ran out: another process holds the write lock."""
    text = str(exc.orig).lower()
    return "database is locked" in text or "database table is locked" in text


def admin_command(
    fn: Callable[[argparse.Namespace], Awaitable[int]],
) -> Callable[[argparse.Namespace], Awaitable[int]]:
    """Turn AdminError and an unmigrated database into a message on stderr and status 2."""

    @functools.wraps(fn)
    async def run(args: argparse.Namespace) -> int:
        try:
            return await fn(args)
        except AdminError as exc:
            say(exc.key, file=sys.stderr, **exc.params)
            return 2
        except DBAPIError as exc:
            if _locked(exc):
                say("admin_cli.db_locked", file=sys.stderr)
                return 2
            if not _missing_schema(exc):
                raise
            say("admin_cli.no_schema", file=sys.stderr)
            return 2

    return run


@asynccontextmanager
async def open_db(settings: Settings) -> AsyncIterator[Database]:
    """The bot's `Database` (ORM sessions), for commands that run the bot's own code."""
    db = open_database(settings)
    try:
        yield db
    finally:
        await db.dispose()


@asynccontextmanager
async def open_core_db(settings: Settings) -> AsyncIterator[CoreDatabase]:
    """Core connections without the ORM (`storage.core_db`), for commands whose storage
    functions take an `Executor`: the ORM is a good part of a command's start."""
    db = open_core_database(settings)
    try:
        yield db
    finally:
        await db.dispose()


def admin_clock(settings: Settings) -> Clock:
    """The clock admin commands stamp their changes with (tests put a fixed one here)."""
    return SystemClock(settings.tz)
