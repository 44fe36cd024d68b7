"""`bangfu run`: the bot process (web server, Telegram, dispatcher and scheduler)."""

from __future__ import annotations

import argparse

from bot.config import load_settings
from bot.logs import setup_logging
from bot.run import serve


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="运行机器人 / run the bot (Ctrl-C to stop)")
    run.set_defaults(func=_run)


async def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    setup_logging(settings)
    await serve(settings)
    return 0
