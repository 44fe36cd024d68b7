"""Duties as of a day: which pairings owe a contact or a visit, and which are reminded today.

Periods are calendar blocks counted from January: `contact_every_months=1` is the calendar
month, `visit_every_months=3` the calendar quarter. All dates are local dates in the
configured zone.

The sweep (`staged_duties`) reads each live pairing of a chunk of cadres once, with its kept
contact dates (storage.sweep_rows), and decides every duty kind of the day from that row; the
day's calendar and events are worked out once per sweep (`DayPlan`). `open_duties` and
`staged_duties_per_kind` run one query per duty kind (storage.duties); the latter is the
reference the sweep is tested against.
"""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

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
from storage.sweep_rows import (
    BIRTH_DATE,
    LAST_VISIT,
    PARTY_DATE,
    OnDay,
    Window,
    contacts_between,
    events_on,
    sweep_rows,
)
from storage.sweep_sql import Check

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


@dataclass(frozen=True, slots=True)
class _EventRow:
    id: int
    kind: str
    occurred_on: date
    visit_due_on: date


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What a sweep of `today` looks for, worked out once per sweep: the duties in the order
    `staged_duties` lists them (those before the events, the events, those after), and the
    events of the event stage days by household."""

    today: date
    before: tuple[Check, ...]
    event_days: tuple[date, ...]
    after: tuple[Check, ...]
    events: dict[int, tuple[_EventRow, ...]]

    @property
    def reads_all(self) -> bool:
        """Whether every live pairing must be read (a period, occasion or birthday stage);
        otherwise only the pairings of the households with events."""
        return bool(self.before or self.after)

    @property
    def idle(self) -> bool:
        """Nothing can be due today: no period or occasion stage, no event, no birthday."""
        return not (self.before or self.after or self.events)


def _checks(today: date, policy: Policy) -> tuple[list[Check], list[Check]]:
    before: list[Check] = []
    for kind, months, kinds, staged in (
        (CONTACT, policy.contact_every_months, CONTACT_KINDS, contact_stage(today, policy)),
        (VISIT, policy.visit_every_months, VISIT_KINDS, visit_stage(today, policy)),
    ):
        if staged:
            start, end = period_bounds(today, months)
            before.append(Check(kind, f"{kind}:", f":{today}", Window(kinds, start, end), end))
    for occasion in staged_occasions(today, policy):
        window = Window(VISIT_KINDS, occasion.start, occasion.end)
        prefix = _key(occasion.kind, occasion.name, today) + ":"
        before.append(Check(occasion.kind, prefix, "", window, occasion.end, occasion.name))
    after: list[Check] = []
    occ = policy.occasions
    for kind, column, enabled in (
        (BIRTHDAY, BIRTH_DATE, occ.birthday),
        (PARTY_DAY, PARTY_DATE, occ.party_anniversary),
    ):
        if not enabled:
            continue
        members_only = occ.birthday_party_members_only or kind == PARTY_DAY
        for ahead in occ.days_before:
            day = today + timedelta(days=ahead)
            due = day + timedelta(days=occ.window_after)
            window = Window(VISIT_KINDS, day - timedelta(days=max(occ.days_before)), due)
            on = OnDay(column, day, members_only)
            prefix = _key(kind, day, today) + ":"
            after.append(Check(kind, prefix, "", window, due, day_label(day), on))
    return before, after


async def day_plan(session: AsyncSession, today: date, policy: Policy) -> DayPlan:
    """The sweep's plan for `today`: the calendar's stages and the stage days' events."""
    before, after = _checks(today, policy)
    event_days = tuple(today - timedelta(days=d) for d in policy.stages.event_days_after)
    events: dict[int, list[_EventRow]] = {}
    for r in await events_on(session, event_days, today):
        events.setdefault(r[1], []).append(_EventRow(r[0], r[2], r[3], r[4]))
    return DayPlan(
        today,
        tuple(before),
        event_days,
        tuple(after),
        {h: tuple(items) for h, items in events.items()},
    )


