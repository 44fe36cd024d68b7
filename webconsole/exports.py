"""Ledger downloads from the console: the same files as `bangfu export`."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from storage.audit import audit
from storage.ledgers import LEDGERS
from webconsole.context import console, lang, render, user
from webconsole.forms import bad, date_range, diary_choices, scoped_unit
from webconsole.ledger_file import SHEET_NAMES, Export, write_ledger

FORMATS = ("xlsx", "csv")
CHUNK = 256 * 1024


async def export_form(request: web.Request) -> web.StreamResponse:
    c, me = console(request), user(request)
    async with c.db.sessions() as s:
        unit = await scoped_unit(
            s, request.query.get("unit", ""), me.scope, me.unit_id, lang(request)
        )
    return render("export.html", request, {"unit": unit, "ledgers": LEDGERS, "names": SHEET_NAMES})


async def export_download(request: web.Request) -> web.StreamResponse:
    c, me, language = console(request), user(request), lang(request)
    form = await request.post()
    ledger, fmt = str(form.get("ledger", "")), str(form.get("format", "xlsx"))
    if ledger not in LEDGERS or fmt not in FORMATS:
        raise bad(language, "console.bad_ledger")
    fields = {k: str(v) for k, v in form.items()}
    since, until = date_range(fields, language)
    cadre_id, topic, keyword = diary_choices(fields) if ledger == "diaries" else (None, "", "")
    async with c.db.transaction() as s:
        unit = await scoped_unit(s, str(form.get("unit", "")), me.scope, me.unit_id, language)
        audit(
            s,
            at=c.clock.now(),
            actor=me.actor,
            action="web.export",
            entity="unit",
            entity_id=unit.id,
            ledger=ledger,
            since=str(since or ""),
            until=str(until or ""),
            format=fmt,
            **(
                {"cadre": cadre_id, "topic": topic, "keyword": keyword}
                if ledger == "diaries"
                else {}
            ),
        )
    spec = Export(ledger, unit.path, since, until, cadre_id, topic, keyword)
    with tempfile.TemporaryDirectory(prefix="bangfu-export-") as tmp:
        target = Path(tmp) / f"ledger.{fmt}"
        today = c.clock.now().date()
        await write_ledger(c.db, spec, target, tz=c.clock.tz, today=today, policy=c.policy)
        name = f"{unit.name}-{SHEET_NAMES[ledger]}-{today.isoformat()}.{fmt}"
        return await _send_file(request, target, name, fmt)


async def _send_file(request: web.Request, path: Path, name: str, fmt: str) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/csv; charset=utf-8"
            if fmt == "csv"
            else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "Content-Disposition": f"attachment; filename=\"ledger.{fmt}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        }
    )
    response.content_length = (await asyncio.to_thread(path.stat)).st_size
    await response.prepare(request)
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response
