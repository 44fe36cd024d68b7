"""The `household_state` table."""

from __future__ import annotations

from sqlalchemy import Column, Date, Table

from storage.tables._meta import BigId, metadata

# Kept state of one household: the last live duty contact and home visit by any cadre.
#
# The latest dates of the household's `contact_state` rows, kept by database triggers on
# `contact_state` (created by the migration), so in the transaction of every contact
# written, undone, corrected or moved. The digests and the console read one row per
# household instead of grouping every cadre's state; `bangfu doctor` recomputes it from
# the contacts and reports drift.
household_state = Table(
    "household_state",
    metadata,
    Column("household_id", BigId, primary_key=True, autoincrement=False),
    Column("last_contact_on", Date),  # call or visit
    Column("last_visit_on", Date),
)
