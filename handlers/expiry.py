"""Idle drafts expire politely: put aside, and the cadre is told and offered to resume."""

from __future__ import annotations

from datetime import datetime

from core.buttons import RESUME
from core.i18n import t
from core.payload import reply_to_payload
from core.policy import Policy
from core.types import Button, Reply
from storage.conversations import expire_idle
from storage.db import Database
from storage.outbox import NewMessage, enqueue


def expired_notice(lang: str, policy: Policy) -> Reply:
    return Reply.with_buttons(
        t("flow.expired", lang, minutes=policy.draft_idle_minutes),
        [[Button(t("flow.resume", lang), RESUME)]],
    )


async def expire_idle_drafts(db: Database, now: datetime, policy: Policy) -> int:
    """Expire every idle draft and queue a notice for its owner; returns how many."""
    async with db.transaction() as session:
        expired = await expire_idle(session, now)
        notices = [
            NewMessage(
                dedupe_key=f"expired:{e.channel}:{e.account_id}:{e.idle_since.isoformat()}",
                channel=e.channel,
                chat_id=e.chat_id,
                kind="notice",
                payload=reply_to_payload(expired_notice(e.language, policy)),
            )
            for e in expired
        ]
        await enqueue(session, notices, now=now)
    return len(expired)
