"""An admin command parses its arguments before it imports anything heavy.

Building the parser (`bangfu --help`, `bangfu COMMAND --help`, an argument error) loads no
SQLAlchemy, pydantic, storage, configuration, chart, migration or chat library; the command's
own module is imported only when it runs. Each probe runs in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys

import pytest

from bot.cli.parsers import lazy

HEAVY = (
    "asyncio",
    "sqlalchemy",
    "pydantic",
    "pydantic_settings",
    "storage",
    "bot.config",
    "matplotlib",
    "alembic",
    "telegram",
    "aiohttp",
    "apscheduler",
    "openpyxl",
    "bot.run",
    "handlers",
    "reminders",
)
# One fresh interpreter runs `main` on each argv in turn and notes what heavy modules are
# loaded after each: the first argv that pulls one is named.
PROBE = """
import json, sys
from bot.cli import main
heavy = {heavy}
seen = []
for argv in json.loads(sys.argv[1]):
    try:
        main(argv)
    except SystemExit:
        pass
    seen.append(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy))
print(json.dumps(seen))
"""


def _heavy_after_parsing(argvs: list[list[str]]) -> dict[str, list[str]]:
    code = PROBE.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(argvs)], capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout.splitlines()[-1])
    return {" ".join(argv): mods for argv, mods in zip(argvs, seen, strict=True) if mods}


def _leaves() -> list[tuple[list[str], lazy]]:
    """Every runnable admin command as (argv words, its handler)."""
    from bot.cli import build_parser

    found: list[tuple[list[str], lazy]] = []

    def walk(parser: argparse.ArgumentParser, words: list[str]) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            found.append((words, parser.get_default("func")))
            return
        for name, child in subs[0].choices.items():
            walk(child, [*words, name])

    walk(build_parser(), [])
    return found


LEAVES = _leaves()


def test_every_command_help_loads_nothing_heavy():
    assert LEAVES  # the walk found the commands
    assert _heavy_after_parsing([[*words, "--help"] for words, _ in LEAVES]) == {}


def test_help_and_argument_errors_load_nothing_heavy():
    argvs = [
        ["--help"],
        ["invite", "--help"],
        ["invite", "create", "--no-such-option"],
        ["roster", "import"],  # FILE missing
        ["record", "add", "--phone", "13000000000", "--kind", "letter"],
        ["no-such-command"],
    ]
    assert _heavy_after_parsing(argvs) == {}


def test_a_command_imports_its_module_only_when_it_runs(tmp_path):
    """`calendar` needs no database: it runs, and only then loads its own module."""
    code = (
        "import sys\nfrom bot.cli import main\nmain(['calendar', '2024'])\n"
        "print('bot.cli.reminders' in sys.modules, 'bot.cli.invite' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert "2024-02-09  腊月三十" in done.stdout
    assert done.stdout.splitlines()[-1] == "True False"


@pytest.mark.parametrize("words, handler", LEAVES, ids=[" ".join(w) for w, _ in LEAVES])
def test_every_command_names_a_handler_that_exists(words, handler):
    assert isinstance(handler, lazy), words
    assert callable(getattr(importlib.import_module(handler.module), handler.name))


def test_choices_copied_into_the_parsers_agree_with_their_sources():
    from bot.cli import changes, parsers
    from core.policy import QUOTA_PRESET_ALIASES, QUOTA_PRESETS
    from storage.household_status import HOUSEHOLD_STATUSES
    from storage.ledgers import LEDGERS
    from storage.webusers import ROLES

    assert (*QUOTA_PRESETS, *QUOTA_PRESET_ALIASES) == parsers.QUOTA_PRESET_NAMES
    assert parsers.HOUSEHOLD_STATUSES == HOUSEHOLD_STATUSES
    assert set(parsers.RECORD_KINDS) == set(changes.KINDS)
    assert parsers.ROLES == ROLES
    assert parsers.LEDGERS == LEDGERS


def test_help_for_everything_still_lists_every_command():
    from bot.cli import build_parser

    text = build_parser(["--help"]).format_help()
    for command in ("run", "roster", "invite", "cadre", "pairing", "household", "record", "wecom"):
        assert command in text


# What a whole database command may not load: migrations, charts, chat libraries, the bot,
# the web console, the other database's driver or SQLAlchemy dialect (on SQLite), spreadsheets,
# pydantic (the settings, policy and programme models are validated by core.validated), and
# SQLAlchemy's ORM: the commands run Core statements on Core connections (storage.core_db),
# not the bot's sessions (storage.db) and mapped classes (storage.models).
NO_ORM = ("sqlalchemy.orm", "sqlalchemy.ext", "storage.db", "storage.models")
NOT_FOR_ADMIN = (
    *NO_ORM,
    "pydantic",
    "pydantic_core",
    "sqlalchemy.dialects.postgresql",
    "alembic",
    "matplotlib",
    "telegram",
    "aiohttp",
    "apscheduler",
    "openpyxl",
    "xlsxwriter",
    "numpy",
    "asyncpg",
    "handlers",
    "reminders",
    "webconsole",
    "bot.run",
    "bot.channels",
)
RUN_PROBE = """
import json, sys
from bot.cli import main
code = main(sys.argv[1:])
heavy = {heavy}
loaded = sorted(
    m for m in sys.modules if m.split(".")[0] in heavy or m in heavy or m.startswith(tuple(h + "." for h in heavy))
)
from storage.tables import metadata
print(json.dumps([code, loaded, sorted(metadata.tables)]))
"""


@pytest.fixture(scope="module")
def county_url(tmp_path_factory):
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'b.db'}"
    upgrade(url)
    return url


@pytest.mark.parametrize(
    "argv, tables",
    [
        (["outbox", "status"], ["chat_accounts", "outbox", "supervisor_groups", "sweep_rounds"]),
        (
            ["invite", "create", "--phone", "13000000000"],
            ["audit_log", "cadres", "chat_accounts", "invites", "units"],
        ),
        (
            ["cadre", "transfer", "--phone", "13000000000", "--unit", "测试县"],
            ["audit_log", "cadres", "households", "invites", "pairings", "units"],
        ),
        (
            ["pairing", "end", "--phone", "13000000000", "--household", "H1", "--reason", "调整"],
            ["audit_log", "cadres", "households", "invites", "pairings", "units"],
        ),
        (
            ["household", "exit", "--id", "H1", "--status", "迁出"],
            ["audit_log", "cadres", "households", "invites", "pairings", "units"],
        ),
        (
            [
                "record",
                "add",
                "--phone",
                "13000000000",
                "--household",
                "H1",
                "--kind",
                "call",
                "--date",
                "2026-11-02",
                "--note",
                "补录",
            ],
            ["audit_log", "cadres", "contacts", "households", "pairings", "units"],
        ),
    ],
)
def test_a_database_command_loads_only_what_it_needs(county_url, tmp_path, argv, tables):
    """The command runs; it declares only the tables it touches and loads nothing heavy, nor
    SQLAlchemy's ORM."""
    assert _run_loading(county_url, tmp_path, argv) == ([], tables)


