"""Import time of the `bangfu` admin commands, measured with `python -X importtime`.

    python bench/cli_import.py [--tree PATH] [--repeat 5]

For each argv (`--help`, `COMMAND --help`, an argument error), a fresh interpreter imports
bot.cli, builds the parser and parses the argv (what `bangfu ...` does before a command
runs); the figure is the sum of the top-level imports' cumulative times, the median of
`--repeat` runs. `--tree` measures another checkout (e.g. an older commit exported with
`git archive`). Both modes print a Markdown table headed by the machine's load average.

`--run` measures instead whole admin commands as an administrator types them, against a small
county in a scratch SQLite file: every import the run makes (the parser's and those each
command makes when it needs them), the median of `--repeat` runs. WeCom is configured with
its API at a closed port, so `wecom sync` runs up to its first lookup and stops (exit 1).
Its first row is the floor: the libraries every command loads (SQLAlchemy, which imports
asyncio, its aiosqlite dialect, greenlet) imported alone, so a command's figure minus the
floor is what bangfu's own modules and the command's extras (reportlab, xlsxwriter) add.
`--pg URL` (implies `--run`) builds that county on PostgreSQL instead, in a private schema
(`bench_cli_PID`, named to the commands by BANGFU_DATABASE_SCHEMA) dropped at the end.
`--run --against OLD` alternates each run with the same command in the checkout OLD (same
database, same load), so that on a loaded machine the two columns still compare.

Bytecode is cached as in an installed bangfu (pip compiles the modules it installs): the
children write and read it under a scratch PYTHONPYCACHEPREFIX, whatever
PYTHONDONTWRITEBYTECODE says, and each command runs once unmeasured first. Without that, a
checkout run with PYTHONDONTWRITEBYTECODE=1 compiles every bangfu module it imports from
source on every run. `--no-cache` measures that way instead.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

COMMANDS = ["invite", "roster", "cadre", "pairing", "record", "outbox", "reminders", "digest"]
PARSES = [
    ["--help"],
    *([c, "--help"] for c in COMMANDS),
    ["invite", "create", "--help"],
    ["invite", "create", "--no-such-option"],
]
PROBE = (
    "argv = {argv!r}\nfrom bot.cli import build_parser\n"
    "try:\n    p = build_parser(argv)\nexcept TypeError:\n    p = build_parser()\n"
    "try:\n    p.parse_args(argv)\nexcept SystemExit:\n    pass\n"
)
# What every admin command imports before any of bangfu's own code does its work: SQLAlchemy
# (which itself imports asyncio), its SQLite dialect on aiosqlite, greenlet. The --run table
# shows it as its first row, so each command's figure reads as floor + bangfu's share.
FLOOR = "import sqlalchemy\nimport sqlalchemy.dialects.sqlite.aiosqlite\nimport greenlet\n"
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


# Set by main(): the children's bytecode cache (None: compile from source, as the caller's
# PYTHONDONTWRITEBYTECODE says).
PYCACHE: Path | None = None


def child_env(env: dict[str, str]) -> dict[str, str]:
    """`env` for a measured child: bytecode written and read under PYCACHE, when set."""
    if PYCACHE is None:
        return env
    out = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return out


def import_seconds(tree: Path, argv: list[str]) -> float:
    """Total import time, in seconds, of building the parser and parsing `argv` in `tree`."""
    env = child_env({**os.environ, "PYTHONPATH": str(tree)})
    code = PROBE.format(argv=argv)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return _top_level_seconds(done.stderr)


def _top_level_seconds(stderr: str) -> float:
    total = 0
    for line in stderr.splitlines():
        m = LINE.match(line)
        if m and not m.group(3):  # a top-level import: its cumulative time covers the rest
            total += int(m.group(2))
    return total / 1e6


def _header(what: str, repeat: int) -> None:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{what}; median of {repeat} runs; load average {load}\n")
    print("| command | median | min | max | exit |")
    print("|---|---|---|---|---|")


def _row(label: str, runs: list[float], codes: str = "") -> None:
    med, lo, hi = statistics.median(runs), min(runs), max(runs)
    print(f"| `{label}` | {med:.3f} s | {lo:.3f} s | {hi:.3f} s | {codes} |", flush=True)


# Whole commands, each in a fresh interpreter: a phone's code, sheets, the roster's changes.
RUNS = [
    ["invite", "create", "--phone", "13000000002"],
    ["invite", "sheet", "--unit", "测试县/单位01", "{tmp}/s.xlsx", "--renew"],
    ["invite", "sheet", "--unit", "测试县/单位01", "{tmp}/s.pdf", "--renew"],
    ["roster", "import", "{tmp}/u.csv", "--replace", "--unit", "测试县/单位01", "--dry-run"],
    ["cadre", "transfer", "--phone", "13000000003", "--unit", "测试县/单位02"],
    ["pairing", "end", "--phone", "13000000000", "--household", "H000000", "--reason", "调走"],
    ["household", "exit", "--id", "H000019", "--status", "迁出"],
    ["cadre", "deactivate", "--phone", "13000000002"],
    [
        "record",
        "add",
        "--phone",
        "13000000001",
        "--household",
        "H000005",
        "--kind",
        "call",
        "--date",
        "2026-11-02",
        "--note",
        "补录",
    ],
    ["user", "create", "--name", "乡镇督导", "--unit", "测试县/单位01", "--role", "supervisor"],
    ["export", "contacts", "--unit", "测试县", "{tmp}/contacts.xlsx"],
    ["wecom", "sync"],  # WeCom at a closed port: every lookup fails, the sync stops (exit 1)
    ["outbox", "status"],
]
# WeCom configured for `wecom sync`, its API on a port nobody listens on.
WECOM_ENV = {
    "BANGFU_WECOM__ENABLED": "true",
    "BANGFU_WECOM__CORP_ID": "ww-bench",
    "BANGFU_WECOM__AGENT_ID": "1000002",
    "BANGFU_WECOM__SECRET": "bench-secret",
    "BANGFU_WECOM__TOKEN": "bench-token",
    "BANGFU_WECOM__ENCODING_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    "BANGFU_WECOM__API_URL": "http://127.0.0.1:9",
}


def run_seconds(tree: Path, env: dict[str, str], argv: list[str]) -> tuple[float, int]:
    seconds, rc, _ = run_measured(tree, env, argv)
    return seconds, rc


def run_measured(tree: Path, env: dict[str, str], argv: list[str]) -> tuple[float, int, float]:
    """Import seconds, exit status and the whole process's CPU seconds (user + system)."""
    code = "import sys\nfrom bot.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code, *argv],
        cwd=tree,
        env=child_env(env),
        capture_output=True,
        text=True,
        check=False,
    )
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    return _top_level_seconds(done.stderr), done.returncode, cpu


