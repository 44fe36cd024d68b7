"""Dates as cadres write them, read against a fixed today (Monday 2026-11-30)."""

from __future__ import annotations

from datetime import date

import pytest

from core.understand.dates import likely_days, mentions, read_date

TODAY = date(2026, 11, 30)  # a Monday


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("今天", "2026-11-30"),
        ("今儿个", "2026-11-30"),
        ("昨天", "2026-11-29"),
        ("夜个", "2026-11-29"),
        ("琴日", "2026-11-29"),
        ("昨儿", "2026-11-29"),
        ("前天", "2026-11-28"),
        ("前儿个", "2026-11-28"),
        ("大前天", "2026-11-27"),
        ("上周五", "2026-11-27"),
        ("上礼拜五", "2026-11-27"),
        ("上个星期天", "2026-11-29"),
        ("这周一", "2026-11-30"),
        ("本周三", "2026-12-02"),
        ("上上周三", "2026-11-18"),
        ("周三", "2026-11-25"),
        ("星期五", "2026-11-27"),
        ("礼拜三", "2026-11-25"),
        ("周一", "2026-11-23"),  # bare: the most recent such day before today
        ("12号", "2026-11-12"),
        ("28日", "2026-11-28"),
        ("31号", "2026-10-31"),  # November has no 31st: the most recent one
        ("二十八号", "2026-11-28"),
        ("11.28", "2026-11-28"),
        ("11-28", "2026-11-28"),
        ("11/28", "2026-11-28"),
        ("11月28日", "2026-11-28"),
        ("11月28号", "2026-11-28"),
        ("十一月二十八", "2026-11-28"),
        ("12月25号", "2026-12-25"),  # the closest occurrence, even in the future
        ("2026-11-03", "2026-11-03"),
        ("2026年11月3日", "2026-11-03"),
        ("上个月28号", "2026-10-28"),
        ("元旦", "2027-01-01"),
        ("国庆", "2026-10-01"),
        ("中秋", "2026-09-25"),
        ("重阳节", "2026-10-18"),
        ("冬至", "2026-12-22"),
        ("除夕", "2027-02-05"),
        ("大年初二", "2027-02-07"),
        ("正月十五", "2027-02-20"),
        ("初五", "2026-11-13"),  # lunar 10-22 today: the most recent 5th of a lunar month
        ("今天周一", "2026-11-30"),  # a weekday after 今天 repeats it
        ("明天", "2026-12-01"),  # read, so that the date step can refuse it as the future
    ],
)
def test_one_day(text, day):
    found = read_date(text, TODAY)
    assert found is not None and found.day == date.fromisoformat(day), (text, found)


@pytest.mark.parametrize(
    "text",
    [
        "前两天",
        "前几天",
        "前阵子",
        "那天",
        "上周",
        "这周",
        "上个月",
        "上个月底",
        "月初",
        "年前",
        "腊月间",
        "国庆期间",
        "清明节后",
        "端午节前",
        "昨天还是前天",
        "11月31号",
        "2月30日",
        "周末",
        "11月份",
    ],
)
def test_not_one_day_is_asked_with_likely_days(text):
    found = read_date(text, TODAY)
    assert found is not None and found.day is None, (text, found)
    assert found.choices, text


def test_likely_days_are_the_last_days_before_today():
    assert likely_days(TODAY)[:2] == (date(2026, 11, 29), date(2026, 11, 28))


def test_disagreeing_days_offer_both():
    found = read_date("昨天还是前天", TODAY)
    assert found is not None and set(found.choices) == {date(2026, 11, 29), date(2026, 11, 28)}


@pytest.mark.parametrize(
    "text", ["卖了1.2元", "种了5.5亩", "一个礼拜了", "他家3-5斤", "138-0013-8000"]
)
def test_numbers_are_not_dates(text):
    assert mentions(text, TODAY) == []


def test_closest_occurrence_crosses_the_year():
    found = read_date("12.30", date(2027, 1, 4))
    assert found is not None and found.day == date(2026, 12, 30)
