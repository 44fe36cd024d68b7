"""Weekly digests and monthly reviews into the outbox, one per active supervisors' group.

Idempotent: each digest's parts carry dedupe keys `digest:{group}:{iso-week}:{n}` (or
`review:{group}:{yyyy-mm}:{n}`). Part 1 is inserted first in the group's transaction; when it
already exists (an earlier run, or another process that got there first) the group is skipped,
so a digest is never sent twice nor half.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from core.i18n import t
from core.payload import reply_to_payload
from core.policy import Policy
from core.textsplit import TEXT_LIMITS, split_for
from core.types import Channel, Reply
from reminders.digest import Digest, DigestKind, collect_digests, digest_window, render_digest
from reminders.score import month_of, unit_scores
from storage.db import Database
from storage.models import SupervisorGroup
from storage.outbox import NewMessage, enqueue
from storage.stats import active_supervisor_groups, outbox_keys_existing, unit_by_id


def digest_key(group_id: int, at: datetime, policy: Policy, kind: DigestKind) -> str:
    """The dedupe key prefix of one group's digest for the week (or reviewed month) of `at`."""
    if kind == "monthly":
        month = digest_window(at, policy, "monthly").today
        return f"review:{group_id}:{month:%Y-%m}"
    year, week, _ = at.date().isocalendar()
    return f"digest:{group_id}:{year}-W{week:02d}"


def _messages(group: SupervisorGroup, d: Digest, base: str) -> list[NewMessage]:
    replies = render_digest(d, "zh", limit=TEXT_LIMITS[Channel(group.channel)])
    return [
        NewMessage(
            dedupe_key=f"{base}:{n}",
            channel=group.channel,
            chat_id=group.chat_id,
            kind="review" if d.kind == "monthly" else "digest",
            payload=reply_to_payload(r),
            group_id=group.id,
        )
        for n, r in enumerate(replies, start=1)
    ]


RANKING_LINES = 30  # the best and the rest counted; the export has everyone


async def ranking_text(db: Database, unit_id: int, at: datetime, policy: Policy) -> str:
    """The reviewed month's 考核 ranking of a unit's cadres ("" when it has none)."""
    month = digest_window(at, policy, "monthly").today
    async with db.sessions() as session:
        unit = await unit_by_id(session, unit_id)
    if unit is None:
        return ""
    period = month_of(month)
    assert at.tzinfo is not None  # enqueue_digests refuses naive times
    scores = await unit_scores(db, unit.path, period, period.until, policy, at.tzinfo)
    if not scores:
        return ""
    lines = [t("score.ranking_title", "zh", period=period.label, unit=unit.name, count=len(scores))]
    for rank, s in enumerate(scores[:RANKING_LINES], start=1):
        lines.append(
            t("score.ranking_line", "zh", rank=rank, name=s.name, score=s.score, grade=s.grade)
        )
    if len(scores) > RANKING_LINES:
        lines.append(t("score.ranking_more", "zh", count=len(scores) - RANKING_LINES))
    return "\n".join(lines)


def _ranking_message(group: SupervisorGroup, text: str, base: str) -> NewMessage:
    part = split_for(Channel(group.channel), text)[0]
    return NewMessage(
        dedupe_key=f"{base}:rank",
        channel=group.channel,
        chat_id=group.chat_id,
        kind="review",
        payload=reply_to_payload(Reply(part)),
        group_id=group.id,
    )


async def enqueue_digests(
    db: Database,
    at: datetime,
    policy: Policy,
    kind: DigestKind = "weekly",
    *,
    tz: tzinfo | None = None,
) -> int:
    """Enqueue the digest of every active group as of `at`; returns how many groups got one.

    `at` must be aware; its own zone gives the local day (and ISO week) unless `tz` is given.
    """
    if at.tzinfo is None:
        raise ValueError("enqueue_digests needs an aware datetime")
    at = at.astimezone(tz or at.tzinfo)
    async with db.sessions() as session:
        groups = await active_supervisor_groups(session)
        bases = [(group, digest_key(group.id, at, policy, kind)) for group in groups]
        # Sent (or being sent) already: skip the work of building it.
        sent = await outbox_keys_existing(session, [f"{base}:1" for _, base in bases])
        pending = [(group, base) for group, base in bases if f"{base}:1" not in sent]
    # Every pending group's figures at once: the groups under one county share its scope.
    unit_ids = list(dict.fromkeys(group.unit_id for group, _ in pending))
    digests: dict[int, Digest] = await collect_digests(db, unit_ids, at, policy, kind)
    ranking: dict[int, str] = {}
    enqueued = 0
    for group, base in pending:
        digest = digests.get(group.unit_id)
        if digest is None:
            continue
        messages = _messages(group, digest, base)
        if kind == "monthly":
            # 考核: the reviewed month's scores of the unit's cadres, ranked.
            if group.unit_id not in ranking:
                ranking[group.unit_id] = await ranking_text(db, group.unit_id, at, policy)
            if ranking[group.unit_id]:
                messages.append(_ranking_message(group, ranking[group.unit_id], base))
        async with db.transaction() as session:
            # Another run may have enqueued part 1 meanwhile; then this one adds nothing.
            if await enqueue(session, messages[:1], now=at) == 0:
                continue
            await enqueue(session, messages[1:], now=at)
        enqueued += 1
    return enqueued
