"""Escalation: duties lapsed past the policy's grace, named once in the supervisors' group.

Run with the daily sweep. A lapse is the month's call (or the quarter's visit) still missing
after its period ended, a 五必访 event visit past its deadline, or an appeal past its
deadline. Each lapse is claimed once in `reminder_marks` ("esc:..." keys) in the transaction
that enqueues its group message, so a rerun or a second process adds nothing; each group gets
one message per run listing its new lapses. A cadre on leave is not escalated. Messages go
through the outbox, so quiet hours (not_before) and platform limits hold.

Like the reminder sweep, the cadres are taken `CHUNK_CADRES` at a time (keyset ranges of ids):
each chunk's lapses are found, claimed and folded into per-group notes that keep only the
lines a message shows and a count, so memory does not grow with the county. The whole run is
one transaction, so the claims commit with the messages that name them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.daytext import day_label
from core.i18n import t
from core.payload import reply_to_payload
from core.policy import Policy, quiet_until
from core.textsplit import split_for
from core.types import Channel, Reply
from reminders.duties import period_bounds
from storage.appeals import overdue_appeals
from storage.db import Database
from storage.duties import (
    CONTACT_KINDS,
    VISIT_KINDS,
    CadreRange,
    cadre_chunk,
    claim_marks,
    events_without_visit,
    pairings_without_contact,
)
from storage.escalation import GroupRow, cadre_units_and_leave, nearest_groups
from storage.outbox import NewMessage, enqueue

PERIOD_WINDOW = 7  # days after the grace in which a missed period is still raised
CHUNK_CADRES = 2000  # cadres per chunk, as the reminder sweep


@dataclass(frozen=True, slots=True)
class Lapse:
    """One lapsed duty: its once-only key, who, and which units' groups hear of it."""

    key: str
    cadre_id: int
    text: str  # the locale key of its line
    params: dict[str, Any] = field(default_factory=dict)
    extra_unit: int | None = None  # an appeal's handling unit
    # Leave ending on or after this day excuses it (the duty began while the cadre was
    # away); None: only being on leave today does (an appeal waits for the cadre's return).
    since: date | None = None


@dataclass(frozen=True, slots=True)
class EscalationResult:
    lapses: int  # newly claimed
    groups: int  # groups that got a message
    enqueued: int

    def detail(self) -> dict[str, int]:
        return {"lapses": self.lapses, "groups": self.groups, "enqueued": self.enqueued}


def previous_period(today: date, months: int) -> tuple[date, date]:
    start, _ = period_bounds(today, months)
    prev_end = start - timedelta(days=1)
    return period_bounds(prev_end, months)[0], prev_end


def _md(day: date) -> str:
    return f"{day.month}月{day.day}日"


async def _period_lapses(
    session: AsyncSession, today: date, policy: Policy, kind: str, cadres: CadreRange
) -> list[Lapse]:
    months, grace, kinds = (
        (policy.contact_every_months, policy.escalation.contact_grace_days, CONTACT_KINDS)
        if kind == "contact"
        else (policy.visit_every_months, policy.escalation.visit_grace_days, VISIT_KINDS)
    )
    start, end = previous_period(today, months)
    late = (today - end).days
    if not grace < late <= grace + PERIOD_WINDOW:
        return []
    rows = await pairings_without_contact(
        session, today=today, since=start, until=end, kinds=kinds, started_by=start, cadres=cadres
    )
    return [
        Lapse(
            f"esc:{kind}:{r.pairing_id}:{start}",
            r.cadre_id,
            f"escalate.{kind}",
            {
                "cadre": r.cadre_name,
                "household": r.head_name,
                "village": r.village,
                "since": _md(start),
                "until": _md(end),
                "month": start.month,
            },
            since=start,
        )
        for r in rows
    ]


async def _event_lapses(
    session: AsyncSession, today: date, policy: Policy, cadres: CadreRange
) -> list[Lapse]:
    grace, back = policy.escalation.event_grace_days, policy.escalation.lookback_days
    rows = await events_without_visit(session, today=today, cadres=cadres)
    return [
        Lapse(
            f"esc:event:{r.event_id}:{r.pairing.pairing_id}",
            r.pairing.cadre_id,
            "escalate.event",
            {
                "cadre": r.pairing.cadre_name,
                "household": r.pairing.head_name,
                "village": r.pairing.village,
                "kind": t(f"digest.kind.{r.event_kind}"),
                "due": day_label(r.visit_due_on),
                "days": (today - r.visit_due_on).days,
            },
            since=r.occurred_on,
        )
        for r in rows
        if r.visit_due_on + timedelta(days=grace) < today
        and r.visit_due_on >= today - timedelta(days=back)
    ]


