"""Chinese numerals as cadres write them in dates: 三, 十一, 二十八, 廿三, 三十一."""

from __future__ import annotations

DIGITS = {
    "零": 0,
    "〇": 0,
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
}
CN_NUMBER = "[零〇一二两三四五六七八九十廿]{1,4}"


def cn_to_int(text: str) -> int | None:
    """'二十八' → 28, '廿三' → 23, '十' → 10, '28' → 28; None when it is not a small number."""
    if text.isascii() and text.isdigit():
        return int(text)
    if not text:
        return None
    if text.startswith("廿"):
        rest = cn_to_int(text[1:]) if len(text) > 1 else 0
        return None if rest is None or rest > 9 else 20 + rest
    if "十" in text:
        tens_part, _, ones_part = text.partition("十")
        tens = 1 if tens_part == "" else DIGITS.get(tens_part)
        ones = 0 if ones_part == "" else DIGITS.get(ones_part)
        if tens is None or ones is None or len(tens_part) > 1 or len(ones_part) > 1:
            return None
        return tens * 10 + ones
    if len(text) == 1:
        return DIGITS.get(text)
    return None
