"""`DiaryComment`: mapped on the Core table `diary_comments` (storage/tables/diary_comment.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.diary_comment import diary_comments


class DiaryComment(Base):
    """A supervisor's comment on a diary entry, also sent to the cadre's chat."""

    __tablename__ = "diary_comments"
    __table__ = diary_comments
    id: Mapped[int]
    diary_id: Mapped[int]
    user_id: Mapped[int]
    text: Mapped[str]
    created_at: Mapped[datetime]
