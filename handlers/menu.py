"""Outside a flow: the menu, commands, words that work at every step, quick reports."""

from __future__ import annotations

from dataclasses import replace

from core.buttons import FollowUp, Menu, PlanCard, RecordEvent, RecordProblem, ReportFor
from core.buttons import Problem as ProblemButton
from core.i18n import t
from core.policy import EVENT_KINDS
from core.types import Button, Inbound, InboundKind, Reply
from handlers import mine, quick, score, undo
from handlers.engine import Invalid, Position, Turn, enter, reprompt
from handlers.expiry import expired_notice as notice_for
from handlers.flows import FLOWS
from handlers.flows.problem import PREFILL
from handlers.flows.report import take_evidence
from handlers.plan_card import household_card
from handlers.steps import take_household
from storage.appeals import DONE, OPEN_STAGES, my_appeals
from storage.audit import audit
from storage.conversations import ConversationState
from storage.people import set_account_language
from storage.plans import my_measures

# Commands and the Chinese words that mean the same, when typed alone.
STARTERS = {
    "report": ("report", "报告", "走访", "联系", "汇报"),
    "diary": ("diary", "日记", "民情日记"),
    "event": ("event", "事件"),
    "problem": ("problem", "问题", "诉求"),
    "resolve": ("resolve", "解决", "销号", "办结"),
    "progress": ("progress", "进展", "进度"),
    "followup": ("followup", "回访"),
    "leave": ("leave", "请假"),
    "measure": ("measure", "措施", "帮扶措施"),
    "mprogress": ("mprogress", "措施进展"),
    "deed": ("deed", "办实事", "实事"),
    "plan": ("plan", "帮扶计划", "计划"),
}
# Flows that only pick among my appeals: with none at that stage, say so instead of opening.
APPEAL_PICKERS = {
    "resolve": (OPEN_STAGES, "problem.none_open"),
    "progress": (OPEN_STAGES, "problem.none_open"),
    "followup": ((DONE,), "appeal.none_to_call"),
}
ACTIONS = {
    "mine": ("mine", "我的"),
    "undo": ("undo", "撤销"),
    "correct": ("correct", "更正", "修改"),
    "back": ("back", "销假"),
    "score": ("score", "考核", "得分", "我的得分"),
}
GLOBAL = {
    "cancel": ("cancel", "取消", "x"),
    "help": ("help", "帮助", "?", "？"),
    "menu": ("menu", "start", "菜单", "主菜单"),
    "resume": ("resume",),
    "lang": ("lang", "language", "语言"),
}


def _word(inbound: Inbound) -> str:
    if inbound.kind == InboundKind.COMMAND:
        return inbound.command.lower()
    if inbound.kind == InboundKind.BUTTON:
        entry = Menu.unpack(inbound.data)
        return entry.action if entry else inbound.data
    if inbound.kind == InboundKind.TEXT:
        return inbound.text.strip().lower()
    return ""


def _lookup(table: dict[str, tuple[str, ...]], inbound: Inbound) -> str | None:
    word = _word(inbound)
    for name, words in table.items():
        if word in words:
            if inbound.kind == InboundKind.TEXT and word in ("x", "start", "resume"):
                continue  # these are button/command tokens, not words people type
            return name
    return None


def global_word(inbound: Inbound) -> str | None:
    return _lookup(GLOBAL, inbound)


def starts_something(inbound: Inbound) -> bool:
    if inbound.kind == InboundKind.BUTTON:
        return any(
            kind.unpack(inbound.data) is not None
            for kind in (ReportFor, Menu, RecordEvent, RecordProblem, FollowUp, PlanCard)
        )
    if inbound.kind == InboundKind.COMMAND:
        return _lookup(STARTERS, inbound) is not None or _lookup(ACTIONS, inbound) is not None
    return False


def main_menu(lang: str, text: str = "") -> Reply:
    """The menu; `text` (a notice such as 已取消) replaces its title, so that the notice and
    the menu are one message."""

    def b(key: str, action: str) -> Button:
        return Button(t(key, lang), Menu(action).pack())

    return Reply.with_buttons(
        text or t("menu.title", lang),
        [
            [b("menu.report", "report"), b("menu.diary", "diary")],
            [b("menu.event", "event"), b("menu.problem", "problem")],
            [b("menu.mine", "mine"), b("menu.resolve", "resolve")],
            [b("menu.progress", "progress"), b("menu.followup", "followup")],
            [b("menu.measure", "measure"), b("menu.deed", "deed")],
            [b("menu.undo", "undo"), b("menu.correct", "correct")],
        ],
    )


