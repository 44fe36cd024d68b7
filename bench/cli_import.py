"""Import time of the `bangfu` admin commands, measured with `python -X importtime`.

    python bench/cli_import.py [--tree PATH] [--repeat 5]

For each command, a fresh interpreter imports bot.cli and builds the parser for that
command (what `bangfu COMMAND ...` does before it parses its arguments); the figure is the
sum of the top-level imports' cumulative times, the median of `--repeat` runs. `--tree`
measures another checkout (e.g. an older commit exported with `git archive`).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

COMMANDS = ["invite", "roster", "cadre", "pairing", "record", "outbox", "reminders", "digest"]
PROBE = "from bot.cli import build_parser\ntry:\n    build_parser({argv!r})\nexcept TypeError:\n    build_parser()\n"
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def import_seconds(tree: Path, command: str) -> float:
    """Total import time, in seconds, of building the parser for `command` in `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    code = PROBE.format(argv=[command, "--help"])
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0
    for line in done.stderr.splitlines():
        m = LINE.match(line)
        if m and not m.group(3):  # a top-level import: its cumulative time covers the rest
            total += int(m.group(2))
    return total / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"tree: {args.tree}")
    for command in COMMANDS:
        runs = [import_seconds(args.tree, command) for _ in range(args.repeat)]
        print(f"{command:<10} {statistics.median(runs):6.3f} s  (min {min(runs):.3f})")


if __name__ == "__main__":
    main()
