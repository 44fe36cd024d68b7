"""The overview of a unit, a cadre's record, a household's file (一户一档) and its photos."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from core.policy import Policy, duty_start
from storage.office_pages import (
    cadre_record,
    child_units,
    contact_photo_ref,
    household_record,
    monthly_coverage,
    village_households,
)
from storage.office_scope import cadre_in_scope, household_in_scope, unit_in_scope
from storage.plans import plan_card
from storage.stats import SubUnitLine, Window, unit_stats
from webconsole.context import Console, console, render, user
from webconsole.trend import TrendBar, trend_svg

PEOPLE_CAP = 30  # names listed per group on the overview
FIGURES_KEPT = 500  # units whose figures are kept for a minute
SORTS = ("month", "quarter", "households", "name")
_MEDIA_REF = re.compile(r"^media:([0-9a-f]{64})\.(jpg|png|gif|bmp|webp)$")
_PHOTO_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "webp": "image/webp",
}


def path_id(request: web.Request, name: str) -> int:
    """A numeric id from the URL; anything else is simply not found."""
    raw = request.match_info[name]
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPNotFound()
    return int(raw)


def console_window(now: datetime, policy: Policy) -> Window:
    """This month so far: the console's period, with the digest's duty periods."""
    today = now.date()
    start = today.replace(day=1)
    return Window(
        today=today,
        period_start=start,
        contact_since=duty_start(today, policy.contact_every_months),
        visit_since=duty_start(today, policy.visit_every_months),
        period_start_at=datetime.combine(start, time(0), tzinfo=now.tzinfo),
        period_end_at=datetime.combine(today + timedelta(days=1), time(0), tzinfo=now.tzinfo),
    )


async def home(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound(request.app.router["unit"].url_for(unit_id=str(user(request).unit_id)))


def _ratio(n: int, total: int) -> float:
    return n / total if total else 1.0


def sort_lines(lines: list[SubUnitLine], key: str) -> list[SubUnitLine]:
    """Worst first: lowest coverage (or most households) on top; by name when asked."""
    if key == "name":
        return sorted(lines, key=lambda x: x.name)
    if key == "households":
        return sorted(lines, key=lambda x: (-x.coverage.households, x.name))
    if key == "quarter":
        return sorted(
            lines, key=lambda x: (_ratio(x.coverage.visited_quarter, x.coverage.households), x.name)
        )
    return sorted(
        lines, key=lambda x: (_ratio(x.coverage.contacted_month, x.coverage.households), x.name)
    )


def months_back(today: date, n: int) -> list[tuple[int, int]]:
    """The last `n` (year, month) pairs ending with today's month, oldest first."""
    y, m = today.year, today.month
    out = []
    for _ in range(n):
        out.append((y, m))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


async def unit_page(request: web.Request) -> web.StreamResponse:
    c, me = console(request), user(request)
    unit_id = path_id(request, "unit_id")
    now = c.clock.now()
    w = console_window(now, c.policy)
    sort = request.query.get("sort", "month")
    sort = sort if sort in SORTS else "month"
    months = months_back(w.today, 12)
    async with c.db.sessions() as s:
        unit = await unit_in_scope(s, unit_id, me.scope)
        if unit is None:
            raise web.HTTPNotFound()
        st, monthly = await _figures(c, s, unit, w, months[0])
        children = await child_units(s, unit.id)
        households = [] if children else await village_households(s, unit.id, w.today)
        crumbs = await _crumbs(s, unit.path, me.scope)
    bars = [TrendBar(f"{m}月", monthly.get((y, m), 0), st.coverage.households) for y, m in months]
    return render(
        "unit.html",
        request,
        {
            "unit": unit,
            "st": st,
            "w": w,
            "crumbs": crumbs,
            "lines": sort_lines(st.sub_units, sort),
            "sort": sort,
            "households": households,
            "trend": trend_svg(bars),
            "pct": _pct,
        },
    )


async def _figures(
    c: Console, session: Any, unit: Any, w: Window, first: tuple[int, int]
) -> tuple[Any, dict[tuple[int, int], int]]:
    """The digest's figures and the monthly trend, reused for a minute."""
    key, now = (unit.id, w.today), c.clock.now()
    hit = c.figures.get(key)
    if hit is not None and now - hit[0] < c.figures_ttl:
        return hit[1]  # type: ignore[no-any-return]
    st = await unit_stats(session, unit, w, cap=PEOPLE_CAP)
    monthly = await monthly_coverage(session, unit.path, date(*first, 1), w.today)
    if len(c.figures) >= FIGURES_KEPT:
        c.figures.clear()
    c.figures[key] = (now, (st, monthly))
    return st, monthly


