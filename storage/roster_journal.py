"""The journal of a chunked roster import: what it wrote, so a failure can take it all back.

The journal is durable: each batch's entry is written to `roster_journal` in the batch's own
transaction, and the import's last transaction removes them. Entries left in the table mean
an import that did not finish (a failure, Ctrl-C, or a process killed outright); `undo`
takes them back newest first, one entry per short transaction, so it can itself be
interrupted and resumed. One import at a time holds `import_lock` (a file lock beside a
SQLite database, an advisory lock on PostgreSQL); the operating system or the server
releases it when the process dies, so a lock that can be taken with entries left in the
table means those entries belong to a dead import.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import uuid
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, delete, func, insert, select, text

from storage.batch import update_by_id
from storage.core_db import CoreDatabase, Executor, sqlite_path
from storage.tables import cadres, households, pairings, roster_journal, units

if TYPE_CHECKING:
    from sqlalchemy import Table

    from storage.db import Database

Commit = Callable[[], Awaitable[None]]
TABLES: dict[str, Table] = {t.name: t for t in (units, cadres, households, pairings)}


class ImportBusy(Exception):
    """Another real roster import holds the lock on this database."""


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    columns = table.c
    return {
        k: date.fromisoformat(v) if v is not None and isinstance(columns[k].type, Date) else v
        for k, v in row.items()
    }


@dataclass
class Journal:
    """What a chunked import wrote, kept in `roster_journal` beside each batch.

    A real import commits after every batch (a short write transaction, so a live bot
    keeps answering); `wrote` adds the batch's entry in the same transaction, then commits.
    """

    session: Executor | None = None
    commit: Commit | None = None
    import_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    entries: int = 0

    async def wrote(
        self,
        table: Table,
        *,
        created: Sequence[int] = (),
        old: Sequence[dict[str, Any]] = (),
    ) -> None:
        if self.session is None:
            raise RuntimeError("a journal records through the import's session")
        for kind, payload in (("created", list(created)), ("old", [_encode(r) for r in old])):
            if payload:
                await self.session.execute(
                    insert(roster_journal).values(
                        import_id=self.import_id, entity=table.name, kind=kind, payload=payload
                    )
                )
                self.entries += 1
        if self.commit is not None:
            await self.commit()

    async def finish(self) -> None:
        """In the import's last transaction: its batches are now the database's for good."""
        if self.session is not None:
            await self.session.execute(
                delete(roster_journal).where(roster_journal.c.import_id == self.import_id)
            )


async def pending(db: Database | CoreDatabase) -> int:
    """Journal entries of imports that did not finish."""
    async with db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(roster_journal)) or 0)


async def undo(db: Database | CoreDatabase) -> int:
    """Take back every journal entry, newest first; how many. Call with `import_lock` held."""
    done = 0
    while True:
        async with db.writer(), db.transaction() as s:
            last = select(roster_journal).order_by(roster_journal.c.id.desc()).limit(1)
            entry = (await s.execute(last)).first()
            if entry is None:
                return done
            table = TABLES[entry.entity]
            if entry.kind == "created":
                await s.execute(delete(table).where(table.c.id.in_(entry.payload)))
            else:
                await update_by_id(s, table, [_decode(table, r) for r in entry.payload])
            await s.execute(delete(roster_journal).where(roster_journal.c.id == entry.id))
        done += 1


def _pg_key(db: Database | CoreDatabase) -> int:
    return zlib.crc32(f"bangfu.roster_import:{db.schema or ''}".encode())


@contextlib.asynccontextmanager
async def import_lock(db: Database | CoreDatabase) -> AsyncIterator[None]:
    """Held by one real import (or recovery) at a time; `ImportBusy` when another has it."""
    if db.dialect == "sqlite":
        path = sqlite_path(db.url)
        if path is None:  # an in-memory database has one process
            yield
            return
        fd = os.open(path + ".import-lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ImportBusy from None
            yield
        finally:
            os.close(fd)  # releases the lock
        return
    async with db.connect() as conn:
        key = _pg_key(db)
        got = await conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key})
        await conn.commit()
        if not got:
            raise ImportBusy
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
            await conn.commit()


async def recover(db: Database | CoreDatabase) -> int | None:
    """Take back what unfinished imports left; None when an import is running right now."""
    try:
        async with import_lock(db):
            return await undo(db)
    except ImportBusy:
        return None


async def _wrote(journal: Journal | None, table: Table, **kw: Any) -> None:
    if journal is not None:
        await journal.wrote(table, **kw)
