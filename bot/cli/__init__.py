"""The `bangfu` command: each area registers its subcommands in its own module.

Only the module of the command being run is imported (see COMMANDS), so an admin command
does not pay for matplotlib, Alembic or the whole bot before its arguments are parsed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.clock import Clock

# Modules that define `register(subparsers)`; each adds its own subcommands.
COMMAND_MODULES = (
    "bot.cli.db",
    "bot.cli.backup",
    "bot.cli.demo",
    "bot.cli.run",
    "bot.cli.roster",
    "bot.cli.invite",
    "bot.cli.cadre",
    "bot.cli.outbox",
    "bot.cli.reminders",
    "bot.cli.digest",
    "bot.cli.wecom",
    "bot.cli.parse",
    "bot.cli.changes",
    "bot.cli.score",
    "bot.cli.user",
    "bot.cli.export",
    "bot.cli.web",
    "bot.cli.doctor",
)

# The top-level commands each module registers. A module listed in COMMAND_MODULES but not
# here is imported for every command (correct, only slower).
COMMANDS = {
    "db": ("bot.cli.db",),
    "backup": ("bot.cli.backup",),
    "restore": ("bot.cli.backup",),
    "demo": ("bot.cli.demo",),
    "run": ("bot.cli.run",),
    "roster": ("bot.cli.roster",),
    "invite": ("bot.cli.invite",),
    "cadre": ("bot.cli.cadre",),
    "outbox": ("bot.cli.outbox",),
    "calendar": ("bot.cli.reminders",),
    "reminders": ("bot.cli.reminders",),
    "digest": ("bot.cli.digest",),
    "group": ("bot.cli.wecom",),
    "wecom": ("bot.cli.wecom",),
    "parse": ("bot.cli.parse",),
    "pairing": ("bot.cli.changes",),
    "household": ("bot.cli.changes",),
    "record": ("bot.cli.changes",),
    "score": ("bot.cli.score",),
    "user": ("bot.cli.user",),
    "export": ("bot.cli.export",),
    "web": ("bot.cli.web",),
    "doctor": ("bot.cli.doctor",),
}


def modules_for(argv: Sequence[str]) -> list[str]:
    """The modules to import to parse `argv`: all of them for help or an unknown command."""
    first = next((a for a in argv if not a.startswith("-")), None)
    if first not in COMMANDS or argv[0] != first:
        return list(COMMAND_MODULES)
    mapped = {m for mods in COMMANDS.values() for m in mods}
    unmapped = [m for m in COMMAND_MODULES if m not in mapped]
    return [*COMMANDS[first], *unmapped]


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bangfu", description="帮扶 — 结对帮扶干部联系户报送机器人 / cadre check-in bot"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = COMMAND_MODULES if argv is None else modules_for(argv)
    for name in names:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command; `clock` stands in for the real one (tests travel in time with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    args.clock = clock
    from bot.config import ConfigError

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
