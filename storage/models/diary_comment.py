"""The `DiaryComment` table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class DiaryComment(Base):
    """A supervisor's comment on a diary entry, also sent to the cadre's chat."""

    __tablename__ = "diary_comments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    diary_id: Mapped[int] = mapped_column(BigId, ForeignKey("diary_entries.id"), index=True)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("web_users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
