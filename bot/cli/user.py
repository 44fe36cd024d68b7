"""`bangfu user create|list|disable|reset`: the web console's office accounts."""

from __future__ import annotations

import argparse

from bot.cli.adminkit import AdminError, admin_command, open_core_db, say
from bot.config import load_settings
from core.clock import SystemClock
from storage.audit import audit_now
from storage.cadres import unit_by_path
from storage.webusers import (
    add_user,
    list_users,
    set_active,
    set_password_hash,
    user_by_name,
)
from webconsole.passwords import hash_password, initial_password


@admin_command
async def _create(args: argparse.Namespace) -> int:
    settings = load_settings()
    name = args.name.strip()
    if not name or len(name) > 50:
        raise AdminError("user_cli.bad_name", name=args.name)
    password = initial_password()
    now = SystemClock(settings.tz).now()
    async with open_core_db(settings) as db, db.transaction() as s:
        unit = await unit_by_path(s, args.unit.strip().strip("/"))
        if unit is None:
            raise AdminError("user_cli.unknown_unit", unit=args.unit)
        if await user_by_name(s, name) is not None:
            raise AdminError("user_cli.exists", name=name)
        account_id = await add_user(
            s,
            name=name,
            unit_id=unit.id,
            role=args.role,
            password_hash=hash_password(password),
            at=now,
        )
        await audit_now(
            s,
            at=now,
            actor="cli",
            action="web_user.create",
            entity="web_user",
            entity_id=account_id,
            unit=unit.path,
            role=args.role,
        )
    say("user_cli.created", name=name, unit=unit.path, role=args.role)
    print(password)
    say("user_cli.password_once")
    return 0


@admin_command
async def _list(args: argparse.Namespace) -> int:
    settings = load_settings()
    async with open_core_db(settings) as db, db.sessions() as s:
        rows = await list_users(s)
    if not rows:
        say("user_cli.none")
    for account, path in rows:
        state = "" if account.active else "  [停用 disabled]"
        print(f"{account.name}\t{account.role}\t{path}{state}")
    return 0


async def _set_active(args: argparse.Namespace, active: bool) -> int:
    settings = load_settings()
    now = SystemClock(settings.tz).now()
    async with open_core_db(settings) as db, db.transaction() as s:
        account = await user_by_name(s, args.name.strip())
        if account is None:
            raise AdminError("user_cli.unknown", name=args.name)
        await set_active(s, account.id, active)
        await audit_now(
            s,
            at=now,
            actor="cli",
            action="web_user.enable" if active else "web_user.disable",
            entity="web_user",
            entity_id=account.id,
        )
    say("user_cli.enabled" if active else "user_cli.disabled", name=account.name)
    return 0


@admin_command
async def _disable(args: argparse.Namespace) -> int:
    return await _set_active(args, False)


@admin_command
async def _enable(args: argparse.Namespace) -> int:
    return await _set_active(args, True)


@admin_command
async def _reset(args: argparse.Namespace) -> int:
    settings = load_settings()
    now = SystemClock(settings.tz).now()
    password = initial_password()
    async with open_core_db(settings) as db, db.transaction() as s:
        account = await user_by_name(s, args.name.strip())
        if account is None:
            raise AdminError("user_cli.unknown", name=args.name)
        await set_password_hash(s, account.id, hash_password(password))
        await audit_now(
            s, at=now, actor="cli", action="web_user.reset", entity="web_user", entity_id=account.id
        )
    say("user_cli.reset", name=account.name)
    print(password)
    say("user_cli.password_once")
    return 0
