"""Typed words at a button step, read like the button: 打电话 → call, 讲政策，帮卖货 → 政策 + 销路."""

from __future__ import annotations

import re

from core.understand import cues
from core.understand.text import normalise

# 六帮 by the words cadres use for them (the tags of core.policy.HELP_TAGS).
TAG_WORDS = {
    "政策": r"政策|宣讲|讲解|低保|医保|报销|补贴申请",
    "技术": r"技术|培训|指导|种植|养殖技术|防治|打药",
    "项目": r"项目|产业|合作社|扶贫车间",
    "资金": r"资金|贷款|小额信贷|补助|补贴|借钱|钱",
    "销路": r"销路|卖货|帮卖|销售|代卖|卖|收购|电商|直播",
    "生活": r"生活|看病|就医|送了|慰问|家务|打扫|柴米|米|油|衣",
}
_TAGS = {tag: re.compile(rx) for tag, rx in TAG_WORDS.items()}


def method_in(text: str) -> str | None:
    """The means of contact a typed answer names: 打电话 → call, 上门 → visit, 微信 → other;
    in a sentence too (是打电话跟他聊的，没去他家), when it names one means only. Words that
    are negated, planned or someone else's do not count; two different means → None."""
    norm = normalise(text)
    found = cues.done_cues(norm)
    strong = {c.method for c in found if c.strong}
    if len(strong) > 1:
        return None
    return cues.method_of(found)


def event_in(text: str) -> str | None:
    """The 五必访 event a typed answer names: 他住院了 → illness, 房子被水冲了 → hardship."""
    kind, _ = cues.event_in(re.sub(r"\s+", "", normalise(text)))
    return kind


def tags_in(text: str) -> list[str]:
    """The 六帮 tags a typed answer names, in the policy's order."""
    norm = normalise(text)
    return [tag for tag, rx in _TAGS.items() if rx.search(norm)]


_HOME = re.compile(
    r"(?:去|到|来到|跑|切)(?:了|过|咗)?(?:一趟|一下)?([^，。,；;!?！？\s]{1,6}?)(?:家|屋里|屋头|屋企)"
)
_NOBODY_IN_PARTICULAR = re.compile(r"[他她们你我咱俺人老的户里那这农]")


def about_someone_else(text: str, household: str) -> bool:
    """A sentence typed at a step of a report for `household` that tells of a visit to
    another home by name (昨天去了赵六家走访): a report of its own, not an answer here."""
    for m in _HOME.finditer(normalise(text)):
        rest = _NOBODY_IN_PARTICULAR.sub("", m.group(1))
        if rest and not any(rest in name or name in rest for name in household.split("、")):
            return True
    return False
