"""`bangfu cadre leave|transfer|deactivate --phone PHONE ...`."""

from __future__ import annotations

import argparse
from datetime import date

from bot.cli import adminkit
from bot.cli.adminkit import AdminError, admin_command, open_core_db, say
from bot.config import load_settings
from core.names import is_mobile, normalize_path, normalize_phone
from storage.audit import audit_now
from storage.cadres import cadre_by_phone, set_leave


def _parse_until(raw: str, today: date) -> date:
    try:
        until = date.fromisoformat(raw.strip())
    except ValueError:
        raise AdminError("cadre_cli.bad_date", value=raw) from None
    if until < today:
        raise AdminError("cadre_cli.past_date", value=raw)
    return until


@admin_command
async def _leave(args: argparse.Namespace) -> int:
    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    until = None if args.clear else _parse_until(args.until, now.date())
    phone = normalize_phone(args.phone)
    if not is_mobile(phone):
        raise AdminError("invite_cli.bad_phone", phone=args.phone)
    async with open_core_db(settings) as db, db.transaction() as session:
        cadre = await cadre_by_phone(session, phone)
        if cadre is None:
            raise AdminError("invite_cli.unknown_phone", phone=phone)
        await set_leave(session, cadre.id, until)
        await audit_now(
            session,
            at=now,
            actor="cli",
            action="cadre.leave",
            entity="cadre",
            entity_id=cadre.id,
            until=until.isoformat() if until else None,
        )
    if until is None:
        say("cadre_cli.leave_cleared", name=cadre.name, phone=phone)
    else:
        say("cadre_cli.leave_set", name=cadre.name, phone=phone, until=until.isoformat())
    return 0


@admin_command
async def _transfer(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.cli.changes import cadre_of
    from storage.cadres import unit_by_path
    from storage.roster_changes import active_pairings, end_pairings, move_cadre
    from storage.tables import units

    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    path = normalize_path(args.unit)
    async with open_core_db(settings) as db, db.transaction() as session:
        cadre = await cadre_of(session, args.phone)
        unit = await unit_by_path(session, path)
        if unit is None:
            raise AdminError("invite_cli.unknown_unit", unit=path)
        old = (await session.execute(select(units).where(units.c.id == cadre.unit_id))).first()
        if unit.id == cadre.unit_id:
            raise AdminError("changes.same_unit", name=cadre.name, unit=path)
        ended = await active_pairings(session, cadre_ids=[cadre.id]) if args.end_pairings else []
        await end_pairings(session, [p.id for p in ended], on=now.date(), reason="调动")
        await move_cadre(session, cadre.id, unit.id)
        await audit_now(
            session,
            at=now,
            actor="cli",
            action="cadre.transfer",
            entity="cadre",
            entity_id=cadre.id,
            from_unit=old.path if old else "",
            to_unit=path,
            pairings_ended=len(ended),
        )
    say("changes.transferred", name=cadre.name, old=old.path if old else "", new=path)
    if ended:
        say("changes.pairings_ended", count=len(ended))
    return 0


@admin_command
async def _deactivate(args: argparse.Namespace) -> int:
    from bot.cli.changes import cadre_of
    from storage.roster_changes import active_pairings, end_pairings, set_cadres_inactive

    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    async with open_core_db(settings) as db, db.transaction() as session:
        cadre = await cadre_of(session, args.phone)
        if not cadre.active:
            raise AdminError("changes.already_inactive", name=cadre.name)
        ended = await active_pairings(session, cadre_ids=[cadre.id])
        await end_pairings(session, [p.id for p in ended], on=now.date(), reason="干部停用")
        await set_cadres_inactive(session, [cadre.id], now=now)
        await audit_now(
            session,
            at=now,
            actor="cli",
            action="cadre.deactivate",
            entity="cadre",
            entity_id=cadre.id,
            pairings_ended=len(ended),
        )
    say("changes.deactivated", name=cadre.name, phone=cadre.phone, count=len(ended))
    return 0
