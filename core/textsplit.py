"""The one text splitter, and each channel's message size limit.

Platforms count differently: Telegram in UTF-16 code units, WeCom in UTF-8 bytes. A long
text is cut at line breaks where possible and inside a line (never inside a character)
only when one line alone is too long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from core.types import Channel

Unit = Literal["chars", "utf16", "utf8"]


@dataclass(frozen=True, slots=True)
class TextLimit:
    size: int
    unit: Unit


# One message's text, per destination (Bot API; WeCom message/send and robot markdown).
TEXT_LIMITS: dict[Channel, TextLimit] = {
    Channel.TELEGRAM: TextLimit(4096, "utf16"),
    Channel.WECOM: TextLimit(2048, "utf8"),
    Channel.WECOM_ROBOT: TextLimit(4096, "utf8"),
    Channel.CONSOLE: TextLimit(4096, "chars"),
}


def char_size(ch: str, unit: Unit) -> int:
    if unit == "utf8":
        return len(ch.encode("utf-8"))
    if unit == "utf16":
        return 2 if ord(ch) > 0xFFFF else 1
    return 1


def measure(text: str, unit: Unit) -> int:
    if unit == "utf8":
        return len(text.encode("utf-8"))
    if unit == "utf16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def _hard_split(line: str, limit: TextLimit) -> list[str]:
    """Cut one over-long line into pieces, never inside a character."""
    pieces: list[str] = []
    start, used = 0, 0
    for i, ch in enumerate(line):
        size = char_size(ch, limit.unit)
        if used + size > limit.size and i > start:
            pieces.append(line[start:i])
            start, used = i, 0
        used += size
    pieces.append(line[start:])
    return pieces


def split_text(text: str, limit: TextLimit) -> list[str]:
    """Pieces of at most `limit`, cut at line ends where possible; "\\n".join restores
    the text when no line had to be cut."""
    if limit.size < 4:
        raise ValueError("limit too small")
    if measure(text, limit.unit) <= limit.size:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        pieces = _hard_split(line, limit) if measure(line, limit.unit) > limit.size else [line]
        for piece in pieces:
            candidate = f"{current}\n{piece}" if current else piece
            if measure(candidate, limit.unit) <= limit.size:
                current = candidate
                continue
            if current:
                chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def split_for(channel: Channel, text: str) -> list[str]:
    """`text` in pieces one message of `channel` holds."""
    return split_text(text, TEXT_LIMITS[channel])
