"""`bangfu db upgrade`: create or migrate the database."""

from __future__ import annotations

import argparse

from bot.config import load_settings
from storage.migrate import upgrade


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="数据库 / database").add_subparsers(dest="db_cmd", required=True)
    up = db.add_parser("upgrade", help="建表或升级 / create or migrate the schema")
    up.add_argument("--url", help="database URL (default: BANGFU_DATABASE_URL)")
    up.set_defaults(func=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    url = args.url or load_settings().database_url
    upgrade(url)
    print("数据库已是最新 / database is up to date")
    return 0
