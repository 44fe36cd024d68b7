"""The `contact_state` table."""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Table

from storage.tables._meta import BigId, metadata

# Kept state of one (cadre, household): the last live call, visit and duty contact.
#
# Kept by database triggers on `contacts` (created by the migration), in the transaction of
# every write (report, undo, correction, back-dated entry, deletion), so the reminder sweep
# and the digests read it instead of a year of contacts. A pairing's liveness (transfer, end) is read from
# `pairings`, so those writes need no state. `bangfu doctor` recomputes it and reports drift.
contact_state = Table(
    "contact_state",
    metadata,
    # A household's kept dates whoever made the contact (the digests' coverage and events),
    # and a pair's, read from the index alone.
    Column("cadre_id", BigId, primary_key=True),
    Column("household_id", BigId, primary_key=True),
    Column("last_call_on", Date),
    Column("last_visit_on", Date),
    Column("last_contact_on", Date),  # call or visit
    Index(
        "ix_contact_state_household",
        "household_id",
        "cadre_id",
        "last_contact_on",
        "last_visit_on",
    ),
    # A pair's kept dates by cadre, from the index alone: the sweep reads a range of cadres'
    # (SQLite otherwise looks each row up after its key; migration 0019).
    Index(
        "ix_contact_state_cadre_dates",
        "cadre_id",
        "household_id",
        "last_call_on",
        "last_visit_on",
        "last_contact_on",
    ),
)
