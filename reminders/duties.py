"""Duties as of a day: which pairings owe a contact or a visit, and which are reminded today.

Periods are calendar blocks counted from January: `contact_every_months=1` is the calendar
month, `visit_every_months=3` the calendar quarter. All dates are local dates in the
configured zone; the SQL runs once per duty kind over all pairings, or over one range of
cadre ids when the sweep works in chunks (storage.duties).
"""

from __future__ import annotations

import calendar as gregorian
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.daytext import day_label
from core.policy import Policy
from reminders.calendar import FESTIVAL, Occasion, occasions_around
from storage.duties import (
    CONTACT_KINDS,
    VISIT_KINDS,
    CadreRange,
    EventRow,
    PairingRow,
    events_without_visit,
    pairings_without_contact,
)
from storage.occasions import BIRTHDAY, PARTY_DAY, pairings_with_occasion

CONTACT = "contact"  # monthly call or visit
VISIT = "visit"  # quarterly home visit
EVENT = "event"  # 有了困难 / 生老病死 / 出现纠纷
# BIRTHDAY, PARTY_DAY (storage.occasions): 保康's visits to party members


@dataclass(frozen=True, slots=True)
class Duty:
    """One thing a cadre owes one household; `key` names the duty at one reminder stage."""

    kind: str  # CONTACT | VISIT | FESTIVAL | FARMING | EVENT
    key: str
    pairing: PairingRow
    due_on: date  # last day to fulfil it
    label: str = ""  # the occasion's name, or the event's kind

    @property
    def cadre_id(self) -> int:
        return self.pairing.cadre_id

    @property
    def household_id(self) -> int:
        return self.pairing.household_id


def period_bounds(day: date, months: int) -> tuple[date, date]:
    """The first and last day of the `months`-long calendar block containing `day`."""
    first = (day.month - 1) // months * months + 1
    last = min(first + months - 1, 12)
    return date(day.year, first, 1), date(day.year, last, gregorian.monthrange(day.year, last)[1])


def contact_stage(today: date, policy: Policy) -> bool:
    """Monthly contact is reminded on the configured days of the period's last month."""
    _, end = period_bounds(today, policy.contact_every_months)
    return today.month == end.month and today.day in policy.stages.monthly_contact_days


def visit_stage(today: date, policy: Policy) -> bool:
    """Quarterly visit: the 1st of the period's last month, and N days before the period ends."""
    _, end = period_bounds(today, policy.visit_every_months)
    stages = {end - timedelta(days=policy.stages.quarterly_visit_days_before_end)}
    if policy.stages.quarterly_visit_last_month_start:
        stages.add(end.replace(day=1))
    return today in stages


def staged_occasions(today: date, policy: Policy) -> list[Occasion]:
    """Festivals and farming seasons whose reminder stage is `today`."""
    found = []
    for occasion in occasions_around(today, policy):
        before = (
            policy.stages.festival_days_before
            if occasion.kind == FESTIVAL
            else policy.stages.farming_days_before
        )
        if any(occasion.day - timedelta(days=d) == today for d in before):
            found.append(occasion)
    return found


def _key(kind: str, *parts: object) -> str:
    return ":".join([kind, *(str(p)[:40] for p in parts)])


async def _period_duties(
    session: AsyncSession,
    today: date,
    kind: str,
    months: int,
    kinds: tuple[str, ...],
    cadres: CadreRange | None = None,
) -> list[Duty]:
    start, end = period_bounds(today, months)
    rows = await pairings_without_contact(
        session, today=today, since=start, until=end, kinds=kinds, cadres=cadres
    )
    return [Duty(kind, _key(kind, r.pairing_id, today), r, end) for r in rows]


async def _occasion_duties(
    session: AsyncSession, today: date, occasion: Occasion, cadres: CadreRange | None = None
) -> list[Duty]:
    rows = await pairings_without_contact(
        session,
        today=today,
        since=occasion.start,
        until=occasion.end,
        kinds=VISIT_KINDS,
        cadres=cadres,
    )
    key = _key(occasion.kind, occasion.name, today)
    return [
        Duty(occasion.kind, f"{key}:{r.pairing_id}", r, occasion.end, occasion.name) for r in rows
    ]


def _event_duty(row: EventRow, today: date) -> Duty:
    key = _key(EVENT, row.event_id, row.pairing.pairing_id, today)
    return Duty(EVENT, key, row.pairing, row.visit_due_on, row.event_kind)


async def _event_duties(
    session: AsyncSession, today: date, policy: Policy, cadres: CadreRange | None
) -> list[Duty]:
    days = [today - timedelta(days=d) for d in policy.stages.event_days_after]
    if not days:
        return []
    rows = await events_without_visit(session, today=today, occurred_on=days, cadres=cadres)
    return [_event_duty(r, today) for r in rows]


async def _personal_duties(
    session: AsyncSession, today: date, policy: Policy, cadres: CadreRange | None
) -> list[Duty]:
    """保康: a party member's birthday and 入党纪念日, reminded `days_before` ahead."""
    occ = policy.occasions
    out: list[Duty] = []
    for kind, enabled in ((BIRTHDAY, occ.birthday), (PARTY_DAY, occ.party_anniversary)):
        if not enabled:
            continue
        for ahead in occ.days_before:
            day = today + timedelta(days=ahead)
            due = day + timedelta(days=occ.window_after)
            rows = await pairings_with_occasion(
                session,
                today=today,
                kind=kind,
                on=day,
                members_only=occ.birthday_party_members_only,
                since=day - timedelta(days=max(occ.days_before)),
                until=due,
                cadres=cadres,
            )
            key = _key(kind, day, today)
            label = day_label(day)  # one day form everywhere: 11月27日（周五）
            out += [Duty(kind, f"{key}:{r.pairing_id}", r, due, label) for r in rows]
    return out


async def staged_duties(
    session: AsyncSession, today: date, policy: Policy, cadres: CadreRange | None = None
) -> list[Duty]:
    """Every open duty whose reminder stage falls on `today`, over all live pairings.

    `cadres` limits it to the pairings of one range of cadre ids (one chunk of a sweep).
    """
    duties: list[Duty] = []
    if contact_stage(today, policy):
        duties += await _period_duties(
            session, today, CONTACT, policy.contact_every_months, CONTACT_KINDS, cadres
        )
    if visit_stage(today, policy):
        duties += await _period_duties(
            session, today, VISIT, policy.visit_every_months, VISIT_KINDS, cadres
        )
    for occasion in staged_occasions(today, policy):
        duties += await _occasion_duties(session, today, occasion, cadres)
    duties += await _event_duties(session, today, policy, cadres)
    duties += await _personal_duties(session, today, policy, cadres)
    return duties


async def open_duties(session: AsyncSession, today: date, policy: Policy) -> list[Duty]:
    """Every duty still open on `today`, whatever the stage (for "what is due" views)."""
    duties = await _period_duties(
        session, today, CONTACT, policy.contact_every_months, CONTACT_KINDS
    )
    duties += await _period_duties(session, today, VISIT, policy.visit_every_months, VISIT_KINDS)
    for occasion in occasions_around(today, policy):
        if occasion.start <= today <= occasion.end:
            duties += await _occasion_duties(session, today, occasion)
    duties += [_event_duty(r, today) for r in await events_without_visit(session, today=today)]
    return duties
