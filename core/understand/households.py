"""Which of the cadre's households a text names: full names, homophone typos, nicknames.

Every pass walks the (capped) text once per household name, so the work grows linearly with
the text and never with the number of its windows.
- a full name, or a homophone of it (王贵兰 → 王桂兰, 黄得福 → 黄德福), with at least one
  character right;
- 老张 / 张家 (any sex), 张叔 / 李姐 / 张大姐 / 桂兰婶 (kin terms narrow by sex), the given
  name alone (建国), 三哥 for 张三;
- 三户都 / 我包的5户 (all of them), 除了老黄其他几户 (all but those).
A nickname that fits several households is ambiguous: every candidate is returned.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, pinyin

from core.understand.numerals import cn_to_int

COMPOUND_SURNAMES = [
    "欧阳",
    "司马",
    "诸葛",
    "上官",
    "东方",
    "皇甫",
    "尉迟",
    "公孙",
    "慕容",
    "令狐",
    "长孙",
    "宇文",
    "司徒",
    "夏侯",
    "端木",
    "西门",
    "独孤",
    "南宫",
]
# Common surnames: a given name written right after one of these is someone else's full name.
COMMON_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝税敬化"
)
FEMALE_CHARS = frozenset(
    "英兰秀芳桂凤燕萍珍娟丽美梅莲花琴香玉霞妹娥菊翠莉妮婷姑芬芝艳素淑惠慧爱彩玲琼珠巧叶蓉娇媛女姐月仙娣"
)
MALE_CHARS = frozenset(
    "国强军建明伟勇刚海山林福德才生富贵康龙虎东成武斌兵民庆祥发财宝根柱石水长寿忠义志权光辉波峰涛亮永进新来旺顺安喜大业"
)
KIN_MALE = ("大爷", "大叔", "大哥", "大伯", "叔叔", "伯伯", "叔", "伯", "哥", "爷", "公", "弟")
KIN_FEMALE = (
    "大姐",
    "大妈",
    "大娘",
    "大婶",
    "阿姨",
    "姐姐",
    "嫂子",
    "姐",
    "姨",
    "婶",
    "嫂",
    "妹",
    "奶",
    "婆",
    "娘",
    "嬢",
)
_KIN = "|".join(sorted((*KIN_MALE, *KIN_FEMALE), key=len, reverse=True))
_PLURAL_AFTER = re.compile(r"^.{0,2}(俩|们|两家|两户|几家|几户|姐妹|兄弟|姊妹)")
_ALL = re.compile(
    r"所有|全部|每一?户|各户|挨家挨户|我包的?(?P<n1>[\d一二两三四五六七八九十]*)户|我联系的?(?P<n2>[\d一二两三四五六七八九十]*)户"
    r"|(?P<n3>[一二两三四五六七八九十\d]+)[户家][^，。,；;]{0,4}?(?:都|全|一起)|几户[^，。,；;]{0,4}?(?:都|全)"
)
_EXCEPT = re.compile(
    r"除了?([^，,。；;]{1,40}?)(?:以外|之外|外)?[，,、\s]{0,2}(?:其他|其余|别的|另外|剩下)"
)


@dataclass(frozen=True)
class Household:
    """A household name prepared for matching."""

    name: str
    surname: str
    given: str
    sex: str  # "m", "f" or "" (cannot tell)


@dataclass(frozen=True)
class Hit:
    """A place in the text that names households: one, or several candidates (ambiguous)."""

    start: int
    end: int
    names: tuple[str, ...]
    plural: bool = False  # 胡家姐妹俩: every candidate is meant, not one of them

    @property
    def ambiguous(self) -> bool:
        return len(self.names) > 1 and not self.plural


@dataclass(frozen=True)
class Found:
    hits: tuple[Hit, ...]
    everyone: bool = False  # 三户都 / 我包的5户
    excluded: tuple[str, ...] = ()  # 除了老黄: all but these


def prepare(name: str) -> Household:
    surname = next((s for s in COMPOUND_SURNAMES if name.startswith(s)), name[:1])
    given = name[len(surname) :]
    female = sum(c in FEMALE_CHARS for c in given)
    male = sum(c in MALE_CHARS for c in given)
    sex = "f" if female > male else "m" if male > female else ""
    return Household(name, surname, given, sex)


def find(text: str, names: Sequence[str]) -> Found:
    """The households `text` names, among `names` (already normalised, simplified)."""
    households = [prepare(n) for n in dict.fromkeys(n for n in names if n)]
    covered = [False] * len(text)
    hits: list[Hit] = []
    for finder in (_exact, _by_sound, _nicknames):
        for hit in finder(text, households, covered):
            if any(covered[hit.start : hit.end]):
                continue
            hits.append(hit)
            for i in range(hit.start, hit.end):
                covered[i] = True
    hits.sort(key=lambda h: h.start)
    everyone = _all_of(text, len(households))
    excluded: tuple[str, ...] = ()
    if m := _EXCEPT.search(text):
        excluded = tuple(
            n
            for h in hits
            if m.start(1) <= h.start < m.end(1)
            for n in h.names
            if len(h.names) == 1
        )
        everyone = bool(excluded) or everyone
    return Found(tuple(hits), everyone, excluded)


def _all_of(text: str, how_many: int) -> bool:
    """三户都 / 我包的5户: all of them — unless the number says fewer than the cadre has."""
    m = _ALL.search(text)
    if m is None:
        return False
    said = m.group("n1") or m.group("n2") or m.group("n3")
    return not said or cn_to_int(said) == how_many


def _exact(text: str, households: list[Household], covered: list[bool]) -> list[Hit]:
    found = []
    # Longest names first: in "张三丰" the name meant is 张三丰, not 张三.
    for h in sorted(households, key=lambda h: -len(h.name)):
        start = text.find(h.name)
        while start >= 0:
            found.append(Hit(start, start + len(h.name), (h.name,)))
            start = text.find(h.name, start + 1)
    return _longest_first(found)


def _longest_first(hits: list[Hit]) -> list[Hit]:
    return sorted(hits, key=lambda h: (-(h.end - h.start), h.start))


@lru_cache(maxsize=16384)
def _sounds(ch: str) -> frozenset[str]:
    """The toneless readings of a character, folded for common keyboard/dialect confusions."""
    if not "\u4e00" <= ch <= "\u9fff":
        return frozenset()
    readings = pinyin(ch, style=Style.NORMAL, heteronym=True)[0]
    return frozenset(_fold(r) for r in readings)


def _fold(reading: str) -> str:
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if reading.startswith(a):
            reading = b + reading[2:]
    if reading.startswith("n"):
        reading = "l" + reading[1:]
    for a, b in (("ing", "in"), ("eng", "en")):
        if reading.endswith(a):
            reading = reading[: -len(a)] + b
    return reading


def _by_sound(text: str, households: list[Household], covered: list[bool]) -> list[Hit]:
    """A window that sounds like a name (every character) and shares at least one with it."""
    found = []
    for h in households:
        n = len(h.name)
        if n < 2:
            continue
        name_sounds = [_sounds(c) for c in h.name]
        for i in range(len(text) - n + 1):
            if covered[i] or (text[i] not in h.name and text[i + 1] not in h.name):
                continue  # cheap reject: a homophone typo keeps the surname or the next char
            window = text[i : i + n]
            same = sum(a == b for a, b in zip(window, h.name, strict=True))
            if same == 0 or same == n:
                continue
            if all(
                a == b or _sounds(a) & s
                for a, b, s in zip(window, h.name, name_sounds, strict=True)
            ):
                found.append(Hit(i, i + n, (h.name,)))
    return found


def _nicknames(text: str, households: list[Household], covered: list[bool]) -> list[Hit]:
    found: list[Hit] = []
    by_surname: dict[str, list[Household]] = {}
    for h in households:
        by_surname.setdefault(h.surname, []).append(h)
    surnames = "|".join(sorted(map(re.escape, by_surname), key=len, reverse=True))
    if surnames:
        pattern = rf"(老)?({surnames})(?:(大|老)?({_KIN})|(家|那边|那里|屋头|屋企))?"
        for m in re.finditer(pattern, text):
            old, surname, kin, home = m.group(1), m.group(2), m.group(4), m.group(5)
            if not (old or kin or home):
                continue
            if old and not (kin or home) and _word_goes_on(text, m.end()):
                continue  # 老黄牛, 老王八: not a person
            fits = _fit_sex([h.name for h in by_surname[surname]], households, kin)
            found.append(_hit(text, m.start(), m.end(), fits))
    for h in households:
        if len(h.given) >= 2:
            start = text.find(h.given)
            while start >= 0:
                if start == 0 or text[start - 1] not in COMMON_SURNAMES:
                    found.append(Hit(start, start + len(h.given), (h.name,)))
                start = text.find(h.given, start + 1)
    # 三哥 for 张三: a given name ending in a birth-order numeral, with a kin term.
    for m in re.finditer(rf"([一二三四五六七八九十])({_KIN})", text):
        names = [h.name for h in households if h.given.endswith(m.group(1))]
        fits = _fit_sex(names, households, m.group(2))
        if fits:
            found.append(_hit(text, m.start(), m.end(), fits))
    return [h for h in found if h.names]


def _word_goes_on(text: str, end: int) -> bool:
    """老黄牛: the character after 老X makes a word of it rather than a nickname."""
    return end < len(text) and text[end] in "牛狗马羊鸡猪头子八师板乡"


def _fit_sex(names: list[str], households: list[Household], kin: str | None) -> tuple[str, ...]:
    """Kin terms narrow by sex (叔 a man, 姐 a woman); when none fits, the term may be the
    head's spouse (张婶 of 张叔's house), so every name of that surname stays."""
    if not kin:
        return tuple(names)
    sex = "m" if kin in KIN_MALE else "f"
    info = {h.name: h.sex for h in households}
    fitting = [n for n in names if info.get(n) in (sex, "")]
    return tuple(fitting or names)


def _hit(text: str, start: int, end: int, names: tuple[str, ...]) -> Hit:
    plural = len(names) > 1 and _PLURAL_AFTER.match(text[end : end + 6]) is not None
    return Hit(start, end, names, plural)
