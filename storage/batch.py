"""Helpers for set-based writes: fixed-size batches and created/updated tallies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

CHUNK = 500  # keys per IN (...) list and rows per batch: well under SQLite's variable limit

T = TypeVar("T")


def chunks(seq: Sequence[T], size: int = CHUNK) -> Iterable[list[T]]:
    for start in range(0, len(seq), size):
        yield list(seq[start : start + size])


@dataclass
class Tally:
    """What a batch upsert did with each distinct record."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
