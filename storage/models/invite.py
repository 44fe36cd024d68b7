"""`Invite`: mapped on the Core table `invites` (storage/tables/invite.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.invite import invites


class Invite(Base):
    """A one-time enrolment code, stored as a SHA-256 hash."""

    __tablename__ = "invites"
    __table__ = invites
    id: Mapped[int]
    code_hash: Mapped[str]
    kind: Mapped[str]
    cadre_id: Mapped[int | None]
    unit_id: Mapped[int | None]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by: Mapped[str]
