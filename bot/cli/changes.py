"""Changing the roster by hand: `bangfu pairing end`, `bangfu household exit`,
`bangfu record add` (and the shared look-ups of `bangfu cadre transfer|deactivate`)."""

from __future__ import annotations

import argparse
import getpass
from datetime import date
from typing import Any

from sqlalchemy import Row, select

from bot.cli import adminkit
from bot.cli.adminkit import AdminError, admin_command, open_core_db, say
from bot.config import load_settings
from core.names import is_mobile, normalize_phone
from storage.cadres import cadre_by_phone
from storage.core_db import Executor
from storage.tables import households

# Each command imports its storage when it runs: a table module is declared on import, and
# `cadre transfer` (which shares `cadre_of`) should not declare what `record add` needs.

KINDS = {"call": "电话", "visit": "走访"}


async def cadre_of(session: Executor, raw_phone: str) -> Row[Any]:
    """The cadre with this phone, or a clean refusal."""
    phone = normalize_phone(raw_phone)
    if not is_mobile(phone):
        raise AdminError("invite_cli.bad_phone", phone=raw_phone)
    cadre = await cadre_by_phone(session, phone)
    if cadre is None:
        raise AdminError("invite_cli.unknown_phone", phone=phone)
    return cadre


async def household_of(session: Executor, raw: str) -> Row[Any]:
    """A household by its 户编号, else by its numeric id; or a clean refusal."""
    key = raw.strip()
    found = (await session.execute(select(households).where(households.c.code == key))).first()
    if found is None and key.isdigit() and len(key) < 18:
        by_id = select(households).where(households.c.id == int(key))
        found = (await session.execute(by_id)).first()
    if found is None:
        raise AdminError("changes.unknown_household", id=key)
    return found


@admin_command
async def _pairing_end(args: argparse.Namespace) -> int:
    from storage.audit import audit_now
    from storage.roster_changes import end_pairings
    from storage.tables import pairings

    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    reason = args.reason.strip()
    if not reason:
        raise AdminError("changes.need_reason")
    async with open_core_db(settings) as db, db.transaction() as s:
        cadre = await cadre_of(s, args.phone)
        household = await household_of(s, args.household)
        found = await s.execute(
            select(pairings.c.id).where(
                pairings.c.cadre_id == cadre.id,
                pairings.c.household_id == household.id,
                pairings.c.active.is_(True),
            )
        )
        pairing = found.first()
        if pairing is None:
            raise AdminError("changes.no_pairing", name=cadre.name, head=household.head_name)
        await end_pairings(s, [pairing.id], on=now.date(), reason=reason)
        await audit_now(
            s,
            at=now,
            actor="cli",
            action="pairing.end",
            entity="pairing",
            entity_id=pairing.id,
            reason=reason,
        )
    say("changes.pairing_ended", name=cadre.name, head=household.head_name, reason=reason)
    return 0


@admin_command
async def _household_exit(args: argparse.Namespace) -> int:
    from storage.household_status import HOUSEHOLD_EXIT

    status = args.status.strip()
    if not status or len(status) > 20:
        raise AdminError("changes.bad_status", value=args.status)
    return await _set_status(args, HOUSEHOLD_EXIT, reason=status, shown=status)


@admin_command
async def _household_status(args: argparse.Namespace) -> int:
    from storage.household_status import HOUSEHOLD_STATUSES

    label = args.status.strip()
    if label not in HOUSEHOLD_STATUSES:
        raise AdminError(
            "changes.unknown_status", value=args.status, known="、".join(HOUSEHOLD_STATUSES)
        )
    return await _set_status(args, label, reason=args.reason.strip()[:50], shown=label)


async def _set_status(args: argparse.Namespace, label: str, *, reason: str, shown: str) -> int:
    """`household exit` and `household status`: one household's status from a given day.

    `shown` is what the exit message names: exit's own reason (迁出), or the label (退出).
    """
    from storage.household_status import HOUSEHOLD_EXIT, set_household_status
    from storage.tables.household import HOUSEHOLD_EXITED

    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    day = _record_date(args.date, now.date()) if args.date.strip() else now.date()
    async with open_core_db(settings) as db, db.transaction() as s:
        household = await household_of(s, args.id)
        if household.status == HOUSEHOLD_EXITED:
            raise AdminError("changes.already_exited", head=household.head_name)
        count = await set_household_status(
            s, household.id, label, on=day, now=now, actor="cli", reason=reason
        )
    if label == HOUSEHOLD_EXIT:
        say("changes.household_exited", head=household.head_name, status=shown, count=count)
    else:
        say("changes.household_status", head=household.head_name, status=label, day=day)
    return 0


def _record_date(raw: str, today: date) -> date:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise AdminError("cadre_cli.bad_date", value=raw) from None
    if day > today:
        raise AdminError("changes.future_date", value=raw)
    return day


@admin_command
async def _record_add(args: argparse.Namespace) -> int:
    from storage.back_entry import add_back_entry, paired_on, pairing_ends

    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    day = _record_date(args.date, now.date())
    who = f"cli:{args.by.strip() or getpass.getuser()}"[:100]
    async with open_core_db(settings) as db, db.transaction() as s:
        cadre = await cadre_of(s, args.phone)
        household = await household_of(s, args.household)
        if not paired_on(await pairing_ends(s, cadre.id, household.id), day):
            raise AdminError("changes.not_paired_on", name=cadre.name, head=household.head_name)
        contact_id = await add_back_entry(
            s,
            cadre_id=cadre.id,
            household_id=household.id,
            kind=args.kind,
            occurred_on=day,
            note=args.note.strip()[:2000],
            entered_by=who,
            now=now,
        )
    say(
        "changes.record_added",
        kind=KINDS[args.kind],
        name=cadre.name,
        head=household.head_name,
        day=day.isoformat(),
        by=who,
        id=contact_id,
    )
    return 0
