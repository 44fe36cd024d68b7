"""`bangfu calendar YEAR` and `bangfu reminders preview|run --at T` (admin commands)."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, tzinfo

from lunar_python import Solar

from bot.cli.moment import moment
from bot.config import ConfigError, Settings, load_settings
from bot.database import open_database
from core.i18n import t
from core.payload import payload_to_reply
from reminders.calendar import occasions_in
from reminders.sweep import CadreReminder, SweepResult, quiet_until, run_sweep
from storage.jobs import SWEEP
from storage.outbox import schedule_job


def parse_at(value: str | None, settings: Settings) -> datetime | None:
    """--at: a date means that day at the configured sweep time; a naive time is local."""
    tz: tzinfo = settings.tz
    if not value:
        return None
    try:
        if len(value) == 10:
            hour, minute = (int(x) for x in settings.schedule.sweep_time.split(":"))
            return datetime.combine(date.fromisoformat(value), time(hour, minute), tzinfo=tz)
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(t("reminders_cli.bad_at", settings.language, value=value)) from None
    return at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)


def _lunar_label(day: date) -> str:
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    return f"{lunar.getMonthInChinese()}月{lunar.getDayInChinese()}"


def _calendar(args: argparse.Namespace) -> int:
    settings = load_settings()
    lang = settings.language
    print(t("reminders_cli.calendar_header", lang, year=args.year))
    for o in occasions_in(args.year, settings.policy):
        kind = t(f"reminders_cli.{o.kind}", lang)
        window = t("reminders_cli.window", lang, start=o.start, end=o.end)
        print(f"{o.day}  {_lunar_label(o.day):<6}  {o.name:<4}  {kind}  {window}")
    return 0


def _print_reminder(reminder: CadreReminder, lang: str) -> None:
    for m in reminder.messages:
        reply = payload_to_reply(m.payload)
        print()
        print(
            t(
                "reminders_cli.to",
                lang,
                channel=m.channel,
                chat_id=m.chat_id,
                cadre=reminder.cadre_id,
            )
        )
        print(reply.text)
        print("  ".join(f"[{b.label} → {b.data}]" for row in reply.buttons for b in row))


def _print_summary(result: SweepResult, lang: str) -> None:
    """Counts after the messages: a province-wide sweep streams its reminders as it goes."""
    print()
    print(
        t(
            "reminders_cli.preview_header",
            lang,
            at=result.at.isoformat(timespec="minutes"),
            cadres=result.cadres,
            duties=result.duties,
            messages=result.message_count,
        )
    )
    if result.not_before is not None:
        print(
            t(
                "reminders_cli.quiet",
                lang,
                not_before=result.not_before.isoformat(timespec="minutes"),
            )
        )
    if result.unreachable:
        ids = ", ".join(str(i) for i in result.unreachable[:20])
        print(t("reminders_cli.unreachable", lang, count=result.unreachable_count, ids=ids))
    if not result.message_count:
        print(t("reminders_cli.nothing", lang))


async def _sweep(args: argparse.Namespace, *, dry_run: bool) -> int:
    settings = load_settings()
    when = moment(args, settings, parse_at(args.at, settings))
    lang = settings.language
    if when.future and not dry_run:
        if getattr(args, "schedule", False):
            return await _schedule(args, settings, when.at, when.now)
        raise ConfigError(
            t("reminders_cli.future", lang, at=_hm(when.at), now=_hm(when.now), value=args.at)
        )
    at = when.at
    db = open_database(settings, args.url)
    try:
        result = await run_sweep(
            db,
            at,
            settings.policy,
            lang=settings.language,
            dry_run=dry_run,
            keep=False,
            each=lambda r: _print_reminder(r, settings.language),
        )
    finally:
        await db.dispose()
    _print_summary(result, settings.language)
    if not dry_run:
        print(t("reminders_cli.enqueued", settings.language, count=result.enqueued))
        if result.enqueued:
            held = [result.not_before, quiet_until(when.now, settings.policy), when.now]
            go = max(x for x in held if x is not None)
            print(t("reminders_cli.goes_at", lang, at=_hm(go)))
    return 0


async def _schedule(
    args: argparse.Namespace, settings: Settings, at: datetime, now: datetime
) -> int:
    """Queue a sweep for `at`: `bangfu run` computes and sends it then (not today's state)."""
    db = open_database(settings, args.url)
    try:
        async with db.transaction() as s:
            added = await schedule_job(s, SWEEP, at, now=now)
    finally:
        await db.dispose()
    lang = settings.language
    if not added:
        print(t("reminders_cli.already_scheduled", lang, at=_hm(at)))
        return 0
    go = max(at, quiet_until(at, settings.policy) or at)
    print(t("reminders_cli.scheduled", lang, at=_hm(at), go=_hm(go)))
    return 0


def _hm(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M}"


async def _preview(args: argparse.Namespace) -> int:
    return await _sweep(args, dry_run=True)


async def _run(args: argparse.Namespace) -> int:
    return await _sweep(args, dry_run=False)