def warm_up(tree: Path, env: dict[str, str], argv: list[str]) -> None:
    """One unmeasured run, which writes the bytecode of what the command imports."""
    if PYCACHE is not None:
        run_measured(tree, env, argv)


def run_mode(tree: Path, repeat: int, against: Path | None = None, pg: str | None = None) -> None:
    sys.path.insert(0, str(tree))
    tmp = Path(tempfile.mkdtemp(prefix="bangfu-cli-"))
    schema = f"bench_cli_{os.getpid()}" if pg else ""
    try:
        _run_in(tree, tmp, repeat, against, pg, schema)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if pg:
            _drop_schema(pg, schema)


def _drop_schema(url: str, schema: str) -> None:
    import asyncio

    from sqlalchemy import text

    from storage.db import Database

    async def drop() -> None:
        db = Database(url)
        try:
            async with db.engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        finally:
            await db.dispose()

    asyncio.run(drop())


def _run_in(
    tree: Path, tmp: Path, repeat: int, against: Path | None, pg: str | None, schema: str
) -> None:
    """The small county in `tmp` (or `pg`'s `schema`), then every command measured on it."""
    from bench.roster_rows import county_rows
    from bot.roster.files import write_rows_csv
    from storage.migrate import upgrade

    url = pg or f"sqlite:///{tmp / 'b.db'}"
    upgrade(url, schema=schema or None)  # creates the schema
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "BANGFU_DATABASE_URL": url,
        "BANGFU_DATABASE_SCHEMA": schema,
        "BANGFU_TELEGRAM__BOT_USERNAME": "bangfu_county_bot",
        **WECOM_ENV,
    }
    rows = list(county_rows(20))
    write_rows_csv(tmp / "r.csv", rows)
    write_rows_csv(tmp / "u.csv", [r for r in rows if r[0] == "测试县/单位01"][:3])
    subprocess.run(
        [sys.executable, "-m", "bot", "roster", "import", str(tmp / "r.csv")],
        cwd=tree,
        env=env,
        capture_output=True,
        check=True,
    )
    if against is not None:
        _compare(tree, against, env, tmp, repeat)
        return
    where = f"PostgreSQL, schema {schema}" if pg else "SQLite"
    _header(f"whole commands on {where}, every import (python -X importtime)", repeat)
    _floor_row(tree, env, repeat)
    for template in RUNS:
        argv = [a.format(tmp=tmp) for a in template]
        runs, codes = [], []
        warm_up(tree, env, argv)
        for _ in range(repeat):  # a repeat may be refused (already done): imports still count
            seconds, rc = run_seconds(tree, env, argv)
            runs.append(seconds)
            codes.append(rc)
        _row(_label(template, argv), runs, " ".join(sorted({str(c) for c in codes})))


