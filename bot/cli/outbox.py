"""`bangfu outbox status` and `bangfu outbox requeue`: look at and revive queued messages."""

from __future__ import annotations

import argparse

from bot.cli.adminkit import admin_command, open_db, say
from bot.config import load_settings
from core.clock import SystemClock
from storage import outbox


def register(sub: argparse._SubParsersAction) -> None:
    box = sub.add_parser("outbox", help="发件箱 / outgoing messages").add_subparsers(
        dest="outbox_cmd", required=True
    )
    box.add_parser("status", help="各状态条数 / count by status").set_defaults(func=_status)
    again = box.add_parser("requeue", help="重发放弃的消息 / send given-up (dead) messages again")
    again.add_argument("--failed", action="store_true", help="也重发永久失败的 / failed ones too")
    again.set_defaults(func=_requeue)


@admin_command
async def _status(args: argparse.Namespace) -> int:
    async with open_db(load_settings()) as db, db.transaction() as s:
        counts = await outbox.count_by_status(s)
    if not counts:
        say("outbox_cli.empty")
    for status in (outbox.PENDING, outbox.SENDING, outbox.SENT, outbox.FAILED, outbox.DEAD):
        if status in counts:
            say("outbox_cli.status_line", status=status, count=counts[status])
    return 0


@admin_command
async def _requeue(args: argparse.Namespace) -> int:
    settings = load_settings()
    statuses = [outbox.DEAD, outbox.FAILED] if args.failed else [outbox.DEAD]
    async with open_db(settings) as db, db.transaction() as s:
        n = await outbox.requeue(s, statuses, now=SystemClock(settings.tz).now())
    say("outbox_cli.requeued", count=n)
    return 0
