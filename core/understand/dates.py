"""Dates as cadres write them: 今天, 夜个, 上周五, 礼拜三, 11.28, 十一月二十八, 28号, 正月十五, 中秋.

`mentions(text, today)` finds every date expression with its place in the text. A mention
either names one day (`day`) or names a time that cannot be pinned to one day (前两天, 上个月,
国庆期间, 11月31号): then `day` is None and `choices` holds the likely days, for buttons.

Resolution rules (weeks run Monday–Sunday):
- 这周X is that day of this week, 上周X of last week, 上上周X two weeks back; a bare 周X is
  the most recent such day before today.
- A month and day without a year is the occurrence closest to today; a day alone (28号) is
  the most recent such day not after today.
- A festival or lunar date is its occurrence closest to today.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

from lunar_python import Lunar, LunarMonth, Solar

from core.understand.numerals import CN_NUMBER, cn_to_int

WEEKDAY_NAMES = "一二三四五六日天"
_WEEKDAY_INDEX = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY_INDEX.update({str(i + 1): i for i in range(7)})
RELATIVE = {
    "大前天": 3,
    "大前日": 3,
    "大前儿": 3,
    "前天": 2,
    "前日": 2,
    "前儿个": 2,
    "前儿": 2,
    "昨天": 1,
    "昨日": 1,
    "昨儿个": 1,
    "昨儿": 1,
    "昨晚": 1,
    "昨夜": 1,
    "昨早": 1,
    "昨个": 1,
    "夜儿个": 1,
    "夜个": 1,
    "琴日": 1,
    "寻日": 1,
    "噚日": 1,
    "今天": 0,
    "今日": 0,
    "今儿个": 0,
    "今儿": 0,
    "今早": 0,
    "今晚": 0,
    "今朝": 0,
    "刚才": 0,
    "刚刚": 0,
    "today": 0,
    "yesterday": 1,
    # The future is read too (a plan, or 明天 typed at the date step): it is refused for
    # what it is, not misread.
    "明天": -1,
    "明日": -1,
    "明儿": -1,
    "听日": -1,
    "后天": -2,
    "大后天": -3,
    "tomorrow": -1,
}
# Words that name a time but not one day: the bot must ask, never guess.
VAGUE = (
    "前两天",
    "前几天",
    "前些天",
    "前些日子",
    "前段时间",
    "前一段",
    "前阵子",
    "前一阵",
    "这几天",
    "这两天",
    "近几天",
    "近日",
    "最近",
    "那几天",
    "那天",
    "那日",
    "上次",
    "上回",
    "上上个月",
    "上个月",
    "上月",
    "这个月",
    "这月",
    "本月",
    "月初",
    "月中",
    "月底",
    "月末",
    "上旬",
    "中旬",
    "下旬",
    "年前",
    "年后",
    "年底",
    "年末",
    "过年",
    "去年",
    "前年",
    "上半年",
    "下半年",
    "周末",
    "礼拜天前后",
)
FESTIVALS = (
    "元旦",
    "除夕",
    "大年三十",
    "年三十",
    "春节",
    "元宵",
    "清明",
    "劳动节",
    "五一",
    "端午",
    "七夕",
    "中元",
    "七月半",
    "中秋",
    "国庆",
    "重阳",
    "冬至",
    "腊八",
    "小年",
)
# Solar festivals (month, day) and lunar ones (lunar month, day; day 0 = the month's last day).
_SOLAR_FESTIVALS = {"元旦": (1, 1), "劳动节": (5, 1), "五一": (5, 1), "国庆": (10, 1)}
_LUNAR_FESTIVALS = {
    "除夕": (12, 0),
    "大年三十": (12, 0),
    "年三十": (12, 0),
    "春节": (1, 1),
    "元宵": (1, 15),
    "端午": (5, 5),
    "七夕": (7, 7),
    "中元": (7, 15),
    "七月半": (7, 15),
    "中秋": (8, 15),
    "重阳": (9, 9),
    "腊八": (12, 8),
    "小年": (12, 23),
}
_SOLAR_TERMS = {"清明": ("清明", "QING_MING"), "冬至": ("冬至", "DONG_ZHI")}
_LUNAR_MONTHS = {"正": 1, "冬": 11, "腊": 12}
# A number followed by one of these is a quantity, not a date: 1.2元, 5.5亩, 3-5斤.
_UNIT_AFTER = r"(?!\s*(?:元|块|斤|亩|万|千|百|米|吨|倍|公斤|个|分|角|岁|度|%|kg|cm|天|小时|年))"
_NUM = rf"(?:\d{{1,2}}|{CN_NUMBER})"
_LUNAR_DAY = r"(?:初[一二三四五六七八九十]|廿[一二三四五六七八九]?|三十|二十[一二三四五六七八九]?|十[一二三四五六七八九]?)"

_REL = "|".join(sorted(RELATIVE, key=len, reverse=True))
_PATTERNS = [
    ("iso", r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"),
    ("last_month_day", rf"(上上个?月|上个?月|这个?月|本月)\s*({_NUM})\s*[日号]"),
    (
        "lunar_md",
        rf"(农历|阴历)?(正|冬|腊|十一|十二|十|[一二三四五六七八九])月\s*({_LUNAR_DAY}|{CN_NUMBER})(?![月天个年一二三四五六七八九十])(?:日|号)?",
    ),
    ("md", rf"(?<![\d.])({_NUM})\s*月\s*({_NUM})\s*(?:日|号)?(?![\d月])"),
    ("lunar_month", r"(正|冬|腊)月(?:间|里|份|头|底|中)?"),
    ("month_only", rf"(?<![\d.])({_NUM})\s*月份?(?![\d])"),
    (
        "dotted",
        rf"(?<![\d.\-/])(\d{{1,2}})\s*[./\-]\s*(\d{{1,2}})(?![\d.\-/])\s*(?:日|号)?{_UNIT_AFTER}",
    ),
    ("new_year_day", r"(?:大年|年)(初[一二三四五六七八九十])"),
    ("week", rf"(上上|下下|上|下|这|本|今)?\s*(?:个)?(周|礼拜|星期)([{WEEKDAY_NAMES}1-7])"),
    ("week_vague", r"(上上|上|这|本)(?:个)?(?:周|礼拜|星期)(?!末)"),
    (
        "festival",
        rf"({'|'.join(FESTIVALS)})(节)?(期间|前后|前|后|那几天|假期|长假|放假|左右|时候)?",
    ),
    ("either", rf"({_REL})\s*(?:还是|或者|或)\s*({_REL})"),
    ("vague", "|".join(sorted(VAGUE, key=len, reverse=True))),
    ("relative", _REL),
    ("lunar_day", r"(?<![上读念])(初[一二三四五六七八九十])(?![中期级步次])"),
    ("day", rf"(?<![\d月.\-/])({_NUM})\s*(?:日|号)(?![子常本期报记历码楼线房召称])"),
]
_SCANNER = re.compile("|".join(f"(?P<{name}>{rx})" for name, rx in _PATTERNS), re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    """One date expression in a text: the day it names, or None when it names no single day."""

    start: int
    end: int
    word: str
    day: date | None
    choices: tuple[date, ...] = field(default=())
    relative: bool = False  # 今天/昨天/前天…: a weekday written right after it repeats it

    @property
    def vague(self) -> bool:
        return self.day is None


def mentions(text: str, today: date) -> list[Mention]:
    """Every date expression in `text`, in order, resolved against `today`."""
    found: list[Mention] = []
    for m in _SCANNER.finditer(text):
        kind = m.lastgroup or ""
        day = _resolve(kind, m, today)
        if day is _NOT_A_DATE:
            continue
        word = m.group(0).strip()
        if isinstance(day, tuple):  # 昨天还是前天: either of two days
            found.append(Mention(m.start(), m.end(), word, None, day))
        elif isinstance(day, date):
            found.append(Mention(m.start(), m.end(), word, day, relative=kind == "relative"))
        else:
            found.append(Mention(m.start(), m.end(), word, None, likely_days(today)))
    return _drop_repeats(found, text)


def likely_days(today: date) -> tuple[date, ...]:
    """The days offered when a time cannot be pinned: the last few days, newest first."""
    return tuple(today - timedelta(days=n) for n in range(1, 5))


_NOT_A_DATE = object()


def _resolve(kind: str, m: re.Match[str], today: date) -> object:
    """A date, None (a time that is not one day), or _NOT_A_DATE (a number, not a date)."""
    g = m.group(0)
    try:
        return _RESOLVERS[kind](g, today)
    except (ValueError, KeyError, TypeError):
        return None


def _relative(g: str, today: date) -> date:
    return today - timedelta(days=RELATIVE[g.lower()])


def _either(g: str, today: date) -> tuple[date, ...]:
    words = re.split(r"\s*(?:还是|或者|或)\s*", g)
    return tuple(sorted({_relative(w, today) for w in words}, reverse=True))


def _week(g: str, today: date) -> date | None:
    m = re.fullmatch(
        rf"(上上|下下|上|下|这|本|今)?\s*(?:个)?(?:周|礼拜|星期)([{WEEKDAY_NAMES}1-7])", g
    )
    assert m is not None
    prefix, wd = m.group(1) or "", _WEEKDAY_INDEX[m.group(2)]
    monday = today - timedelta(days=today.weekday())
    weeks = {"上上": -2, "上": -1, "这": 0, "本": 0, "今": 0, "下": 1, "下下": 2}
    if prefix:
        return monday + timedelta(weeks=weeks[prefix], days=wd)
    back = (today.weekday() - wd) % 7 or 7  # the most recent such day before today
    return today - timedelta(days=back)


def _iso(g: str, today: date) -> date | None:
    nums = [int(x) for x in re.findall(r"\d+", g)]
    return date(nums[0], nums[1], nums[2])


def _closest(today: date, month: int, day: int) -> date | None:
    """The occurrence of month/day closest to today (ties go to the past); None if impossible."""
    options = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            options.append(date(year, month, day))
        except ValueError:
            continue
    if not options:
        return None
    return min(options, key=lambda d: (abs((d - today).days), d > today))


def _md(g: str, today: date) -> object:
    month_s, day_s = re.split(r"\s*月\s*", g.rstrip("日号 "), maxsplit=1)
    month, day = cn_to_int(month_s.strip()), cn_to_int(day_s.strip())
    if month is None or day is None:
        return _NOT_A_DATE
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return _closest(today, month, day)


def _dotted(g: str, today: date) -> object:
    month, day = (int(x) for x in re.findall(r"\d+", g)[:2])
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return _NOT_A_DATE  # 13.5 or 3.75 is a number, not a date
    return _closest(today, month, day)


def _latest_day(today: date, day: int) -> date | None:
    """The most recent day-of-month `day` not after today."""
    if not 1 <= day <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = date(year, month, day)
        except ValueError:
            candidate = None
        if candidate is not None and candidate <= today:
            return candidate
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def _day(g: str, today: date) -> object:
    day = cn_to_int(g.rstrip("日号 ").strip())
    if day is None:
        return _NOT_A_DATE
    return _latest_day(today, day)


def _last_month_day(g: str, today: date) -> date | None:
    m = re.fullmatch(rf"(上上个?月|上个?月|这个?月|本月)\s*({_NUM})\s*[日号]", g)
    assert m is not None
    day = cn_to_int(m.group(2))
    back = 2 if m.group(1).startswith("上上") else 1 if m.group(1).startswith("上") else 0
    year, month = today.year, today.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, day or 0)


def _lunar_md(g: str, today: date) -> object:
    m = re.fullmatch(
        r"(农历|阴历)?(正|冬|腊|十一|十二|十|[一二三四五六七八九])月\s*(\S+?)(?:日|号)?", g
    )
    assert m is not None
    month_word, day_word = m.group(2), m.group(3)
    lunar = bool(m.group(1)) or month_word in _LUNAR_MONTHS or day_word[0] in "初廿"
    month = _LUNAR_MONTHS.get(month_word) or cn_to_int(month_word)
    day = cn_to_int(day_word[1:] if day_word.startswith("初") else day_word)
    if month is None or day is None:
        return _NOT_A_DATE
    if not lunar:
        return _closest(today, month, day) if 1 <= day <= 31 else None
    return _closest_lunar(today, month, day)


def _lunar_day(g: str, today: date) -> date | None:
    """初五 alone: the most recent 5th day of a lunar month, not after today."""
    day = cn_to_int(g[1:])
    if day is None:
        return None
    lunar_today = _lunar_ymd(today)[2]
    if day <= lunar_today:
        return today - timedelta(days=lunar_today - day)
    month_end = today - timedelta(days=lunar_today)  # last day of the previous lunar month
    previous_len = _lunar_ymd(month_end)[2]
    return month_end - timedelta(days=previous_len - day) if day <= previous_len else None


def _new_year_day(g: str, today: date) -> date | None:
    day = cn_to_int(g[-1])
    return _closest_lunar(today, 1, day or 0)


def _festival(g: str, today: date) -> date | None:
    m = re.fullmatch(rf"({'|'.join(FESTIVALS)})(节)?(.*)", g)
    assert m is not None
    if m.group(3):  # 国庆期间, 清明节后, 端午节前: not one day
        return None
    name = m.group(1)
    if name in _SOLAR_FESTIVALS:
        return _closest(today, *_SOLAR_FESTIVALS[name])
    if name in _SOLAR_TERMS:
        options = [_solar_term(y, name) for y in (today.year - 1, today.year, today.year + 1)]
        return _nearest(today, [d for d in options if d is not None])
    month, day = _LUNAR_FESTIVALS[name]
    return _closest_lunar(today, month, day)


def _vague(g: str, today: date) -> None:
    return None


def _month_only(g: str, today: date) -> object:
    month = cn_to_int(re.sub(r"[月份\s]", "", g))
    if month is None or not 1 <= month <= 12:
        return _NOT_A_DATE
    return None  # 11月 / 三月份: a month, not a day


def _nearest(today: date, days: list[date]) -> date | None:
    if not days:
        return None
    return min(days, key=lambda d: (abs((d - today).days), d > today))


def _closest_lunar(today: date, month: int, day: int) -> date | None:
    """The lunar month/day (day 0 = the month's last day) closest to today; None if impossible."""
    lunar_year = _lunar_ymd(today)[0]
    options = [_lunar_to_solar(y, month, day) for y in (lunar_year - 1, lunar_year, lunar_year + 1)]
    return _nearest(today, [d for d in options if d is not None])


@lru_cache(maxsize=1024)
def _lunar_ymd(day: date) -> tuple[int, int, int]:
    """The lunar year, month and day of a Gregorian day."""
    lunar = Solar.fromYmd(day.year, day.month, day.day).getLunar()
    return lunar.getYear(), lunar.getMonth(), lunar.getDay()


@lru_cache(maxsize=1024)
def _lunar_to_solar(lunar_year: int, month: int, day: int) -> date | None:
    if not 1 <= month <= 12:
        return None
    length = LunarMonth.fromYm(lunar_year, month).getDayCount()
    day = length if day == 0 else day
    if not 1 <= day <= length:
        return None
    solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@lru_cache(maxsize=256)
def _solar_term(year: int, name: str) -> date | None:
    table = Lunar.fromYmd(year, 6, 1).getJieQiTable()
    for key in _SOLAR_TERMS[name]:
        solar = table.get(key)
        if solar is not None and solar.getYear() == year:
            return date(year, solar.getMonth(), solar.getDay())
    return None


_RESOLVERS = {
    "iso": _iso,
    "last_month_day": _last_month_day,
    "lunar_md": _lunar_md,
    "md": _md,
    "lunar_month": _vague,
    "month_only": _month_only,
    "dotted": _dotted,
    "new_year_day": _new_year_day,
    "week": _week,
    "week_vague": _vague,
    "festival": _festival,
    "vague": _vague,
    "relative": _relative,
    "either": _either,
    "lunar_day": _lunar_day,
    "day": _day,
}


def _drop_repeats(found: list[Mention], text: str) -> list[Mention]:
    """今天周六 / 昨天（周日）: a weekday right after a relative day repeats it, when it agrees;
    端午节那天: 那天 right after a day is that day."""
    kept: list[Mention] = []
    for mention in found:
        before = kept[-1] if kept else None
        if (
            before is not None
            and before.day is not None
            and mention.word in ("那天", "那日", "当天")
            and not text[before.end : mention.start].strip()
        ):
            continue
        if (
            before is not None
            and before.relative
            and before.day is not None
            and mention.day is not None
            and re.fullmatch(r"[\s,，(（]*", text[before.end : mention.start])
            and re.search(r"周|礼拜|星期", mention.word)
            and mention.day.weekday() == before.day.weekday()
        ):
            continue
        kept.append(mention)
    return kept


def read_date(text: str, today: date) -> Mention | None:
    """The one date a short answer names (the guided date step), or None if it names none.

    Several mentions that disagree (昨天还是前天) make a vague mention: the bot must ask.
    """
    found = mentions(text, today)
    return agree(found, today)


def agree(found: list[Mention], today: date) -> Mention | None:
    """One mention standing for all of `found`: their day if they all name the same one."""
    if not found:
        return None
    days = {m.day for m in found}
    if len(found) == 1 or (len(days) == 1 and None not in days):
        return found[0]
    first, last = found[0], found[-1]
    word = "".join(m.word for m in found) if len(found) <= 3 else first.word
    picks = sorted(
        {m.day for m in found if m.day is not None} | {d for m in found for d in m.choices},
        reverse=True,
    )
    return Mention(first.start, last.end, word, None, tuple(picks) or likely_days(today))