def expired_notice(turn: Turn) -> Reply:
    return notice_for(turn.lang, turn.ctx.policy)


async def global_action(
    word: str, conv: ConversationState, turn: Turn
) -> tuple[Position, list[Reply]]:
    flow = FLOWS.get(conv.flow)
    here = Position(conv.flow, conv.step, turn.draft)
    if turn.inbound.command == "start" and turn.inbound.text.strip():
        # A (perhaps old or expired) code from a bound account: say why it is ignored.
        turn.notes.append(Reply(turn.t("enrol.already_bound", name=turn.cadre.name)))
    if word == "cancel":
        if flow is None:
            return Position(), [*turn.notes, Reply(turn.t("flow.nothing_to_cancel"))]
        key = "undo.correction_cancelled" if undo.CORRECTS in turn.draft else "flow.cancelled"
        return Position(), [main_menu(turn.lang, turn.t(key))]
    if word == "help":
        if flow is None:
            return here, [Reply(turn.t("help.general"))]
        step = flow.step(conv.step)
        tip = turn.t(step.help_key) if step and step.help_key else ""
        return here, [Reply(turn.t("help.in_flow", tip=tip)), await reprompt(flow, conv.step, turn)]
    if word == "resume":
        return await _resume(turn)
    if word == "lang":
        return await _toggle_language(turn, here)
    if flow is not None:  # "menu" mid-flow: keep the draft, show where we are
        return here, [
            *turn.notes,
            Reply(turn.t("flow.busy", flow=turn.t(f"flowname.{flow.name}"))),
            await reprompt(flow, conv.step, turn),
        ]
    return Position(), [*turn.notes, main_menu(turn.lang)]


async def _resume(turn: Turn) -> tuple[Position, list[Reply]]:
    stash = turn.draft.get("_expired")
    flow = FLOWS.get(stash["flow"]) if isinstance(stash, dict) else None
    if flow is None or not isinstance(stash, dict):
        return Position(), [Reply(turn.t("flow.nothing_to_resume"))]
    turn.draft = dict(stash["draft"])
    return await enter(flow, turn, stash["step"])


async def _toggle_language(turn: Turn, here: Position) -> tuple[Position, list[Reply]]:
    arg = turn.inbound.text.strip().lower()
    new = arg if arg in ("zh", "en") else ("en" if turn.lang == "zh" else "zh")
    await set_account_language(
        turn.session, str(turn.inbound.channel), turn.inbound.account_id, new
    )
    audit(
        turn.session,
        at=turn.now,
        actor=f"cadre:{turn.cadre.id}",
        action="account.language",
        language=new,
    )
    turn.lang = new
    return here, [Reply(turn.t("menu.language_set"))]


async def idle(conv: ConversationState, turn: Turn) -> tuple[Position, list[Reply]]:
    """No flow open: start one, run an action, or read a quick report."""
    inbound = turn.inbound
    button = inbound.data if inbound.kind == InboundKind.BUTTON else ""
    report_for = ReportFor.unpack(button)
    if report_for is not None:
        return await _report_for(turn, report_for.household_id)
    follow = FollowUp.unpack(button)
    if follow is not None:
        return await _followup_for(turn, follow.appeal_id)
    card = PlanCard.unpack(button)
    if card is not None:
        try:
            return Position(), [*turn.notes, await household_card(turn, card.household_id)]
        except Invalid as bad:
            return Position(), [Reply(turn.t(bad.key))]
    starter = _lookup(STARTERS, inbound)
    if starter in APPEAL_PICKERS:
        stages, none_key = APPEAL_PICKERS[starter]
        if not await my_appeals(turn.session, turn.cadre.id, stages, limit=1):
            # Nothing to pick: do not open a flow that would hold every later message.
            return Position(), [*turn.notes, Reply(turn.t(none_key))]
    if starter == "mprogress" and not await my_measures(turn.session, turn.cadre.id, limit=1):
        return Position(), [*turn.notes, Reply(turn.t("plan.no_measures"))]
    if starter is not None:
        turn.draft = {}
        return await enter(FLOWS[starter], turn)
    action = _lookup(ACTIONS, inbound)
    if action == "mine":
        return Position(), [*turn.notes, *(await mine.my_overview(turn))]
    if action == "undo":
        return Position(), [*turn.notes, await undo.undo_last(conv, turn)]
    if action == "correct":
        return await undo.correct_last(conv, turn)
    if action == "back":
        return Position(), [*turn.notes, await undo.end_leave(turn)]
    if action == "score":
        return Position(), [*turn.notes, await score.my_score(turn)]
    if event := RecordEvent.unpack(inbound.data):
        return await _record_event(turn, event)
    if problem := RecordProblem.unpack(inbound.data):
        return await _record_problem(turn, problem.household_id)
    if inbound.kind in (InboundKind.PHOTO, InboundKind.LOCATION):
        return await _report_with_evidence(turn)
    if inbound.kind == InboundKind.VOICE:
        return await _report_from_voice(turn)
    if inbound.kind == InboundKind.TEXT and inbound.text.strip():
        try:
            got = await quick.from_text(turn, inbound.text)
        except Invalid as bad:  # one message: what is wrong, not the whole menu after it
            return Position(), [*turn.notes, Reply(turn.t(bad.key, **bad.params))]
        if got.draft is not None:
            turn.draft = got.draft
            return await enter(FLOWS["report"], turn)
        if got.replies:
            return Position(), [*turn.notes, *got.replies]
    if inbound.kind == InboundKind.UNSUPPORTED:  # an error: one message, not the menu after it
        return Position(), [*turn.notes, Reply(turn.t("flow.unsupported"))]
    return Position(), [*turn.notes, main_menu(turn.lang, turn.t("flow.menu_hint"))]


