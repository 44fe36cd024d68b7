"""Platform-wide send budgets held in PostgreSQL: a send takes its slot before it starts.

A budget of `count` sends per window (Telegram's 30 a second for one bot) is `count` rows
of `send_slots`, each with the moment it is free again. A send takes the slot free first
in one statement: the slot's new free moment is `max(free, now) + hold` (the window plus
the margin) and the send may start at `max(free, now)`. A slot is reused only a window
after its last start, so no window holds more starts than slots, whichever processes
start them; a slot another transaction is taking at that instant is skipped, not waited
for. `now` is a parameter (the caller's injected clock), never the server's time.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

_SEED = text(
    "INSERT INTO send_slots (budget, slot, free_at_us) "
    "SELECT :budget, g, 0 FROM generate_series(0, :count - 1) AS g "
    "ON CONFLICT (budget, slot) DO NOTHING"
)
# MATERIALIZED: the picked slots are locked and limited once (see outbox.claim_due).
_TAKE = text(
    "WITH picked AS MATERIALIZED ("
    " SELECT slot FROM send_slots WHERE budget = :budget AND slot < :count"
    " ORDER BY free_at_us LIMIT :n FOR UPDATE SKIP LOCKED) "
    "UPDATE send_slots AS s SET free_at_us = greatest(s.free_at_us, :now) + :hold "
    "FROM picked WHERE s.budget = :budget AND s.slot = picked.slot "
    "RETURNING s.free_at_us - :hold"
)


async def seed(session: AsyncSession | AsyncConnection, budget: str, count: int) -> None:
    """Make sure the budget has its `count` slots (a raised count adds the missing ones;
    a lowered one leaves the extra rows unused)."""
    await session.execute(_SEED, {"budget": budget, "count": count})


async def take(
    session: AsyncSession | AsyncConnection,
    budget: str,
    *,
    count: int,
    n: int,
    now_us: int,
    hold_us: int,
) -> list[int]:
    """Take up to `n` slots of `budget` for a send about to start; the moments (µs) each
    allows it to start. Fewer than `n` when others are taking the rest at this instant."""
    result = await session.execute(
        _TAKE, {"budget": budget, "count": count, "n": n, "now": now_us, "hold": hold_us}
    )
    return [int(start) for (start,) in result.all()]
