"""`bangfu invite create --phone PHONE` and `bangfu invite create --group --unit PATH`."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from bot.cli.adminkit import AdminError, admin_command, open_db, say
from bot.config import Settings, load_settings
from core.clock import SystemClock
from core.names import is_mobile, normalize_path, normalize_phone
from storage.audit import audit
from storage.cadres import cadre_by_phone, unit_by_path
from storage.invites import create_invite


def register(sub: argparse._SubParsersAction) -> None:
    invite = sub.add_parser("invite", help="绑定码 / enrolment codes").add_subparsers(
        dest="invite_cmd", required=True
    )
    create = invite.add_parser(
        "create", help="生成一次性绑定码 / create a one-time code for a cadre or a group"
    )
    create.add_argument("--phone", help="干部手机号 / the cadre's phone")
    create.add_argument("--group", action="store_true", help="督导群 / for a supervisors' group")
    create.add_argument("--unit", help="单位路径 / unit path, e.g. 博白县/顿谷镇")
    create.set_defaults(func=_create)


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@')}?start={code}"


@admin_command
async def _create(args: argparse.Namespace) -> int:
    settings = load_settings()
    now = SystemClock(settings.tz).now()
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
    async with open_db(settings) as db, db.transaction() as session:
        cadre = await cadre_by_phone(session, phone)
        if cadre is None:
            raise AdminError("invite_cli.unknown_phone", phone=phone)
        if not cadre.active:
            raise AdminError("invite_cli.inactive", name=cadre.name)
        code = await create_invite(
            session, kind="cadre", now=now, ttl=_ttl(settings), cadre_id=cadre.id
        )
        audit(
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
    async with open_db(settings) as db, db.transaction() as session:
        unit = await unit_by_path(session, path)
        if unit is None:
            raise AdminError("invite_cli.unknown_unit", unit=path)
        code = await create_invite(
            session, kind="group", now=now, ttl=_ttl(settings), unit_id=unit.id
        )
        audit(
            session, at=now, actor="cli", action="invite.create", entity="unit", entity_id=unit.id
        )
    say("invite_cli.group_code", unit=path, code=code)
    say("invite_cli.expires", at=_local(now + _ttl(settings)))
    say("invite_cli.how_group", code=code)
    if settings.wecom.enabled:
        say("wecom_cli.how_group", unit=path)


def _local(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")
