"""Escalation: duties lapsed past the policy's grace, named once in the supervisors' group.

Run with the daily sweep. A lapse is the month's call (or the quarter's visit) still missing
after its period ended, a 五必访 event visit past its deadline, or an appeal past its
deadline. Each lapse is claimed once in `reminder_marks` ("esc:..." keys) in the transaction
that enqueues its group message, so a rerun or a second process adds nothing; each group gets
one message per run listing its new lapses. A cadre on leave is not escalated. Messages go
through the outbox, so quiet hours (not_before) and platform limits hold.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

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
    claim_marks,
    events_without_visit,
    pairings_without_contact,
)
from storage.escalation import GroupRow, cadre_units_and_leave, nearest_groups
from storage.outbox import NewMessage, enqueue

PERIOD_WINDOW = 7  # days after the grace in which a missed period is still raised


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


async def _period_lapses(db: Database, today: date, policy: Policy, kind: str) -> list[Lapse]:
    months, grace, kinds = (
        (policy.contact_every_months, policy.escalation.contact_grace_days, CONTACT_KINDS)
        if kind == "contact"
        else (policy.visit_every_months, policy.escalation.visit_grace_days, VISIT_KINDS)
    )
    start, end = previous_period(today, months)
    late = (today - end).days
    if not grace < late <= grace + PERIOD_WINDOW:
        return []
    async with db.sessions() as session:
        rows = await pairings_without_contact(
            session, today=today, since=start, until=end, kinds=kinds, started_by=start
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


async def _event_lapses(db: Database, today: date, policy: Policy) -> list[Lapse]:
    grace, back = policy.escalation.event_grace_days, policy.escalation.lookback_days
    async with db.sessions() as session:
        rows = await events_without_visit(session, today=today)
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
                "due": _md(r.visit_due_on),
                "days": (today - r.visit_due_on).days,
            },
            since=r.occurred_on,
        )
        for r in rows
        if r.visit_due_on + timedelta(days=grace) < today
        and r.visit_due_on >= today - timedelta(days=back)
    ]


async def _appeal_lapses(db: Database, today: date, policy: Policy) -> list[Lapse]:
    grace, back = policy.escalation.appeal_grace_days, policy.escalation.lookback_days
    async with db.sessions() as session:
        rows = await overdue_appeals(session, today)
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
                "due": _md(a.due_on),
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


def _messages(
    group: GroupRow, lapses: list[Lapse], today: date, policy: Policy, nb: datetime | None
) -> list[NewMessage]:
    shown = lapses[: policy.escalation.max_lines]
    lines = [t("escalate.title", "zh", count=len(lapses))]
    lines += [t(lapse.text, "zh", **lapse.params) for lapse in shown]
    if len(lapses) > len(shown):
        lines.append(t("escalate.more", "zh", count=len(lapses) - len(shown)))
    parts = split_for(Channel(group.channel), "\n".join(lines))
    digest = hashlib.sha1("\n".join(sorted(x.key for x in lapses)).encode()).hexdigest()[:12]
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


async def run_escalation(
    db: Database, at: datetime, policy: Policy, *, tz: tzinfo | None = None
) -> EscalationResult:
    """Claim every new lapse as of the local day of `at` and enqueue its groups' messages."""
    if at.tzinfo is None:
        raise ValueError("run_escalation needs an aware datetime")
    if not policy.escalation.enabled:
        return EscalationResult(0, 0, 0)
    local = at.astimezone(tz or at.tzinfo)
    today = local.date()
    lapses = await _period_lapses(db, today, policy, "contact")
    if policy.visit_every_months != policy.contact_every_months:
        lapses += await _period_lapses(db, today, policy, "visit")
    lapses += await _event_lapses(db, today, policy)
    lapses += await _appeal_lapses(db, today, policy)
    async with db.sessions() as session:
        cadres = await cadre_units_and_leave(session, {x.cadre_id for x in lapses})
    lapses = [x for x in lapses if not _on_leave(x, cadres[x.cadre_id][1], today)]
    units = {cadres[x.cadre_id][0] for x in lapses} | {
        x.extra_unit for x in lapses if x.extra_unit is not None
    }
    async with db.transaction() as session:
        groups = await nearest_groups(session, units)
        claimed = await claim_marks(
            session, [(x.key, x.cadre_id) for x in lapses], stage_on=today, now=at
        )
        per_group: dict[int, tuple[GroupRow, list[Lapse]]] = {}
        for lapse in lapses:
            if lapse.key not in claimed:
                continue
            targets = groups.get(cadres[lapse.cadre_id][0], [])
            if lapse.extra_unit is not None:
                targets = [*targets, *groups.get(lapse.extra_unit, [])]
            for g in targets:
                bucket = per_group.setdefault(g.id, (g, []))[1]
                if lapse not in bucket:
                    bucket.append(lapse)
        nb = quiet_until(local, policy)
        messages = [
            m for g, items in per_group.values() for m in _messages(g, items, today, policy, nb)
        ]
        enqueued = await enqueue(session, messages, now=at)
    return EscalationResult(len(claimed), len(per_group), enqueued)
