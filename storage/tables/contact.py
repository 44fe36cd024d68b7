"""The `contacts` table."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from storage.tables._meta import BigId, Stamp, metadata

# A call or a visit: when it happened (occurred_on) and when it was reported.
# A call or a home visit fulfils the contact duty; "other" does not.
DUTY_KINDS = ("call", "visit")

contacts = Table(
    "contacts",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("cadre_id", BigId, ForeignKey("cadres.id"), nullable=False),
    Column("household_id", BigId, ForeignKey("households.id"), nullable=False),
    Column("kind", String(10), nullable=False),  # visit | call | other
    Column("occurred_on", Date, nullable=False),
    Column("reported_at", Stamp, nullable=False),
    Column("help_tags", JSON, default=list, nullable=False),  # 六帮
    Column("summary", Text, default="", nullable=False),
    Column("problems_raised", Text, default="", nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("photo_refs", JSON, default=list, nullable=False),
    Column("source_channel", String(20), default="", nullable=False),
    Column("source_message_id", String(100), default="", nullable=False),
    # Set when an administrator entered it on the cadre's behalf ("cli:<user>"); else empty.
    Column("entered_by", String(100), default="", server_default="", nullable=False),
    Column("deleted_at", Stamp),  # undone by the cadre
    Index("ix_contacts_household_day", "household_id", "occurred_on"),
    Index("ix_contacts_cadre_day", "cadre_id", "occurred_on"),
    Index("ix_contacts_day_id", "occurred_on", "id"),
)
