"""Finding one of my households from what a cadre typed at the household step.

The same reading as a quick report (full names, homophone typos, traditional characters,
nicknames and kin terms; linear in the capped text), and, for a short answer that names
nobody that way, a near spelling of a whole name (a dropped or swapped character).
"""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz

from core.understand import households as matcher
from core.understand.text import normalise
from storage.people import MyHousehold

GOOD_MATCH = 85  # rapidfuzz ratio (0–100) above which a whole typed name is taken as meant
SHORT = 8  # typed answers up to this long may be a misspelt whole name


def pick_household(text: str, households: Sequence[MyHousehold]) -> list[MyHousehold]:
    """The household(s) meant: one when clear, several when ambiguous, none when absent."""
    norm = normalise(text).strip()
    by_name: dict[str, list[MyHousehold]] = {}
    for h in households:
        by_name.setdefault(normalise(h.head_name), []).append(h)
    found = matcher.find(norm, list(by_name))
    names: list[str] = []
    for hit in found.hits:
        names.extend(n for n in hit.names if n not in names)
    if not names and 0 < len(norm) <= SHORT:
        scored = [(fuzz.ratio(norm, n), n) for n in by_name]
        best = max((score for score, _ in scored), default=0.0)
        names = [n for score, n in scored if score >= GOOD_MATCH and score >= best - 0.5]
    return [h for n in names for h in by_name[n]]
