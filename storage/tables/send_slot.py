"""The `send_slots` table."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table

from storage.tables._meta import metadata

# One of a platform-wide budget's `count` slots (e.g. 30 for Telegram's 30/s): a send
# takes the slot free first and holds it for the budget's window from its start, so no
# window holds more sends than slots, whichever process starts them (storage/send_slots.py).
# PostgreSQL only: SQLite serves one process, whose limiter holds the budget alone.
send_slots = Table(
    "send_slots",
    metadata,
    Column("budget", String(64), primary_key=True),  # the rule's key
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("free_at_us", BigInteger, nullable=False),  # microseconds since the epoch
    Index("ix_send_slots_budget_free", "budget", "free_at_us"),
)
