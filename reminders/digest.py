"""The weekly digest (周汇总) and the monthly review (月总结) of a unit's subtree, as replies.

Figures come from storage.stats in a few set-based queries; this module only chooses the
window, words the text from the catalogue, splits it for the platform and draws the chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Literal

from core.i18n import t
from core.policy import Policy, duty_start
from core.textsplit import TEXT_LIMITS, TextLimit, split_text
from core.types import Channel, Reply
from reminders.calendar import Occasion, next_occasion
from reminders.digest_chart import Bar, ascii_label, coverage_chart
from storage.db import Database
from storage.stats import (
    Coverage,
    NamedCount,
    UnitStats,
    Window,
    unit_by_id,
    unit_stats,
    units_by_ids,
    units_stats,
)

DigestKind = Literal["weekly", "monthly"]


@dataclass(frozen=True)
class Digest:
    kind: DigestKind
    at: datetime
    window: Window
    stats: UnitStats
    occasion: Occasion | None


def _midnight(day: date, tz: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)


def digest_window(at: datetime, policy: Policy, kind: DigestKind) -> Window:
    """Weekly: the 7 days ending on `at`'s day. Monthly: the whole month before `at`."""
    if at.tzinfo is None:
        raise ValueError("digest time must be aware")
    local = at.date()
    if kind == "monthly":
        today = local.replace(day=1) - timedelta(days=1)
        start = today.replace(day=1)
    else:
        today, start = local, local - timedelta(days=6)
    return Window(
        today=today,
        period_start=start,
        contact_since=duty_start(today, policy.contact_every_months),
        visit_since=duty_start(today, policy.visit_every_months),
        period_start_at=_midnight(start, at.tzinfo),
        period_end_at=_midnight(today + timedelta(days=1), at.tzinfo),
    )


async def collect_digest(
    db: Database, unit_id: int, at: datetime, policy: Policy, kind: DigestKind = "weekly"
) -> Digest | None:
    """The figures of one digest; None when the unit does not exist."""
    w = digest_window(at, policy, kind)
    async with db.sessions() as session:
        unit = await unit_by_id(session, unit_id)
        if unit is None:
            return None
        st = await unit_stats(session, unit, w, cap=policy.digest_behind_cap)
    # next_occasion is strictly after its day: ask from yesterday so today's occasion shows.
    return Digest(kind, at, w, st, next_occasion(at.date() - timedelta(days=1), policy))


async def collect_digests(
    db: Database,
    unit_ids: list[int],
    at: datetime,
    policy: Policy,
    kind: DigestKind = "weekly",
) -> dict[int, Digest]:
    """collect_digest of each unit (by id; units that do not exist left out), the units under
    one root sharing its scope and per-household marks (storage.stats.units_stats)."""
    w = digest_window(at, policy, kind)
    async with db.sessions() as session:
        units = await units_by_ids(session, unit_ids)
        stats = await units_stats(session, units, w, cap=policy.digest_behind_cap)
    occasion = next_occasion(at.date() - timedelta(days=1), policy)
    return {uid: Digest(kind, at, w, st, occasion) for uid, st in stats.items()}


def pct(n: int, total: int) -> str:
    return f"{n * 100 / total:.0f}%" if total else "—"


def fmt_day(day: date, lang: str) -> str:
    return t("digest.date", lang, month=day.month, day=day.day)


def named(items: list[NamedCount], lang: str) -> list[str]:
    """Names, with the unit added to any name that appears twice in the list."""
    seen: dict[str, int] = {}
    for i in items:
        seen[i.name] = seen.get(i.name, 0) + 1
    return [
        t("digest.name_unit", lang, name=i.name, unit=i.unit)
        if seen[i.name] > 1 and i.unit
        else i.name
        for i in items
    ]


def _names(items: list[NamedCount], total: int, lang: str, item_key: str | None) -> str:
    parts = [
        t(item_key, lang, name=name, n=i.count, until=fmt_day(i.until, lang) if i.until else "")
        if item_key
        else name
        for i, name in zip(items, named(items, lang), strict=True)
    ]
    text = t("digest.separator", lang).join(parts)
    return f"{text} {t('digest.more', lang, total=total)}" if total > len(items) else text


def _people(st: UnitStats, review: bool, lang: str) -> list[str]:
    lines: list[str] = []
    if st.behind_total:
        head = "digest.behind_head_review" if review else "digest.behind_head"
        lines += [t(head, lang, total=st.behind_total)]
        lines += [_names(st.behind, st.behind_total, lang, "digest.behind_item")]
    elif st.coverage.households:
        lines.append(t("digest.all_on_track", lang))
    if st.on_leave_total:
        lines.append(t("digest.leave_head", lang, total=st.on_leave_total))
        lines.append(_names(st.on_leave, st.on_leave_total, lang, "digest.leave_item"))
    if st.unreachable_total:
        lines.append(t("digest.unreachable_head", lang, total=st.unreachable_total))
        lines.append(_names(st.unreachable, st.unreachable_total, lang, None))
    return lines


