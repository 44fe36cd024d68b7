"""A private copy of a SQLite database, taken without blocking its writers."""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url


@contextmanager
def sqlite_copy(url: str) -> Iterator[str]:
    """The URL of a temporary copy of the SQLite database at `url`, removed afterwards.

    SQLite's online backup reads the file page by page; in WAL mode the live bot keeps
    writing meanwhile, and the copy is one consistent moment of it.
    """
    source = make_url(url).database or ""
    with tempfile.TemporaryDirectory(prefix="bangfu-dry-run-") as tmp:
        target = Path(tmp) / "copy.db"
        src = sqlite3.connect(source, timeout=30)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=4096)
        finally:
            dst.close()
            src.close()
        yield f"sqlite:///{target}"
