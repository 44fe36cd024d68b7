"""Scoring readings against a labelled corpus (one JSON object a line, see tests/data/corpus).

A message is read exactly when kind, households (as a set), method and date all match. A
date is wrong when a day was given and it is not the labelled one (including a day given
where the label says "ask"); answering "ask" for a labelled day is cautious, not wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FIELDS = ("kind", "households", "method", "date", "problem", "event", "ambiguous")
EXACT = ("kind", "households", "method", "date")


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _same(name: str, got: Any, want: Any) -> bool:
    if name == "households":
        return sorted(got) == sorted(want)
    return bool(got == want)


def date_wrong(got: Any, want: Any) -> bool:
    return got not in (None, "ask") and got != want


@dataclass
class Score:
    total: int = 0
    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    exact: int = 0
    wrong_dates: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, row: dict[str, Any], got: dict[str, Any]) -> None:
        want = {"ambiguous": False, **row["expect"]}
        self.total += 1
        ok = {f: _same(f, got[f], want[f]) for f in FIELDS}
        for f in FIELDS:
            self.right[f] += ok[f]
        if all(ok[f] for f in EXACT):
            self.exact += 1
        else:
            bad = {f: (got[f], want[f]) for f in EXACT if not ok[f]}
            self.misses.append(f"{row['id']} {row['text'][:30]} {bad}")
        if date_wrong(got["date"], want["date"]):
            self.wrong_dates.append(
                f"{row['id']} {row['text'][:30]} {got['date']} ≠ {want['date']}"
            )

    @property
    def exact_share(self) -> float:
        return self.exact / self.total if self.total else 0.0

    def table(self, title: str) -> str:
        lines = [f"{title}: {self.total} messages", "| field | right | share |", "|---|---|---|"]
        for f in FIELDS:
            lines.append(f"| {f} | {self.right[f]} | {self.right[f] / self.total:.1%} |")
        lines.append(
            f"| exact (kind+households+method+date) | {self.exact} | {self.exact_share:.1%} |"
        )
        lines.append(f"| wrong dates | {len(self.wrong_dates)} | |")
        return "\n".join(lines)


def score(
    rows: Iterable[dict[str, Any]], reader: Callable[[dict[str, Any]], dict[str, Any]]
) -> Score:
    result = Score()
    for row in rows:
        result.add(row, reader(row))
    return result
