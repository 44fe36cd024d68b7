"""The kept scope counts: `UnitBranch`, `HouseholdScope`, `HouseholdBranch`, `CadreMonth`,
`UnitDay`.

Kept by database triggers (migration 0016, SQL in storage/scope_sql.py) on pairings, cadres,
households, units, household_state and contact_months, so in the transaction of every
report, undo, correction, transfer, pairing end, household exit and roster change. A county
root's digest and overview sum a few thousand `unit_days` rows instead of passing over every
pairing; `bangfu doctor` recomputes all four from the records.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models._base import Base, BigId


class UnitBranch(Base):
    """A unit's root and its ancestor one level below the root (itself included)."""

    __tablename__ = "unit_branches"
    __table_args__ = (Index("ix_unit_branches_branch_id", "branch_id"),)
    unit_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    branch_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)


class HouseholdScope(Base):
    """A household with a live pairing: its village, live pairings, and the dates (from
    `household_state`) it is counted under in `unit_days`."""

    __tablename__ = "household_scope"
    __table_args__ = (Index("ix_household_scope_village_id", "village_id"),)
    household_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    village_id: Mapped[int] = mapped_column(BigId)
    pairings: Mapped[int] = mapped_column(Integer)
    last_contact_on: Mapped[date | None] = mapped_column(Date)
    last_visit_on: Mapped[date | None] = mapped_column(Date)


class HouseholdBranch(Base):
    """A root or root's sub-unit whose cadres hold live pairings with a household living
    outside it, and how many."""

    __tablename__ = "household_branches"
    __table_args__ = (Index("ix_household_branches_unit_id", "unit_id"),)
    household_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    unit_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    pairings: Mapped[int] = mapped_column(Integer)


class CadreMonth(Base):
    """An active cadre's live pairings by the month of the pair's last contact
    (1900-01-01: never contacted)."""

    __tablename__ = "cadre_months"
    __table_args__ = (Index("ix_cadre_months_month", "month"),)
    cadre_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    pairs: Mapped[int] = mapped_column(Integer)


class UnitDay(Base):
    """Sums per unit: `src` 0 its own households (a village), 1 households elsewhere paired
    with its cadres; `kind` 'p' live pairings, 'h' households (day 1900-01-01), 'c'
    households by day of last contact, 'v' by month of last visit, 'n' visits by month."""

    __tablename__ = "unit_days"
    unit_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    src: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
