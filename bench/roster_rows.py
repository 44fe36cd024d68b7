"""Roster rows of a synthetic county of any size, as an import file holds them (bench and tests)."""

from __future__ import annotations

from collections.abc import Iterator

RANKS = ("厅级", "处级", "正科", "副科", "中层", "一般干部")


def county_rows(
    households: int, *, per_cadre: int = 5, townships: int = 10, villages: int = 20
) -> Iterator[list[str]]:
    """One line per pairing: cadre i // per_cadre takes household i; values as in a file."""
    for i in range(households):
        c = i // per_cadre
        town = f"镇{(i // villages) % townships:02d}"
        yield [
            f"测试县/单位{c % 50:02d}",
            f"干部{c:05d}",
            RANKS[c % len(RANKS)],
            f"13{c:09d}",
            f"户主{i:06d}",
            f"H{i:06d}",
            f"测试县/{town}/村{i % villages:02d}",
            "贫困户",
            str(1 + i % 6),
            "因病",
            f"159{i:08d}",
        ]
