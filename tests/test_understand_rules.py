"""Rules widened after the fifth held-out set, checked on wordings that are not in any set."""

from __future__ import annotations

import datetime as dt

from core.understand.message import read

NAMES = ["罗德明", "杨秀芬", "邓国华"]
TODAY = dt.date(2026, 3, 11)  # a Wednesday


def test_an_errand_for_the_household_does_not_date_the_contact() -> None:
    r = read("今天给杨秀芬打了电话，通知她下周一到村部签字", NAMES, TODAY)
    assert (r.kind, r.method, r.date) == ("report", "call", TODAY)
    r = read("跟罗德明发了微信，叫他礼拜五来开会", NAMES, TODAY)
    assert (r.kind, r.method, r.date, r.ask_date) == ("report", "other", TODAY, False)


def test_all_but_one_with_a_comma_between() -> None:
    r = read("除了邓国华、其余的今天都走访了", NAMES, TODAY)
    assert set(r.households) == {"罗德明", "杨秀芬"}
    r = read("除了老罗，剩下两户昨天都打了电话", NAMES, TODAY)
    assert set(r.households) == {"杨秀芬", "邓国华"}


def test_going_again_is_a_plan_not_a_report() -> None:
    r = read("过年前我再去趟罗德明家", NAMES, TODAY)
    assert (r.kind, r.plan) == ("not_report", True)
    assert read("今天又去了罗德明家", NAMES, TODAY).kind == "report"


def test_a_chinese_day_past_thirty_is_one_date_not_two() -> None:
    r = read("十二月三十一号上午 入户罗德明", NAMES, TODAY)
    assert (r.date, r.ask_date) == (dt.date(2025, 12, 31), False)
    r = read("二月二十一日 给杨秀芬打了电话", NAMES, TODAY)
    assert r.date == dt.date(2026, 2, 21)


def test_went_to_ask_or_to_a_feast_is_a_visit_and_a_call_back_is_a_call() -> None:
    assert read("邓国华孙子满月，昨天去喝了满月酒", NAMES, TODAY).method == "visit"
    assert read("今天去问了问杨秀芬低保的事", NAMES, TODAY).method == "visit"
    r = read("罗德明的电话关机，后来他打回来了", NAMES, TODAY)
    assert (r.kind, r.method) == ("report", "call")


def test_something_that_has_not_arrived_is_a_problem() -> None:
    assert read("邓国华今天来电说化肥还没到", NAMES, TODAY).problem
    assert read("杨秀芬说补贴没到，今天去了她家", NAMES, TODAY).problem
