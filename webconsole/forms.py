"""Reading filters from query strings: bad values answer 400 with a plain reason."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import t
from core.policy import OPINION_TOPICS
from storage.models import Unit
from storage.office_scope import unit_in_scope, unit_path_in_scope


def bad(request_lang: str, key: str, **params: object) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=t(key, request_lang, **params))


def parse_day(raw: str, lang: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad(lang, "console.bad_date", value=raw[:20]) from None


def date_range(query: Mapping[str, str], lang: str) -> tuple[date | None, date | None]:
    since = parse_day(query.get("from", ""), lang)
    until = parse_day(query.get("to", ""), lang)
    if since and until and since > until:
        raise bad(lang, "console.from_after_to", since=since.isoformat(), until=until.isoformat())
    return since, until


async def scoped_unit(
    session: AsyncSession, raw: str, scope: str, default_id: int, lang: str
) -> Unit:
    """The unit named by id or path in a form, within scope; the viewer's own by default."""
    raw = raw.strip()
    if not raw:
        found = await unit_in_scope(session, default_id, scope)
    elif raw.isdigit() and len(raw) < 18:
        found = await unit_in_scope(session, int(raw), scope)
    else:
        found = await unit_path_in_scope(session, raw, scope)
    if found is None:
        raise bad(lang, "console.unknown_unit", unit=raw[:100])
    return found


def optional_int(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if raw.isdigit() and len(raw) < 18 else None


def diary_choices(query: Mapping[str, str]) -> tuple[int | None, str, str]:
    """The diary reader's cadre, topic and keyword, as the reader and its export read them."""
    topic = query.get("topic", "")
    return (
        optional_int(query.get("cadre", "")),
        topic if topic in OPINION_TOPICS else "",
        query.get("q", "").strip()[:50],
    )


def keyset(raw: str) -> tuple[date, int] | None:
    """A page mark "YYYY-MM-DD.ID" (the last entry shown); anything else starts at the top."""
    day, _, last_id = raw.strip().partition(".")
    if not last_id.isdigit() or len(last_id) > 18:
        return None
    try:
        return date.fromisoformat(day), int(last_id)
    except ValueError:
        return None
