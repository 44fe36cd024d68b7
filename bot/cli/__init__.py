"""The `bangfu` command.

Every command's arguments are declared in bot.cli.parsers with argparse alone; the module of
the command being run (bot.cli.invite, bot.cli.roster, ...) is imported only once its
arguments have parsed, and it imports the storage it needs. So `--help`, an argument error
and the start of any admin command pay for no SQLAlchemy, settings models, Alembic or chat library.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.clock import Clock


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole `bangfu` parser (`argv` is accepted and unused: every parser is light)."""
    from bot.cli.parsers import register_all

    parser = argparse.ArgumentParser(
        prog="bangfu", description="帮扶 — 结对帮扶干部联系户报送机器人 / cadre check-in bot"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_all(sub)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command; `clock` stands in for the real one (tests travel in time with it)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    args.clock = clock
    import asyncio  # not before parsing: asyncio alone is a tenth of a second to import

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
