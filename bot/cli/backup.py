"""`bangfu backup FILE` and `bangfu restore FILE --yes`: the whole database, to and from a file."""

from __future__ import annotations

import argparse
import sys

from bot.cli.adminkit import say
from bot.config import load_settings
from bot.database import database_target
from storage.backup import BackupError, backup, restore


def _backup(args: argparse.Namespace) -> int:
    url, schema = database_target(load_settings(), args.url)
    try:
        backup(url, args.file, overwrite=args.force, schema=schema)
    except BackupError as exc:
        say(exc.key, file=sys.stderr, **exc.params)
        return 2
    say("ops.backup_done", path=str(args.file))
    return 0


def _restore(args: argparse.Namespace) -> int:
    if not args.yes:
        say("ops.restore_confirm", file=sys.stderr)
        return 2
    url, schema = database_target(load_settings(), args.url)
    try:
        restore(url, args.file, schema=schema)
    except BackupError as exc:
        say(exc.key, file=sys.stderr, **exc.params)
        return 2
    say("ops.restore_done", path=str(args.file))
    return 0
