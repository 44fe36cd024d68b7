"""民情日记: optional household → 所访所做 → 所见所闻 → 所思所想 → 民意 topics → views."""

from __future__ import annotations

from core.policy import OPINION_TOPICS
from core.types import Reply
from handlers.engine import Flow, Invalid, Turn
from handlers.steps import confirm_step, household_step, multi_step, text_step
from storage.people import is_my_household
from storage.records import add_diary


def render(turn: Turn) -> str:
    d = turn.draft
    topics = "、".join(turn.t(f"topic.{x}") for x in d.get("topics", [])) or "—"
    return turn.t(
        "diary.confirm",
        household=d.get("household") or "—",
        done=d.get("done", ""),
        seen=d.get("seen", "") or "—",
        thoughts=d.get("thoughts", "") or "—",
        topics=topics,
        opinion=d.get("opinion", "") or "—",
    )


async def finish(turn: Turn) -> list[Reply]:
    d = turn.draft
    household_id = d.get("household_id")
    if household_id and not await is_my_household(turn.session, turn.cadre.id, household_id):
        raise Invalid("flow.not_your_household")
    entry = await add_diary(
        turn.session,
        cadre_id=turn.cadre.id,
        household_id=household_id or None,
        written_on=turn.now.date(),
        now=turn.now,
        done=d.get("done", ""),
        seen=d.get("seen", ""),
        thoughts=d.get("thoughts", ""),
        opinion_topics=list(d.get("topics", [])),
        opinion=d.get("opinion", ""),
    )
    turn.saved = {"kind": "diary", "id": entry.id}
    return [Reply(turn.t("diary.saved", minutes=turn.ctx.policy.undo_minutes))]


def _no_topics(draft: dict) -> bool:
    return not draft.get("topics")


DIARY = Flow(
    name="diary",
    steps=(
        household_step(optional=True),
        text_step("done", "diary.ask_done"),
        text_step("seen", "diary.ask_seen", optional=True),
        text_step("thoughts", "diary.ask_thoughts", optional=True),
        multi_step("topics", "diary.pick_topics", OPINION_TOPICS, "topic"),
        text_step("opinion", "diary.ask_opinion", optional=True, skip_if=_no_topics),
        confirm_step(
            render,
            [
                ("household", "edit.household"),
                ("done", "edit.done"),
                ("seen", "edit.seen"),
                ("thoughts", "edit.thoughts"),
                ("topics", "edit.topics"),
                ("opinion", "edit.opinion"),
            ],
        ),
    ),
    finish=finish,
)
