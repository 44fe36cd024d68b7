"""`bangfu parse --phone PHONE [--at ISO] "TEXT"`: how the bot reads a message, as JSON.

For the county office and for support: the same reading the chat makes of that cadre's
message, printed on one line; nothing is written.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from bot.cli.adminkit import AdminError, admin_command, open_db
from bot.config import load_settings
from core.clock import SystemClock
from core.names import is_mobile, normalize_phone
from storage.cadres import cadre_by_phone


def _moment(raw: str | None, settings_tz) -> datetime:  # type: ignore[no-untyped-def]
    if raw is None:
        return SystemClock(settings_tz).now()
    try:
        at = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise AdminError("parse_cli.bad_at", value=raw) from None
    # A moment without a zone is the county's local time.
    return at.replace(tzinfo=settings_tz) if at.tzinfo is None else at.astimezone(settings_tz)


@admin_command
async def _parse(args: argparse.Namespace) -> int:
    settings = load_settings()
    today = _moment(args.at, settings.tz).date()
    phone = normalize_phone(args.phone)
    if not is_mobile(phone):
        raise AdminError("invite_cli.bad_phone", phone=args.phone)
    from handlers.reading import read_for  # the bot's own reading, loaded only to run

    async with open_db(settings) as db, db.transaction() as session:
        cadre = await cadre_by_phone(session, phone)
        if cadre is None:
            raise AdminError("invite_cli.unknown_phone", phone=phone)
        reading, _ = await read_for(session, cadre.id, args.text, today)
        await session.rollback()  # a reading writes nothing
    print(json.dumps(reading.as_json(), ensure_ascii=False), flush=True)
    return 0
