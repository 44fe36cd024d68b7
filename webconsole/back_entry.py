"""Back-entry from a household's file: a call or visit a cadre could not report in time,
entered by a county administrator, marked with who entered it and audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy
from sqlalchemy.ext.asyncio import AsyncSession

from storage.back_entry import add_back_entry, paired_on, pairing_ends
from storage.office_scope import household_in_scope
from webconsole.context import console, user
from webconsole.forms import optional_int
from webconsole.pages import household_file, path_id

KINDS = ("call", "visit")
NOTE_MAX = 2000


async def back_entry(request: web.Request) -> web.StreamResponse:
    """Save the record and show the household's file; a mistake is shown on the form, kept."""
    c, me = console(request), user(request)
    if not me.can_back_enter:
        raise web.HTTPNotFound()
    household_id = path_id(request, "household_id")
    form = await request.post()
    entry = _entry(form)
    now = c.clock.now()
    async with c.db.transaction() as s:
        found = await household_in_scope(s, household_id, me.scope)
        if found is None:
            raise web.HTTPNotFound()
        error = _form_error(entry, now.date()) or await _pairing_error(s, entry, household_id)
        if error is None:
            contact_id = await add_back_entry(
                s,
                cadre_id=entry["cadre"],
                household_id=household_id,
                kind=entry["kind"],
                occurred_on=entry["day"],
                note=entry["note"],
                entered_by=f"web:{me.name}"[:100],
                now=now,
            )
    if error is not None:
        page = await household_file(request, "household.html", {**entry, "error": error})
        page.set_status(400)
        return page
    target = request.app.router["household"].url_for(household_id=str(household_id))
    raise web.HTTPFound(f"{target}?added={contact_id}#contacts")


def _entry(form: MultiDictProxy[Any]) -> dict[str, Any]:
    """The form's fields as typed, so that a refused form comes back as it was sent."""
    raw_day = str(form.get("date", "")).strip()[:20]
    try:
        day: date | None = date.fromisoformat(raw_day)
    except ValueError:
        day = None
    return {
        "cadre": optional_int(str(form.get("cadre", ""))),
        "kind": str(form.get("kind", "")),
        "raw_day": raw_day,
        "day": day,
        "note": str(form.get("note", "")).strip(),
    }


def _form_error(entry: dict[str, Any], today: date) -> tuple[str, dict[str, Any]] | None:
    """What is wrong with the fields themselves, as a catalogue key and its values."""
    if entry["kind"] not in KINDS:
        return "console.entry_kind", {}
    if entry["day"] is None:
        return "console.bad_date", {"value": entry["raw_day"] or "—"}
    if entry["day"] > today:
        return "console.entry_future", {"value": entry["day"].isoformat()}
    if not entry["note"] or len(entry["note"]) > NOTE_MAX:
        return "console.entry_note", {"limit": NOTE_MAX}
    return None


async def _pairing_error(
    s: AsyncSession, entry: dict[str, Any], household_id: int
) -> tuple[str, dict[str, Any]] | None:
    """The cadre must have been paired with this household on that day (history kept)."""
    ends = [] if entry["cadre"] is None else await pairing_ends(s, entry["cadre"], household_id)
    if not ends:
        return "console.entry_cadre", {}
    if not paired_on(ends, entry["day"]):
        return "console.entry_not_paired", {"day": entry["day"].isoformat()}
    return None
