"""The `bangfu` command: each area registers its subcommands in its own module."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Sequence

from bot.config import ConfigError
from core.clock import Clock

# Modules that define `register(subparsers)`; each adds its own subcommands.
COMMAND_MODULES = (
    "bot.cli.db",
    "bot.cli.demo",
    "bot.cli.run",
    "bot.cli.roster",
    "bot.cli.invite",
    "bot.cli.cadre",
    "bot.cli.outbox",
    "bot.cli.reminders",
    "bot.cli.digest",
    "bot.cli.wecom",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bangfu", description="帮扶 — 结对帮扶干部联系户报送机器人 / cadre check-in bot"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command; `clock` stands in for the real one (tests travel in time with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    args.clock = clock
    try:
        result = args.func(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
