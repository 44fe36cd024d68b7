"""`bangfu db upgrade`: create or migrate the database."""

from __future__ import annotations

import argparse

from bot.config import load_settings
from bot.database import database_target
from storage.migrate import upgrade


def _upgrade(args: argparse.Namespace) -> int:
    url, schema = database_target(load_settings(), args.url)
    upgrade(url, schema=schema)
    print("数据库已是最新 / database is up to date")
    return 0
