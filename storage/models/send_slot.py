"""The `SendSlot` table."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base


class SendSlot(Base):
    """One of a platform-wide budget's `count` slots (e.g. 30 for Telegram's 30/s): a send
    takes the slot free first and holds it for the budget's window from its start, so no
    window holds more sends than slots, whichever process starts them (storage/send_slots.py).
    PostgreSQL only: SQLite serves one process, whose limiter holds the budget alone."""

    __tablename__ = "send_slots"
    __table_args__ = (
        # A send takes the slot free first: the budget's slots in that order.
        Index("ix_send_slots_budget_free", "budget", "free_at_us"),
    )
    budget: Mapped[str] = mapped_column(String(64), primary_key=True)  # the rule's key
    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    free_at_us: Mapped[int] = mapped_column(BigInteger)  # microseconds since the epoch
