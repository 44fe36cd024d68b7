"""One message read for one cadre: is it a report, of which households, how, when, and what
else it says. The chat's quick report and `bangfu parse` both call `read`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.understand import cues, dates, households
from core.understand.text import normalise

ASK = "ask"


@dataclass(frozen=True)
class Reading:
    """How the bot reads a message."""

    kind: str  # "report" | "not_report"
    households: tuple[str, ...]  # as the roster names them, in the order the text names them
    ambiguous: bool  # a nickname fits several households: the cadre must pick
    method: str | None  # "call" | "visit" | "other" | None
    date: dt.date | None  # the contact day, when one day was read
    date_word: str  # the words that gave it ("上周五"), "" when none was written
    ask_date: bool  # a time was named that is not one day: ask, never guess
    date_choices: tuple[dt.date, ...]  # the likely days to offer when asking
    problem: str  # the words naming a problem or appeal, "" if none
    event: str | None  # hardship | birth | illness | death | dispute
    event_words: str
    event_date: dt.date | None  # the day the event happened, when the text names one
    plan: bool  # a future plan and nothing done: answer politely, save nothing
    candidates: tuple[tuple[str, ...], ...] = field(default=())  # the ambiguous choices

    def as_json(self) -> dict[str, object]:
        """The one-line summary `bangfu parse` prints."""
        report = self.kind == "report"
        day: str | None = None
        if report:
            day = ASK if self.ask_date else self.date.isoformat() if self.date else None
        return {
            "kind": self.kind,
            "households": list(self.households),
            "method": self.method if report else None,
            "date": day,
            "problem": bool(self.problem),
            "event": self.event,
            "ambiguous": self.ambiguous,
        }


def read(text: str, names: Sequence[str], today: dt.date) -> Reading:
    """Read `text` for a cadre whose households are `names`, on `today` (the county's day)."""
    norm = normalise(text)
    roster = {normalise(n): n for n in names}
    done = cues.done_cues(norm)
    report = bool(done) and not cues.is_question(norm) and not cues.is_correction(norm)
    found = _households(norm, list(roster))
    compact = re.sub(r"\s+", "", norm)
    event, event_at = cues.event_in(compact)
    problem_at = cues.problem_in(compact)
    mention = _contact_date(norm, done, today) if report else None
    return Reading(
        kind="report" if report else "not_report",
        households=tuple(roster[n] for n in found.names),
        ambiguous=found.ambiguous,
        method=cues.method_of(done) if report else None,
        date=mention.day if mention else (today if report else None),
        date_word=mention.word if mention else "",
        ask_date=bool(mention and mention.vague),
        date_choices=mention.choices if mention and mention.vague else (),
        problem=compact[problem_at[0] : problem_at[1]] if problem_at else "",
        event=event,
        event_words=compact[event_at[0] : event_at[1]] if event_at else "",
        event_date=_event_date(compact, event_at, today),
        plan=not report and _is_plan(norm),
        candidates=tuple(tuple(roster[n] for n in c) for c in found.candidates),
    )


@dataclass(frozen=True)
class _Found:
    names: tuple[str, ...]
    ambiguous: bool
    candidates: tuple[tuple[str, ...], ...]


def _households(text: str, names: list[str]) -> _Found:
    found = households.find(text, names)
    segments = cues.spans(text, cues.SEGMENT_SPLIT)
    hits = list(found.hits)
    # 就郑大海没打通: a household in a failed attempt is not reported, when others are.
    reached = [h for h in hits if not cues.failed(text, h.start, segments)]
    if reached and len(reached) < len(hits):
        hits = reached
    if found.everyone:
        chosen = [n for n in names if n not in found.excluded]
        return _Found(tuple(chosen), False, ())
    ordered: list[str] = []
    for hit in hits:
        ordered.extend(n for n in hit.names if n not in ordered)
    ambiguous = tuple(h.names for h in hits if h.ambiguous)
    return _Found(tuple(ordered), bool(ambiguous), ambiguous)


def _contact_date(text: str, done: list[cues.Cue], today: dt.date) -> dates.Mention | None:
    """The date of the contact, not of anything else the text dates (他儿子12号回来).

    Dates in a clause that reports the contact count; failing that, dates in clauses before
    it that report no event (上周一他来镇上办事，在政府门口碰到). Dates that disagree → ask.
    """
    found = dates.mentions(text, today)
    if not found:
        return None
    clauses = cues.spans(text, cues.CLAUSE_SPLIT)
    contact = {cues.around(clauses, c.start) for c in done}
    inside = [m for m in found if cues.around(clauses, m.start) in contact]
    if inside:
        return dates.agree(_next_to_cue(text, inside, done), today)
    first = min(start for start, _ in contact)
    before = [
        m
        for m in found
        if m.start < first and cues.event_in(_clause(text, clauses, m.start))[0] is None
    ]
    if not before:
        return None
    one = dates.agree(before, today)
    if one is None or one.day is None or all(_bare(text, clauses, m) for m in before):
        return one
    # A day written in a clause of its own story (玉米12号收完了，去看了看) may or may not be
    # the contact's: ask, offering it first.
    choices = (one.day, *(d for d in dates.likely_days(today) if d != one.day))
    return dates.Mention(one.start, one.end, one.word, None, choices[:4])


def _next_to_cue(
    text: str, inside: list[dates.Mention], done: list[cues.Cue]
) -> list[dates.Mention]:
    """Dates that disagree in one clause: the one written right before or after the contact
    word (今天 打了电话 … 这个月 还没 到账) is the contact's; otherwise all of them (→ ask)."""
    if len({m.day for m in inside}) == 1:
        return inside
    adjacent = [
        m
        for m in inside
        for c in done
        if (m.end <= c.start and not text[m.end : c.start].strip(" 我给跟和与"))
        or (c.end <= m.start and not text[c.end : m.start].strip())
    ]
    unique = {m.start: m for m in adjacent}
    return list(unique.values()) if len(unique) == 1 else inside


def _event_date(text: str, at: tuple[int, int] | None, today: dt.date) -> dt.date | None:
    """The day the event happened: a date in the clause that tells it (老伴昨天住院了)."""
    if at is None:
        return None
    clauses = cues.spans(text, cues.CLAUSE_SPLIT)
    where = cues.around(clauses, at[0])
    found = [m for m in dates.mentions(text, today) if cues.around(clauses, m.start) == where]
    one = dates.agree(found, today)
    return one.day if one else None


def _bare(text: str, clauses: list[tuple[int, int]], mention: dates.Mention) -> bool:
    """A clause that only sets the time (上周五，… / 昨天下午三点多，…): little else in it."""
    start, end = cues.around(clauses, mention.start)
    rest = (text[start : mention.start] + text[mention.end : end]).strip()
    return (
        len(re.sub(r"[\s上下中午早晚点多钟半刻的时候嗯那个一二三四五六七八九十\d]", "", rest)) <= 2
    )


def _clause(text: str, clauses: list[tuple[int, int]], pos: int) -> str:
    start, end = cues.around(clauses, pos)
    return text[start:end]


def _is_plan(text: str) -> bool:
    """Contact words only in a plan (明天去张三家): the cadre gets a note, not a draft."""
    planned = [c for c in cues.contact_cues(text) if cues.FUTURE.search(text[: c.start][-10:])]
    return bool(planned)
