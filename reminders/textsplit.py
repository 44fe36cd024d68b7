"""Split long text for chat platforms: Telegram counts characters, WeCom markdown bytes."""

from __future__ import annotations

TELEGRAM_TEXT_LIMIT = 4096  # characters per message
WECOM_MARKDOWN_LIMIT = 4096  # UTF-8 bytes per markdown message


def size(text: str, *, by_bytes: bool) -> int:
    return len(text.encode("utf-8")) if by_bytes else len(text)


def _hard_split(line: str, limit: int, by_bytes: bool) -> list[str]:
    """Cut one over-long line into pieces, never inside a character."""
    pieces, current = [], ""
    for ch in line:
        if current and size(current + ch, by_bytes=by_bytes) > limit:
            pieces.append(current)
            current = ""
        current += ch
    if current:
        pieces.append(current)
    return pieces


def split_text(text: str, limit: int, *, by_bytes: bool = False) -> list[str]:
    """Chunks of at most `limit` (chars or UTF-8 bytes), cut at line ends where possible."""
    if limit < 4:
        raise ValueError("limit too small")
    if size(text, by_bytes=by_bytes) <= limit:
        return [text]
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _hard_split(line, limit, by_bytes) or [""]:
            candidate = f"{current}\n{piece}" if current else piece
            if size(candidate, by_bytes=by_bytes) <= limit:
                current = candidate
                continue
            if current:
                chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks
