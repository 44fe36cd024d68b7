"""`bangfu cadre leave --phone PHONE --until DATE | --clear`."""

from __future__ import annotations

import argparse
from datetime import date

from bot.cli.adminkit import AdminError, admin_command, open_db, say
from bot.config import load_settings
from core.clock import SystemClock
from core.names import is_mobile, normalize_phone
from storage.audit import audit
from storage.cadres import cadre_by_phone, set_leave


def register(sub: argparse._SubParsersAction) -> None:
    cadre = sub.add_parser("cadre", help="干部 / cadres").add_subparsers(
        dest="cadre_cmd", required=True
    )
    leave = cadre.add_parser("leave", help="登记或取消请假 / record or clear a leave")
    leave.add_argument("--phone", required=True, help="干部手机号 / the cadre's phone")
    until = leave.add_mutually_exclusive_group(required=True)
    until.add_argument("--until", help="请假至（含）/ on leave through, e.g. 2026-12-31")
    until.add_argument("--clear", action="store_true", help="取消请假 / end the leave")
    leave.set_defaults(func=_leave)


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
    now = SystemClock(settings.tz).now()
    until = None if args.clear else _parse_until(args.until, now.date())
    phone = normalize_phone(args.phone)
    if not is_mobile(phone):
        raise AdminError("invite_cli.bad_phone", phone=args.phone)
    async with open_db(settings) as db, db.transaction() as session:
        cadre = await cadre_by_phone(session, phone)
        if cadre is None:
            raise AdminError("invite_cli.unknown_phone", phone=phone)
        await set_leave(session, cadre.id, until)
        audit(
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
