"""Households as cadres name them, and the cost of reading a very long message."""

from __future__ import annotations

from datetime import date

import pytest

from core.understand import households
from core.understand.message import read
from core.understand.text import READ_LIMIT, normalise

MINE = ["张三", "李秀英", "王桂兰", "陈国强", "黄德福"]
TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("給張三打了電話", ["张三"]),
        ("王贵兰家去了", ["王桂兰"]),
        ("黄得福电话联系了", ["黄德福"]),
        ("张叔家今天去了一趟", ["张三"]),
        ("老黄家今天上门看了", ["黄德福"]),
        ("李姐打来电话", ["李秀英"]),
        ("秀英今天来村部了", ["李秀英"]),
        ("桂兰婶家去了", ["王桂兰"]),
        ("三哥已电联", ["张三"]),
        ("今天去了张三和黄德福家", ["张三", "黄德福"]),
        ("五户今天都走访了", MINE),
        ("除了老黄其他几户今天都走访了", ["张三", "李秀英", "王桂兰", "陈国强"]),
        ("今天去了王大山家", []),
        ("他家今天去了", []),
    ],
)
def test_names_as_cadres_write_them(text, names):
    got = read(text, MINE, TODAY)
    assert sorted(got.households) == sorted(names), text
    assert not got.ambiguous


def test_two_fitting_households_are_both_offered():
    got = read("跟老赵通了个电话", ["赵永康", "赵永红", "孙美兰"], TODAY)
    assert got.ambiguous and set(got.households) == {"赵永康", "赵永红"}


def test_kin_terms_narrow_by_sex():
    got = read("黄姐家今天去了", ["黄丽萍", "黄德福"], TODAY)
    assert got.households == ("黄丽萍",) and not got.ambiguous


def test_a_long_message_is_read_only_up_to_the_limit(monkeypatch):
    seen: list[int] = []
    real = households.find

    def spy(text, names):  # type: ignore[no-untyped-def]
        seen.append(len(text))
        return real(text, names)

    monkeypatch.setattr(households, "find", spy)
    huge = "今天去了张三家，" + "他家玉米收成不错" * 6250  # 50,008 characters
    got = read(huge, MINE, TODAY)
    assert got.households == ("张三",) and got.kind == "report"
    assert seen == [READ_LIMIT]
    assert len(normalise(huge)) == READ_LIMIT


def test_name_matching_work_grows_linearly(monkeypatch):
    """Count the sound comparisons the matcher makes: twice the text, at most twice the work."""
    calls = 0
    real = households._sounds

    def counting(ch):  # type: ignore[no-untyped-def]
        nonlocal calls
        calls += 1
        return real(ch)

    monkeypatch.setattr(households, "_sounds", counting)
    work = []
    for size in (150, 300, 600):
        calls = 0
        # Every window starts with a surname, so none is rejected cheaply.
        households.find("张王李陈黄" * (size // 5), MINE)
        work.append(calls)
    assert work[1] <= 2 * work[0] + 20 and work[2] <= 2 * work[1] + 20
    assert work[2] <= 600 * sum(len(n) for n in MINE)
