"""`bangfu invite create --phone PHONE` and `bangfu invite create --group --unit PATH`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from pathlib import Path

from bot.cli import adminkit
from bot.cli.adminkit import AdminError, admin_command, open_core_db, say
from bot.config import Settings, load_settings
from core.names import is_mobile, normalize_path, normalize_phone
from storage.audit import audit_now
from storage.cadres import cadre_by_phone, unit_by_path
from storage.core_db import CoreDatabase
from storage.invites import (
    Invitee,
    create_cadre_invites,
    create_invite,
    live_codes,
    new_code,
    retire_codes,
    unbound_cadres,
)


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


@admin_command
async def _create(args: argparse.Namespace) -> int:
    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    if args.group:
        if not args.unit:
            raise AdminError("invite_cli.need_unit")
        await _group_code(settings, normalize_path(args.unit), now)
    elif args.phone:
        phone = normalize_phone(args.phone)
        if not is_mobile(phone):
            raise AdminError("invite_cli.bad_phone", phone=args.phone)
        await _cadre_code(settings, phone, now)
    else:
        raise AdminError("invite_cli.need_phone")
    return 0


def _ttl(settings: Settings) -> timedelta:
    return timedelta(hours=settings.invite_ttl_hours)


async def _cadre_code(settings: Settings, phone: str, now: datetime) -> None:
    async with open_core_db(settings) as db, db.transaction() as session:
        cadre = await cadre_by_phone(session, phone)
        if cadre is None:
            raise AdminError("invite_cli.unknown_phone", phone=phone)
        if not cadre.active:
            raise AdminError("invite_cli.inactive", name=cadre.name)
        code = await create_invite(
            session, kind="cadre", now=now, ttl=_ttl(settings), cadre_id=cadre.id
        )
        await audit_now(
            session, at=now, actor="cli", action="invite.create", entity="cadre", entity_id=cadre.id
        )
    say("invite_cli.cadre_code", name=cadre.name, phone=phone, code=code)
    say("invite_cli.expires", at=_local(now + _ttl(settings)))
    say("invite_cli.how_cadre", code=code)
    if settings.telegram.bot_username:
        say("invite_cli.deep_link", link=deep_link(settings.telegram.bot_username, code))
    if settings.wecom.enabled:
        say("wecom_cli.how_cadre", code=code)


async def _group_code(settings: Settings, path: str, now: datetime) -> None:
    async with open_core_db(settings) as db, db.transaction() as session:
        unit = await unit_by_path(session, path)
        if unit is None:
            raise AdminError("invite_cli.unknown_unit", unit=path)
        code = await create_invite(
            session, kind="group", now=now, ttl=_ttl(settings), unit_id=unit.id
        )
        await audit_now(
            session, at=now, actor="cli", action="invite.create", entity="unit", entity_id=unit.id
        )
    say("invite_cli.group_code", unit=path, code=code)
    say("invite_cli.expires", at=_local(now + _ttl(settings)))
    say("invite_cli.how_group", code=code)
    if settings.wecom.enabled:
        say("wecom_cli.how_group", unit=path)


@admin_command
async def _sheet(args: argparse.Namespace) -> int:
    from bot.roster.sheet import SUFFIXES

    path: Path = args.file
    if path.suffix.lower() not in SUFFIXES:
        raise AdminError("invite_sheet.bad_suffix", suffix=path.suffix or "?")
    phones = [normalize_phone(p) for p in args.phone]
    for raw, phone in zip(args.phone, phones, strict=True):
        if not is_mobile(phone):
            raise AdminError("invite_cli.bad_phone", phone=raw)
    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    unit = normalize_path(args.unit)
    async with open_core_db(settings) as db:
        invitees, held = await _invitees(db, unit, phones, now, renew=args.renew)
        codes = _fresh_codes([p.cadre_id for p in invitees])
        # The file first, the codes stored after: a failed write leaves no unprinted code,
        # and the write transaction stays short however long a county's sheet takes.
        tmp = path.with_name(f".{path.stem}.part{path.suffix}")
        _write_sheet(tmp, invitees, codes, settings, now)
        try:
            await _store_codes(db, codes, now, _ttl(settings), renew=args.renew)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(path)
    say("invite_sheet.written", path=path, count=len(codes))
    if held:
        say("invite_sheet.held", file=sys.stderr, count=held)
    return 0


async def _invitees(
    db: CoreDatabase, unit: str, phones: list[str], now: datetime, *, renew: bool
) -> tuple[list[Invitee], int]:
    """Who gets a code, and how many were left out because they hold an unused one."""
    async with db.sessions() as session:
        if await unit_by_path(session, unit) is None:
            raise AdminError("invite_cli.unknown_unit", unit=unit)
        invitees = await unbound_cadres(session, unit, phones)
        if not invitees:
            raise AdminError("invite_sheet.nobody", unit=unit)
        if renew:
            return invitees, 0
        held = await live_codes(session, [p.cadre_id for p in invitees], now)
    kept = [p for p in invitees if p.cadre_id not in held]
    if not kept:
        raise AdminError("invite_sheet.all_held", count=len(held))
    return kept, len(held)


def _fresh_codes(cadre_ids: list[int]) -> dict[int, str]:
    """A distinct new code per cadre."""
    codes: dict[int, str] = {}
    taken: set[str] = set()
    for cid in cadre_ids:
        code = new_code()
        while code in taken:  # rare among 31**10 codes, and never two alike on one sheet
            code = new_code()
        taken.add(code)
        codes[cid] = code
    return codes


async def _store_codes(
    db: CoreDatabase, codes: dict[int, str], now: datetime, ttl: timedelta, *, renew: bool
) -> None:
    async with db.transaction() as session:
        if renew:
            await retire_codes(session, list(codes), now)
        await create_cadre_invites(session, codes, now=now, ttl=ttl)
        await audit_now(
            session,
            at=now,
            actor="cli",
            action="invite.sheet",
            entity="cadre",
            count=len(codes),
            renew=renew,
        )


def _write_sheet(
    path: Path,
    invitees: list[Invitee],
    codes: dict[int, str],
    settings: Settings,
    now: datetime,
) -> None:
    from bot.roster.sheet import SheetRow, write_sheet

    bot = settings.telegram.bot_username
    rows = [
        SheetRow(
            name=p.name,
            unit=p.unit_path,
            phone=p.phone,
            code=codes[p.cadre_id],
            link=deep_link(bot, codes[p.cadre_id]) if bot else "",
        )
        for p in invitees
    ]
    write_sheet(path, rows, expires=_local(now + _ttl(settings)))


def _local(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")