def _occasion_line(d: Digest, lang: str) -> list[str]:
    o = d.occasion
    if o is None:
        return []
    days = (o.day - d.at.date()).days
    if days == 0:
        return [t("digest.occasion_today", lang, name=o.name)]
    return [t("digest.occasion", lang, name=o.name, date=fmt_day(o.day, lang), days=days)]


def _figures(d: Digest, lang: str) -> list[str]:
    st, cov, review = d.stats, d.stats.coverage, d.kind == "monthly"
    lines = [t("digest.pairings", lang, pairings=st.pairings, households=cov.households)]
    if not review:
        lines.append(
            t(
                "digest.period_contacted",
                lang,
                n=cov.contacted_period,
                pct=pct(cov.contacted_period, cov.households),
            )
        )
    month_key = "digest.month_contacted_review" if review else "digest.month_contacted"
    lines += [
        t(month_key, lang, n=cov.contacted_month, pct=pct(cov.contacted_month, cov.households)),
        t(
            "digest.quarter_visited",
            lang,
            n=cov.visited_quarter,
            pct=pct(cov.visited_quarter, cov.households),
            visits=st.visits_quarter,
        ),
        t(
            "digest.diaries_month" if review else "digest.diaries_week",
            lang,
            n=st.diaries_period,
            opinions=st.opinions_period,
        ),
        t("digest.events", lang, open=st.events_open, overdue=st.events_overdue),
        t(
            "digest.problems_month" if review else "digest.problems_week",
            lang,
            raised=st.problems_raised,
            resolved=st.problems_resolved,
            open=st.problems_open,
        ),
    ]
    return lines


def _sub_lines(st: UnitStats, review: bool, lang: str) -> list[str]:
    if not st.sub_units:
        return []
    lines = [t("digest.sub_head_review" if review else "digest.sub_head", lang)]
    # Worst first so the units that need attention lead; empty units last.
    ranked = sorted(
        st.sub_units,
        key=lambda s: (not s.coverage.households, _ratio(s.coverage), s.name),
    )
    for s in ranked:
        c = s.coverage
        lines.append(
            t(
                "digest.sub_line",
                lang,
                name=s.name,
                pct=pct(c.contacted_month, c.households),
                n=c.contacted_month,
                total=c.households,
            )
        )
    return lines


def digest_text(d: Digest, lang: str = "zh") -> str:
    st, review = d.stats, d.kind == "monthly"
    if review:
        title = t(
            "digest.title_monthly",
            lang,
            unit=st.unit_name,
            year=d.window.today.year,
            month=d.window.today.month,
        )
    else:
        title = t(
            "digest.title_weekly", lang, unit=st.unit_name, date=fmt_day(d.window.today, lang)
        )
    blocks = [
        [title, *_figures(d, lang)],
        _people(st, review, lang),
        _occasion_line(d, lang),
        _sub_lines(st, review, lang),
    ]
    return "\n\n".join("\n".join(b) for b in blocks if b)


def _ratio(c: Coverage) -> float:
    return c.contacted_month / c.households if c.households else 0.0


def _bar(name: str, c: Coverage) -> Bar:
    return Bar(name, _ratio(c) * 100, f"{c.contacted_month}/{c.households}")


def digest_chart(d: Digest, lang: str = "zh") -> bytes:
    """Coverage this month by sub-unit (the unit itself when it has none), as PNG."""
    st = d.stats
    bars = [_bar(s.name, s.coverage) for s in st.sub_units] or [_bar(st.unit_name, st.coverage)]
    title = t("digest.chart_title", lang, unit=st.unit_name)

    def ascii_title() -> str:
        return f"{ascii_label(st.unit_name)}: contacted this month ({d.window.today:%Y-%m})"

    return coverage_chart(title, bars, ascii_title=ascii_title)


def render_digest(
    d: Digest, lang: str = "zh", *, limit: TextLimit = TEXT_LIMITS[Channel.TELEGRAM]
) -> list[Reply]:
    """The text in parts within the destination's `limit`, then the chart."""
    parts = [Reply(text=p) for p in split_text(digest_text(d, lang), limit)]
    caption = t("digest.chart_caption", lang, unit=d.stats.unit_name)
    return [*parts, Reply(text=caption, image_png=digest_chart(d, lang))]


async def build_digest(
    db: Database,
    unit_id: int,
    at: datetime,
    policy: Policy,
    *,
    kind: DigestKind = "weekly",
    lang: str = "zh",
    limit: TextLimit = TEXT_LIMITS[Channel.TELEGRAM],
) -> list[Reply]:
    """A unit's digest as of `at`; one "unit not found" reply when there is no such unit."""
    d = await collect_digest(db, unit_id, at, policy, kind)
    if d is None:
        return [Reply(text=t("digest.no_unit", lang))]
    return render_digest(d, lang, limit=limit)