def _pct(n: int, total: int) -> str:
    return f"{n * 100 / total:.0f}%" if total else "—"


async def _crumbs(session: Any, path: str, scope: str) -> list[tuple[int, str]]:
    """(id, name) of the unit's ancestors within the viewer's scope, then the unit."""
    from sqlalchemy import select

    from storage.models import Unit

    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    wanted = [p for p in prefixes if p == scope or p.startswith(scope + "/")]
    rows = await session.execute(select(Unit.id, Unit.name, Unit.path).where(Unit.path.in_(wanted)))
    found = {r.path: (r.id, r.name) for r in rows}
    return [found[p] for p in wanted if p in found]


async def cadre_page(request: web.Request) -> web.StreamResponse:
    c, me = console(request), user(request)
    cadre_id = path_id(request, "cadre_id")
    async with c.db.sessions() as s:
        found = await cadre_in_scope(s, cadre_id, me.scope)
        if found is None:
            raise web.HTTPNotFound()
        cadre, unit, own = found
        rec = await cadre_record(s, cadre.id, None if own else me.scope)
    return render(
        "cadre.html",
        request,
        {
            "cadre": cadre,
            "unit": unit,
            "own": own,
            "rec": rec,
            "today": c.clock.now().date(),
            "answers": answered(rec),
        },
    )


def answered(rec: Any) -> dict[int, datetime]:
    """Reminder id -> when the cadre next reported a contact after it was delivered."""
    reported = sorted(c.reported_at for c, _ in rec.contacts)
    out: dict[int, datetime] = {}
    for m in rec.reminders:
        if m.sent_at is None:
            continue
        later = [at for at in reported if at >= m.sent_at]
        if later:
            out[m.id] = later[0]
    return out


async def household_page(request: web.Request) -> web.StreamResponse:
    return await household_file(request, "household.html")


async def card_page(request: web.Request) -> web.StreamResponse:
    return await household_file(request, "card.html")


async def household_file(
    request: web.Request, template: str, entry: dict[str, Any] | None = None
) -> web.Response:
    """A household's file; `entry` is a back-entry form sent back with what was wrong."""
    c, me = console(request), user(request)
    household_id = path_id(request, "household_id")
    async with c.db.sessions() as s:
        found = await household_in_scope(s, household_id, me.scope)
        if found is None:
            raise web.HTTPNotFound()
        household, village = found
        rec = await household_record(s, household.id)
        plan = await plan_card(s, household.id)
    return render(
        template,
        request,
        {
            "h": household,
            "village": village,
            "rec": rec,
            "plan": plan,
            "today": c.clock.now().date(),
            "measures": list(
                dict.fromkeys(t for contact, _ in rec.contacts for t in contact.help_tags or [])
            ),
            "entry": entry or {},
            "paired": _paired_cadres(rec.pairings),
            "added": request.query.get("added", "").isdigit(),
        },
    )


def _paired_cadres(pairings: list[Any]) -> dict[int, tuple[str, bool]]:
    """Each cadre who is or was responsible, once: name and whether a pairing is current."""
    out: dict[int, tuple[str, bool]] = {}
    for p, name, _phone, cid in pairings:
        out[cid] = (name, out.get(cid, ("", False))[1] or bool(p.active))
    return out


def media_file(media_dir: Path, ref: str) -> tuple[Path, str] | None:
    """The file behind a "media:<sha256>.<ext>" ref, only inside the media directory."""
    m = _MEDIA_REF.match(ref)
    if m is None:
        return None
    root = media_dir.resolve()
    path = (root / m.group(1)[:2] / f"{m.group(1)}.{m.group(2)}").resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path, _PHOTO_TYPES[m.group(2)]


async def photo(request: web.Request) -> web.StreamResponse:
    """A contact's photo by its position; the URL never carries a file name."""
    c, me = console(request), user(request)
    contact_id, index = path_id(request, "contact_id"), path_id(request, "index")
    async with c.db.sessions() as s:
        found = await contact_photo_ref(s, contact_id, index)
        if found is None or await household_in_scope(s, found[0], me.scope) is None:
            raise web.HTTPNotFound()
    served = media_file(c.media_dir, found[1])
    if served is None:
        raise web.HTTPNotFound()
    return web.FileResponse(
        served[0], headers={"Content-Type": served[1], "Cache-Control": "private, max-age=3600"}
    )
