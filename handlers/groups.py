"""Supervisors' groups: /bind CODE, then /digest and /overdue for the group's unit only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import t
from core.types import Inbound, InboundKind, Reply
from handlers import enrol
from handlers.context import Context
from storage.people import group_unit

GROUP_COMMANDS = ("bind", "digest", "overdue", "help", "start")


async def handle_group(
    session: AsyncSession, ctx: Context, inbound: Inbound, lang: str, now: datetime
) -> list[Reply]:
    # Groups are busy places: answer only our own commands, stay silent otherwise.
    if inbound.kind != InboundKind.COMMAND or inbound.command not in GROUP_COMMANDS:
        return []
    if inbound.command == "bind":
        return await enrol.enrol_group(session, ctx, inbound, lang, now)
    unit = await group_unit(session, str(inbound.channel), inbound.chat_id)
    if unit is None:
        return [Reply(t("group.unbound", lang))]
    if inbound.command in ("help", "start"):
        return [Reply(t("group.help", lang, unit=unit.path))]
    if ctx.group_commands is None:
        return [Reply(t("group.not_available", lang))]
    if inbound.command == "digest":
        return await ctx.group_commands.digest(unit.id, lang)
    return await ctx.group_commands.overdue(unit.id, lang)
