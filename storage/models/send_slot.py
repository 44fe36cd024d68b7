"""`SendSlot`: mapped on the Core table `send_slots` (storage/tables/send_slot.py)."""

from __future__ import annotations

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.send_slot import send_slots


class SendSlot(Base):
    """One of a platform-wide budget's `count` slots (e.g. 30 for Telegram's 30/s): a send
    takes the slot free first and holds it for the budget's window from its start, so no
    window holds more sends than slots, whichever process starts them (storage/send_slots.py).
    PostgreSQL only: SQLite serves one process, whose limiter holds the budget alone."""

    __tablename__ = "send_slots"
    __table__ = send_slots
    budget: Mapped[str]
    slot: Mapped[int]
    free_at_us: Mapped[int]
