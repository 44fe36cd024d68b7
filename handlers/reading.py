"""How the bot reads one message of a cadre: the one path for the chat and `bangfu parse`."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from core.understand.message import Reading, read
from storage.people import MyHousehold, my_households


async def read_for(
    session: AsyncSession, cadre_id: int, text: str, today: date
) -> tuple[Reading, list[MyHousehold]]:
    """The reading of `text` against this cadre's own households (never anyone else's)."""
    mine = await my_households(session, cadre_id)
    return read(text, [h.head_name for h in mine], today), mine
