"""`bangfu digest preview|send`: show one unit's digest, or enqueue every group's digest."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, time, tzinfo

from bot.cli.moment import Moment, moment
from bot.config import Settings, load_settings
from bot.database import open_database
from core.i18n import t
from reminders.digest import DigestKind, build_digest
from reminders.digest_send import enqueue_digests
from reminders.sweep import quiet_until
from storage.jobs import DIGEST, REVIEW
from storage.outbox import schedule_job
from storage.stats import unit_by_path


def parse_at(value: str | None, tz: tzinfo) -> datetime | None:
    """`--at` as ISO date or date-time; naive values are in the county's time zone."""
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"--at 时间格式不对 / bad time {value!r}: use 2026-11-23 or 2026-11-23T08:30"
        ) from None
    if len(value) <= 10:  # a bare date: the morning digest time
        at = datetime.combine(at.date(), time(8, 30))
    return at.replace(tzinfo=tz) if at.tzinfo is None else at.astimezone(tz)


def _when(args: argparse.Namespace, settings: Settings) -> Moment | None:
    try:
        return moment(args, settings, parse_at(args.at, settings.tz))
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return None


async def _preview(args: argparse.Namespace) -> int:
    settings = load_settings()
    when = _when(args, settings)
    if when is None:
        return 2
    at = when.at
    db = open_database(settings, args.url)
    try:
        async with db.sessions() as session:
            unit = await unit_by_path(session, args.unit)
        if unit is None:
            print(t("digest_cli.no_unit", settings.language, unit=args.unit), file=sys.stderr)
            return 1
        kind: DigestKind = "monthly" if args.monthly else "weekly"
        replies = await build_digest(db, unit.id, at, settings.policy, kind=kind, lang=args.lang)
    finally:
        await db.dispose()
    for reply in replies:
        if reply.image_png is None:
            print(reply.text, end="\n\n")
        elif args.chart:
            args.chart.write_bytes(reply.image_png)
            print(f"{reply.text} → {args.chart}")
    return 0


async def _schedule(args: argparse.Namespace, settings: Settings, when: Moment) -> int:
    """Queue the digest job for `when.at`: `bangfu run` computes the figures then, under
    that moment's dedupe keys, so it never takes the place of another run."""
    job = REVIEW if args.monthly else DIGEST
    db = open_database(settings, args.url)
    try:
        async with db.transaction() as s:
            added = await schedule_job(s, job, when.at, now=when.now)
    finally:
        await db.dispose()
    at, lang = _hm(when.at), settings.language
    if not added:
        print(t("digest_cli.already_scheduled", lang, at=at))
        return 0
    go = _hm(max(when.at, quiet_until(when.at, settings.policy) or when.at))
    print(t("digest_cli.scheduled", lang, at=at, go=go))
    return 0


def _hm(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M}"


async def _send(args: argparse.Namespace) -> int:
    settings = load_settings()
    when = _when(args, settings)
    if when is None:
        return 2
    if when.future and args.schedule:
        return await _schedule(args, settings, when)
    if when.future:
        # Queued now, it would carry today's figures under that week's key and take the
        # real run's place.
        text = t(
            "digest_cli.future",
            settings.language,
            value=args.at,
            at=_hm(when.at),
            now=_hm(when.now),
        )
        print(text, file=sys.stderr)
        return 2
    at = when.at
    db = open_database(settings, args.url)
    try:
        kind: DigestKind = "monthly" if args.monthly else "weekly"
        n = await enqueue_digests(db, at, settings.policy, kind=kind, tz=settings.tz)
    finally:
        await db.dispose()
    print(t("digest_cli.enqueued", settings.language, count=n))
    if n:
        go = max(when.now, quiet_until(when.now, settings.policy) or when.now)
        print(t("digest_cli.goes_at", settings.language, at=_hm(go)))
    return 0
