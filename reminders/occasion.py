"""The next 五必访 calendar occasion (a festival or a busy farming season) for digests.

Until reminders/calendar.py (another module's job) is on main this computes the dates with
lunar-python itself; `next_occasion` is the one switch point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lunar_python import Lunar, LunarYear, Solar

from core.policy import FarmingSeason, Festival, Policy


@dataclass(frozen=True)
class Occasion:
    name: str
    day: date
    kind: str  # festival | farming


def _solar_term(year: int, term: str) -> date:
    # A mid-year lunar date's table covers the Gregorian year's terms from 小寒 to 大雪.
    table = Solar.fromYmd(year, 6, 1).getLunar().getJieQiTable()
    s = table[term]
    return date(s.getYear(), s.getMonth(), s.getDay())


def _lunar(year: int, month: int, day: int) -> date:
    s = Lunar.fromYmd(year, month, day).getSolar()
    return date(s.getYear(), s.getMonth(), s.getDay())


def festival_day(f: Festival, lunar_year: int) -> date:
    if f.last_day_of_year:  # 除夕: the 12th month has 29 or 30 days
        return _lunar(lunar_year, 12, LunarYear.fromYear(lunar_year).getMonth(12).getDayCount())
    if f.solar_term is not None:
        return _solar_term(lunar_year, f.solar_term)
    assert f.lunar_month is not None and f.lunar_day is not None
    return _lunar(lunar_year, f.lunar_month, f.lunar_day)


def _season_start(s: FarmingSeason, year: int) -> date:
    return _solar_term(year, s.start_term)


def occasions_around(year: int, policy: Policy) -> list[Occasion]:
    """Festivals and farming-season starts of lunar years year-1 … year+1, sorted."""
    out: list[Occasion] = []
    for y in (year - 1, year, year + 1):
        out += [Occasion(f.name, festival_day(f, y), "festival") for f in policy.festivals]
        out += [Occasion(s.name, _season_start(s, y), "farming") for s in policy.farming_seasons]
    return sorted(out, key=lambda o: (o.day, o.name))


def next_occasion(after: date, policy: Policy) -> Occasion | None:
    """The first occasion on or after `after`."""
    for o in occasions_around(after.year, policy):
        if o.day >= after:
            return o
    return None
