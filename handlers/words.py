"""Words people type instead of pressing a button: one list each, for every flow."""

from __future__ import annotations

from core.buttons import SKIP, Done
from handlers.engine import Turn

DONE_WORDS = frozenset(("完成", "好了", "done"))  # instead of 完成 (Done)
SKIP_WORDS = frozenset(("跳过", "skip"))  # instead of 跳过 (SKIP)
# Typed at an optional text step: "没有" at "any problems raised?" means none, and must not
# become an open problem called "没有".
NOTHING_WORDS = SKIP_WORDS | frozenset(
    ("没有", "无", "没", "暂无", "没有问题", "没问题", "无问题", "none", "no")
)
# Typed to keep what the bot offers (the problem's words taken from the message).
KEEP_WORDS = frozenset(("好", "好的", "可以", "就这样", "用这段", "ok", "OK"))
CONFIRM_WORDS = frozenset(("确认", "保存", "ok", "OK", "是"))


def says_done(turn: Turn) -> bool:
    return Done.unpack(turn.data) is not None or turn.text in DONE_WORDS


def says_skip(turn: Turn) -> bool:
    return turn.data == SKIP or turn.text in SKIP_WORDS


def says_nothing(turn: Turn) -> bool:
    """Skipped, or typed that there is nothing to say."""
    return turn.data == SKIP or turn.text.rstrip("。.!！ ").lower() in NOTHING_WORDS
