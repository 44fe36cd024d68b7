"""Digest text, chart and splitting; group commands answer for their own unit only."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from matplotlib.image import imread

from core.clock import FixedClock
from core.policy import Policy
from core.textsplit import TextLimit
from reminders.digest import build_digest
from reminders.digest_chart import Bar, ascii_label, cjk_font_path, coverage_chart, warm_up
from reminders.group_commands import DigestGroupCommands
from tests.digest_factories import CountyBuilder, sample_county

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


async def test_weekly_digest_text_and_chart(db):
    ids = await sample_county(db)
    replies = await build_digest(db, ids["博白县"], AT, Policy())
    text = "\n".join(r.text for r in replies if r.image_png is None)
    assert "博白县 周汇总（截至11月23日）" in text
    assert "近7天联系 3 户（33%）" in text and "本月联系 4 户（44%）" in text
    assert "必访事件：待走访 2 件，其中逾期 1 件" in text
    assert text.index("张三（2户）") < text.index("李四（1户）")
    assert "王五（至11月30日）" in text and "孙七" in text
    assert "下一个五必访：除夕·春节，2月5日（74天后）" in text
    assert "空镇 —（0/0）" in text
    chart = replies[-1].image_png
    assert chart is not None and chart.startswith(PNG_MAGIC)
    pixels = imread(io.BytesIO(chart), format="png")
    assert pixels.shape[0] > 100 and pixels.shape[1] > 300


async def test_monthly_review_title_and_english(db):
    ids = await sample_county(db)
    at = datetime(2026, 12, 1, 8, 30, tzinfo=SH)
    zh = await build_digest(db, ids["博白县"], at, Policy(), kind="monthly")
    assert zh[0].text.startswith("📊 博白县 2026年11月总结")
    assert "当月民情日记 3 篇" in zh[0].text
    en = await build_digest(db, ids["博白县"], at, Policy(), kind="monthly", lang="en")
    assert en[0].text.startswith("📊 博白县 review of 2026-11")


async def test_long_digest_is_split_within_the_wecom_byte_limit(db):
    async with db.transaction() as s:
        b = CountyBuilder(s)
        cadre = await b.cadre("张三", "大县/甲镇")
        for i in range(150):
            await b.household(f"户{i}", f"大县/甲镇{i:03d}号镇/村", cadre)
        county = (await b.unit("大县")).id
    replies = await build_digest(db, county, AT, Policy(), limit=TextLimit(1000, "utf8"))
    texts = [r.text for r in replies if r.image_png is None]
    assert len(texts) >= 3
    assert all(len(t.encode()) <= 1000 for t in texts)
    assert "甲镇149号镇" in "\n".join(texts)


async def test_group_commands_answer_for_their_unit_only(db):
    ids = await sample_county(db)
    cmds = DigestGroupCommands(db, FixedClock(AT), Policy())
    shahe = "\n".join(r.text for r in await cmds.digest(ids["博白县/沙河镇"], "zh"))
    assert "赵六" in shahe and "张三" not in shahe and "顿谷镇" not in shahe
    dungu = "\n".join(r.text for r in await cmds.overdue(ids["博白县/顿谷镇"], "zh"))
    assert "逾期未走访的必访事件 1 件" in dungu
    assert "陈三（新村）重病，应于11月17日前走访，已逾期6天，责任人 张三" in dungu
    assert "黄七" not in dungu and "赵六" not in dungu
    calm = "\n".join(r.text for r in await cmds.overdue(ids["博白县/沙河镇"], "zh"))
    assert "沙河镇 没有逾期未走访的必访事件" in calm
    assert "赵六（1户）" in calm  # behind on this month's calls
    assert (await cmds.digest(999_999, "zh"))[0].text == "找不到这个单位。"


def test_chart_labels_fall_back_to_pinyin_without_a_chinese_font():
    # With no CJK font on the machine, labels must not become empty boxes.
    assert ascii_label("顿谷镇") == "Dunguzhen"
    assert ascii_label("第07镇").isascii()


def test_the_chart_warms_up_once_and_asks_for_pinyin_only_without_a_chinese_font():
    warm_up()
    asked: list[str] = []

    def ascii_title() -> str:
        asked.append("title")
        return "Shahezhen"

    png = coverage_chart("沙河镇 本月联系", [Bar("新村", 50.0, "1/2")], ascii_title=ascii_title)
    assert png.startswith(b"\x89PNG")
    font = cjk_font_path()
    assert asked == ([] if font else ["title"])
    assert font is None or font.lower().endswith((".ttf", ".otf", ".ttc"))


async def test_cadres_of_the_same_name_are_told_apart_by_unit(db):
    async with db.transaction() as s:
        b = CountyBuilder(s)
        a = await b.cadre("王芳", "某县/甲镇", account=False)
        c = await b.cadre("王芳", "某县/乙镇", account=False)
        await b.household("户一", "某县/甲镇/村", a)
        await b.household("户二", "某县/乙镇/村", c)
        county = (await b.unit("某县")).id
    text = (await build_digest(db, county, AT, Policy()))[0].text
    assert (
        "王芳·甲镇（1户）、王芳·乙镇（1户）" in text or "王芳·乙镇（1户）、王芳·甲镇（1户）" in text
    )
    assert "联系不上 2 人" in text and "王芳·甲镇" in text.split("联系不上")[1]
