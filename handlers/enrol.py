"""Binding: a cadre sends /start CODE in private; a supervisors' group sends /bind CODE.

Codes can be guessed, so wrong ones are counted (in the audit log): after a few from one
account that account waits, longer with each further wrong code; many from everyone in a
short time pause that kind of code for all. A waiting attempt is refused without looking
at the code, and audited too.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import t
from core.policy import EnrolLimits
from core.types import Inbound, Reply
from handlers.context import Context
from storage.audit import audit, recent
from storage.invites import InviteError, Redeemed, redeem_invite
from storage.models import Unit
from storage.people import bind_account, bind_group


def _code(inbound: Inbound) -> str:
    return inbound.text.strip().split()[0] if inbound.text.strip() else ""


FAILED = "enrol.failed"


def account_wait(failures: int, limits: EnrolLimits) -> timedelta:
    """The wait after `failures` wrong codes: none for the first few, then doubling."""
    over = failures - limits.free_attempts
    if over < 0:
        return timedelta(0)
    minutes = limits.first_wait_minutes * 2 ** min(over, 20)
    return timedelta(minutes=min(minutes, limits.max_wait_minutes))


async def _wait(
    session: AsyncSession, who: str, kind: str, limits: EnrolLimits, now: datetime
) -> tuple[timedelta, str]:
    """How long this account must still wait before trying a code, and which text says so."""
    since = now - timedelta(hours=limits.lookback_hours)
    failures, last = await recent(session, action=FAILED, since=since, actor=who)
    if last is not None:
        left = last + account_wait(failures, limits) - now
        if left > timedelta(0):
            return left, "enrol.throttled"
    window = timedelta(minutes=limits.space_window_minutes)
    everyone, _ = await recent(session, action=FAILED, since=now - window, entity_id=kind)
    if everyone >= limits.space_failures:
        return window, "enrol.throttled_all"
    return timedelta(0), ""


def _minutes(wait: timedelta) -> int:
    return max(1, math.ceil(wait.total_seconds() / 60))


async def _redeem(
    session: AsyncSession,
    ctx: Context,
    inbound: Inbound,
    code: str,
    kind: str,
    lang: str,
    now: datetime,
) -> Redeemed | list[Reply]:
    """The invite behind `code`, used up now; or the answers saying why it cannot be."""
    who, limits = _who(inbound), ctx.policy.enrolment
    wait, key = await _wait(session, who, kind, limits, now)
    if wait:
        audit(session, at=now, actor=who, action="enrol.throttled", entity="invite", entity_id=kind)
        return [Reply(t(key, lang, minutes=_minutes(wait)))]
    try:
        return await redeem_invite(session, code, kind=kind, now=now, used_by=who)
    except InviteError as err:
        audit(
            session,
            at=now,
            actor=who,
            action=FAILED,
            entity="invite",
            entity_id=kind,
            reason=err.reason,
        )
        replies = [Reply(t(f"enrol.code_{err.reason}", lang))]
        wait, key = await _wait(session, who, kind, limits, now)
        if wait:
            replies.append(Reply(t(key, lang, minutes=_minutes(wait))))
        return replies


def _who(inbound: Inbound) -> str:
    return f"{inbound.channel}:{inbound.account_id}"


async def enrol_cadre(
    session: AsyncSession, ctx: Context, inbound: Inbound, lang: str, now: datetime
) -> list[Reply]:
    """An unbound private chat: bind with /start CODE, otherwise explain how."""
    code = _code(inbound) if inbound.command == "start" else ""
    if not code:
        return [Reply(t("enrol.unbound", lang))]
    redeemed = await _redeem(session, ctx, inbound, code, "cadre", lang, now)
    if isinstance(redeemed, list):
        return redeemed
    assert redeemed.cadre_id is not None
    await bind_account(
        session,
        channel=str(inbound.channel),
        account_id=inbound.account_id,
        chat_id=inbound.chat_id,
        cadre_id=redeemed.cadre_id,
        language=lang,
        now=now,
    )
    audit(
        session,
        at=now,
        actor=_who(inbound),
        action="account.bind",
        entity="cadre",
        entity_id=redeemed.cadre_id,
    )
    return []  # the caller greets the newly bound cadre with the menu


async def enrol_group(
    session: AsyncSession, ctx: Context, inbound: Inbound, lang: str, now: datetime
) -> list[Reply]:
    code = _code(inbound)
    if not code:
        return [Reply(t("group.bind_how", lang))]
    redeemed = await _redeem(session, ctx, inbound, code, "group", lang, now)
    if isinstance(redeemed, list):
        return redeemed
    assert redeemed.unit_id is not None
    await bind_group(
        session,
        channel=str(inbound.channel),
        chat_id=inbound.chat_id,
        unit_id=redeemed.unit_id,
        title=inbound.chat_title,
        now=now,
    )
    unit = await session.get(Unit, redeemed.unit_id)
    audit(
        session,
        at=now,
        actor=_who(inbound),
        action="group.bind",
        entity="unit",
        entity_id=redeemed.unit_id,
        chat=inbound.chat_id,
    )
    day = t(f"group.weekday.{ctx.digest_day}", lang)
    return [
        Reply(t("group.bound", lang, unit=unit.path if unit else "", day=day, time=ctx.digest_time))
    ]