def _floor_row(tree: Path, env: dict[str, str], repeat: int) -> None:
    """The libraries alone (FLOOR), measured as the commands are: the share not bangfu's."""
    probe = ["-X", "importtime", "-c", FLOOR]

    def once() -> float:
        done = subprocess.run(
            [sys.executable, *probe], cwd=tree, env=child_env(env), capture_output=True, text=True
        )
        return _top_level_seconds(done.stderr)

    once()  # unmeasured: writes the bytecode
    _row("(floor: Python, SQLAlchemy, aiosqlite)", [once() for _ in range(repeat)], "-")


def _label(template: list[str], argv: list[str]) -> str:
    return " ".join(template[:2]) + (f" {Path(argv[4]).suffix}" if "sheet" in template else "")


def _compare(tree: Path, old: Path, env: dict[str, str], tmp: Path, repeat: int) -> None:
    """Each command in OLD then in `tree`, alternately, `repeat` times: medians (min) of the
    import time and of the process's CPU time (less swayed by other processes' load)."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"old: {old}\nwhole commands, old and new alternately, median (min) of {repeat}; load {load}\n"
    )
    print("| command | import, old | import, new | process CPU, old | process CPU, new | exit |")
    print("|---|---|---|---|---|---|")
    old_env = {**env, "PYTHONPATH": str(old)}
    for template in RUNS:
        argv = [a.format(tmp=tmp) for a in template]
        runs: list[list[float]] = [[], [], [], []]
        codes = set()
        warm_up(old, old_env, argv)
        warm_up(tree, env, argv)
        for _ in range(repeat):
            seconds, _rc, cpu = run_measured(old, old_env, argv)
            runs[0].append(seconds)
            runs[2].append(cpu)
            seconds, rc, cpu = run_measured(tree, env, argv)
            runs[1].append(seconds)
            runs[3].append(cpu)
            codes.add(str(rc))
        cells = " | ".join(f"{statistics.median(r):.3f} s ({min(r):.3f} s)" for r in runs)
        print(f"| `{_label(template, argv)}` | {cells} | {' '.join(sorted(codes))} |", flush=True)
    print(f"\nload average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--run", action="store_true", help="whole commands, every import")
    parser.add_argument("--against", type=Path, help="with --run: alternate with this checkout")
    parser.add_argument(
        "--pg", metavar="URL", help="--run on PostgreSQL at URL, in a private schema"
    )
    parser.add_argument(
        "--no-cache", action="store_true", help="no bytecode cache: compile from source each run"
    )
    args = parser.parse_args()
    if args.pg and args.against and not (args.against / "bot" / "database.py").is_file():
        # Before bot/database.py the admin commands ignored BANGFU_DATABASE_SCHEMA: the old
        # checkout's commands would write into the server's default schema.
        parser.error("--pg --against OLD: OLD's commands ignore BANGFU_DATABASE_SCHEMA")
    global PYCACHE
    if not args.no_cache:
        PYCACHE = Path(tempfile.mkdtemp(prefix="bangfu-pyc-"))
    print(f"tree: {args.tree}; bytecode {'cached' if PYCACHE else 'not cached'}")
    try:
        if args.run or args.pg:
            run_mode(args.tree, args.repeat, args.against, args.pg)
            return
        _header("building the parser and parsing (python -X importtime)", args.repeat)
        for argv in PARSES:
            if PYCACHE is not None:
                import_seconds(args.tree, argv)  # unmeasured: writes the bytecode
            runs = [import_seconds(args.tree, argv) for _ in range(args.repeat)]
            _row(" ".join(argv), runs, "-")
    finally:
        if PYCACHE is not None:
            shutil.rmtree(PYCACHE, ignore_errors=True)


if __name__ == "__main__":
    main()
