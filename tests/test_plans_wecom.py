"""Help plans by chat on WeCom (the real callback, the fake WeCom server): a measure tagged
with the policy's help kinds, its progress, an 办实事 with its value, the plan's target —
then the household's 连心卡 in 我的. 利州's 四包 preset changes the kinds offered."""

from __future__ import annotations

from sqlalchemy import select

from core.clock import FixedClock
from core.policy import Policy
from core.programme import PlanPolicy
from handlers.context import Context
from storage.models import Deed, HelpMeasure, HelpPlan
from tests.chat import Chat
from tests.seed import seed
from tests.test_wecom_e2e import NOW, Phone, store, world  # noqa: F401  (fixtures)


async def test_measure_progress_deed_and_target_by_cards_then_the_plan_card(world, db) -> None:  # noqa: F811
    _ctx, s, phone, _servers = world
    await phone.type(f"绑定 {s.code}")

    await phone.type("帮扶措施")
    await phone.tap("张三")
    await phone.tap("技术上帮")
    await phone.tap("资金上帮")
    await phone.tap("完成")
    await phone.type("发展养牛2头，协调贴息贷款")
    await phone.tap("确认保存")
    assert "已加入张三的帮扶计划" in phone.last()

    await phone.type("措施进展")
    await phone.tap("张三·发展养牛")
    await phone.type("牛已买回，贷款到账")
    await phone.tap("确认保存")
    assert "进展已记录" in phone.last()

    await phone.type("办实事")
    await phone.tap("张三")
    await phone.type("帮助申请危房改造补助")
    await phone.tap("昨天")
    await phone.type("很多钱")
    assert "请输入金额，如 3000" in phone.all_text()
    await phone.type("1.5万")
    await phone.tap("确认保存")
    assert "办实事已记录（张三）" in phone.last()

    await phone.type("帮扶计划")
    await phone.tap("张三")
    await phone.type("3万")
    await phone.type("养牛")
    await phone.tap("确认保存")
    assert "帮扶计划已更新" in phone.last()

    await phone.type("我的")
    await phone.tap("张三")
    card = phone.last()
    assert "连心卡：张三（旧门村）" in card
    assert "收入目标：30,000元　主导产业：养牛" in card
    assert "[技术上帮、资金上帮] 发展养牛2头，协调贴息贷款（进展：牛已买回，贷款到账）" in card
    assert "办实事 1 件，合计 15,000元" in card and "帮助申请危房改造补助" in card

    async with db.transaction() as session:
        [measure] = list(await session.scalars(select(HelpMeasure)))
        [deed] = list(await session.scalars(select(Deed)))
        plan = await session.get(HelpPlan, s.households["张三"])
    assert measure.kinds == ["技术上帮", "资金上帮"] and measure.progress == "牛已买回，贷款到账"
    assert (deed.value, deed.done_on.isoformat()) == (15000.0, "2026-11-22")
    assert plan is not None and (plan.income_target, plan.main_industry) == (30000.0, "养牛")


async def test_lizhou_preset_offers_the_four_packages(db) -> None:
    policy = Policy(plans=PlanPolicy(help_kinds_preset="利州"))
    ctx = Context(db=db, clock=FixedClock(NOW), policy=policy)
    chat = Chat(ctx)
    await chat.command("start", (await seed(db, NOW)).code)
    await chat.command("measure")
    await chat.tap("张三")
    labels = [b.label for row in chat.log[-1].buttons for b in row]
    assert labels[:4] == ["包规划制定", "包信息传递", "包思想解放", "包感情联络"]
    assert "政策上帮" not in labels


async def test_undo_names_the_measure_or_deed_it_took_back(world, db) -> None:  # noqa: F811
    _ctx, s, phone, _servers = world
    await phone.type(f"绑定 {s.code}")
    await phone.type("帮扶措施")
    await phone.tap("张三")
    await phone.tap("技术上帮")
    await phone.tap("完成")
    await phone.type("发展养牛2头")
    await phone.tap("确认保存")
    await phone.type("/undo")
    assert "已撤销：帮扶措施「发展养牛2头」（张三）" in phone.last()
    assert "问题" not in phone.last()

    await phone.type("办实事")
    await phone.tap("张三")
    await phone.type("帮助申请危房改造补助")
    await phone.tap("昨天")
    await phone.type("3000")
    await phone.tap("确认保存")
    await phone.type("/undo")
    assert "办实事「帮助申请危房改造补助」（张三）" in phone.last()
    assert "问题" not in phone.last()
    async with db.transaction() as session:
        measures = list(await session.scalars(select(HelpMeasure)))
        deeds = list(await session.scalars(select(Deed)))
    # Withdrawn, not deleted: the history keeps them.
    assert [m.deleted_at is not None for m in measures] == [True]
    assert [d.deleted_at is not None for d in deeds] == [True]
