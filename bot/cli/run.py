"""`bangfu run`: the bot process (web server, Telegram, dispatcher and scheduler)."""

from __future__ import annotations

import argparse

from bot.config import load_settings
from bot.logs import setup_logging
from bot.run import serve


async def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    setup_logging(settings)
    await serve(settings)
    return 0
