"""An admin command imports what it needs, not the whole bot, before parsing its arguments."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("matplotlib", "alembic", "telegram", "apscheduler", "bot.run", "handlers")
PROBE = """
import json, sys
from bot.cli import build_parser
build_parser(sys.argv[1:])
print(json.dumps(sorted(m for m in {heavy} if m in sys.modules)))
"""


def _heavy_after_parsing(*argv: str) -> list[str]:
    code = PROBE.format(heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


@pytest.mark.parametrize(
    "command",
    ["invite", "roster", "cadre", "pairing", "household", "record", "outbox", "digest", "parse"],
)
def test_admin_command_loads_no_chart_migration_or_chat_library(command):
    assert _heavy_after_parsing(command, "--help") == []


def test_help_for_everything_still_lists_every_command(capsys):
    from bot.cli import build_parser

    text = build_parser(["--help"]).format_help()
    for command in ("run", "roster", "invite", "cadre", "pairing", "household", "record", "wecom"):
        assert command in text
