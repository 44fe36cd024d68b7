"""WeCom admin commands.

`bangfu group add-wecom`: bind a unit's supervisors' group through its WeCom robot.
`bangfu wecom check`: try the app's credentials (and optionally message one member).
"""

from __future__ import annotations

import argparse
import re
import sys
from urllib.parse import parse_qs, urlsplit

from bot.channels.base import SendError
from bot.channels.wecom.api import PlainHttp, WecomError
from bot.channels.wecom.directory import Lookup, Member, find_userids
from bot.channels.wecom.setup import api_for, check_wecom_settings
from bot.cli import adminkit
from bot.cli.adminkit import AdminError, admin_command, open_core_db, open_db, say
from bot.config import load_settings
from core.clock import SystemClock
from core.i18n import t
from core.names import normalize_path
from core.types import Channel, Reply
from storage.audit import audit, audit_now
from storage.cadres import unit_by_path
from storage.core_db import CoreDatabase
from storage.invites import unbound_cadres
from storage.wecom_directory import bind_wecom_users

_KEY = re.compile(r"^[A-Za-z0-9-]{8,100}$")


def normalize_key(raw: str) -> str | None:
    """The key itself, also when the whole webhook URL was pasted; None when malformed."""
    raw = raw.strip()
    if "key=" in raw:
        raw = parse_qs(urlsplit(raw).query).get("key", [""])[0]
    return raw if _KEY.match(raw) else None


@admin_command
async def _add_wecom(args: argparse.Namespace) -> int:
    from bot.channels.wecom.robot import mask_key  # not for `wecom sync`
    from storage.people import register_group  # not for `wecom sync`: it declares 8 tables

    key = normalize_key(args.webhook_key)
    if key is None:
        raise AdminError("wecom_cli.bad_key")
    settings = load_settings()
    now = SystemClock(settings.tz).now()
    path = normalize_path(args.unit)
    async with open_db(settings) as db, db.transaction() as s:
        unit = await unit_by_path(s, path)
        if unit is None:
            raise AdminError("wecom_cli.unit_missing", path=path)
        group, created = await register_group(
            s,
            channel=Channel.WECOM_ROBOT,
            chat_id=key,
            unit_id=unit.id,
            title=args.title,
            now=now,
        )
        audit(
            s,
            at=now,
            actor="cli",
            action="group.add_wecom",
            entity="supervisor_group",
            entity_id=group.id,
            unit=unit.path,
            key=mask_key(key),  # the key is a secret: never in full outside its row
        )
        unit_path, group_id = unit.path, group.id
    text = "wecom_cli.added" if created else "wecom_cli.updated"
    say(text, unit=unit_path, key=mask_key(key), id=group_id)
    if args.test:
        return await _test_message(settings.wecom.api_url, key, unit_path)
    return 0


async def _test_message(api_url: str, key: str, unit: str) -> int:
    """Send one short markdown through the robot, so a wrong key shows at once."""
    import aiohttp

    from bot.channels.wecom.robot import RobotSender

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        robot = RobotSender(session, base_url=api_url)
        try:
            await robot.send(key, Reply(text=t("wecom_cli.test_message", "zh", unit=unit)))
        except SendError as exc:
            say("wecom_cli.test_failed", error=str(exc))
            return 1
    say("wecom_cli.test_sent")
    return 0


HINTS = {40001, 40013, 60020, 48002, 81013, 40056}


async def _check(args: argparse.Namespace) -> int:
    """Fetch a token (and send a test message): shows set-up mistakes before go-live."""
    import aiohttp

    settings = load_settings()
    check_wecom_settings(settings.wecom)  # a ConfigError names the bad setting
    wc = settings.wecom
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
        api = api_for(wc, session)
        try:
            await api.access_token()
            say("wecom_cli.check_token_ok", corp=wc.corp_id, agent=wc.agent_id)
            if args.send_to:
                await api.send_text(args.send_to, t("wecom_cli.check_message", settings.language))
                say("wecom_cli.check_sent", user=args.send_to)
        except WecomError as exc:
            hint = (
                f"wecom_cli.hint_{exc.errcode}" if exc.errcode in HINTS else "wecom_cli.hint_other"
            )
            say("wecom_cli.check_failed", error=str(exc))
            say(hint)
            return 1
    return 0


@admin_command
async def _sync(args: argparse.Namespace) -> int:
    """Look up each unbound cadre's mobile in WeCom and bind the ones found."""
    settings = load_settings()
    check_wecom_settings(settings.wecom)
    now = adminkit.admin_clock(settings).now()
    path = normalize_path(args.unit) if args.unit else ""
    async with open_core_db(settings) as db:
        members = await _unsynced(db, path)
        say("wecom_sync.start", count=len(members))
        conflicts: list[tuple[int, str]] = []

        async def bind(found: dict[int, str]) -> None:
            async with db.transaction() as s:
                conflicts.extend(
                    await bind_wecom_users(s, found, now=now, language=settings.language)
                )
                await audit_now(
                    s, at=now, actor="cli", action="wecom.sync", entity="cadre", count=len(found)
                )

        http = PlainHttp(timeout=15)  # JSON lookups one at a time: no aiohttp to import
        try:
            lookup = await find_userids(
                api_for(settings.wecom, http), members, per_second=args.per_second, found=bind
            )
        finally:
            http.close()
    return _sync_report(lookup, members, conflicts)


async def _unsynced(db: CoreDatabase, path: str) -> list[Member]:
    async with db.sessions() as s:
        if path and await unit_by_path(s, path) is None:
            raise AdminError("wecom_cli.unit_missing", path=path)
        cadres = await unbound_cadres(s, path, channel=Channel.WECOM)
    if not cadres:
        raise AdminError("wecom_sync.nobody")
    return [Member(c.cadre_id, c.name, c.phone, c.unit_path) for c in cadres]


def _sync_report(lookup: Lookup, members: list[Member], conflicts: list[tuple[int, str]]) -> int:
    names = {m.cadre_id: m for m in members}
    say("wecom_sync.bound", count=len(lookup.found) - len(conflicts))
    for cadre_id, userid in conflicts:
        m = names[cadre_id]
        say("wecom_sync.conflict", name=m.name, phone=m.phone, user=userid)
    if lookup.not_found:
        say("wecom_sync.not_found_head", count=len(lookup.not_found))
        for m in lookup.not_found:
            say("wecom_sync.not_found", name=m.name, phone=m.phone, unit=m.unit_path)
    if lookup.rate_waits:
        say("wecom_sync.rate_waits", count=lookup.rate_waits)
    if lookup.stopped is None:
        return 0
    done = len(lookup.found) + len(lookup.not_found)
    say("wecom_sync.stopped", code=lookup.stopped, left=len(members) - done, file=sys.stderr)
    hint = f"wecom_sync.why_{lookup.stopped}"
    say(hint if hint_known(hint) else "wecom_cli.hint_other", file=sys.stderr)
    return 1


def hint_known(key: str) -> bool:
    """The catalogue explains this errcode (most have no text of their own)."""
    try:
        t(key, "zh")
    except KeyError:
        return False
    return True
