"""How well and how fast one-line reports are read: per-field accuracy on the labelled corpus
and the time to read one message (p50/p99), plus the cost of a 50,000-character message.

    .venv/bin/python bench/understand.py [--jionlp]

--jionlp also scores jionlp's time parser on the contact date (pip install jionlp first;
it is not a dependency): its first time expression, or today when it finds none.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.understand.corpus import date_wrong, load, score
from core.understand.message import read

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "corpus"
FILES = (
    "quick_reports_dev.jsonl",
    "held_out.jsonl",
    "held_out_2.jsonl",
    "held_out_3.jsonl",
    "held_out_4.jsonl",
    "held_out_5.jsonl",
)
SHANGHAI = timezone(timedelta(hours=8))


def _ours(row: dict[str, Any]) -> dict[str, Any]:
    return read(row["text"], row["households"], date.fromisoformat(row["today"])).as_json()


def _timings(rows: list[dict[str, Any]], rounds: int) -> tuple[list[float], list[float]]:
    """Wall and CPU milliseconds per read: on a shared machine the wall time also counts the
    moments another process had the core; the CPU time is this reading's own work."""
    wall, cpu = [], []
    for _ in range(rounds):
        for row in rows:
            start, start_cpu = time.perf_counter(), time.thread_time()
            _ours(row)
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    return sorted(wall), sorted(cpu)


def _p(times: list[float], share: float) -> float:
    return times[max(int(len(times) * share) - 1, 0)]


def _jionlp_dates(rows: list[dict[str, Any]]) -> None:
    import jionlp  # type: ignore[import-not-found]

    reports = [r for r in rows if r["expect"]["kind"] == "report"]
    right = wrong = 0
    times = []
    for row in reports:
        today = date.fromisoformat(row["today"])
        base = datetime(today.year, today.month, today.day, 12, tzinfo=SHANGHAI).timestamp()
        start = time.perf_counter()
        try:
            found = jionlp.ner.extract_time(row["text"], time_base=base, with_parsing=True)
        except Exception:
            found = []
        times.append((time.perf_counter() - start) * 1000)
        got = today.isoformat()
        if found:
            detail = found[0]["detail"]
            span = detail.get("time") or ["", "-"]
            one_day = detail.get("type") == "time_point" and span[0][:10] == span[1][:10]
            got = span[0][:10] if one_day else "ask"
        right += got == row["expect"]["date"]
        wrong += date_wrong(got, row["expect"]["date"])
    times.sort()
    print(
        f"jionlp time parser, contact date of {len(reports)} reports: {right} right, "
        f"{wrong} wrong dates; p50 {statistics.median(times):.2f} ms, "
        f"p99 {times[int(len(times) * 0.99) - 1]:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jionlp", action="store_true")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    everything: list[dict[str, Any]] = []
    for name in FILES:
        rows = load(CORPUS / name)
        everything += rows
        result = score(rows, _ours)
        print(result.table(name))
        for miss in result.misses:
            print("  miss:", miss)
        print()
    for _ in range(2):  # warm the character caches, as a running bot has them
        for row in everything:
            _ours(row)
    wall, cpu = _timings(everything, args.rounds)
    for name, times in (("wall", wall), ("CPU", cpu)):
        print(
            f"read one message, {name} time ({len(times)} reads): p50 {_p(times, 0.5):.3f} ms, "
            f"p99 {_p(times, 0.99):.3f} ms, max {times[-1]:.3f} ms"
        )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    names = ["张三", "李秀英", "王桂兰", "陈国强", "黄德福"]
    for size in (600, 2_000, 50_000):
        text = ("今天去了张三家，" + "他家玉米收成不错" * 6250)[:size]
        read(text, names, date(2026, 11, 30))  # warm
        cpu = []
        for _ in range(10):
            start_cpu = time.thread_time()
            read(text, names, date(2026, 11, 30))
            cpu.append((time.thread_time() - start_cpu) * 1000)
        print(f"a {size:,}-character message: median CPU {statistics.median(cpu):.2f} ms")
    if args.jionlp:
        _jionlp_dates(everything)


if __name__ == "__main__":
    main()
