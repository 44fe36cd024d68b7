"""The 五必访 calendar: festival and farming-season occasions of a year (docs/reminders.md).

Lunar festivals come from lunar-python: a positive month number is never a leap month, so a
leap 8th month does not give a second 中秋; 除夕 is the last day of the 12th month (the 29th
in some years). 清明 and farming seasons are keyed to solar terms from lunar-python's table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from lunar_python import Lunar, LunarMonth

from core.policy import FarmingSeason, Festival, Policy

FESTIVAL = "festival"
FARMING = "farming"

# lunar-python names the terms just outside a lunar year's own cycle in pinyin.
_PINYIN_TERMS = {
    "DA_XUE": "大雪",
    "DONG_ZHI": "冬至",
    "XIAO_HAN": "小寒",
    "DA_HAN": "大寒",
    "LI_CHUN": "立春",
    "YU_SHUI": "雨水",
    "JING_ZHE": "惊蛰",
}


@dataclass(frozen=True, slots=True)
class Occasion:
    """One must-visit occasion: its day and the window in which a visit fulfils it."""

    name: str
    kind: str  # FESTIVAL | FARMING
    day: date  # the festival day; for a farming season its first day
    start: date  # window start (inclusive)
    end: date  # window end (inclusive)


@cache
def solar_terms(year: int) -> dict[str, date]:
    """The 24 solar terms of a Gregorian year, by Chinese name."""
    # The lunar year that contains mid-year holds every term of the Gregorian year in its table.
    table = Lunar.fromYmd(year, 6, 1).getJieQiTable()
    out: dict[str, date] = {}
    for key, solar in table.items():
        if solar.getYear() == year:
            out[_PINYIN_TERMS.get(key, key)] = date(year, solar.getMonth(), solar.getDay())
    return out


@cache
def lunar_to_solar(lunar_year: int, month: int, day: int) -> date:
    """A (non-leap) lunar date as a Gregorian date; day 30 in a 29-day month is its last day."""
    day = min(day, LunarMonth.fromYm(lunar_year, month).getDayCount())
    solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def new_years_eve(lunar_year: int) -> date:
    """除夕: the last day of the 12th month of `lunar_year` (falls in the next Gregorian year)."""
    return lunar_to_solar(lunar_year, 12, 30)


def _festival_days(festival: Festival, year: int) -> list[date]:
    if festival.solar_term is not None:
        return [solar_terms(year)[festival.solar_term]]
    days = []
    # Lunar year N runs from Jan/Feb of N into Jan/Feb of N+1: years N-1 and N can hit `year`.
    for lunar_year in (year - 1, year):
        if festival.last_day_of_year:
            day = new_years_eve(lunar_year)
        else:
            assert festival.lunar_month is not None and festival.lunar_day is not None
            day = lunar_to_solar(lunar_year, festival.lunar_month, festival.lunar_day)
        if day.year == year:
            days.append(day)
    return days


def _festival_occasions(festival: Festival, year: int) -> list[Occasion]:
    return [
        Occasion(
            name=festival.name,
            kind=FESTIVAL,
            day=day,
            start=day - timedelta(days=festival.window_before),
            end=day + timedelta(days=festival.window_after),
        )
        for day in _festival_days(festival, year)
    ]


def _season_occasion(season: FarmingSeason, year: int) -> Occasion:
    start = solar_terms(year)[season.start_term]
    end = solar_terms(year)[season.end_term]
    if end < start:  # a season across the new year, e.g. 冬至 to 小寒
        end = solar_terms(year + 1)[season.end_term]
    return Occasion(name=season.name, kind=FARMING, day=start, start=start, end=end)


def occasions_in(year: int, policy: Policy) -> list[Occasion]:
    """Every festival and farming-season occasion whose day falls in `year`, by day."""
    found: list[Occasion] = []
    for festival in policy.festivals:
        found.extend(_festival_occasions(festival, year))
    found.extend(_season_occasion(season, year) for season in policy.farming_seasons)
    return sorted(found, key=lambda o: (o.day, o.kind, o.name))


def next_occasion(after: date, policy: Policy) -> Occasion | None:
    """The first occasion whose day is strictly after `after` (None if the policy has none)."""
    for year in (after.year, after.year + 1):
        for occasion in occasions_in(year, policy):
            if occasion.day > after:
                return occasion
    return None


def occasions_around(day: date, policy: Policy) -> list[Occasion]:
    """Occasions of the years around `day`, for stage look-ups that cross a year boundary."""
    return [
        o for year in (day.year - 1, day.year, day.year + 1) for o in occasions_in(year, policy)
    ]
