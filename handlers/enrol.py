"""Binding: a cadre sends /start CODE in private; a supervisors' group sends /bind CODE."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import t
from core.types import Inbound, Reply
from handlers.context import Context
from storage.audit import audit
from storage.invites import InviteError, Redeemed, redeem_invite
from storage.models import Unit
from storage.people import bind_account, bind_group


def _code(inbound: Inbound) -> str:
    return inbound.text.strip().split()[0] if inbound.text.strip() else ""


async def _redeem(
    session: AsyncSession, inbound: Inbound, code: str, kind: str, lang: str, now: datetime
) -> Redeemed | Reply:
    """The invite behind `code`, used up now; or the answer saying why it cannot be."""
    try:
        return await redeem_invite(session, code, kind=kind, now=now, used_by=_who(inbound))
    except InviteError as err:
        return Reply(t(f"enrol.code_{err.reason}", lang))


def _who(inbound: Inbound) -> str:
    return f"{inbound.channel}:{inbound.account_id}"


async def enrol_cadre(
    session: AsyncSession, inbound: Inbound, lang: str, now: datetime
) -> list[Reply]:
    """An unbound private chat: bind with /start CODE, otherwise explain how."""
    code = _code(inbound) if inbound.command == "start" else ""
    if not code:
        return [Reply(t("enrol.unbound", lang))]
    redeemed = await _redeem(session, inbound, code, "cadre", lang, now)
    if isinstance(redeemed, Reply):
        return [redeemed]
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
    redeemed = await _redeem(session, inbound, code, "group", lang, now)
    if isinstance(redeemed, Reply):
        return [redeemed]
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
