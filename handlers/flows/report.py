"""Contact report: household → kind → date → 六帮 → what was done → problems → evidence."""

from __future__ import annotations

from datetime import date

from core.buttons import SKIP, Done
from core.policy import CONTACT_KINDS, HELP_TAGS
from core.types import InboundKind, Reply
from handlers.engine import STAY, Anytime, Flow, Invalid, Step, Turn
from handlers.steps import (
    cancel_row,
    choice_step,
    confirm_step,
    date_step,
    has,
    household_step,
    multi_step,
    text_step,
)
from handlers.words import says_done, says_skip
from storage.people import is_my_household
from storage.records import add_contact

MAX_PHOTOS = 9


async def _evidence_prompt(turn: Turn) -> Reply:
    rows = [
        [turn.button("common.done", Done().pack()), turn.button("common.skip", SKIP)],
        cancel_row(turn),
    ]
    return Reply.with_buttons(turn.t("report.evidence", **evidence_counts(turn.draft)), rows)


def evidence_counts(draft: dict) -> dict[str, object]:
    return {
        "photos": len(draft.get("photos", [])),
        "located": "✓" if draft.get("location") else "—",
    }


def take_evidence(turn: Turn) -> bool:
    """Keep a photo or location sent at any step of a report; True if it was one."""
    kind = turn.inbound.kind
    if kind == InboundKind.PHOTO and turn.inbound.photo_ref:
        photos = turn.draft.setdefault("photos", [])
        if len(photos) >= MAX_PHOTOS:
            raise Invalid("report.too_many_photos", limit=MAX_PHOTOS)
        photos.append(turn.inbound.photo_ref)
        return True
    if kind == InboundKind.LOCATION and turn.inbound.latitude is not None:
        turn.draft["location"] = [turn.inbound.latitude, turn.inbound.longitude]
        return True
    return False


async def _evidence_accept(turn: Turn) -> str | None:
    if take_evidence(turn):
        turn.notes.append(Reply(turn.t("report.evidence_received", **evidence_counts(turn.draft))))
        return STAY
    if says_done(turn) or says_skip(turn):
        return None
    raise Invalid("report.evidence_or_done")


def render(turn: Turn) -> str:
    d = turn.draft
    tags = "、".join(turn.t(f"tag.{x}") for x in d.get("tags", [])) or "—"
    return turn.t(
        "report.confirm",
        household=d.get("household", ""),
        kind=turn.t(f"kind.{d.get('kind', 'other')}"),
        date=d.get("date", ""),
        tags=tags,
        summary=d.get("summary", "") or "—",
        problems=d.get("problems", "") or "—",
        **evidence_counts(d),
    )


async def finish(turn: Turn) -> list[Reply]:
    d = turn.draft
    household_id = int(d["household_id"])
    if not await is_my_household(turn.session, turn.cadre.id, household_id):
        # The pairing ended while the draft was open: do not save it under a stranger.
        raise Invalid("flow.not_your_household")
    location = d.get("location") or [None, None]
    contact = await add_contact(
        turn.session,
        cadre_id=turn.cadre.id,
        household_id=household_id,
        kind=d["kind"],
        occurred_on=date.fromisoformat(d["date"]),
        now=turn.now,
        help_tags=list(d.get("tags", [])),
        summary=d.get("summary", ""),
        problems_raised=d.get("problems", ""),
        latitude=location[0],
        longitude=location[1],
        photo_refs=list(d.get("photos", [])),
        source_channel=str(turn.inbound.channel),
        source_message_id=turn.inbound.message_id,
    )
    turn.saved = {"kind": "contact", "id": contact.id}
    return [
        Reply(
            turn.t("report.saved", household=d["household"], minutes=turn.ctx.policy.undo_minutes)
        )
    ]


REPORT = Flow(
    name="report",
    steps=(
        # A quick report or a reminder's button may have answered these already.
        household_step(skip_if=has("household_id")),
        choice_step("kind", "report.pick_kind", CONTACT_KINDS, "kind", skip_if=has("kind")),
        date_step(skip_if=has("date")),
        multi_step("tags", "report.pick_tags", HELP_TAGS, "tag"),
        text_step("summary", "report.ask_summary"),
        text_step("problems", "report.ask_problems", optional=True),
        Step(
            "evidence",
            _evidence_prompt,
            _evidence_accept,
            help_key="help.evidence",
            offers=(Done,),
            reads=(Done,),
        ),
        confirm_step(
            render,
            [
                ("household", "edit.household"),
                ("kind", "edit.kind"),
                ("date", "edit.date"),
                ("tags", "edit.tags"),
                ("summary", "edit.summary"),
                ("problems", "edit.problems"),
            ],
        ),
    ),
    finish=finish,
    # A photo or location sent at any step of a report is kept.
    anytime=Anytime(take_evidence, "report.evidence_kept", own_step="evidence"),
)
