"""Leave (请假): reminders pause until the given day; the digest shows it."""

from __future__ import annotations

import re
from datetime import date, timedelta

from core.daytext import day_label
from core.types import Reply
from core.understand.numerals import CN_NUMBER, cn_to_int
from handlers.engine import Flow, Invalid, Step, Turn
from handlers.inputs import find_date
from handlers.steps import cancel_row, confirm_step
from storage.audit import audit
from storage.cadres import set_leave

MAX_LEAVE_DAYS = 180


async def _until_prompt(turn: Turn) -> Reply:
    return Reply.with_buttons(turn.t("leave.ask_until"), [cancel_row(turn)])


FORWARD_WORDS = {"明天": 1, "后天": 2, "tomorrow": 1}
_DAYS = re.compile(r"^(\d{1,3})\s*天$")
_WEEKDAYS = "一二三四五六日天"
# A day ahead in words: 下周五 / 下礼拜一, 这周五 / 周五 (the coming one), 月底 / 下个月底,
# 两周 / 3个星期 / 一个月 / 十天 (that long from today).
_NEXT_WEEK = re.compile(r"下(?:个)?(?:周|礼拜|星期)([一二三四五六日天])")
_THIS_WEEK = re.compile(r"(?:这|本)?(?:周|礼拜|星期)([一二三四五六日天])")
_MONTH_END = re.compile(r"(下个?|这个?|本)?月底")
_SPAN = re.compile(rf"({CN_NUMBER}|\d{{1,3}})\s*(?:个(星期|礼拜|月)|(天|周|星期|礼拜))(?![\d号日])")


def _ahead(text: str, today: date) -> date | None:
    """A day ahead named in words, or None."""
    if m := _NEXT_WEEK.search(text):
        monday = today - timedelta(days=today.weekday()) + timedelta(days=7)
        return monday + timedelta(days=min(_WEEKDAYS.index(m[1]), 6))
    if m := _THIS_WEEK.search(text):
        wanted = min(_WEEKDAYS.index(m[1]), 6)
        return today + timedelta(days=(wanted - today.weekday() - 1) % 7 + 1)
    if m := _MONTH_END.search(text):
        first = today.replace(day=1)
        months = 2 if m[1] and m[1].startswith("下") else 1
        for _ in range(months):
            first = (first + timedelta(days=32)).replace(day=1)
        return first - timedelta(days=1)
    if m := _SPAN.search(text):
        n = cn_to_int(m[1])
        if n is None or n <= 0:
            return None
        unit = {"天": 1, "周": 7, "星期": 7, "礼拜": 7, "月": 30}[m[2] or m[3]]
        return today + timedelta(days=n * unit)
    return None


def leave_until(text: str, today: date) -> date | None:
    """明天, 后天, "5天" (five days from today), 下周五 / 月底 / 一个月, or a date such as 12月5日."""
    text = text.strip()
    for word, ahead in FORWARD_WORDS.items():
        if word in text.lower():
            return today + timedelta(days=ahead)
    if m := _DAYS.match(text):
        return today + timedelta(days=int(m[1]))
    if (in_words := _ahead(text, today)) is not None:
        return in_words
    day = find_date(text, today)
    if day is not None and day < today and "月" in text and not re.search(r"\d{4}", text):
        try:
            day = day.replace(year=day.year + 1)  # "1月5日" said in December means next year
        except ValueError:  # 2月29日 said after it passed in a leap year: none next year
            raise Invalid("input.bad_date") from None
    return day


async def _until_accept(turn: Turn) -> str | None:
    today = turn.now.date()
    day = leave_until(turn.text, today) if turn.text else None
    if day is None:
        raise Invalid("input.bad_date")
    if day < today or day > today + timedelta(days=MAX_LEAVE_DAYS):
        raise Invalid("leave.bad_until", days=MAX_LEAVE_DAYS)
    turn.draft["until"] = day.isoformat()
    return None


def render(turn: Turn) -> str:
    raw = turn.draft.get("until", "")
    until = day_label(date.fromisoformat(raw), turn.lang, today=turn.now.date()) if raw else ""
    return turn.t("leave.confirm", until=until)


async def finish(turn: Turn) -> list[Reply]:
    until = date.fromisoformat(turn.draft["until"])
    turn.cadre.leave_until = until
    await set_leave(turn.session, turn.cadre.id, until)
    audit(
        turn.session,
        at=turn.now,
        actor=f"cadre:{turn.cadre.id}",
        action="cadre.leave",
        entity="cadre",
        entity_id=turn.cadre.id,
        until=until.isoformat(),
    )
    return [Reply(turn.t("leave.saved", until=day_label(until, turn.lang, today=turn.now.date())))]


LEAVE = Flow(
    name="leave",
    steps=(
        Step("until", _until_prompt, _until_accept, help_key="help.date"),
        confirm_step(render, [("until", "edit.date")]),
    ),
    finish=finish,
)
