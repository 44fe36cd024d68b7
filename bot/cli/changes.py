"""Changing the roster by hand: `bangfu pairing end`, `bangfu household exit`,
`bangfu record add` (and the shared look-ups of `bangfu cadre transfer|deactivate`)."""

from __future__ import annotations

import argparse
import getpass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import adminkit
from bot.cli.adminkit import AdminError, admin_command, open_db, say
from bot.config import load_settings
from core.names import is_mobile, normalize_phone
from storage.audit import audit
from storage.back_entry import add_back_entry
from storage.cadres import cadre_by_phone
from storage.duties import HOUSEHOLD_EXITED
from storage.household_status import HOUSEHOLD_EXIT, HOUSEHOLD_STATUSES, set_household_status
from storage.models import Cadre, Household, Pairing
from storage.roster_changes import end_pairings

KINDS = {"call": "电话", "visit": "走访"}


def register(sub: argparse._SubParsersAction) -> None:
    pairing = sub.add_parser("pairing", help="结对 / pairings").add_subparsers(
        dest="pairing_cmd", required=True
    )
    end = pairing.add_parser("end", help="结束一个结对 / end a pairing (history kept)")
    end.add_argument("--phone", required=True, help="干部手机号 / the cadre's phone")
    end.add_argument("--household", required=True, help="户编号或户 ID / household code or id")
    end.add_argument("--reason", required=True, help="原因 / why, e.g. 调整帮扶责任人")
    end.set_defaults(func=_pairing_end)

    household = sub.add_parser("household", help="帮扶户 / households").add_subparsers(
        dest="household_cmd", required=True
    )
    exit_ = household.add_parser("exit", help="户退出帮扶 / a household leaves the programme")
    exit_.add_argument("--id", required=True, help="户编号或户 ID / household code or id")
    exit_.add_argument("--status", required=True, help="退出情形 / e.g. 迁出、自然消亡、清退")
    exit_.add_argument("--date", default="", help="退出日期 / since when (default: today)")
    exit_.set_defaults(func=_household_exit)
    status = household.add_parser("status", help="户状态 / 脱贫、监测户、已消除风险、退出")
    status.add_argument("--id", required=True, help="户编号或户 ID / household code or id")
    status.add_argument(
        "--status", required=True, help="户状态 / one of " + "、".join(HOUSEHOLD_STATUSES)
    )
    status.add_argument("--date", default="", help="日期 / since when (default: today)")
    status.add_argument("--reason", default="", help="说明 / a note, e.g. 迁出")
    status.set_defaults(func=_household_status)

    record = sub.add_parser("record", help="补录 / records").add_subparsers(
        dest="record_cmd", required=True
    )
    add = record.add_parser("add", help="代干部补录电话或走访 / enter a call or visit for a cadre")
    add.add_argument("--phone", required=True, help="干部手机号 / the cadre's phone")
    add.add_argument("--household", required=True, help="户编号或户 ID / household code or id")
    add.add_argument("--kind", required=True, choices=sorted(KINDS), help="call 电话 | visit 走访")
    add.add_argument("--date", required=True, help="日期 / when, e.g. 2026-11-20")
    add.add_argument("--note", default="", help="情况 / what was done")
    add.add_argument("--by", default="", help="录入人 / who enters it (default: the OS user)")
    add.set_defaults(func=_record_add)


async def cadre_of(session: AsyncSession, raw_phone: str) -> Cadre:
    """The cadre with this phone, or a clean refusal."""
    phone = normalize_phone(raw_phone)
    if not is_mobile(phone):
        raise AdminError("invite_cli.bad_phone", phone=raw_phone)
    cadre = await cadre_by_phone(session, phone)
    if cadre is None:
        raise AdminError("invite_cli.unknown_phone", phone=phone)
    return cadre


async def household_of(session: AsyncSession, raw: str) -> Household:
    """A household by its 户编号, else by its numeric id; or a clean refusal."""
    key = raw.strip()
    found = await session.scalar(select(Household).where(Household.code == key))
    if found is None and key.isdigit() and len(key) < 18:
        found = await session.get(Household, int(key))
    if found is None:
        raise AdminError("changes.unknown_household", id=key)
    return found


@admin_command
async def _pairing_end(args: argparse.Namespace) -> int:
    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    reason = args.reason.strip()
    if not reason:
        raise AdminError("changes.need_reason")
    async with open_db(settings) as db, db.transaction() as s:
        cadre = await cadre_of(s, args.phone)
        household = await household_of(s, args.household)
        pairing = await s.scalar(
            select(Pairing).where(
                Pairing.cadre_id == cadre.id,
                Pairing.household_id == household.id,
                Pairing.active.is_(True),
            )
        )
        if pairing is None:
            raise AdminError("changes.no_pairing", name=cadre.name, head=household.head_name)
        await end_pairings(s, [pairing.id], on=now.date(), reason=reason)
        audit(
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
    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    status = args.status.strip()
    if not status or len(status) > 20:
        raise AdminError("changes.bad_status", value=args.status)
    day = _record_date(args.date, now.date()) if args.date.strip() else now.date()
    async with open_db(settings) as db, db.transaction() as s:
        household = await household_of(s, args.id)
        if household.status == HOUSEHOLD_EXITED:
            raise AdminError("changes.already_exited", head=household.head_name)
        count = await set_household_status(
            s, household, HOUSEHOLD_EXIT, on=day, now=now, actor="cli", reason=status
        )
    say("changes.household_exited", head=household.head_name, status=status, count=count)
    return 0


@admin_command
async def _household_status(args: argparse.Namespace) -> int:
    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    label = args.status.strip()
    if label not in HOUSEHOLD_STATUSES:
        raise AdminError(
            "changes.unknown_status", value=args.status, known="、".join(HOUSEHOLD_STATUSES)
        )
    day = _record_date(args.date, now.date()) if args.date.strip() else now.date()
    reason = args.reason.strip()[:50]
    async with open_db(settings) as db, db.transaction() as s:
        household = await household_of(s, args.id)
        if household.status == HOUSEHOLD_EXITED:
            raise AdminError("changes.already_exited", head=household.head_name)
        count = await set_household_status(
            s, household, label, on=day, now=now, actor="cli", reason=reason
        )
    if label == HOUSEHOLD_EXIT:
        say("changes.household_exited", head=household.head_name, status=label, count=count)
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
    settings = load_settings()
    now = adminkit.admin_clock(settings).now()
    day = _record_date(args.date, now.date())
    who = f"cli:{args.by.strip() or getpass.getuser()}"[:100]
    async with open_db(settings) as db, db.transaction() as s:
        cadre = await cadre_of(s, args.phone)
        household = await household_of(s, args.household)
        pairing = await s.scalar(
            select(Pairing).where(
                Pairing.cadre_id == cadre.id, Pairing.household_id == household.id
            )
        )
        if pairing is None or not _paired_on(pairing, day):
            raise AdminError("changes.not_paired_on", name=cadre.name, head=household.head_name)
        contact = await add_back_entry(
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
        id=contact.id,
    )
    return 0


def _paired_on(pairing: Pairing, day: date) -> bool:
    """The pairing had not ended before `day` (its start is the import date, often later)."""
    return pairing.end_date is None or day <= pairing.end_date
