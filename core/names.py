"""Normalising what people type into rosters and commands: phone numbers and unit paths."""

from __future__ import annotations

import re

_PHONE_NOISE = re.compile(r"[\s\-()（）]+")
MOBILE = re.compile(r"1[3-9]\d{9}")
# A landline with its area code (0775-1234567 → 07751234567), for households without a mobile.
LANDLINE = re.compile(r"0\d{9,11}")
PATH_SEPARATORS = ("／", "\\", "＼", ">")


def normalize_phone(raw: str) -> str:
    """Digits only, without the +86 / 0086 country prefix: '+86 138-0013-8000' → '13800138000'."""
    s = _PHONE_NOISE.sub("", raw.strip())
    for prefix in ("+86", "0086"):
        if s.startswith(prefix):
            s = s[len(prefix) :]
    if len(s) == 13 and s.startswith("86") and s[2] == "1":
        s = s[2:]
    return s


def is_mobile(phone: str) -> bool:
    """A mainland mobile number, already normalised."""
    return MOBILE.fullmatch(phone) is not None


def is_phone(phone: str) -> bool:
    """A mobile or a landline with area code, already normalised."""
    return is_mobile(phone) or LANDLINE.fullmatch(phone) is not None


def split_path(raw: str) -> list[str]:
    """'博白县 / 顿谷镇／旧门村' → ['博白县', '顿谷镇', '旧门村'] (empty parts kept, to report)."""
    s = raw.strip()
    for sep in PATH_SEPARATORS:
        s = s.replace(sep, "/")
    return [part.strip() for part in s.strip("/").split("/")] if s else []


def normalize_path(raw: str) -> str:
    return "/".join(split_path(raw))
