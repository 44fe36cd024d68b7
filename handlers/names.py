"""Finding one of my households from what a cadre typed, tolerant of small differences.

Cadres type on phones with pinyin keyboards, so 张叁 for 张三 (same sound) or a dropped
character is common; we compare both the characters and their toneless pinyin.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from pypinyin import lazy_pinyin
from rapidfuzz import fuzz

from storage.people import MyHousehold

GOOD_MATCH = 85  # rapidfuzz ratio (0–100) above which a name is taken as meant


@lru_cache(maxsize=4096)
def _sound(text: str) -> str:
    return " ".join(lazy_pinyin(text))


def _score(candidate: str, name: str) -> float:
    if candidate == name:
        return 100.0
    by_chars = fuzz.ratio(candidate, name)
    by_sound = fuzz.ratio(_sound(candidate), _sound(name))
    if len(name) >= 2 and _sound(candidate) == _sound(name):
        by_sound = 99.0  # a homophone typo: 张叁 for 张三
    return max(by_chars, by_sound - 1)


def best_matches(text: str, households: Sequence[MyHousehold]) -> list[tuple[MyHousehold, float]]:
    """Households whose head name appears in `text` (exactly or nearly), best first."""
    text = text.strip()
    scored: list[tuple[MyHousehold, float]] = []
    for h in households:
        name = h.head_name
        if name and name in text:
            scored.append((h, 100.0))
            continue
        n = len(name)
        windows = {
            text[i : i + size]
            for size in (n - 1, n, n + 1)
            if size >= 2
            for i in range(0, max(len(text) - size + 1, 0))
        }
        best = max((_score(w, name) for w in windows), default=0.0)
        if best >= GOOD_MATCH:
            scored.append((h, best))
    exact = {h.head_name for h, score in scored if score == 100.0}
    # "张三丰" also contains "张三": the longer exact name is the one meant.
    scored = [
        (h, score)
        for h, score in scored
        if not any(h.head_name != other and h.head_name in other for other in exact)
    ]
    scored.sort(key=lambda pair: -pair[1])
    return scored


def pick_household(text: str, households: Sequence[MyHousehold]) -> list[MyHousehold]:
    """The household(s) meant: one when clear, several when ambiguous, none when absent."""
    matches = best_matches(text, households)
    if not matches:
        return []
    top = matches[0][1]
    return [h for h, score in matches if score >= top - 0.5]
