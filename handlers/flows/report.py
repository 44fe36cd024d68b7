"""Contact report: household → kind → date → 六帮 → what was done → problems → evidence."""

from __future__ import annotations

from datetime import date
from typing import Any

from core.buttons import Done, StepByStep
from core.daytext import read_day_label
from core.policy import CONTACT_KINDS, HELP_TAGS
from core.types import InboundKind, Reply
from core.understand.choices import method_in, tags_in
from handlers.engine import STAY, Anytime, Flow, Invalid, Step, Turn
from handlers.quick import event_offer_after_save, from_text
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
    """One way on, 完成, with or without evidence (typing 跳过 does the same)."""
    rows = [[turn.button("common.done", Done().pack())], cancel_row(turn)]
    return Reply.with_buttons(turn.t("report.evidence", **evidence_counts(turn.draft)), rows)


def evidence_counts(draft: dict) -> dict[str, object]:
    return {
        "photos": len(draft.get("photos", [])),
        "located": "✓" if draft.get("location") else "—",
        "voices": len(draft.get("voices", [])),
    }


def take_evidence(turn: Turn) -> bool:
    """Keep a photo, voice message or location sent at any step of a report; True if so."""
    kind = turn.inbound.kind
    if kind == InboundKind.VOICE and turn.inbound.photo_ref:
        voices = turn.draft.setdefault("voices", [])
        if len(voices) >= MAX_PHOTOS:
            raise Invalid("report.too_many_voices", limit=MAX_PHOTOS)
        voices.append(turn.inbound.photo_ref)
        return True
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
    household = d.get("household", "") or "—"
    if len(d.get("households") or ()) > 1:
        household = turn.t("report.several", names=household, count=len(d["households"]))
    return turn.t(
        "report.confirm",
        household=household,
        kind=turn.t(f"kind.{d.get('kind', 'other')}"),
        date=shown_date(turn),
        tags=tags,
        summary=d.get("summary", "") or "—",
        problems=d.get("problems", "") or "—",
        **evidence_counts(d),
    ) + (turn.t("report.voices_line", voices=len(d["voices"])) if d.get("voices") else "")


def shown_date(turn: Turn) -> str:
    """上周五（11月27日） when the cadre wrote a date word; else 11月27日（周五）."""
    raw = turn.draft.get("date", "")
    if not raw:
        return ""
    day = date.fromisoformat(raw)
    return read_day_label(turn.draft.get("date_word", ""), day, turn.lang, today=turn.now.date())


def _household_ids(d: dict) -> list[int]:
    several = d.get("households") or []
    return [int(h[0]) for h in several] if several else [int(d["household_id"])]


async def finish(turn: Turn) -> list[Reply]:
    d = turn.draft
    ids = _household_ids(d)
    # The pairing may have ended while the draft was open: never save it under a stranger.
    # One household: its insert checks the pairing; several: all checked before any write.
    one = len(ids) == 1
    for household_id in [] if one else ids:
        if not await is_my_household(turn.session, turn.cadre.id, household_id):
            raise Invalid("flow.not_your_household")
    location = d.get("location") or [None, None]
    saved = []
    for household_id in ids:  # several households in one line: one record each
        contact_id = await add_contact(
            turn.session,
            cadre_id=turn.cadre.id,
            household_id=household_id,
            kind=d["kind"],
            occurred_on=date.fromisoformat(d["date"]),
            now=turn.now,
            help_tags=list(d.get("tags", [])),
            summary=d.get("summary", ""),
            problems_raised=d.get("problems", "") if len(ids) == 1 else "",
            latitude=location[0],
            longitude=location[1],
            # The record's evidence: photos and voice messages (told apart by the reference).
            photo_refs=[*d.get("photos", []), *d.get("voices", [])],
            source_channel=str(turn.inbound.channel),
            source_message_id=turn.inbound.message_id,
            problem_days=turn.ctx.policy.appeals.default_days(),
            paired=one,
        )
        if contact_id is None:
            raise Invalid("flow.not_your_household")
        saved.append(contact_id)
    # Undo takes back the whole line: the first record, and the others with it.
    turn.saved = {"kind": "contact", "id": saved[0], "also": saved[1:]}
    replies = [
        Reply(
            turn.t("report.saved", household=d["household"], minutes=turn.ctx.policy.undo_minutes)
        )
    ]
    offer = event_offer_after_save(turn, d)
    return [*replies, offer] if offer else replies


async def _line_prompt(turn: Turn) -> Reply:
    rows = [[turn.button("report.step_by_step", StepByStep().pack())], cancel_row(turn)]
    return Reply.with_buttons(turn.t("report.ask_line"), rows)


async def _line_accept(turn: Turn) -> str | None:
    """After a voice message: one line of text read like a quick report, the voice kept."""
    if StepByStep.unpack(turn.data) is not None:
        turn.draft.pop("_await_line", None)
        return None
    if not turn.text:
        raise Invalid("report.need_line")
    got = await from_text(turn, turn.text)
    kept: dict[str, Any] = {
        k: turn.draft[k] for k in ("_id", "voices", "photos", "location") if k in turn.draft
    }
    if got.draft is not None:
        turn.draft = {**got.draft, **kept}
    else:  # not a contact line: keep it as what was done, ask the rest step by step
        turn.draft = {**kept, "summary": turn.text, "tags": [], "quick": True}
    return None


def _waits_for_line(draft: dict) -> bool:
    return bool(draft.get("_await_line"))


def _quick(draft: dict) -> bool:
    """A one-line report skips the detail steps: its card is shown at once."""
    return bool(draft.get("quick"))


REPORT = Flow(
    name="report",
    steps=(
        # A voice message starts a report: its line of text is asked first.
        Step(
            "line",
            _line_prompt,
            _line_accept,
            skip_if=lambda d: not _waits_for_line(d),
            help_key="help.text",
            offers=(StepByStep,),
            reads=(StepByStep,),
        ),
        # A quick report or a reminder's button may have answered these already.
        household_step(skip_if=has("household_id")),
        choice_step(
            "kind",
            "report.pick_kind",
            CONTACT_KINDS,
            "kind",
            skip_if=has("kind"),
            reader=method_in,
        ),
        date_step(skip_if=has("date")),
        multi_step("tags", "report.pick_tags", HELP_TAGS, "tag", skip_if=_quick, reader=tags_in),
        text_step("summary", "report.ask_summary", skip_if=_quick),
        text_step("problems", "report.ask_problems", optional=True, skip_if=_quick),
        Step(
            "evidence",
            _evidence_prompt,
            _evidence_accept,
            skip_if=_quick,
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
