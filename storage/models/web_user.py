"""`WebUser`: mapped on the Core table `web_users` (storage/tables/web_user.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.web_user import web_users


class WebUser(Base):
    """An office account of the web console; sees only its unit's subtree."""

    __tablename__ = "web_users"
    __table__ = web_users
    id: Mapped[int]
    name: Mapped[str]
    unit_id: Mapped[int]
    role: Mapped[str]
    password_hash: Mapped[str]
    active: Mapped[bool]
    created_at: Mapped[datetime]
