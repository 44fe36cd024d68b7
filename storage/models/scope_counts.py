"""`UnitBranch`, `HouseholdScope`, `HouseholdBranch`, `CadreMonth`, `UnitDay`, `CadreScope`: mapped on the Core tables of storage/tables/scope_counts.py."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Mapped

from storage.models._base import Base
from storage.tables.scope_counts import (
    cadre_months,
    cadre_scope,
    household_branches,
    household_scope,
    unit_branches,
    unit_days,
)


class UnitBranch(Base):
    """A unit's root and its ancestor one level below the root (itself included)."""

    __tablename__ = "unit_branches"
    __table__ = unit_branches
    unit_id: Mapped[int]
    branch_id: Mapped[int]


class HouseholdScope(Base):
    """A household with a live pairing: its village, live pairings, and the dates (from
    `household_state`) it is counted under in `unit_days`."""

    __tablename__ = "household_scope"
    __table__ = household_scope
    household_id: Mapped[int]
    village_id: Mapped[int]
    pairings: Mapped[int]
    last_contact_on: Mapped[date | None]
    last_visit_on: Mapped[date | None]


class HouseholdBranch(Base):
    """A root or root's sub-unit whose cadres hold live pairings with a household living
    outside it, and how many."""

    __tablename__ = "household_branches"
    __table__ = household_branches
    household_id: Mapped[int]
    unit_id: Mapped[int]
    pairings: Mapped[int]


class CadreMonth(Base):
    """An active cadre's live pairings by the month of the pair's last contact
    (1900-01-01: never contacted)."""

    __tablename__ = "cadre_months"
    __table__ = cadre_months
    cadre_id: Mapped[int]
    month: Mapped[date]
    pairs: Mapped[int]


class UnitDay(Base):
    """Sums per unit: `src` 0 its own households (a village), 1 households elsewhere paired
    with its cadres; `kind` 'p' live pairings, 'h' households (day 1900-01-01), 'c'
    households by day of last contact, 'v' by month of last visit, 'n' visits by month."""

    __tablename__ = "unit_days"
    __table__ = unit_days
    unit_id: Mapped[int]
    src: Mapped[int]
    kind: Mapped[str]
    day: Mapped[date]
    n: Mapped[int]


class CadreScope(Base):
    """An active cadre with live pairings: how many, the latest month of a pair's last
    contact and the pairs in it, and its chat accounts the bot can reach."""

    __tablename__ = "cadre_scope"
    __table__ = cadre_scope
    cadre_id: Mapped[int]
    pairs: Mapped[int]
    month: Mapped[date]
    in_month: Mapped[int]
    reach: Mapped[int]
