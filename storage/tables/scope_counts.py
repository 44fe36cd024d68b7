"""The kept scope counts: `UnitBranch`, `HouseholdScope`, `HouseholdBranch`, `CadreMonth`,
`UnitDay`, `CadreScope`.

Kept by database triggers (migration 0016, SQL in storage/scope_sql.py; `cadre_scope`:
migration 0020, storage/cadre_scope_sql.py) on pairings, cadres, households, units,
household_state, contact_months, `cadre_months` and chat_accounts, so in the transaction of every
report, undo, correction, transfer, pairing end, household exit and roster change. A county
root's digest and overview sum a few thousand `unit_days` rows instead of passing over every
pairing; `bangfu doctor` recomputes them all from the records."""

from __future__ import annotations

from sqlalchemy import Column, Date, Index, Integer, String, Table

from storage.tables._meta import BigId, metadata

# A unit's root and its ancestor one level below the root (itself included).
unit_branches = Table(
    "unit_branches",
    metadata,
    Column("unit_id", BigId, primary_key=True, autoincrement=False),
    Column("branch_id", BigId, primary_key=True, autoincrement=False),
    Index("ix_unit_branches_branch_id", "branch_id"),
)


# A household with a live pairing: its village, live pairings, and the dates (from
# `household_state`) it is counted under in `unit_days`.
household_scope = Table(
    "household_scope",
    metadata,
    Column("household_id", BigId, primary_key=True, autoincrement=False),
    Column("village_id", BigId, nullable=False),
    Column("pairings", Integer, nullable=False),
    Column("last_contact_on", Date),
    Column("last_visit_on", Date),
    Index("ix_household_scope_village_id", "village_id"),
)


# A root or root's sub-unit whose cadres hold live pairings with a household living
# outside it, and how many.
household_branches = Table(
    "household_branches",
    metadata,
    Column("household_id", BigId, primary_key=True, autoincrement=False),
    Column("unit_id", BigId, primary_key=True, autoincrement=False),
    Column("pairings", Integer, nullable=False),
    Index("ix_household_branches_unit_id", "unit_id"),
)


# An active cadre's live pairings by the month of the pair's last contact
# (1900-01-01: never contacted).
cadre_months = Table(
    "cadre_months",
    metadata,
    Column("cadre_id", BigId, primary_key=True, autoincrement=False),
    Column("month", Date, primary_key=True),
    Column("pairs", Integer, nullable=False),
    Index("ix_cadre_months_month", "month"),
)


# An active cadre with live pairings (kept from `cadre_months` and `chat_accounts`, migration
# 0020): its live pairings, the latest month of a pair's last contact (1900-01-01: none)
# and how many pairs fall in it, and its chat accounts the bot can reach. The cadres
# behind this month are those with pairs before `month`, or `month` before this month.
cadre_scope = Table(
    "cadre_scope",
    metadata,
    Column("cadre_id", BigId, primary_key=True, autoincrement=False),
    Column("pairs", Integer, nullable=False),
    Column("month", Date, nullable=False),
    Column("in_month", Integer, nullable=False),
    Column("reach", Integer, nullable=False),
    Index("ix_cadre_scope_reach", "reach"),
)

# Sums per unit: `src` 0 its own households (a village), 1 households elsewhere paired
# with its cadres; `kind` 'p' live pairings, 'h' households (day 1900-01-01), 'c'
# households by day of last contact, 'v' by month of last visit, 'n' visits by month.
unit_days = Table(
    "unit_days",
    metadata,
    Column("unit_id", BigId, primary_key=True, autoincrement=False),
    Column("src", Integer, primary_key=True, autoincrement=False),
    Column("kind", String(1), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("n", Integer, nullable=False),
)
