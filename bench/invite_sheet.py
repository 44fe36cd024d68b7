"""Invitation sheets for a whole county: time and peak memory of `bangfu invite sheet`.

    python bench/invite_sheet.py [--cadres 50000]

Imports a roster of `--cadres` cadres (one household each) into a fresh SQLite file, then
runs the command as an administrator would, each format in a fresh process: .xlsx (with a
QR image per row) and, with --renew, the printable .pdf and .html. Prints seconds, the peak
RSS of the command's process and that of the largest QR worker process (spawned for large
sheets), and the file's size.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.roster_rows import county_rows  # noqa: E402
from bot.roster.files import write_rows_csv  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

CHILD = """
import json, resource, sys, time
start = time.perf_counter()
from bot.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "worker_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def run(env: dict[str, str], *argv: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *argv],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cadres", type=int, default=50_000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bangfu-bench-"))
    url = f"sqlite:///{tmp / 'bench.db'}"
    upgrade(url)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BANGFU_DATABASE_URL": url,
        "BANGFU_TELEGRAM__BOT_USERNAME": "bangfu_county_bot",
    }
    roster = tmp / "r.csv"
    write_rows_csv(roster, county_rows(args.cadres, per_cadre=1))
    start = time.perf_counter()
    assert run(env, "roster", "import", str(roster))["rc"] == 0
    print(f"roster import ({args.cadres} cadres)   {time.perf_counter() - start:6.1f} s")
    for label, argv in (
        (".xlsx with QR images", ["invite", "sheet", "--unit", "测试县", str(tmp / "s.xlsx")]),
        (".pdf, --renew", ["invite", "sheet", "--unit", "测试县", str(tmp / "s.pdf"), "--renew"]),
        (".html, --renew", ["invite", "sheet", "--unit", "测试县", str(tmp / "s.html"), "--renew"]),
    ):
        got = run(env, *argv)
        assert got["rc"] == 0, got
        size = (tmp / Path(argv[4]).name).stat().st_size / 1e6
        print(
            f"{label:<26} {got['seconds']:6.1f} s  peak {got['peak_mb']:5.0f} MB  "
            f"worker {got['worker_mb']:4.0f} MB  file {size:5.1f} MB"
        )


if __name__ == "__main__":
    main()