async def _appeal_lapses(
    session: AsyncSession, today: date, policy: Policy, cadres: CadreRange
) -> list[Lapse]:
    grace, back = policy.escalation.appeal_grace_days, policy.escalation.lookback_days
    rows = await overdue_appeals(session, today, cadres=cadres)
    return [
        Lapse(
            f"esc:appeal:{a.id}:{a.round}",
            a.cadre_id,
            "escalate.appeal",
            {
                "cadre": a.cadre,
                "household": a.household,
                "category": a.category,
                "description": a.description[:30],
                "handler": a.handler or "—",
                "due": day_label(a.due_on),
                "days": (today - a.due_on).days,
            },
            extra_unit=a.handler_unit_id,
        )
        for a in rows
        if a.due_on is not None
        and a.due_on + timedelta(days=grace) < today
        and a.due_on >= today - timedelta(days=back)
    ]


def _on_leave(lapse: Lapse, leave: date | None, today: date) -> bool:
    return leave is not None and leave >= (lapse.since or today)


@dataclass
class _GroupNote:
    """What one group's message will say: the first lines, how many in all, and a digest."""

    group: GroupRow
    shown: list[Lapse] = field(default_factory=list)
    count: int = 0
    keys: Any = field(default_factory=hashlib.sha1)

    def add(self, lapse: Lapse, max_lines: int) -> None:
        self.count += 1
        self.keys.update(lapse.key.encode() + b"\n")
        if len(self.shown) < max_lines:
            self.shown.append(lapse)


def _messages(
    note: _GroupNote, today: date, policy: Policy, nb: datetime | None
) -> list[NewMessage]:
    group = note.group
    lines = [t("escalate.title", "zh", count=note.count)]
    lines += [t(lapse.text, "zh", **lapse.params) for lapse in note.shown]
    if note.count > len(note.shown):
        lines.append(t("escalate.more", "zh", count=note.count - len(note.shown)))
    parts = split_for(Channel(group.channel), "\n".join(lines))
    digest = note.keys.hexdigest()[:12]
    return [
        NewMessage(
            dedupe_key=f"escalate:{group.id}:{today}:{digest}:{n}",
            channel=group.channel,
            chat_id=group.chat_id,
            kind="escalation",
            payload=reply_to_payload(Reply(part)),
            group_id=group.id,
            not_before=nb,
        )
        for n, part in enumerate(parts, start=1)
    ]


async def _chunk_lapses(
    session: AsyncSession, today: date, policy: Policy, cadres: CadreRange
) -> list[Lapse]:
    lapses = await _period_lapses(session, today, policy, "contact", cadres)
    if policy.visit_every_months != policy.contact_every_months:
        lapses += await _period_lapses(session, today, policy, "visit", cadres)
    lapses += await _event_lapses(session, today, policy, cadres)
    lapses += await _appeal_lapses(session, today, policy, cadres)
    return lapses


async def run_escalation(
    db: Database,
    at: datetime,
    policy: Policy,
    *,
    tz: tzinfo | None = None,
    chunk: int = CHUNK_CADRES,
) -> EscalationResult:
    """Claim every new lapse as of the local day of `at` and enqueue its groups' messages."""
    if at.tzinfo is None:
        raise ValueError("run_escalation needs an aware datetime")
    if not policy.escalation.enabled:
        return EscalationResult(0, 0, 0)
    local = at.astimezone(tz or at.tzinfo)
    today = local.date()
    max_lines = policy.escalation.max_lines
    notes: dict[int, _GroupNote] = {}
    groups: dict[int, list[GroupRow]] = {}  # unit id → its nearest groups (units are few)
    claimed_total = 0
    async with db.transaction() as session:
        after = 0
        while (cadres := await cadre_chunk(session, after=after, size=chunk)) is not None:
            after = cadres[1]
            lapses = await _chunk_lapses(session, today, policy, cadres)
            if not lapses:
                continue
            people = await cadre_units_and_leave(session, {x.cadre_id for x in lapses})
            lapses = [x for x in lapses if not _on_leave(x, people[x.cadre_id][1], today)]
            units = {people[x.cadre_id][0] for x in lapses} | {
                x.extra_unit for x in lapses if x.extra_unit is not None
            }
            new_units = units - groups.keys()
            found = await nearest_groups(session, new_units)
            groups.update({u: found.get(u, []) for u in new_units})
            claimed = await claim_marks(
                session, [(x.key, x.cadre_id) for x in lapses], stage_on=today, now=at
            )
            claimed_total += len(claimed)
            for lapse in lapses:
                if lapse.key not in claimed:
                    continue
                targets = groups[people[lapse.cadre_id][0]]
                if lapse.extra_unit is not None:
                    targets = [*targets, *groups[lapse.extra_unit]]
                for g in {g.id: g for g in targets}.values():
                    notes.setdefault(g.id, _GroupNote(g)).add(lapse, max_lines)
        nb = quiet_until(local, policy)
        messages = [m for note in notes.values() for m in _messages(note, today, policy, nb)]
        enqueued = await enqueue(session, messages, now=at)
    return EscalationResult(claimed_total, len(notes), enqueued)
