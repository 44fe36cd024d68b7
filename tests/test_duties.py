"""Open duties as of a day, whatever the reminder stage (for "what is due" views)."""

from __future__ import annotations

from datetime import date

from core.policy import Policy
from reminders.duties import open_duties, period_bounds
from tests import factories as f


def test_periods_are_calendar_blocks():
    assert period_bounds(date(2026, 11, 20), 1) == (date(2026, 11, 1), date(2026, 11, 30))
    assert period_bounds(date(2026, 11, 20), 3) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_bounds(date(2028, 2, 3), 3) == (date(2028, 1, 1), date(2028, 3, 31))
    assert period_bounds(date(2026, 12, 5), 5) == (date(2026, 11, 1), date(2026, 12, 31))


async def test_open_duties_of_a_day(db):
    async with db.transaction() as s:
        who = await f.cadre(s)
        called, untouched, visited = [await f.household(s, n) for n in ("打过", "没联系", "走访")]
        for h in (called, untouched, visited):
            await f.pairing(s, who, h)
        await f.contact(s, who, called, "call", date(2026, 9, 2))
        await f.contact(s, who, visited, "visit", date(2026, 9, 20))  # in the 中秋 window
        deleted = await f.contact(s, who, untouched, "visit", date(2026, 9, 21))
        deleted.deleted_at = f.T0  # undone: counts for nothing
        await f.event(s, who, called, "hardship", date(2026, 9, 15), date(2026, 9, 22))
    async with db.sessions() as s:
        duties = await open_duties(s, date(2026, 9, 24), Policy())
    got = {(d.household_id, d.kind, d.label) for d in duties}
    assert got == {
        (untouched.id, "contact", ""),
        (untouched.id, "visit", ""),
        (called.id, "visit", ""),
        (untouched.id, "festival", "中秋"),
        (called.id, "festival", "中秋"),
        (called.id, "event", "hardship"),
        # 秋收 runs from 秋分 (Sep 23): nobody has visited since.
        (called.id, "farming", "秋收"),
        (untouched.id, "farming", "秋收"),
        (visited.id, "farming", "秋收"),
    }
