"""One way to write a day for cadres, everywhere: 11月27日（周五） / Fri 27 Nov."""

from __future__ import annotations

from datetime import date

from core.i18n import normalize_lang

_ZH_WEEKDAYS = "一二三四五六日"
_EN_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_label(day: date, lang: str = "zh", *, today: date | None = None) -> str:
    """11月27日（周五）; the year is added when it is not `today`'s year."""
    year = today is not None and day.year != today.year
    if normalize_lang(lang) == "en":
        text = f"{_EN_WEEKDAYS[day.weekday()]} {day.day} {_EN_MONTHS[day.month - 1]}"
        return f"{text} {day.year}" if year else text
    text = f"{day.month}月{day.day}日（周{_ZH_WEEKDAYS[day.weekday()]}）"
    return f"{day.year}年{text}" if year else text


def short_day(day: date, lang: str = "zh") -> str:
    """11月27日 / 27 Nov: for buttons and lists, where the weekday would crowd the line."""
    if normalize_lang(lang) == "en":
        return f"{day.day} {_EN_MONTHS[day.month - 1]}"
    return f"{day.month}月{day.day}日"


def read_day_label(word: str, day: date, lang: str = "zh", *, today: date | None = None) -> str:
    """上周五（11月27日）: the words the cadre wrote, with the day they were read as."""
    if not word or word == f"{day.month}月{day.day}日":
        return day_label(day, lang, today=today)
    if normalize_lang(lang) == "en":
        return f"{word} ({day_label(day, lang, today=today)})"
    inner = (
        short_day(day, lang)
        if any(w in word for w in ("周", "礼拜", "星期"))
        else day_label(day, lang, today=today).replace("（", "，").rstrip("）")
    )
    return f"{word}（{inner}）"
