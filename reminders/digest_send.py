"""Weekly digests and monthly reviews into the outbox, one per active supervisors' group.

Idempotent: each digest's parts carry dedupe keys `digest:{group}:{iso-week}:{n}` (or
`review:{group}:{yyyy-mm}:{n}`). Part 1 is inserted first in the group's transaction; when it
already exists (an earlier run, or another process that got there first) the group is skipped,
so a digest is never sent twice nor half.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from core.payload import reply_to_payload
from core.policy import Policy
from core.textsplit import TEXT_LIMITS
from core.types import Channel
from reminders.digest import Digest, DigestKind, collect_digest, digest_window, render_digest
from storage.db import Database
from storage.models import SupervisorGroup
from storage.outbox import NewMessage, enqueue
from storage.stats import active_supervisor_groups, outbox_key_exists


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
    cache: dict[int, Digest | None] = {}
    enqueued = 0
    for group in groups:
        base = digest_key(group.id, at, policy, kind)
        async with db.sessions() as session:
            if await outbox_key_exists(session, f"{base}:1"):
                continue  # sent (or being sent) already: skip the work of building it
        if group.unit_id not in cache:
            cache[group.unit_id] = await collect_digest(db, group.unit_id, at, policy, kind)
        digest = cache[group.unit_id]
        if digest is None:
            continue
        messages = _messages(group, digest, base)
        async with db.transaction() as session:
            # Another run may have enqueued part 1 meanwhile; then this one adds nothing.
            if await enqueue(session, messages[:1], now=at) == 0:
                continue
            await enqueue(session, messages[1:], now=at)
        enqueued += 1
    return enqueued