async def _settle(
    session: AsyncSession,
    checks: Sequence[Check],
    unsure: list[tuple[int, int]],
    rows: Sequence[Any],
    cadres: CadreRange | None,
) -> list[tuple[int, int]]:
    """Of the (row, check) pairs whose kept date lies after the window, those with no
    contact in the window either (read from the contacts themselves)."""
    windows = [checks[c].window for _, c in unsure]
    found: dict[tuple[int, int], list[tuple[str, date]]] = {}
    for cadre_id, household_id, kind, day in await contacts_between(
        session,
        kinds={k for w in windows for k in w.kinds},
        since=min(w.since for w in windows),
        until=max(w.until for w in windows),
        cadres=cadres,
    ):
        found.setdefault((cadre_id, household_id), []).append((kind, day))
    due = []
    for i, c in unsure:
        w = checks[c].window
        contacts = found.get((rows[i][1], rows[i][3]), ())
        if not any(k in w.kinds and w.since <= d <= w.until for k, d in contacts):
            due.append((i, c))
    return due


# A duty found by the sweep, before it is a `Duty`: (row index, kind, key, due on, label).
Found = tuple[int, str, str, date, str]


async def staged_rows(
    session: AsyncSession,
    today: date,
    policy: Policy,
    cadres: CadreRange | None = None,
    *,
    plan: DayPlan | None = None,
) -> tuple[Sequence[Any], list[list[Found]]]:
    """The rows of `sweep_rows` and the duties due today found in them, in `staged_duties`'
    order: one list per check before the events, the events, one per check after; each list
    in row order (cadre, pairing). A row's first six fields are a `PairingRow`'s."""
    if plan is None:
        plan = await day_plan(session, today, policy)
    if plan.idle:
        return [], []
    checks = (*plan.before, *plan.after)
    rows = await sweep_rows(
        session,
        today=today,
        duties=[(c.window, c.on) for c in checks],
        event_households=plan.events.keys(),
        event_days=plan.event_days,
        cadres=cadres,
    )
    lasts = [c.window.last for c in checks]
    found: list[list[Found]] = [[] for _ in checks]
    events: list[Found] = []
    unsure: list[tuple[int, int]] = []
    plain = [c.on is None for c in checks]
    for i, r in enumerate(rows):
        for c, check in enumerate(checks):
            if not plain[c] and not check.on.matches(r):  # type: ignore[union-attr]
                continue
            last = r[lasts[c]]
            if last is not None and last >= check.window.since:
                if last > check.window.until:
                    unsure.append((i, c))
                continue
            key = f"{check.prefix}{r[0]}{check.suffix}"
            found[c].append((i, check.kind, key, check.due_on, check.label))
        for e in plan.events.get(r[3], ()):
            visited = r[LAST_VISIT]  # a visit on or after the day: the last one tells
            if visited is None or visited < e.occurred_on:
                key = _key(EVENT, e.id, r[0], today)
                events.append((i, EVENT, key, e.visit_due_on, e.kind))
    if unsure:
        for i, c in await _settle(session, checks, unsure, rows, cadres):
            check = checks[c]
            key = f"{check.prefix}{rows[i][0]}{check.suffix}"
            found[c].append((i, check.kind, key, check.due_on, check.label))
        for items in found:
            items.sort(key=lambda item: item[0])  # back in row order (cadre, pairing)
    n = len(plan.before)
    return rows, [*found[:n], events, *found[n:]]


async def staged_duties(
    session: AsyncSession,
    today: date,
    policy: Policy,
    cadres: CadreRange | None = None,
    *,
    plan: DayPlan | None = None,
) -> list[Duty]:
    """Every open duty whose reminder stage falls on `today`, over all live pairings.

    `cadres` limits it to the pairings of one range of cadre ids (one chunk of a sweep);
    `plan` is the day's plan when the caller made it once for many chunks.
    """
    rows, groups = await staged_rows(session, today, policy, cadres, plan=plan)
    pairings: dict[int, PairingRow] = {}
    duties = []
    for items in groups:
        for i, kind, key, due_on, label in items:
            if i not in pairings:
                pairings[i] = PairingRow(*rows[i][:6])
            duties.append(Duty(kind, key, pairings[i], due_on, label))
    return duties


async def staged_duties_per_kind(
    session: AsyncSession, today: date, policy: Policy, cadres: CadreRange | None = None
) -> list[Duty]:
    """What `staged_duties` returns, found with one query per duty kind (the reference)."""
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
