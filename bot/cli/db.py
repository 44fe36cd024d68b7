"""`bangfu db upgrade`: create or migrate the database."""

from __future__ import annotations

import argparse

from bot.config import load_settings
from storage.migrate import upgrade


def _upgrade(args: argparse.Namespace) -> int:
    url = args.url or load_settings().database_url
    upgrade(url)
    print("数据库已是最新 / database is up to date")
    return 0
