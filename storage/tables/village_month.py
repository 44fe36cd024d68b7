"""The `village_months` table."""

from __future__ import annotations

from sqlalchemy import Column, Date, Integer, Table

from storage.tables._meta import BigId, metadata

# How many of a village's households had a call or visit in a month: the number of its
# `contact_months` rows with a live duty contact (`n` > 0).
#
# Kept by database triggers on `contact_months` (created by the migration), so in the
# transaction of every contact written, undone or moved and of a household's move to
# another village; the console's 12-month trend sums a unit's villages (a few thousand
# rows) instead of counting its households' months. `bangfu doctor` checks it.
village_months = Table(
    "village_months",
    metadata,
    Column("village_id", BigId, primary_key=True, autoincrement=False),
    Column("month", Date, primary_key=True),  # the month's first day
    Column("households", Integer, default=0, nullable=False),
)
