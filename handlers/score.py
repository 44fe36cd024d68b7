"""/score: my own 考核 score, explained; nobody else's."""

from __future__ import annotations

from core.types import Reply
from handlers.engine import Turn
from storage.score_queries import cadre_name_taken


async def my_score(turn: Turn) -> Reply:
    """This month's score, or the month/quarter asked for ("2026-11", "2026-Q4")."""
    asked = turn.inbound.text.strip() if turn.inbound.command else ""
    if asked and asked != turn.cadre.name and not _looks_like_period(asked):
        # A name (or anything but a period) asks for someone else's figures: refused.
        if await cadre_name_taken(turn.session, asked):
            return Reply(turn.t("score.not_yours"))
        return Reply(turn.t("score.bad_period"))
    if turn.ctx.scores is None:
        return Reply(turn.t("score.not_available"))
    period = "" if asked == turn.cadre.name else asked
    card = await turn.ctx.scores.card(turn.cadre.id, turn.cadre.name, period, turn.lang)
    return Reply(card if card is not None else turn.t("score.bad_period"))


def _looks_like_period(text: str) -> bool:
    return any(c.isdigit() for c in text)
