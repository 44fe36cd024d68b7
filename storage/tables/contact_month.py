"""The `contact_months` table."""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, Table

from storage.tables._meta import BigId, metadata

# Whether a household had a call or visit in a month: `n` live duty contacts, `visits`
# of them home visits (the digests' visits this quarter).
#
# Kept by database triggers on `contacts` (and on a household's move to another village),
# created by the migration, so every writer keeps it right; the console's 12-month trend
# counts these rows instead of scanning a year of contacts.
contact_months = Table(
    "contact_months",
    metadata,
    Column("household_id", BigId, primary_key=True),
    Column("month", Date, primary_key=True),  # the month's first day
    Column("village_id", BigId, nullable=False),
    Column("n", Integer, default=0, nullable=False),
    Column("visits", Integer, default=0, server_default="0", nullable=False),
    Index("ix_contact_months_village_month", "village_id", "month", "n"),
)
