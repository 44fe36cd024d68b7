"""`DiaryEntry`: mapped on the Core table `diary_entries` (storage/tables/diary_entry.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.diary_entry import diary_entries


class DiaryEntry(Base):
    """民情日记: 所访所做 / 所见所闻 / 所思所想, with 民意 views."""

    __tablename__ = "diary_entries"
    __table__ = diary_entries
    id: Mapped[int]
    cadre_id: Mapped[int]
    household_id: Mapped[int | None]
    written_on: Mapped[date]
    created_at: Mapped[datetime]
    done: Mapped[str]
    seen: Mapped[str]
    thoughts: Mapped[str]
    opinion_topics: Mapped[list[Any]]
    opinion: Mapped[str]
    deleted_at: Mapped[datetime | None]
