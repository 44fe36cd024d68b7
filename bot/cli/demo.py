"""`bangfu demo`: chat in the terminal as a demo cadre of a small sample county."""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from bot.channels.console import ACCOUNT, ConsoleChannel
from bot.config import load_settings
from bot.sample import load_sample_county
from core.clock import SystemClock
from core.i18n import t
from core.types import Channel, Inbound, InboundKind
from handlers.context import Context
from handlers.gateway import Core
from storage.db import Database
from storage.invites import create_invite
from storage.migrate import upgrade_async


async def _demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    clock = SystemClock(settings.tz)
    with tempfile.TemporaryDirectory(prefix="bangfu-demo-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.db'}"
        await upgrade_async(url)
        db = Database(url)
        try:
            now = clock.now()
            sample = await load_sample_county(db, now)
            async with db.transaction() as s:
                code = await create_invite(
                    s, kind="cadre", cadre_id=sample.demo_cadre_id, now=now, ttl=timedelta(hours=1)
                )
            core = Core(
                Context(
                    db=db,
                    clock=clock,
                    policy=settings.policy,
                    digest_day=settings.schedule.digest_day,
                    digest_time=settings.schedule.digest_time,
                )
            )
            print(
                t(
                    "demo.intro",
                    args.lang,
                    name=sample.demo_cadre_name,
                    county=sample.county_path,
                    households=sample.household_count,
                )
            )
            bind = Inbound(
                channel=Channel.CONSOLE,
                account_id=ACCOUNT,
                chat_id=ACCOUNT,
                message_id="console-bind",
                kind=InboundKind.COMMAND,
                command="start",
                text=code,
                language=args.lang,
            )
            console = ConsoleChannel(core.handle)
            first = await core.handle(bind)
            await console.chat(first=first, read_line=sys.stdin.readline)
        finally:
            await db.dispose()
    return 0
