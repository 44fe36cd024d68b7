"""Parsers and validators shared by the flows: dates, prose, household choice."""

from __future__ import annotations

import re
from datetime import date, timedelta

from core.policy import Policy
from handlers.engine import Invalid

MAX_TEXT = 2000  # one report field; a phone message rarely needs more
RELATIVE_DAYS = {
    "今天": 0,
    "今日": 0,
    "昨天": 1,
    "昨日": 1,
    "前天": 2,
    "大前天": 3,
    "today": 0,
    "yesterday": 1,
}
_CN_DIGITS = {
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}

_ISO = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
# 11月3日, 11-3, 11/3; never inside a longer number. "." only when the text is just a date:
# in a sentence "玉米卖了1.2元" is a price, not 1 February.
_MONTH_DAY = re.compile(r"(?<![\d.])(\d{1,2})(?:月|[-/])(\d{1,2})(?![\d.])[日号]?")
_DOTTED = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\s*$")
_DAY_ONLY = re.compile(r"(?<!\d)(\d{1,2})[日号]")


_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|[\ud800-\udfff]")


def storable(text: str) -> str:
    """Text the databases accept: no NUL or other control characters (PostgreSQL refuses
    NUL), no lone UTF-16 surrogates (not encodable as UTF-8; a client can send them)."""
    return _UNSTORABLE.sub(lambda m: "\ufffd" if m[0] >= "\ud800" else "", text)


def _cn_number(text: str) -> str:
    """Turn simple Chinese numerals (三, 十一, 二十三) into digits inside a string."""

    def convert(m: re.Match[str]) -> str:
        s = m.group(0)
        if s == "十":
            return "10"
        if "十" in s:
            tens, _, ones = s.partition("十")
            return str(_CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0))
        return "".join(str(_CN_DIGITS[c]) for c in s)

    return re.sub(r"[一二两三四五六七八九十]+(?=[月日号])", convert, text)


def find_date(text: str, today: date) -> date | None:
    """A date mentioned in free text: 今天/昨天/前天, 2026-11-03, 11月3日, 3号. None if none."""
    # Longest words first: "大前天" also contains "前天".
    for word, back in sorted(RELATIVE_DAYS.items(), key=lambda pair: -len(pair[0])):
        if word in text.lower():
            return today - timedelta(days=back)
    text = _cn_number(text)
    try:
        if m := _ISO.search(text):
            return date(int(m[1]), int(m[2]), int(m[3]))
        if m := _MONTH_DAY.search(text) or _DOTTED.match(text):
            return _latest(today, int(m[1]), int(m[2]))
        if m := _DAY_ONLY.search(text):
            return _latest(today, today.month, int(m[1]))
    except ValueError:
        raise Invalid("input.bad_date") from None
    return None


def _latest(today: date, month: int, day: int) -> date:
    """The most recent month/day not after today (11月3日 said in January means last year)."""
    candidate = date(today.year, month, day)
    if candidate > today and month > today.month:
        candidate = date(today.year - 1, month, day)
    return candidate


def check_report_date(day: date, today: date, policy: Policy) -> date:
    """Never the future; back-dating only within the policy's window."""
    if day > today:
        raise Invalid("input.future_date")
    if (today - day).days > policy.backdate_days:
        raise Invalid("input.too_old", days=policy.backdate_days)
    return day


def parse_report_date(text: str, today: date, policy: Policy) -> date:
    day = find_date(text, today)
    if day is None:
        raise Invalid("input.bad_date")
    return check_report_date(day, today, policy)


def prose(text: str, *, required: bool = True) -> str:
    """Free text for a report field: not empty (when required), not absurdly long."""
    text = text.strip()
    if required and not text:
        raise Invalid("input.need_text")
    if len(text) > MAX_TEXT:
        raise Invalid("input.too_long", limit=MAX_TEXT, got=len(text))
    return text
