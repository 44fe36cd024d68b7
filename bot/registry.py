"""The registry `bangfu run` walks: settings name parts, each module knows how to build one.

A part is named by an importable module that has a `plug(host)` function, or by
"module:function". The function returns the built part, or None when the part's own
settings leave it off (`settings.telegram.enabled` is false...).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

from bot.config import ConfigError


def resolve(name: str, setting: str) -> Callable[..., Any]:
    """The plug function `name` points to; ConfigError naming `setting` when there is none."""
    module_name, _, attr = name.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"配置错误 / bad setting {setting}: cannot import {name!r} ({exc})"
        ) from exc
    plug = getattr(module, attr or "plug", None)
    if not callable(plug):
        raise ConfigError(f"配置错误 / bad setting {setting}: {name!r} has no plug(host)")
    return plug


def resolve_all(names: Iterable[str], setting: str) -> list[Callable[..., Any]]:
    return [resolve(name, setting) for name in names]
