"""The `DiaryEntry` table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class DiaryEntry(Base):
    """民情日记: 所访所做 / 所见所闻 / 所思所想, with 民意 views."""

    __tablename__ = "diary_entries"
    __table_args__ = (
        Index("ix_diary_cadre_day", "cadre_id", "written_on"),
        Index("ix_diary_day_id", "written_on", "id"),  # the reader: newest first, keyset pages
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"))
    household_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("households.id"))
    written_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    done: Mapped[str] = mapped_column(Text, default="")  # 所访所做
    seen: Mapped[str] = mapped_column(Text, default="")  # 所见所闻
    thoughts: Mapped[str] = mapped_column(Text, default="")  # 所思所想
    opinion_topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    opinion: Mapped[str] = mapped_column(Text, default="")
    deleted_at: Mapped[datetime | None]
