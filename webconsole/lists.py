"""The diary/民意 reader (with comments sent to the cadre's chat) and the problems board."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from core.i18n import t
from core.payload import reply_to_payload
from core.policy import OPINION_TOPICS
from core.types import Reply
from reminders.sweep import quiet_until
from storage.audit import audit
from storage.models import ChatAccount, DiaryComment
from storage.office_lists import PAGE, DiaryFilter, diary_in_scope
from storage.office_lists import diaries as diary_list
from storage.office_lists import problems as problem_list
from storage.office_pages import diary_comments
from storage.outbox import NewMessage, enqueue
from webconsole.context import console, lang, render, user
from webconsole.forms import bad, date_range, diary_choices, keyset, scoped_unit
from webconsole.pages import path_id

PROBLEM_OVERDUE_DAYS = 30  # an open problem older than this is shown as overdue
COMMENT_MAX = 500
STATUSES = ("open", "overdue", "resolved")


async def diaries(request: web.Request) -> web.StreamResponse:
    c, me, language = console(request), user(request), lang(request)
    q = request.query
    since, until = date_range(q, language)
    cadre_id, topic, keyword = diary_choices(q)
    async with c.db.sessions() as s:
        unit = await scoped_unit(s, q.get("unit", ""), me.scope, me.unit_id, language)
        f = DiaryFilter(
            unit.path,
            cadre_id=cadre_id,
            since=since,
            until=until,
            topic=topic,
            keyword=keyword,
            before=keyset(q.get("before", "")),
        )
        rows = await diary_list(s, f)
        comments = await diary_comments(s, [r[0].id for r in rows])
    return render(
        "diaries.html",
        request,
        {
            "rows": rows,
            "f": f,
            "unit": unit,
            "comments": comments,
            "topics": OPINION_TOPICS,
            "query": dict(q),
            "older": _older(q, rows),
        },
    )


def _older(query: Mapping[str, str], rows: list[Any]) -> str:
    """The query string of the next (older) page, or "" when this page is the last."""
    if len(rows) < PAGE:
        return ""
    last = rows[-1][0]
    return urlencode({**query, "before": f"{last.written_on.isoformat()}.{last.id}"})


async def comment(request: web.Request) -> web.StreamResponse:
    """Save a supervisor's comment and queue it to every reachable chat of the cadre."""
    c, me, language = console(request), user(request), lang(request)
    if not me.can_comment:
        raise web.HTTPNotFound()
    diary_id = path_id(request, "diary_id")
    text = str((await request.post()).get("text", "")).strip()
    if not text or len(text) > COMMENT_MAX:
        raise bad(language, "console.comment_length", limit=COMMENT_MAX)
    now = c.clock.now()
    async with c.db.transaction() as s:
        found = await diary_in_scope(s, diary_id, me.scope)
        if found is None:
            raise web.HTTPNotFound()
        diary, cadre = found
        row = DiaryComment(diary_id=diary.id, user_id=me.user_id, text=text, created_at=now)
        s.add(row)
        await s.flush()
        accounts = list(
            await s.scalars(
                select(ChatAccount).where(
                    ChatAccount.cadre_id == cadre.id, ChatAccount.blocked_at.is_(None)
                )
            )
        )
        messages = [
            NewMessage(
                dedupe_key=f"comment:{row.id}:{a.channel}:{a.account_id}",
                channel=a.channel,
                chat_id=a.chat_id,
                kind="comment",
                payload=reply_to_payload(
                    Reply(
                        t(
                            "console.comment_message",
                            a.language,
                            name=me.name,
                            day=diary.written_on.isoformat(),
                            text=text,
                        )
                    )
                ),
                cadre_id=cadre.id,
                not_before=quiet_until(now, c.policy),
            )
            for a in accounts
        ]
        queued = await enqueue(s, messages, now=now)
        audit(
            s,
            at=now,
            actor=me.actor,
            action="web.diary_comment",
            entity="diary",
            entity_id=diary.id,
            comment_id=row.id,
            queued=queued,
        )
    back = request.headers.get("Referer", "")
    target = str(request.app.router["diaries"].url_for())
    raise web.HTTPFound(back if back.startswith(str(request.url.origin()) + target) else target)


async def problems(request: web.Request) -> web.StreamResponse:
    c, me, language = console(request), user(request), lang(request)
    q = request.query
    status = q.get("status", "open")
    status = status if status in STATUSES else "open"
    today = c.clock.now().date()
    async with c.db.sessions() as s:
        unit = await scoped_unit(s, q.get("unit", ""), me.scope, me.unit_id, language)
        counts, lines = await problem_list(
            s, unit.path, status, today, PROBLEM_OVERDUE_DAYS, c.clock.tz
        )
    return render(
        "problems.html",
        request,
        {
            "unit": unit,
            "status": status,
            "counts": counts,
            "lines": lines,
            "overdue_days": PROBLEM_OVERDUE_DAYS,
            "statuses": STATUSES,
            "today": today,
        },
    )
