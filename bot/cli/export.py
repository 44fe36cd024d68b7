"""`bangfu export LEDGER --unit PATH [--from D] [--to D] FILE.xlsx|.csv`: the 台账 files."""

from __future__ import annotations

import argparse
from datetime import date

from bot.cli.adminkit import AdminError, admin_command, open_core_db, say
from bot.config import load_settings
from core.clock import SystemClock
from storage.audit import audit_now
from storage.cadres import unit_by_path
from webconsole.ledger_file import Export, write_ledger


def _day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise AdminError("export_cli.bad_date", value=raw) from None


@admin_command
async def _export(args: argparse.Namespace) -> int:
    settings = load_settings()
    if args.file.suffix.lower() not in (".xlsx", ".csv"):
        raise AdminError("export_cli.bad_file", path=str(args.file))
    since, until = _day(args.since), _day(args.until)
    if since and until and since > until:
        raise AdminError(
            "export_cli.from_after_to", since=since.isoformat(), until=until.isoformat()
        )
    now = SystemClock(settings.tz).now()
    async with open_core_db(settings) as db:
        async with db.transaction() as s:
            unit = await unit_by_path(s, args.unit.strip().strip("/"))
            if unit is None:
                raise AdminError("user_cli.unknown_unit", unit=args.unit)
            await audit_now(
                s,
                at=now,
                actor="cli",
                action="export",
                entity="unit",
                entity_id=unit.id,
                ledger=args.ledger,
                since=str(since or ""),
                until=str(until or ""),
            )
        n = await write_ledger(
            db,
            Export(args.ledger, unit.path, since, until),
            args.file,
            tz=settings.tz,
            today=now.date(),
            policy=settings.policy,
        )
    say("export_cli.done", rows=n, path=str(args.file))
    return 0
