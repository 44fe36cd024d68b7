"""Inbound answers per second, closed loop: stock PTB echo bot, aiohttp echo bot, bangfu.

    python -m bench.inbound                       # SQLite, 3 runs
    python -m bench.inbound --pg postgresql://postgres@127.0.0.1:5432/test --runs 5
    python -m bench.inbound --cadres 100 --messages 10 --only bangfu

Each run starts, one after the other against one fake Bot API, the three bots, each in a
process of its own (tests/perf_inbound.py, which drives the fake API in tests/fakes and the
simulated cadres; bench/ may not import tests, so it runs as its own process) and prints
them side by side with the bot process's CPU per update and bangfu's ratio to each echo
bot (`--one-process`: the bots in the driver's process, as the first rounds measured). Between runs the machine's load average is printed: the machine
is shared, and only rows of one run compare fairly. Other arguments go to each run.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATIO = re.compile(r"^# bangfu / (.+?): ([0-9.]+)×")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args, rest = ap.parse_known_args()
    ratios: dict[str, list[float]] = {}
    for run in range(1, args.runs + 1):
        print(f"## run {run} of {args.runs} — before: {load()}", flush=True)
        out = subprocess.run(
            [sys.executable, "-m", "tests.perf_inbound", *rest],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        print(out, end="")
        print(f"## after: {load()}", flush=True)
        for line in out.splitlines():
            m = RATIO.match(line)
            if m:
                ratios.setdefault(m[1], []).append(float(m[2]))
    for name, values in ratios.items():
        shown = ", ".join(f"{v:.2f}" for v in values)
        print(f"# bangfu / {name}: median {statistics.median(values):.2f}× ({shown})")


if __name__ == "__main__":
    main()
