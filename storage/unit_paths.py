"""Unit paths such as 博白县/顿谷镇: the subtree test every scoped query uses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select

from storage.tables import units


def in_subtree(path_col: Any, path: str) -> Any:
    """path_col is `path` or below it; substr, not LIKE, so no wildcard escaping is needed."""
    prefix = path + "/"
    return or_(path_col == path, func.substr(path_col, 1, len(prefix)) == prefix)


def units_under(path: str) -> Any:
    """Ids of the units in the subtree at `path`, as a scalar subquery."""
    return select(units.c.id).where(in_subtree(units.c.path, path)).scalar_subquery()
