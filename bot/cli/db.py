"""`bangfu db upgrade`: create or migrate the database."""

from __future__ import annotations

import argparse

from bot.config import load_settings
from bot.database import database_target
from storage.migrate import upgrade


def _upgrade(args: argparse.Namespace) -> int:
    url, schema = database_target(load_settings(), args.url)
    before, after = upgrade(url, schema=schema)
    if before == after:
        print(f"数据库已是最新（{after}） / database is up to date ({after})")
    else:
        zh, en = before or "空库", before or "empty"
        print(f"数据库已升级：{zh} → {after} / database upgraded: {en} → {after}")
    return 0
