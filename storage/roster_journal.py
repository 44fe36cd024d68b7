"""The journal of a chunked roster import: what it wrote, so a failure can take it all back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, update

from storage.batch import chunks
from storage.db import Database

Commit = Callable[[], Awaitable[None]]


@dataclass
class Journal:
    """What a chunked import wrote, so that a failure later on can take all of it back.

    A real import commits after every batch (a short write transaction, so a live bot
    keeps answering); the journal holds the ids it created and the old values of the rows
    it changed, and `undo` restores them: a failed import leaves nothing applied.
    """

    created: list[tuple[Any, list[int]]] = field(default_factory=list)
    updated: list[tuple[Any, list[dict[str, Any]]]] = field(default_factory=list)
    commit: Commit | None = None

    async def wrote(
        self,
        model: Any,
        *,
        created: Sequence[int] = (),
        old: Sequence[dict[str, Any]] = (),
    ) -> None:
        if created:
            self.created.append((model, list(created)))
        if old:
            self.updated.append((model, list(old)))
        if self.commit is not None:
            await self.commit()

    async def undo(self, db: Database) -> None:
        """Delete what was created (newest first), then put the old values back."""
        for model, ids in reversed(self.created):
            for part in chunks(ids):
                async with db.writer(), db.transaction() as s:
                    await s.execute(delete(model).where(model.id.in_(part)))
        for model, rows in reversed(self.updated):
            for batch in chunks(rows):
                async with db.writer(), db.transaction() as s:
                    await s.execute(update(model), batch)
        self.created, self.updated = [], []


async def _wrote(journal: Journal | None, model: Any, **kw: Any) -> None:
    if journal is not None:
        await journal.wrote(model, **kw)