def test_user_create_loads_the_password_hasher_and_nothing_of_the_console(county_url, tmp_path):
    argv = ["user", "create", "--name", "督导", "--unit", "测试县/没有", "--role", "viewer"]
    loaded, tables = _run_loading(county_url, tmp_path, argv)
    assert loaded == ["webconsole", "webconsole.passwords"]
    assert tables == ["audit_log", "cadres", "units", "web_users"]


def _run_with_a_roster(
    tmp_path, code: str, more_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`code` in a fresh interpreter beside a new database and a one-household roster file
    (r.csv), with no BANGFU_ setting but the database's (and `more_env`); it must succeed."""
    from bench.roster_rows import county_rows
    from bot.roster.files import write_rows_csv
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'r.db'}"
    upgrade(url)
    write_rows_csv(tmp_path / "r.csv", county_rows(1))
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")}
    env["BANGFU_DATABASE_URL"] = url
    env.update(more_env or {})
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    return done


def test_user_create_hashes_only_the_new_password(tmp_path):
    """The sign-in page's hash for unknown names (a whole hash's time) is the console's, made
    when it starts; `user create` hashes the one password it prints and nothing else."""
    code = (
        "import sys\nfrom bot.cli import main\n"
        "assert main(['roster', 'import', 'r.csv']) == 0\n"
        "assert main(['user', 'create', '--name', '县办', '--unit', '测试县', '--role', 'admin']) == 0\n"
        "from webconsole.passwords import no_account_hash\n"
        "print(no_account_hash.cache_info().currsize)"
    )
    done = _run_with_a_roster(tmp_path, code)
    assert done.stdout.splitlines()[-1] == "0"


