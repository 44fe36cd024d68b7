"""`SupervisorGroup`: mapped on the Core table `supervisor_groups` (storage/tables/supervisor_group.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.supervisor_group import supervisor_groups


class SupervisorGroup(Base):
    """A chat that receives a unit's digests: a Telegram group or a WeCom group robot.

    For a WeCom robot `chat_id` is the webhook key — a secret: never log it.
    """

    __tablename__ = "supervisor_groups"
    __table__ = supervisor_groups
    id: Mapped[int]
    unit_id: Mapped[int]
    channel: Mapped[str]
    chat_id: Mapped[str]
    title: Mapped[str]
    bound_at: Mapped[datetime]
    active: Mapped[bool]
