"""Normalising a message before it is read: simplified characters, ASCII digits, no fillers.

Every step keeps the text's length, so a position found in the normalised text is the same
position in what the cadre typed (the card quotes their words, not ours).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import zhconv

# Past this many characters the rest of a message is not read for names, dates and words:
# a report a cadre types on a phone is far shorter, and the reading stays cheap and linear.
READ_LIMIT = 600
FILLERS = re.compile(r"嗯+|呃+|额+|啊+(?=\s)|那个(?=\s)|就是说|然后呢|这个(?=\s)|怎么说呢")


@lru_cache(maxsize=8192)
def _simplified(ch: str) -> str:
    out = zhconv.convert(ch, "zh-cn")
    return out if len(out) == 1 else ch


def warm_up() -> None:
    """Load the traditional-to-simplified table now (≈0.2 s of CPU, once a process) rather
    than while the first message of the process is read."""
    normalise("體")


def normalise(text: str, limit: int = READ_LIMIT) -> str:
    """Simplified, half-width, at most `limit` characters; same length as the input cut."""
    text = text[:limit]
    chars = []
    for ch in text:
        if "\uff01" <= ch <= "\uff5e":  # full-width ASCII (１２．２８, ＡＢ) → ASCII
            ch = unicodedata.normalize("NFKC", ch)
        elif "\u4e00" <= ch <= "\u9fff":
            ch = _simplified(ch)
        chars.append(ch if len(ch) == 1 else " ")
    return "".join(chars)


def without_fillers(text: str) -> str:
    """Voice-input fillers (嗯、那个、就是说) dropped and spaces squeezed, for a stored summary."""
    cleaned = FILLERS.sub(" ", text)
    return re.sub(r"\s+", " ", cleaned).strip(" ，,")
