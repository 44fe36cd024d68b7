"""The one text catalogue: zh (default) and en, loaded from core/locales/<lang>/*.toml.

Each TOML file holds one area's texts as `[section] key = "..."`; a key is addressed as
"section.key". Files are split by area only so that areas can grow independently; the
lookup is one namespace and a duplicate key across files is an error at load time.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LANG = "zh"
LANGS = ("zh", "en")


def _flatten(prefix: str, table: dict[str, Any], out: dict[str, str], origin: str) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(name, value, out, origin)
        elif isinstance(value, str):
            if name in out:
                raise ValueError(f"duplicate text key {name!r} in {origin}")
            out[name] = value
        else:
            raise ValueError(f"text {name!r} in {origin} must be a string")


@cache
def catalogue(lang: str) -> dict[str, str]:
    """All texts of one language, keyed "section.key"."""
    out: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.toml")):
        with path.open("rb") as fh:
            _flatten("", tomllib.load(fh), out, path.name)
    return out


def normalize_lang(lang: str | None) -> str:
    """Map a client hint ("en-US", "zh-hans", "") to a catalogue language."""
    if lang and lang.lower().startswith("en"):
        return "en"
    return DEFAULT_LANG


def t(key: str, lang: str = DEFAULT_LANG, /, **params: Any) -> str:
    """The text for `key` in `lang`, falling back to Chinese, formatted with params."""
    lang = normalize_lang(lang)
    text = catalogue(lang).get(key) or catalogue(DEFAULT_LANG).get(key)
    if text is None:
        raise KeyError(f"no text for {key!r}")
    return text.format(**params) if params else text
