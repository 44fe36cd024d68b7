"""`/digest` and `/overdue` in a bound supervisors' group, for that group's unit only.

Satisfies handlers.context.GroupCommands; bot/ wires an instance into the handler Context.
"""

from __future__ import annotations

from datetime import date

from core.clock import Clock
from core.i18n import t
from core.policy import EVENT_KINDS, Policy
from core.textsplit import TEXT_LIMITS, TextLimit, split_text
from core.types import Channel, Reply
from reminders.digest import build_digest, digest_window, fmt_day, named
from storage.db import Database
from storage.stats import OverdueEvent, cadres_behind, overdue_events, unit_by_id

OVERDUE_LIST_LIMIT = 30


class DigestGroupCommands:
    """Answers a group's on-demand commands with the figures of its own unit's subtree."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: Policy,
        *,
        limit: TextLimit = TEXT_LIMITS[Channel.TELEGRAM],
    ) -> None:
        self.db, self.clock, self.policy = db, clock, policy
        self.limit = limit

    async def digest(self, unit_id: int, lang: str) -> list[Reply]:
        """This week's digest so far, with its chart."""
        return await build_digest(
            self.db,
            unit_id,
            self.clock.now(),
            self.policy,
            lang=lang,
            limit=self.limit,
        )

    async def overdue(self, unit_id: int, lang: str) -> list[Reply]:
        """Overdue event visits, most overdue first, then cadres behind on this month's calls."""
        at = self.clock.now()
        window = digest_window(at, self.policy, "weekly")
        async with self.db.sessions() as session:
            unit = await unit_by_id(session, unit_id)
            if unit is None:
                return [Reply(text=t("digest.no_unit", lang))]
            total, events = await overdue_events(
                session, unit, window.today, limit=OVERDUE_LIST_LIMIT
            )
            behind_total, behind = await cadres_behind(
                session, unit, window, cap=self.policy.digest_behind_cap
            )
        lines = _event_lines(unit.name, total, events, window.today, lang)
        if behind_total:
            names = t("digest.separator", lang).join(
                t("digest.behind_item", lang, name=name, n=b.count)
                for b, name in zip(behind, named(behind, lang), strict=True)
            )
            if behind_total > len(behind):
                names += " " + t("digest.more", lang, total=behind_total)
            lines += ["", t("digest.behind_head", lang, total=behind_total), names]
        text = "\n".join(lines)
        return [Reply(text=p) for p in split_text(text, self.limit)]


def _event_lines(
    unit: str, total: int, events: list[OverdueEvent], today: date, lang: str
) -> list[str]:
    if not total:
        return [t("digest.overdue_none", lang, unit=unit)]
    lines = [t("digest.overdue_title", lang, unit=unit, total=total)]
    for e in events:
        kind = t(f"digest.kind.{e.kind}", lang) if e.kind in EVENT_KINDS else e.kind
        lines.append(
            t(
                "digest.overdue_item",
                lang,
                household=e.household,
                village=e.village,
                kind=kind,
                due=fmt_day(e.visit_due_on, lang),
                days=(today - e.visit_due_on).days,
                cadre=e.cadre,
            )
        )
    if total > len(events):
        lines.append(t("digest.overdue_more", lang, n=total - len(events)))
    return lines
