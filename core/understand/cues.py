"""Words that say how a contact happened, whether it happened at all, and what else the
text reports (a 五必访 event, a problem of the household).

Each cue is a regular expression over the normalised text. Texts are short and capped, so
every search here is linear in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# How the contact happened. Strong cues name the means; weak ones only say "went".
CALL = (
    r"打(?:了|个|了个|过|过个|过了)?(?:一个|个|一通)?(?:电话|视频)|电话(?!号|费|卡|坏)|电联|通话"
    r"|通了?个?话|电访|视频|语音通话|微信语音(?!消息|留言|条)|微信电话|打来|来电|致电|回电"
    r"|回过来|打回来|打过来"
)
OTHER = (
    r"短信|微信消息|微信留言|语音消息|发(?:了)?(?:条|个|段)?(?:微信|短信|语音|信息)"
    r"|微信(?:上|里)?(?:说|聊|讲|问|留)|留言|碰到|碰见|遇到|遇见|撞见|撞到|见到|见着|见了(?:一)?面"
    r"|带了?个?话|捎了?个?话|托人|托[^，。,；;]{1,5}?带|(?<![闹吵告找送])(?:来|到)(?:了)?(?:村委|村部|村室|村里|镇上|镇里|乡里|政府|办公室|服务中心)"
    r"|开会|会上|集上|赶集|拉呱|拉了会儿?呱|医院(?:看|探|见)|微信(?!视频|语音|电话)"
)
VISIT = (
    r"入户|走访|家访|上门|登门|看望|探望|慰问|吊唁|串门|坐了坐|坐了一会"
    r"|(?<![回出])(?:去|到|来到|跑|切)(?:了|过|咗)?(?:一趟|一下)?[^，。,；;!?！？\s]{0,6}?(?:家|屋里|屋头|屋企)"
)
VISIT_WEAK = r"(?<![出回进上下过失])(?:去|切)(?:了|过|咗|的)|(?<![出回进上下过失])(?:去|切)(?:看|瞧|瞅|随|坐|转|串|送|探|问|聊|吃|喝)[^，。,；;!?！？\s]{0,1}?(?:了|过|咗)|(?<![出回进上下过失])去[^，。,；;!?！？\s]{1,4}?的(?=$|[，。,；;!?！？\s])|去一趟|跑了一趟|过去看了|去看了"
UNSAID = r"已?联系(?:了|过|上了)|已联系|联络(?:了|过)|沟通(?:了|过)|对接(?:了|过)"
_CUES = re.compile(
    "|".join(
        f"(?P<{name}>{rx})"
        for name, rx in (
            ("call", CALL),
            ("other", OTHER),
            ("visit", VISIT),
            ("weak", VISIT_WEAK),
            ("unsaid", UNSAID),
        )
    )
)

NEGATION = re.compile(r"(?:没|没有|未|不|别|没能)\S?$")
FAILED = re.compile(
    r"没人接|无人接|没接|不接|打不通|没打通|没通|关机|停机|空号|不在家|没人在|没在家|家里没人|没人"
    r"|锁着门|锁门|扑空|白跑|没见到|没见着|没碰到|没遇到|没联系上|联系不上|找不到人|没去成|去不了|没能去"
)
FUTURE = re.compile(
    r"明天|明日|后天|下周|下礼拜|下星期|下个月|过两天|过几天|改天|回头|晚点|等会|待会|打算|准备|计划去"
    r"|想去|要去|还要|需要|应该|得去|将要|会去|去趟|去一趟看|本来|原本|(?:想|要)$"
    r"|再(?:去|来|到|跑|打|上)(?!了|过|咗)|再$"
)
# An errand for the household (提醒他周五来开会, 通知她明天到村部): what follows is what they
# are asked to do, not a contact the cadre had.
ERRAND = re.compile(r"(?:提醒|通知|叫|让|喊|约|请)(?:他|她|他们|她们|人家|对方)")
HEARSAY = re.compile(r"听说|听讲|听人说|据说|听[^，。,；;]{1,6}说")
OTHER_ACTOR = re.compile(
    r"村支书|支书|书记|村主任|主任|村长|队长|组长|村干部|驻村队员|工作队|同事|镇长|乡长|网格员|村医|别人|其他人"
)
WITH_ME = re.compile(r"我|俺|咱|与|和|跟|同|陪|一起|一道|带着|给我")
QUESTION = re.compile(r"怎么|如何|吗|是否|能不能|可不可以|有没有|多少户|多少次|请问|哪些|咋")
CORRECTION = re.compile(r"说错了|写错了|搞错了|弄错了|报错了|更正一下|改成|不是.{1,6}是")

EVENTS = (
    (
        "death",
        r"去世|过世|逝世|病故|病逝|出殡|后事|吊唁|丧事|丧礼|葬礼|办丧|奔丧"
        r"|(?:娘|爹|爸|妈|父亲|母亲|老伴|老人|爷爷|奶奶|婆婆|公公|外婆|外公|丈夫|老公|媳妇|妻子|老汉|老头|老太)"
        r"[^，。,；;]{0,4}?(?:走了|老了|没了|死了|不在了)",
    ),
    (
        "illness",
        r"住院|住了院|住起院|入了?咗?院|手术|开刀|ICU|重症|监护室|化疗|放疗|中风|脑梗|脑溢血|脑出血|偏瘫|瘫痪|癌"
        r"|肿瘤|车祸|骨折|摔伤|摔断|受伤|重伤|急诊|抢救|病危|重病|大病|透析|白血病|尿毒症|心梗",
    ),
    (
        "birth",
        r"(?<![发产出卫先医学])生了(?:个|一个|一对|对)?[^，。,；;]{0,3}?(?:儿子|女儿|闺女|小子|男孩|女孩|娃|孩子|宝宝|双胞胎|龙凤胎|孙子|孙女|千金)"
        r"|(?<![发产出卫先医学])生了(?=$|[，。,；;!！\s])|出生|添了(?:个|一个)?(?:孙|丁|娃|宝)|添丁|满月|坐月子|生孩子|抱孙子|抱上孙子",
    ),
    (
        "hardship",
        r"火灾|着火|失火|起火|烧了|烧没|烧毁|烧光|大水|洪水|发水|涨水|水淹|淹了|冲垮|冲毁|冲走|冲坏"
        r"|泥石流|塌方|滑坡|冰雹|雹子|被偷|偷走|偷了|被盗|绝收|颗粒无收|受灾|遭灾|台风|旱灾|雪灾|倒塌|塌了|垮了"
        r"|(?:猪|牛|羊|鸡|鸭|鹅|鱼|兔|蜂|马)[^，。,；;]{0,6}?(?:死了|病死|瘟|死光|淹死|冻死|全死|走丢|跑丢|丢了|被偷)",
    ),
    (
        "dispute",
        r"吵架|吵起来|打架|打起来|扯皮|纠纷|矛盾|闹离婚|离婚|分家|赡养|不管(?:她|他|老人|老娘|老爹)"
        r"|不孝|宅基地|田埂|放水|地界|界线|争地|争吵|争执|闹到|闹翻|告状|打官司|说和|调解|劝和|吵嘴|拌嘴",
    ),
)
_EVENTS = [(name, re.compile(rx, re.IGNORECASE)) for name, rx in EVENTS]
PROBLEM = re.compile(
    r"申请|想贷|贷款|想学|学(?:门|个|点)?技术|找工作|找活|找个活|找事做|没着落|让我帮|请我帮|想请人|请人来|老化"
    r"|帮忙(?:打听|问问|找|联系|申请|卖|反映|解决|看看)|想[^，。,；;]{0,4}帮忙"
    r"|帮着(?:找|问|联系|打听|卖)|帮(?:他|她|他们)(?:问问|问一下|找|打听|联系|申请|卖|反映)|求助|缺钱"
    r"|缺(?:乏|少)?(?:资金|钱|劳力|冷库|技术|水|粮)|困难|补办|不让|上不了|读不了|学费|住宿费|医药费"
    r"|医疗费|没钱|拖欠|欠(?:薪|钱|款|工资)|工钱|没到账|没到(?=$|[，。,；;!！？?\s]|位)|还没(?:到|发|给|下来|批)|没发|没给"
    r"|(?:水|电|自来水|网|补助|低保|工资)\S{0,4}停了|停水|停电|漏雨|漏水|没人修|没人来修"
    r"|卖不(?:出|掉|动|上|脱|了)|卖唔(?:出|掉|到)|没卖(?:掉|出去|完)|滞销|不出价|卖不起价|(?:卡|证|本|折)\S{0,2}丢了|丢失|鉴定|危房|冷库|需求"
    r"|没收入|找不到工作|失业|没地方住|想要"
)
# Damage is a problem unless a disaster did it: then it is the hardship event alone.
DAMAGE = re.compile(r"坏了|裂了|裂开了|漏了|堵了|塌了|倒了")
SOLVED = re.compile(r"已经解决|解决了|修好了|验收|到账了|办好了|办下来了")
CLAUSE_SPLIT = re.compile(r"[，。！？；;!?\n]|,(?!\d)|(?<!\d)\.|\.(?!\d)")
SEGMENT_SPLIT = re.compile(r"[，。！？；;!?\n\s]|,(?!\d)|(?<!\d)\.|\.(?!\d)")


@dataclass(frozen=True)
class Cue:
    """A word saying a contact happened: its means (call/visit/other/None) and place."""

    start: int
    end: int
    method: str | None
    strong: bool


def spans(text: str, splitter: re.Pattern[str]) -> list[tuple[int, int]]:
    """The (start, end) of each piece of `text` between separators."""
    out, start = [], 0
    for m in splitter.finditer(text):
        out.append((start, m.start()))
        start = m.end()
    out.append((start, len(text)))
    return out


def around(pieces: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    """The piece holding position `pos`."""
    for start, end in pieces:
        if start <= pos <= end:
            return start, end
    return 0, 0


def contact_cues(text: str) -> list[Cue]:
    """Every contact word in `text`, whether or not it reports a done contact."""
    found = []
    for m in _CUES.finditer(text):
        kind = m.lastgroup or ""
        method = {"call": "call", "other": "other", "visit": "visit", "weak": "visit"}.get(kind)
        found.append(Cue(m.start(), m.end(), method, kind in ("call", "other", "visit")))
    return found


def done_cues(text: str) -> list[Cue]:
    """The contact words that report a contact the cadre really had (not a plan, not hearsay,
    not someone else's, not a call nobody answered, not a question)."""
    clauses = spans(text, CLAUSE_SPLIT)
    segments = spans(text, SEGMENT_SPLIT)
    return [c for c in contact_cues(text) if _done(text, c, clauses, segments)]


def _done(
    text: str, cue: Cue, clauses: list[tuple[int, int]], segments: list[tuple[int, int]]
) -> bool:
    c_start, c_end = around(clauses, cue.start)
    before = text[c_start : cue.start]
    clause = text[c_start:c_end]
    if NEGATION.search(before[-3:]):
        return False
    if FUTURE.search(before[-10:]) or HEARSAY.search(before) or QUESTION.search(clause):
        return False
    if ERRAND.search(before):
        return False
    if OTHER_ACTOR.search(before) and not WITH_ME.search(clause):
        return False
    return not failed(text, cue.start, segments)


def failed(text: str, pos: int, segments: list[tuple[int, int]]) -> bool:
    """A failure word (没人接, 不在家) in the piece at `pos` or in the bare piece after it."""
    s_start, s_end = around(segments, pos)
    if FAILED.search(text[s_start:s_end]):
        return True
    later = [s for s in segments if s[0] > s_end and s[1] > s[0]]
    return bool(later) and FAILED.match(text[later[0][0] : later[0][1]]) is not None


def method_of(cues: list[Cue]) -> str | None:
    """The first strong cue names the means; a bare 去了 is a visit; 联系了 says none."""
    strong = [c for c in cues if c.strong]
    if strong:
        return strong[0].method
    weak = [c for c in cues if c.method]
    return weak[0].method if weak else None


def event_in(text: str) -> tuple[str | None, tuple[int, int] | None]:
    """The 五必访 event the text reports, and where; the gravest first."""
    for name, rx in _EVENTS:
        if m := rx.search(text):
            return name, (m.start(), m.end())
    return None, None


def problem_in(text: str) -> tuple[int, int] | None:
    """Where the text names a problem or appeal of the household that is not yet solved."""
    clauses = spans(text, CLAUSE_SPLIT)
    hardship = dict(_EVENTS)["hardship"]
    for rx in (PROBLEM, DAMAGE):
        for m in rx.finditer(text):
            start, end = around(clauses, m.start())
            clause = text[start:end]
            if SOLVED.search(clause) or (rx is DAMAGE and hardship.search(clause)):
                continue
            return start, end
    return None


def is_question(text: str) -> bool:
    return text.rstrip().endswith(("?", "？")) or bool(re.match(r"\s*(请问|怎么|如何)", text))


def is_correction(text: str) -> bool:
    return CORRECTION.search(text) is not None
