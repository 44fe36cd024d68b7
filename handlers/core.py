"""The entry point: one Inbound in, the Replies to send back out.

Each inbound is processed once: its (channel, message id) is stored in the same transaction
as its effect, so a redelivered update changes nothing. Conversation state is a row, locked
for the transaction (and per key in this process), so a restart or a second process picks up
the same draft.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import weakref
from dataclasses import replace
from datetime import timedelta

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import normalize_lang, t
from core.types import Inbound, InboundKind, Reply
from handlers import enrol, menu, quick, undo
from handlers.context import Context
from handlers.engine import Position, Turn, advance, interject, reprompt
from handlers.flows import FLOWS
from handlers.groups import handle_group
from handlers.inputs import storable
from storage.conversations import (
    ConversationState,
    load_for_update,
    mark_processed,
    marked_account_and_conversation,
    save_conversation,
)
from storage.db import is_stale_connection
from storage.people import account_cadre, account_view, clear_blocked

log = logging.getLogger(__name__)

_locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = weakref.WeakValueDictionary()


def _lock_for(inbound: Inbound) -> asyncio.Lock:
    key = (str(inbound.channel), inbound.chat_id if inbound.is_group else inbound.account_id)
    lock = _locks.get(key)
    if lock is None:
        lock = _locks[key] = asyncio.Lock()
    return lock


async def handle(ctx: Context, inbound: Inbound) -> list[Reply]:
    """Process one inbound message exactly once and return what to answer."""
    inbound = _storable(inbound)
    lock = _lock_for(inbound)
    async with lock:
        # A private chat's update is a few short statements; a group's may read a whole
        # unit's figures (/digest), so it does not take the short transactions' path.
        begin = ctx.db.transaction if inbound.is_group else ctx.db.short_transaction
        try:
            for attempt in (1, 2):
                try:
                    async with ctx.db.writer(), begin() as session:
                        return await _handle(session, ctx, inbound)
                except DBAPIError as err:
                    # A pooled connection found dead rolled back everything: once more,
                    # on a fresh one. (Had it died during COMMIT, the ledger of processed
                    # messages makes the second attempt a no-op.)
                    if attempt == 2 or not is_stale_connection(err):
                        raise
            raise AssertionError("unreachable")
        except Exception:
            # The transaction rolled back: the draft is as it was before this message.
            log.exception("handler failed for %s message %s", inbound.channel, inbound.message_id)
            return [Reply(t("flow.internal_error", normalize_lang(inbound.language)))]


def _storable(inbound: Inbound) -> Inbound:
    # Cleaned once here, so no text that the database would refuse reaches a draft: it
    # would fail every later save of that draft, not just this message.
    return replace(
        inbound,
        text=storable(inbound.text),
        command=storable(inbound.command),
        data=storable(inbound.data),
        photo_ref=storable(inbound.photo_ref),
        chat_title=storable(inbound.chat_title),
        message_id=storable(inbound.message_id),
    )


async def _handle(session: AsyncSession, ctx: Context, inbound: Inbound) -> list[Reply]:
    now = ctx.clock.now()
    channel, account_id = str(inbound.channel), inbound.account_id
    # The message marked processed first (an adapter that cannot name it gets no dedupe
    # rather than a false duplicate), then one query for the account: its language,
    # whether it had blocked us, its cadre; in a private chat the conversation row (locked)
    # with it, and on PostgreSQL the mark in the same statement.
    if inbound.is_group:
        if inbound.message_id and not await mark_processed(
            session, channel, inbound.message_id, now
        ):
            return []  # a redelivery: already handled
        view = await account_view(session, channel, account_id)
        lang = normalize_lang((view.language if view else "") or inbound.language)
        return await handle_group(session, ctx, inbound, lang, now)
    fresh, view, loaded = await marked_account_and_conversation(
        session, channel, account_id, inbound.message_id, now
    )
    if not fresh:
        return []  # a redelivery: already handled
    lang = normalize_lang((view.language if view else "") or inbound.language)
    cadre = view.cadre if view else None
    if cadre is None:
        replies = await enrol.enrol_cadre(session, ctx, inbound, lang, now)
        if replies:
            return replies
        bound = await account_cadre(session, str(inbound.channel), inbound.account_id)
        assert bound is not None
        return [Reply(t("enrol.welcome", lang, name=bound.name)), menu.main_menu(lang)]
    # Writing to us again means the account is reachable again (it had blocked the bot).
    if view is not None and view.blocked:
        await clear_blocked(session, str(inbound.channel), inbound.account_id)
    conv = loaded or await load_for_update(session, channel, account_id, now)
    turn = Turn(
        session=session,
        ctx=ctx,
        cadre=cadre,
        inbound=inbound,
        lang=lang,
        now=now,
        # A deep copy: a flow may change a list inside the draft in place (photos) while
        # the loaded draft is still read (an expired draft is kept as it was).
        draft=copy.deepcopy(conv.draft),
    )
    position, replies = await _converse(conv, turn)
    await undo.settle_correction(turn)
    _save(conv, position, turn, ctx)
    await save_conversation(session, conv)
    return replies


async def _converse(conv: ConversationState, turn: Turn) -> tuple[Position, list[Reply]]:
    if conv.flow and conv.expires_at is not None and conv.expires_at <= turn.now:
        turn.draft = {"_expired": {"flow": conv.flow, "step": conv.step, "draft": conv.draft}}
        turn.notes.append(menu.expired_notice(turn))
        conv.flow, conv.step = "", ""
    word = menu.global_word(turn.inbound)
    if word is not None:
        return await menu.global_action(word, conv, turn)
    flow = FLOWS.get(conv.flow)
    if flow is None:
        return await menu.idle(conv, turn)
    if menu.starts_something(turn.inbound):
        busy = Reply(turn.t("flow.busy", flow=turn.t(f"flowname.{flow.name}")))
        return Position(flow.name, conv.step, turn.draft), [
            busy,
            await reprompt(flow, conv.step, turn),
        ]
    if turn.inbound.kind == InboundKind.UNSUPPORTED:
        again = await reprompt(flow, conv.step, turn)
        return Position(flow.name, conv.step, turn.draft), [
            Reply(turn.t("flow.unsupported")),
            again,
        ]
    kept = await interject(flow, conv.step, turn)
    if kept is not None:
        return kept
    return await advance(flow, conv.step, turn)


def _save(conv: ConversationState, position: Position, turn: Turn, ctx: Context) -> None:
    conv.flow, conv.step = position.flow, position.step
    if position.flow:
        conv.draft = position.draft
    else:
        # Keep only a stashed expired draft between flows; a finished draft is gone.
        expired = turn.draft.get("_expired") if not turn.saved else None
        offered = turn.draft.get(quick.OFFERED) if not turn.saved else None
        kept = {"_expired": expired, quick.OFFERED: offered}
        conv.draft = {k: v for k, v in kept.items() if v}
    conv.updated_at = turn.now
    conv.expires_at = (
        turn.now + timedelta(minutes=ctx.policy.draft_idle_minutes) if position.flow else None
    )
    if turn.saved is not None:
        conv.last_record = {
            **turn.saved,
            "at": turn.now.isoformat(),
            "draft": {k: v for k, v in turn.draft.items() if not k.startswith("_")},
        }
