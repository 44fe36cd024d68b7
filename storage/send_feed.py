"""Sends announced across processes at once (PostgreSQL LISTEN/NOTIFY).

Every send written to the shared send history (a direct answer's history row, a dispatched
outbox row marked sent) is also announced with NOTIFY in the same transaction: the
announcement reaches the other processes when the row is committed, a few milliseconds
later, instead of at their next periodic read of the history. The payload is small: the
worker, and per send its row id, channel, chat id, slots and end time (no text).

`SendListener` keeps one dedicated asyncpg connection LISTENing and hands each
announcement to a callback. When the connection is lost it reconnects (backing off) and,
once listening again, reads the history of the gap, so nothing announced meanwhile is
missed; the periodic read of the dispatcher stays as the last fallback. The channel name
is derived from the schema, so two deployments in one database never hear each other.

SQLite is one process only: nothing to announce, nothing to listen to.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from storage import outbox
from storage.db import Database, is_stale_connection
from storage.outbox import SentAnswer

log = logging.getLogger(__name__)

_PER_NOTIFY = 60  # sends per NOTIFY: well under PostgreSQL's 8,000-byte payload limit
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


@dataclass(frozen=True)
class Announced:
    """One send another process made: its history row and when it ended."""

    id: int
    channel: str
    chat_id: str
    slots: int
    ended: datetime


def channel_name(schema: str | None) -> str:
    digest = hashlib.sha256((schema or "public").encode()).hexdigest()[:16]
    return f"bangfu_sends_{digest}"


def enabled(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


async def announce(
    session: AsyncSession, schema: str | None, worker: str, sends: Sequence[Announced]
) -> None:
    """NOTIFY `sends` in the session's transaction (delivered on commit); no-op on SQLite."""
    if not sends or not enabled(session):
        return
    for start in range(0, len(sends), _PER_NOTIFY):
        chunk = sends[start : start + _PER_NOTIFY]
        payload = json.dumps(
            {
                "w": worker,
                "s": [
                    [a.id, a.channel, a.chat_id, a.slots, (a.ended - _EPOCH) // _US] for a in chunk
                ],
            },
            separators=(",", ":"),
        )
        await session.execute(_NOTIFY, {"channel": channel_name(schema), "payload": payload})


# The direct answers' history rows and their announcement in one statement (PostgreSQL,
# autocommit: no BEGIN or COMMIT around it; the notifications go out when it commits).
# The same rows as outbox.record_answers writes and the payload `announce` sends, numbered
# in the order given and announced _PER_NOTIFY to a notification.
_WRITE_AND_ANNOUNCE = text(
    f"""WITH given AS (
      SELECT x.* FROM unnest(CAST(:keys AS text[]), CAST(:channels AS text[]),
        CAST(:chats AS text[]), CAST(:slots AS int[]), CAST(:ats AS timestamptz[]))
        WITH ORDINALITY AS x(dedupe_key, channel, chat_id, slots, at, i)
    ), written AS (
      INSERT INTO outbox (dedupe_key, channel, chat_id, kind, payload, status, attempts,
        next_attempt_at, claimed_at, claimed_by, last_error, created_at, sent_at)
      SELECT dedupe_key, channel, chat_id, CAST(:kind AS text),
        json_build_object(CAST(:slots_key AS text), slots), CAST(:status AS text), 1, at, at,
        CAST(:worker AS text), '', at, at
      FROM given ORDER BY i
      RETURNING id, dedupe_key
    ), sends AS (
      SELECT w.id, g.channel, g.chat_id, g.slots,
        CAST(round(extract(epoch FROM g.at) * 1000000) AS bigint) AS us,
        (g.i - 1) / {_PER_NOTIFY} AS part
      FROM written w JOIN given g ON g.dedupe_key = w.dedupe_key
    )
    SELECT pg_notify(CAST(:channel AS text), json_build_object('w', CAST(:worker AS text), 's',
        json_agg(json_build_array(id, channel, chat_id, slots, us) ORDER BY id))::text)
    FROM sends GROUP BY part"""
)


async def write_and_announce(
    db: Database, answers: Sequence[SentAnswer], *, worker: str, now: datetime, prune: bool
) -> None:
    """PostgreSQL: `outbox.record_answers` and `announce` of its rows as one statement on
    its own (one round trip instead of BEGIN, INSERT, NOTIFY and COMMIT); the prune, when
    due, is a second one."""
    params = {
        "keys": [outbox.answered_key() for _a in answers],
        "channels": [a.channel for a in answers],
        "chats": [a.chat_id for a in answers],
        "slots": [a.slots for a in answers],
        "ats": [a.sent_at for a in answers],
        "kind": outbox.ANSWERED,
        "slots_key": outbox.SLOTS_KEY,
        "status": outbox.SENT,
        "worker": worker,
        "channel": channel_name(db.schema),
    }
    for attempt in (1, 2):
        try:
            async with db.autocommit() as conn:
                if answers:
                    await conn.execute(_WRITE_AND_ANNOUNCE, params)
                if prune:
                    await conn.execute(outbox.answered_pruned(now))
            return
        except Exception as exc:
            if attempt == 2 or not is_stale_connection(exc):  # a dead pooled connection
                raise


def parse(payload: str) -> tuple[str, list[Announced]]:
    """(worker, sends) of one announcement; ValueError when it is not one of ours."""
    try:
        data = json.loads(payload)
        worker = str(data["w"])
        sends = [
            Announced(int(i), str(ch), str(chat), max(1, int(slots)), _EPOCH + int(us) * _US)
            for i, ch, chat, slots, us in data["s"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError("not a send announcement") from exc
    return worker, sends


OnSends = Callable[[str, list[Announced]], None]


class SendListener:
    """LISTENs on one dedicated connection; reconnects; catches up after a gap."""

    def __init__(
        self,
        db: Database,
        on_sends: OnSends,
        *,
        catch_up: Callable[[], Awaitable[None]] | None = None,
        first_retry_seconds: float = 0.5,
        max_retry_seconds: float = 30.0,
    ) -> None:
        self.enabled = db.dialect == "postgresql"
        self.db = db
        self.on_sends = on_sends
        self.catch_up = catch_up
        self.first_retry = first_retry_seconds
        self.max_retry = max_retry_seconds
        self.listening = asyncio.Event()  # set while the connection listens
        self.connects = 0  # connections made (1 = never lost)
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None

    def start(self) -> None:
        if self.enabled and self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._close()

    def backend_pid(self) -> int | None:
        """The listening connection's server process (tests cut it to prove reconnects)."""
        conn = self._conn
        return None if conn is None or conn.is_closed() else int(conn.get_server_pid())

    async def _run(self) -> None:
        import asyncpg  # PostgreSQL only; the SQLite deployments never load it here

        delay = self.first_retry
        channel = channel_name(self.db.schema)
        url = make_url(self.db.url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while True:
            lost = asyncio.Event()
            try:
                self._conn = await asyncpg.connect(dsn)
                self._conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await self._conn.add_listener(channel, self._heard)
                self.connects += 1
                self.listening.set()
                delay = self.first_retry
                if self.catch_up is not None:
                    await self.catch_up()  # what was announced before we listened
                await lost.wait()
                log.warning("send announcements: connection lost; reconnecting")
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "send announcements: not listening (%s); retry in %.1fs",
                    type(exc).__name__,
                    delay,
                )
            self.listening.clear()
            await self._close()
            await asyncio.sleep(delay)
            delay = min(self.max_retry, delay * 2)

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            worker, sends = parse(payload)
        except ValueError:
            log.warning("send announcements: a payload not ours ignored")
            return
        try:
            self.on_sends(worker, sends)
        except Exception:
            log.exception("send announcements: not counted")

    async def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=5)
