"""考核: a cadre's score for a month or a quarter, from the policy's weighted indicators.

Each indicator is a rate (done / expected, 0..1) over the duties that fell due in the period
and were judged by the day asked ("as of"): a period or deadline not yet over counts what is
already done and costs nothing yet. Indicators with nothing expected are left out and the
others share their weight. Score = 100 × Σ wᵢ·rateᵢ / Σ wᵢ − penalty per escalated lapse
(a reminder left unanswered), never below 0. Every lost point is named (`misses`).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, tzinfo

from core.clock import Clock
from core.daytext import day_label
from core.i18n import t
from core.policy import Policy
from core.programme import INDICATORS, SATISFACTION_VALUE
from reminders.duties import period_bounds
from storage.db import Database
from storage.duties import CONTACT_KINDS, VISIT_KINDS
from storage.score_queries import ScoreFacts, cadres_in_unit, score_facts

MAX_MISSES = 8  # named per indicator; the rest are counted
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")


@dataclass(frozen=True)
class Period:
    since: date
    until: date
    label: str  # "2026年11月", "2026年第4季度"

    @property
    def months(self) -> int:
        return (self.until.year - self.since.year) * 12 + self.until.month - self.since.month + 1


def parse_period(text: str) -> Period | None:
    """ "2026-11" → that month; "2026-Q4" → that quarter; None if neither."""
    text = text.strip()
    if m := _MONTH.match(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            return None
        last = calendar.monthrange(year, month)[1]
        return Period(date(year, month, 1), date(year, month, last), f"{year}年{month}月")
    if m := _QUARTER.match(text):
        year, q = int(m[1]), int(m[2])
        start, end = period_bounds(date(year, 3 * q - 2, 1), 3)
        return Period(start, end, f"{year}年第{q}季度")
    return None


def month_of(day: date) -> Period:
    period = parse_period(f"{day:%Y-%m}")
    assert period is not None
    return period


def quarter_of(day: date) -> Period:
    period = parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    assert period is not None
    return period


@dataclass
class Indicator:
    name: str
    done: float = 0.0
    expected: float = 0.0
    misses: list[str] = field(default_factory=list)
    points: float = 0.0
    max_points: float = 0.0

    @property
    def applies(self) -> bool:
        return self.expected > 0

    @property
    def rate(self) -> float:
        return min(1.0, self.done / self.expected) if self.expected else 0.0


@dataclass
class CadreScore:
    cadre_id: int
    name: str
    period: Period
    indicators: list[Indicator]
    lapses: int
    penalty: float
    score: float
    grade: str


def _periods(period: Period, months: int, as_of: date) -> list[tuple[date, date, bool]]:
    """Duty periods (blocks of `months`) ending within the scored period: (start, end, over)."""
    out, day = [], period.since
    while day <= period.until:
        start, end = period_bounds(day, months)
        if period.since <= end <= period.until and start <= as_of:
            out.append((start, end, end <= as_of))
        day = _next_day(end)
    return out


def _next_day(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)


def _span(start: date, end: date) -> str:
    if start.month == end.month:
        return f"{start.month}月"
    return f"{start.month}–{end.month}月"


def _rhythm(
    name: str,
    cadre_id: int,
    facts: ScoreFacts,
    periods: list[tuple[date, date, bool]],
    kinds: tuple[str, ...],
    lang: str,
) -> Indicator:
    ind = Indicator(name)
    mine = [c for c in facts.contacts if c.cadre_id == cadre_id and c.kind in kinds]
    for p in (p for p in facts.pairings if p.cadre_id == cadre_id):
        for start, end, over in periods:
            if p.start_date > start:
                continue  # paired mid-period: not a whole period to do it in
            done = any(
                c.household_id == p.household_id and start <= c.occurred_on <= end for c in mine
            )
            if done or over:
                ind.expected += 1
                ind.done += done
            if over and not done:
                ind.misses.append(
                    t(f"score.miss.{name}", lang, household=p.head_name, span=_span(start, end))
                )
    return ind


def _events(cadre_id: int, facts: ScoreFacts, as_of: date, lang: str) -> Indicator:
    ind = Indicator("event")
    visits = [c for c in facts.contacts if c.cadre_id == cadre_id and c.kind in VISIT_KINDS]
    for e in (e for e in facts.events if e.cadre_id == cadre_id):
        done = any(
            v.household_id == e.household_id and e.occurred_on <= v.occurred_on <= e.visit_due_on
            for v in visits
        )
        if done or e.visit_due_on < as_of:
            ind.expected += 1
            ind.done += done
        if not done and e.visit_due_on < as_of:
            kind = t(f"digest.kind.{e.kind}", lang)
            ind.misses.append(
                t(
                    "score.miss.event",
                    lang,
                    household=e.head_name,
                    kind=kind,
                    due=day_label(e.visit_due_on, lang),
                )
            )
    return ind


def _appeals(cadre_id: int, facts: ScoreFacts, as_of: date, tz: tzinfo, lang: str) -> Indicator:
    ind = Indicator("appeal")
    for a in (a for a in facts.appeals if a.cadre_id == cadre_id):
        settled = a.resolved_at is not None and a.stage in ("done", "followed")
        on_time = (
            settled
            and a.resolved_at is not None
            and a.resolved_at.astimezone(tz).date() <= a.due_on
        )
        if settled or a.due_on < as_of:
            ind.expected += 1
            ind.done += on_time
        if not on_time and (settled or a.due_on < as_of):
            ind.misses.append(
                t(
                    "score.miss.appeal",
                    lang,
                    household=a.head_name,
                    category=a.category,
                    due=day_label(a.due_on, lang),
                )
            )
    return ind


def _satisfaction(cadre_id: int, facts: ScoreFacts, lang: str) -> Indicator:
    ind = Indicator("satisfaction")
    for text in facts.answers.get(cadre_id, []):
        answer = (text.split() or [""])[0]
        if answer in SATISFACTION_VALUE:
            ind.expected += 1
            ind.done += SATISFACTION_VALUE[answer]
            if SATISFACTION_VALUE[answer] < 1:
                ind.misses.append(t("score.miss.satisfaction", lang, answer=answer))
    return ind


def _count(name: str, done: int, expected: float, lang: str) -> Indicator:
    ind = Indicator(name, done=float(done), expected=expected)
    if expected and done < expected:
        ind.misses.append(t(f"score.miss.{name}", lang, done=done, expected=_num(expected)))
    return ind


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def score_one(
    cadre_id: int,
    name: str,
    facts: ScoreFacts,
    period: Period,
    as_of: date,
    policy: Policy,
    tz: tzinfo,
    lang: str = "zh",
) -> CadreScore:
    """One cadre's score from facts already read (see `score_cadres`)."""
    sp = policy.score
    households = sum(1 for p in facts.pairings if p.cadre_id == cadre_id)
    indicators = {
        "contact": _rhythm(
            "contact",
            cadre_id,
            facts,
            _periods(period, policy.contact_every_months, as_of),
            CONTACT_KINDS,
            lang,
        ),
        "visit": _rhythm(
            "visit",
            cadre_id,
            facts,
            _periods(period, policy.visit_every_months, as_of),
            VISIT_KINDS,
            lang,
        ),
        "event": _events(cadre_id, facts, as_of, lang),
        "diary": _count(
            "diary", facts.diaries.get(cadre_id, 0), sp.diaries_per_month * period.months, lang
        ),
        "appeal": _appeals(cadre_id, facts, as_of, tz, lang),
        "satisfaction": _satisfaction(cadre_id, facts, lang),
        "deeds": _count(
            "deeds",
            facts.deeds.get(cadre_id, 0),
            sp.deeds_per_household_year * households * period.months / 12,
            lang,
        ),
    }
    weights = {n: sp.weights.get(n, 0.0) for n in INDICATORS}
    total = sum(w for n, w in weights.items() if indicators[n].applies and w > 0)
    for n, ind in indicators.items():
        if ind.applies and total > 0 and weights[n] > 0:
            ind.max_points = 100 * weights[n] / total
            ind.points = ind.max_points * ind.rate
    lapses = facts.lapses.get(cadre_id, 0)
    penalty = lapses * sp.unanswered_penalty
    score = round(max(0.0, sum(i.points for i in indicators.values()) - penalty), 1)
    return CadreScore(
        cadre_id,
        name,
        period,
        [indicators[n] for n in INDICATORS],
        lapses,
        penalty,
        score,
        sp.grade(score),
    )