def test_wecom_sync_loads_the_directory_client_and_not_the_bot(county_url, tmp_path):
    """Not aiohttp (its lookups go over http.client), the channel, the dispatcher, the host or
    the callback's cipher (checking the AES key's form needs no cryptography)."""
    bot_parts = (
        *("aiohttp.web", "bot.host", "bot.dispatch", "bot.channels.wecom.channel"),
        *("cryptography", "bot.channels.wecom.robot"),
    )
    wecom = {
        "BANGFU_WECOM__ENABLED": "true",
        "BANGFU_WECOM__CORP_ID": "ww-test",
        "BANGFU_WECOM__AGENT_ID": "1000002",
        "BANGFU_WECOM__SECRET": "secret",
        "BANGFU_WECOM__TOKEN": "token",
        "BANGFU_WECOM__ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    }
    heavy = (*bot_parts, *(m for m in NOT_FOR_ADMIN if m != "bot.channels"))
    loaded, tables = _run_loading(county_url, tmp_path, ["wecom", "sync"], heavy, wecom)
    assert loaded == []  # nobody to look up in the empty database: exit 2 before any request
    assert tables == ["audit_log", "cadres", "chat_accounts", "invites", "units"]


def test_export_loads_its_ledger_writer_and_not_the_digest(county_url, tmp_path):
    """The ledger needs the console's file writer, not the digest's figures, chart or calendar,
    nor an HTTP client (xml.sax.saxutils, for its escape, imports urllib.request)."""
    argv = ["export", "contacts", "--unit", "测试县/没有", str(tmp_path / "c.xlsx")]
    heavy = (*NOT_FOR_ADMIN, "PIL", "lunar_python", "storage.stats", "urllib.request", "http")
    loaded, tables = _run_loading(county_url, tmp_path, argv, heavy)
    assert loaded == ["webconsole", "webconsole.ledger_file", "webconsole.xlsx_stream"]
    # The ledgers' other tables are declared when a ledger is read (not here: no such unit).
    assert tables == ["audit_log", "cadres", "contacts", "diary_entries", "units"]


def _run_loading(
    county_url: str,
    tmp_path,
    argv: list[str],
    heavy: tuple[str, ...] = NOT_FOR_ADMIN,
    more_env: dict[str, str] | None = None,
) -> tuple[list[str], list[str]]:
    """The heavy modules an admin command loaded (a name in `heavy`, or below one), and the
    tables it declared."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANGFU_")}
    env["BANGFU_DATABASE_URL"] = county_url
    env.update(more_env or {})
    done = subprocess.run(
        [sys.executable, "-c", RUN_PROBE.format(heavy=heavy), *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=env,
    )
    code, loaded, declared = json.loads(done.stdout.splitlines()[-1])
    assert code in (0, 2), done.stderr  # 2: no such cadre, household or unit: the database is empty
    return loaded, declared


def test_an_invitation_sheet_is_written_without_numpy(tmp_path):
    """The QR codes are packed into PNG rows without numpy, whose import was a good part of it;
    the PDF's images are built from those rows, without Pillow's file-format plugins."""
    code = (
        "import sys\nfrom pathlib import Path\nfrom bot.roster.sheet import SheetRow, write_sheet\n"
        "rows = [SheetRow('干部', '测试县', '13000000000', 'ABCDEFGHJK', 'https://t.me/b?start=A')]\n"
        "for suffix in ('.xlsx', '.pdf', '.html'):\n"
        "    write_sheet(Path(sys.argv[1] + suffix), rows, expires='2026-12-01 09:00')\n"
        "print('numpy' in sys.modules, 'PIL.PngImagePlugin' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "s")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["False", "False"]
    assert all(
        (tmp_path / f"s{suffix}").stat().st_size > 0 for suffix in (".xlsx", ".pdf", ".html")
    )


def test_roster_import_and_the_sheets_load_no_pydantic(tmp_path):
    """The commands of a county's first day — its roster, then the printed invitation
    sheets — read and validate the settings without pydantic, and still do their work."""
    code = (
        "import sys\nfrom bot.cli import main\n"
        "assert main(['roster', 'import', 'r.csv']) == 0\n"
        "assert main(['invite', 'sheet', '--unit', '测试县', 's.xlsx']) == 0\n"
        "assert main(['invite', 'sheet', '--unit', '测试县', '--renew', 's.pdf']) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'pydantic_core')))"
    )
    done = _run_with_a_roster(tmp_path, code, {"BANGFU_TELEGRAM__BOT_USERNAME": "bangfu_test_bot"})
    assert done.stdout.splitlines()[-1] == "[]"
    assert (tmp_path / "s.xlsx").stat().st_size > 0 and (tmp_path / "s.pdf").stat().st_size > 0


def test_the_roster_sheets_and_export_run_without_the_orm(tmp_path):
    """A county's first days — its roster (real, then replaced in a dry run), the printed
    sheets, an export of its ledger and an office account — run on Core connections: no
    SQLAlchemy ORM, no bot sessions, no mapped classes."""
    code = (
        "import sys\nfrom bot.cli import main\n"
        "assert main(['roster', 'import', 'r.csv']) == 0\n"
        "argv = ['roster', 'import', 'r.csv', '--replace', '--unit', '测试县', '--dry-run']\n"
        "assert main(argv) == 0\n"
        "assert main(['invite', 'sheet', '--unit', '测试县', 's.xlsx']) == 0\n"
        "assert main(['invite', 'sheet', '--unit', '测试县', '--renew', 's.pdf']) == 0\n"
        "for ledger in ('contacts', 'households', 'cadres', 'diaries', 'events', 'problems'):\n"
        "    assert main(['export', ledger, '--unit', '测试县', ledger + '.xlsx']) == 0\n"
        "assert main(['user', 'create', '--name', '县办', '--unit', '测试县', '--role', 'admin']) == 0\n"
        f"no_orm = {NO_ORM!r}\n"
        "print(sorted(m for m in sys.modules if m in no_orm or m.startswith(tuple(n + '.' for n in no_orm))))"
    )
    done = _run_with_a_roster(tmp_path, code, {"BANGFU_TELEGRAM__BOT_USERNAME": "bangfu_test_bot"})
    assert done.stdout.splitlines()[-1] == "[]"
    assert (tmp_path / "households.xlsx").stat().st_size > 0


def test_pairings_partial_indexes_keep_their_postgresql_condition():
    """The PostgreSQL option of the pairings' partial indexes is added when the whole schema
    is declared (so a command on SQLite does not import PostgreSQL's dialect): declared
    first for a command, then as the whole schema (migrations), they are partial on both."""
    code = (
        "import sys\nfrom storage.models import Pairing\n"
        "print('sqlalchemy.dialects.postgresql' in sys.modules)\n"
        "from storage.models import Base\n"
        "from sqlalchemy.schema import CreateIndex\n"
        "from sqlalchemy.dialects import postgresql, sqlite\n"
        "for ix in sorted(Base.metadata.tables['pairings'].indexes, key=lambda i: i.name):\n"
        "    for d in (postgresql.dialect(), sqlite.dialect()):\n"
        "        print(str(CreateIndex(ix).compile(dialect=d)).strip())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert lines[0] == "False"
    live = [line for line in lines[1:] if "_live_" in line]
    assert live == [
        *["CREATE INDEX ix_pairings_live_end ON pairings (end_date) WHERE active"] * 2,
        *["CREATE INDEX ix_pairings_live_start ON pairings (start_date) WHERE active"] * 2,
    ]
