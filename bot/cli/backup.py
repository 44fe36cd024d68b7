"""`bangfu backup FILE` and `bangfu restore FILE --yes`: the whole database, to and from a file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.cli.adminkit import say
from bot.config import load_settings
from storage.backup import BackupError, backup, restore


def register(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "backup", help="备份数据库（机器人可继续运行）/ back up the database (bot may run)"
    )
    b.add_argument("file", type=Path, help="backup file to write (SQLite file or pg_dump archive)")
    b.add_argument("--url", help="database URL (default: BANGFU_DATABASE_URL)")
    b.add_argument("--force", action="store_true", help="replace FILE if it exists")
    b.set_defaults(func=_backup)
    r = sub.add_parser("restore", help="从备份恢复（先停机器人）/ restore a backup (stop the bot)")
    r.add_argument("file", type=Path, help="a file written by bangfu backup")
    r.add_argument("--url", help="database URL (default: BANGFU_DATABASE_URL)")
    r.add_argument("--yes", action="store_true", help="yes, replace all data in the database")
    r.set_defaults(func=_restore)


def _backup(args: argparse.Namespace) -> int:
    url = args.url or load_settings().database_url
    try:
        backup(url, args.file, overwrite=args.force)
    except BackupError as exc:
        say(exc.key, file=sys.stderr, **exc.params)
        return 2
    say("ops.backup_done", path=str(args.file))
    return 0


def _restore(args: argparse.Namespace) -> int:
    if not args.yes:
        say("ops.restore_confirm", file=sys.stderr)
        return 2
    url = args.url or load_settings().database_url
    try:
        restore(url, args.file)
    except BackupError as exc:
        say(exc.key, file=sys.stderr, **exc.params)
        return 2
    say("ops.restore_done", path=str(args.file))
    return 0