def _first_day(period: Period, policy: Policy) -> date:
    """The earliest contact that can count: the start of the first duty period ending in it."""
    months = max(policy.contact_every_months, policy.visit_every_months)
    return min(period.since, period_bounds(period.until, months)[0])


async def score_cadres(
    db: Database,
    cadres: list[tuple[int, str]],
    period: Period,
    as_of: date,
    policy: Policy,
    tz: tzinfo,
    lang: str = "zh",
) -> list[CadreScore]:
    """Scores of these (id, name) cadres, best first (ties by name)."""
    if not cadres:
        return []
    ids = [c for c, _ in cadres]
    async with db.sessions() as session:
        facts = await score_facts(
            session, ids, period.since, min(period.until, as_of), _first_day(period, policy), tz
        )
    scores = [score_one(c, n, facts, period, as_of, policy, tz, lang) for c, n in cadres]
    return sorted(scores, key=lambda s: (-s.score, s.name, s.cadre_id))


async def unit_scores(
    db: Database, unit_path: str, period: Period, as_of: date, policy: Policy, tz: tzinfo
) -> list[CadreScore]:
    async with db.sessions() as session:
        cadres = await cadres_in_unit(session, unit_path)
    return await score_cadres(db, cadres, period, as_of, policy, tz)


def render_score(s: CadreScore, lang: str = "zh") -> str:
    """The explainable card: each indicator's points, and which duties cost points."""
    lines = [
        t(
            "score.title",
            lang,
            name=s.name,
            period=s.period.label,
            score=_num(s.score),
            grade=s.grade,
        )
    ]
    for ind in s.indicators:
        label = t(f"score.indicator.{ind.name}", lang)
        if not ind.applies or ind.max_points == 0:
            lines.append(t("score.na", lang, indicator=label))
            continue
        lines.append(
            t(
                "score.line",
                lang,
                indicator=label,
                done=_num(ind.done),
                expected=_num(ind.expected),
                points=_num(round(ind.points, 1)),
                max=_num(round(ind.max_points, 1)),
            )
        )
        for miss in ind.misses[:MAX_MISSES]:
            lines.append(t("score.miss_line", lang, miss=miss))
        if len(ind.misses) > MAX_MISSES:
            lines.append(t("score.more", lang, count=len(ind.misses) - MAX_MISSES))
    if s.lapses:
        lines.append(t("score.penalty", lang, count=s.lapses, points=_num(s.penalty)))
    return "\n".join(lines)


class ScoreCommands:
    """`/score` for a cadre: satisfies handlers.context.ScoreCommands; wired in by bot/."""

    def __init__(self, db: Database, clock: Clock, policy: Policy) -> None:
        self.db, self.clock, self.policy = db, clock, policy

    async def card(self, cadre_id: int, name: str, period_text: str, lang: str) -> str | None:
        """The cadre's explainable score for a period ("" = this month); None if unreadable."""
        today = self.clock.now().date()
        period = parse_period(period_text) if period_text else month_of(today)
        if period is None:
            return None
        [score] = await score_cadres(
            self.db, [(cadre_id, name)], period, today, self.policy, self.clock.tz, lang
        )
        return render_score(score, lang)
