"""The `Contact` table."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class Contact(Base):
    """A call or a visit: when it happened (occurred_on) and when it was reported."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_household_day", "household_id", "occurred_on"),
        Index("ix_contacts_cadre_day", "cadre_id", "occurred_on"),
        # The contacts ledger's order: an export reads it in order, no sort of a year's rows.
        Index("ix_contacts_day_id", "occurred_on", "id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cadre_id: Mapped[int] = mapped_column(BigId, ForeignKey("cadres.id"))
    household_id: Mapped[int] = mapped_column(BigId, ForeignKey("households.id"))
    kind: Mapped[str] = mapped_column(String(10))  # visit | call | other
    occurred_on: Mapped[date] = mapped_column(Date)
    reported_at: Mapped[datetime]
    help_tags: Mapped[list[Any]] = mapped_column(JSON, default=list)  # 六帮
    summary: Mapped[str] = mapped_column(Text, default="")
    problems_raised: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    photo_refs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    source_channel: Mapped[str] = mapped_column(String(20), default="")
    source_message_id: Mapped[str] = mapped_column(String(100), default="")
    # Set when an administrator entered it on the cadre's behalf ("cli:<user>"); else empty.
    entered_by: Mapped[str] = mapped_column(String(100), default="", server_default="")
    deleted_at: Mapped[datetime | None]  # undone by the cadre