async def _followup_for(turn: Turn, appeal_id: int) -> tuple[Position, list[Reply]]:
    """The 回访 button under a settled appeal: open the call-back for it."""
    turn.draft = {}
    flow = FLOWS["followup"]
    step = flow.step("problem")
    assert step is not None
    picked = replace(turn.inbound, data=ProblemButton(appeal_id).pack())
    try:
        await step.accept(replace(turn, inbound=picked))
    except Invalid as bad:
        return Position(), [Reply(turn.t(bad.key))]
    return await enter(flow, turn, "satisfaction")


async def _report_with_evidence(turn: Turn) -> tuple[Position, list[Reply]]:
    """A photo (with its caption) or a location outside a report starts one, evidence kept."""
    turn.draft = {}
    caption = turn.inbound.text.strip()
    if caption:
        try:
            got = await quick.from_text(turn, caption)
        except Invalid:
            got = quick.Quick()
        turn.notes.clear()  # the caption's own notes; the draft's steps will ask again
        if got.draft is not None:
            turn.draft = got.draft
            if "date" not in turn.draft and "_date_choices" in turn.draft:
                turn.notes.append(Reply(turn.t("quick.which_day", word=turn.draft["date_word"])))
    try:
        take_evidence(turn)
    except Invalid as bad:
        return Position(), [Reply(turn.t(bad.key, **bad.params))]
    turn.notes.append(Reply(turn.t("report.evidence_kept")))
    return await enter(FLOWS["report"], turn)


async def _report_from_voice(turn: Turn) -> tuple[Position, list[Reply]]:
    """A voice message outside a report: kept as its evidence, and a line of text asked."""
    turn.draft = {"_await_line": True}
    try:
        take_evidence(turn)
    except Invalid as bad:
        return Position(), [Reply(turn.t(bad.key, **bad.params))]
    return await enter(FLOWS["report"], turn)


async def _record_event(turn: Turn, offer: RecordEvent) -> tuple[Position, list[Reply]]:
    """The offer to record a 五必访 event the text named: the event flow, prefilled."""
    turn.draft = {}
    day = quick.offered_day(offer.day)
    if offer.kind not in EVENT_KINDS or day is False:
        return Position(), [Reply(turn.t("flow.stale_button"))]
    try:
        await take_household(turn, offer.household_id)
    except Invalid as bad:
        return Position(), [Reply(turn.t(bad.key))]
    turn.draft["kind"] = offer.kind
    if day:
        turn.draft["date"] = day
    return await enter(FLOWS["event"], turn)


async def _record_problem(turn: Turn, household_id: int) -> tuple[Position, list[Reply]]:
    """The offer to record a problem the text named: the problem flow for that household,
    its description prefilled with the words the message used (the cadre keeps or edits)."""
    words = (turn.draft.get(quick.OFFERED) or {}).get(str(household_id), "")
    turn.draft = {}
    try:
        await take_household(turn, household_id)
    except Invalid as bad:
        return Position(), [Reply(turn.t(bad.key))]
    if words:
        turn.draft[PREFILL] = words
    return await enter(FLOWS["problem"], turn)


async def _report_for(turn: Turn, household_id: int) -> tuple[Position, list[Reply]]:
    """A reminder's button: open a contact report for that household."""
    turn.draft = {}
    try:
        await take_household(turn, household_id)
    except Invalid as bad:
        return Position(), [Reply(turn.t(bad.key))]
    return await enter(FLOWS["report"], turn)
