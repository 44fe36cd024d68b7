"""Binding cadres to the WeCom userids the organisation's directory gave for their mobiles."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select

from storage.batch import chunks
from storage.core_db import Executor
from storage.tables import chat_accounts

WECOM = "wecom"  # the app channel's name as stored


async def bind_wecom_users(
    session: Executor, found: dict[int, str], *, now: datetime, language: str
) -> list[tuple[int, str]]:
    """Bind each cadre to their WeCom userid; returns (cadre, userid) already someone else's."""
    taken: dict[str, int] = {}
    for part in chunks(sorted(set(found.values()))):
        rows = await session.execute(
            select(chat_accounts.c.account_id, chat_accounts.c.cadre_id).where(
                chat_accounts.c.channel == WECOM, chat_accounts.c.account_id.in_(part)
            )
        )
        taken.update({a: c for a, c in rows})
    conflicts = [(c, u) for c, u in found.items() if u in taken and taken[u] != c]
    new: list[dict[str, object]] = [
        {
            "channel": WECOM,
            "account_id": u,
            "chat_id": u,  # app messages are one-to-one: the userid is the chat
            "cadre_id": c,
            "language": language,
            "bound_at": now,
        }
        for c, u in found.items()
        if u not in taken
    ]
    for batch in chunks(new):
        await session.execute(insert(chat_accounts), batch)
    return conflicts
