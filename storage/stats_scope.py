"""The scope of a unit's figures: active pairings whose household or cadre is in its subtree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import CTE, Select, exists, func, or_, select

from storage.models import Cadre, Contact, Event, Household, Pairing, Unit

# A call or a home visit fulfils the contact duty (DOMAIN.md); "other" does not.
DUTY_KINDS = ("call", "visit")


@dataclass(frozen=True)
class Window:
    """The days a digest looks at, all inclusive, in the county's calendar."""

    today: date  # "as of": the last day counted
    period_start: date  # the digest's period (last 7 days, or the reviewed month)
    contact_since: date  # start of the current contact-duty period (the month)
    visit_since: date  # start of the current visit-duty period (the quarter)
    period_start_at: datetime  # period_start 00:00 local, aware (for timestamps)
    period_end_at: datetime  # the day after `today` 00:00 local, aware


def in_subtree(path_col: Any, path: str) -> Any:
    """path_col is `path` or below it; substr, not LIKE, so no wildcard escaping is needed."""
    prefix = path + "/"
    return or_(path_col == path, func.substr(path_col, 1, len(prefix)) == prefix)


def scope(path: str, today: date) -> CTE:
    """Active pairings in the subtree: (cadre_id, household_id, village_id, cadre_unit_id)."""
    sub = select(Unit.id).where(in_subtree(Unit.path, path)).scalar_subquery()
    return (
        select(
            Pairing.cadre_id,
            Pairing.household_id,
            Household.village_id,
            Cadre.unit_id.label("cadre_unit_id"),
        )
        .join(Household, Household.id == Pairing.household_id)
        .join(Cadre, Cadre.id == Pairing.cadre_id)
        .where(
            Pairing.active.is_(True),
            Cadre.active.is_(True),
            Pairing.start_date <= today,
            or_(Pairing.end_date.is_(None), Pairing.end_date >= today),
            or_(Household.village_id.in_(sub), Cadre.unit_id.in_(sub)),
        )
        .cte("scope")
    )


def open_events(scope: CTE, today: date) -> Select[Any]:
    """Events in scope with no home visit to the household on or after the event's date."""
    visited = exists().where(
        Contact.household_id == Event.household_id,
        Contact.kind == "visit",
        Contact.deleted_at.is_(None),
        Contact.occurred_on >= Event.occurred_on,
        Contact.occurred_on <= today,
    )
    return select(Event).where(
        Event.deleted_at.is_(None),
        Event.occurred_on <= today,
        Event.household_id.in_(select(scope.c.household_id)),
        ~visited,
    )
