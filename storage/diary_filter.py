"""The diary reader's filter, shared by the console's reader and the diary export (so an
export holds what the reader showed); Core columns, no ORM."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Text, cast, or_

from storage.tables import diary_entries


@dataclass(frozen=True)
class DiaryFilter:
    path: str  # the unit whose subtree is read (already checked against the viewer's scope)
    cadre_id: int | None = None
    since: date | None = None
    until: date | None = None
    topic: str = ""
    keyword: str = ""
    before: tuple[date, int] | None = None  # keyset page: entries older than (day, id)


def _like(text: str) -> str:
    """A LIKE pattern matching `text` literally anywhere (wildcards escaped with "\\")."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def diary_filtered(stmt: Any, f: DiaryFilter) -> Any:
    """`stmt` (over diary_entries) narrowed by the filter's cadre, dates, topic and keyword.

    The reader and the diary export both use it, so an export holds what the reader showed.
    """
    if f.cadre_id is not None:
        stmt = stmt.where(diary_entries.c.cadre_id == f.cadre_id)
    if f.since is not None:
        stmt = stmt.where(diary_entries.c.written_on >= f.since)
    if f.until is not None:
        stmt = stmt.where(diary_entries.c.written_on <= f.until)
    if f.topic:
        # JSON lists are stored as text on both databases' JSON type; match the quoted item.
        topics = cast(diary_entries.c.opinion_topics, Text)
        stmt = stmt.where(topics.like(_like(f'"{f.topic}"'), escape="\\"))
    if f.keyword:
        pattern = _like(f.keyword)
        stmt = stmt.where(
            or_(
                *(
                    col.like(pattern, escape="\\")
                    for col in (
                        diary_entries.c.done,
                        diary_entries.c.seen,
                        diary_entries.c.thoughts,
                        diary_entries.c.opinion,
                    )
                )
            )
        )
    return stmt
