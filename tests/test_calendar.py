"""五必访 calendar against published dates 2020–2035 and an independent lunar table (lunardate)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.policy import FarmingSeason, Festival, Policy
from reminders.calendar import (
    FARMING,
    FESTIVAL,
    new_years_eve,
    next_occasion,
    occasions_in,
    solar_terms,
)

POLICY = Policy()

# Public-holiday dates as published in the State Council calendars and every wall calendar:
# year: (春节 正月初一, 清明, 端午, 中秋). 元宵 is always 14 days after 春节, 除夕 the day before.
PUBLISHED = {
    2020: ("2020-01-25", "2020-04-04", "2020-06-25", "2020-10-01"),
    2021: ("2021-02-12", "2021-04-04", "2021-06-14", "2021-09-21"),
    2022: ("2022-02-01", "2022-04-05", "2022-06-03", "2022-09-10"),
    2023: ("2023-01-22", "2023-04-05", "2023-06-22", "2023-09-29"),
    2024: ("2024-02-10", "2024-04-04", "2024-06-10", "2024-09-17"),
    2025: ("2025-01-29", "2025-04-04", "2025-05-31", "2025-10-06"),
    2026: ("2026-02-17", "2026-04-05", "2026-06-19", "2026-09-25"),
    2027: ("2027-02-06", "2027-04-05", "2027-06-09", "2027-09-15"),
    2028: ("2028-01-26", "2028-04-04", "2028-05-28", "2028-10-03"),
    2029: ("2029-02-13", "2029-04-04", "2029-06-16", "2029-09-22"),
    2030: ("2030-02-03", "2030-04-05", "2030-06-05", "2030-09-12"),
    2031: ("2031-01-23", "2031-04-05", "2031-06-24", "2031-10-01"),
    2032: ("2032-02-11", "2032-04-04", "2032-06-12", "2032-09-19"),
    2033: ("2033-01-31", "2033-04-04", "2033-06-01", "2033-09-08"),
    2034: ("2034-02-19", "2034-04-05", "2034-06-20", "2034-09-27"),
    2035: ("2035-02-08", "2035-04-05", "2035-06-10", "2035-09-16"),
}
# 除夕 on the 29th of the 12th month: no 年三十 in 2022 and in 2025–2029.
EVE_ON_29TH = {2022, 2025, 2026, 2027, 2028, 2029}
EVE_ON_30TH = {2020, 2021, 2023, 2024, 2030}
# Leap months (闰月) of lunar years in range: 2020 闰四月, 2023 闰二月, 2025 闰六月, …
LEAP_MONTHS = {2020: 4, 2023: 2, 2025: 6, 2028: 5, 2031: 3, 2033: 11}


def _days(year: int) -> dict[str, list[date]]:
    out: dict[str, list[date]] = {}
    for o in occasions_in(year, POLICY):
        out.setdefault(o.name, []).append(o.day)
    return out


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_festivals_match_published_dates(year):
    spring, qingming, duanwu, zhongqiu = (date.fromisoformat(d) for d in PUBLISHED[year])
    days = _days(year)
    # The 春节 occasion is anchored on 除夕, the eve of 正月初一.
    assert days["除夕·春节"] == [spring - timedelta(days=1)]
    assert days["元宵"] == [spring + timedelta(days=14)]
    assert days["清明"] == [qingming]
    assert days["端午"] == [duanwu]
    assert days["中秋"] == [zhongqiu]
    assert len(days["重阳"]) == 1


@pytest.mark.parametrize("year", sorted(EVE_ON_29TH | EVE_ON_30TH))
def test_new_years_eve_is_the_last_day_of_the_12th_month(year):
    lunardate = pytest.importorskip("lunardate")
    spring = date.fromisoformat(PUBLISHED[year][0])
    eve = new_years_eve(year - 1)
    assert eve == spring - timedelta(days=1)
    lunar = lunardate.LunarDate.from_solar_date(eve.year, eve.month, eve.day)
    assert (lunar.month, lunar.day) == (12, 29 if year in EVE_ON_29TH else 30)


@pytest.mark.parametrize("year", sorted(LEAP_MONTHS))
def test_leap_month_gives_no_second_festival(year):
    lunardate = pytest.importorskip("lunardate")
    month = LEAP_MONTHS[year]
    # A festival on the leap month's number happens once, in the ordinary month.
    policy = Policy(
        festivals=[Festival(name="闰月节", lunar_month=month, lunar_day=15)], farming_seasons=[]
    )
    found = [o.day for o in occasions_in(year, policy)]
    ordinary = lunardate.LunarDate(year, month, 15, False).to_solar_date()
    leap = lunardate.LunarDate(year, month, 15, True).to_solar_date()
    assert found == [ordinary] and leap not in found
    assert all(len(v) == 1 for v in _days(year).values())


@pytest.mark.parametrize("year", range(2020, 2036))
def test_every_lunar_festival_agrees_with_lunardate(year):
    lunardate = pytest.importorskip("lunardate")
    for festival in POLICY.festivals:
        if festival.lunar_month is None:
            continue
        want = lunardate.LunarDate(year, festival.lunar_month, festival.lunar_day)
        assert _days(year)[festival.name] == [want.to_solar_date()]


def test_solar_terms_of_a_year():
    terms = solar_terms(2024)
    assert len(terms) == 24
    assert terms["小寒"] == date(2024, 1, 6)
    assert terms["清明"] == date(2024, 4, 4)
    assert terms["芒种"] == date(2024, 6, 5)
    assert terms["夏至"] == date(2024, 6, 21)
    assert terms["秋分"] == date(2024, 9, 22)
    assert terms["冬至"] == date(2024, 12, 21)


def test_farming_seasons_span_their_solar_terms():
    seasons = {o.name: o for o in occasions_in(2024, POLICY) if o.kind == FARMING}
    assert (seasons["春耕"].start, seasons["春耕"].end) == (date(2024, 4, 4), date(2024, 4, 19))
    assert (seasons["夏收"].start, seasons["夏收"].end) == (date(2024, 6, 5), date(2024, 6, 21))
    assert (seasons["秋收"].start, seasons["秋收"].end) == (date(2024, 9, 22), date(2024, 10, 8))


def test_a_season_across_new_year_ends_the_next_year():
    policy = Policy(
        festivals=[],
        farming_seasons=[FarmingSeason(name="冬修", start_term="冬至", end_term="小寒")],
    )
    (o,) = occasions_in(2024, policy)
    assert (o.start, o.end) == (date(2024, 12, 21), date(2025, 1, 5))


def test_windows_and_order():
    occasions = occasions_in(2026, POLICY)
    assert [o.day for o in occasions] == sorted(o.day for o in occasions)
    mid = next(o for o in occasions if o.name == "中秋")
    assert (mid.kind, mid.start, mid.end) == (FESTIVAL, date(2026, 9, 18), date(2026, 10, 2))


def test_day_30_in_a_short_month_is_its_last_day():
    # The 12th month of lunar 2024 has 29 days: "腊月三十" means 除夕, 2025-01-28.
    policy = Policy(
        festivals=[Festival(name="年三十", lunar_month=12, lunar_day=30)], farming_seasons=[]
    )
    assert [o.day for o in occasions_in(2025, policy)] == [date(2025, 1, 28)]


def test_next_occasion_crosses_the_year():
    nxt = next_occasion(date(2026, 12, 20), POLICY)
    assert nxt is not None and (nxt.name, nxt.day) == ("除夕·春节", date(2027, 2, 5))
    nxt = next_occasion(date(2026, 9, 25), POLICY)  # strictly after 中秋 itself
    assert nxt is not None and (nxt.name, nxt.day) == ("重阳", date(2026, 10, 18))
    assert next_occasion(date(2026, 1, 1), Policy(festivals=[], farming_seasons=[])) is None


def test_unknown_solar_term_is_refused():
    with pytest.raises(ValueError, match="solar term"):
        FarmingSeason(name="x", start_term="清明", end_term="谷")
