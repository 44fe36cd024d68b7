"""A small sample county for `bangfu demo` and tests, loaded through the real roster import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.roster.files import HEADERS, RawRow
from bot.roster.importer import import_roster
from core.policy import Policy
from storage.db import Database
from storage.models import Contact, Household, Pairing, Unit

COUNTY = "博白县"
TOWNSHIPS = ("博白县/顿谷镇", "博白县/东平镇")
VILLAGES = (
    "博白县/顿谷镇/旧门村",
    "博白县/顿谷镇/石垌村",
    "博白县/东平镇/凤山村",
    "博白县/东平镇/大坡村",
)
# name, rank, unit, phone — ranks from the 博白 865321 preset.
CADRES = (
    ("李明", "正科", "博白县/县委办", "13800000001"),
    ("王建国", "处级", "博白县/县政府办", "13800000002"),
    ("陈丽", "副科", "博白县/扶贫办", "13800000003"),
    ("黄志强", "中层", "博白县/农业农村局", "13800000004"),
    ("刘芳", "一般干部", "博白县/顿谷镇", "13800000005"),
    ("周海涛", "正科", "博白县/东平镇", "13800000006"),
    ("梁晓燕", "副科", "博白县/教育局", "13800000007"),
    ("韦国庆", "一般干部", "博白县/东平镇", "13800000008"),
)
DEMO_CADRE_PHONE = "13800000001"
# head, village index, category, members, cause; the cadre index takes the household.
HOUSEHOLDS = (
    ("张三", 0, "贫困户", 4, "因病", 0),
    ("黄德福", 0, "贫困户", 5, "缺资金", 0),
    ("李秀英", 0, "孤寡老人", 1, "缺劳力", 0),
    ("王桂兰", 1, "贫困户", 3, "因残", 0),
    ("陈国强", 1, "困难学生", 4, "因学", 0),
    ("刘家明", 0, "贫困户", 6, "缺技术", 1),
    ("庞志刚", 0, "贫困户", 3, "因病", 1),
    ("梁玉珍", 1, "贫困户", 2, "缺劳力", 1),
    ("钟伟", 1, "贫困户", 5, "缺资金", 1),
    ("朱春花", 2, "城市低保户", 2, "因病", 1),
    ("吴建华", 2, "贫困户", 4, "缺技术", 1),
    ("林秀珍", 2, "孤寡老人", 1, "缺劳力", 2),
    ("何大勇", 3, "贫困户", 5, "因残", 2),
    ("罗文清", 3, "贫困户", 3, "缺资金", 2),
    ("周桂芳", 0, "贫困户", 4, "因学", 3),
    ("冯永生", 1, "贫困户", 3, "因病", 3),
    ("邓小红", 1, "困难学生", 3, "因学", 4),
    ("许长青", 2, "贫困户", 4, "缺技术", 5),
    ("谢宝山", 2, "贫困户", 6, "缺资金", 5),
    ("曾凤英", 3, "孤寡老人", 1, "缺劳力", 5),
    ("彭金水", 3, "贫困户", 5, "因病", 5),
    ("苏德胜", 2, "贫困户", 2, "因残", 5),
    ("韦丽华", 3, "贫困户", 4, "缺技术", 6),
    ("蒋有才", 3, "贫困户", 3, "因病", 6),
    ("唐月娥", 2, "孤寡老人", 1, "缺劳力", 6),
    ("陆家兴", 3, "贫困户", 5, "缺资金", 7),
    ("覃春梅", 0, "农村党员", 3, "", 7),
    ("莫少华", 1, "产业大户", 6, "", 3),
    ("宁振东", 2, "贫困户", 4, "因灾", 4),
    ("杨翠兰", 3, "贫困户", 2, "因病", 7),
)
# (household index, days ago, kind, 六帮 tags, summary): a few past contacts, relative to now.
CONTACTS = (
    (0, 3, "call", ["生活"], "电话问候，家里玉米收成不错"),
    (1, 40, "visit", ["资金", "政策"], "入户走访，讲解小额信贷政策"),
    (5, 10, "visit", ["技术"], "指导种植沙田柚"),
    (11, 20, "call", ["生活"], "询问老人身体情况"),
    (17, 5, "call", ["销路"], "帮忙联系收购商"),
)


@dataclass(frozen=True)
class SampleInfo:
    """What a demo or a test needs to know about the loaded sample county."""

    county_path: str
    county_id: int
    township_ids: dict[str, int]  # path → id
    demo_cadre_id: int
    demo_cadre_phone: str
    demo_cadre_name: str
    demo_household_ids: tuple[int, ...]  # the demo cadre's households, 张三 first
    cadre_ids: dict[str, int]  # phone → id, every sample cadre
    household_count: int


def sample_rows() -> list[RawRow]:
    """The sample roster as raw lines, exactly as a file would give them."""
    rows = []
    for n, (head, village, category, members, cause, cadre) in enumerate(HOUSEHOLDS):
        name, rank, unit, phone = CADRES[cadre]
        # Most households carry a 户编号; a few do not, as in real rosters.
        code = f"450923-{n + 1:04d}" if n % 7 != 6 else ""
        household_phone = f"139{n + 1:08d}" if n % 5 != 2 else ""
        values = [unit, name, rank, phone, head, code, VILLAGES[village]]
        values += [category, str(members), cause, household_phone]
        rows.append(RawRow(n + 2, dict(zip(HEADERS[: len(values)], values, strict=True))))
    return rows


async def load_sample_county(db: Database, now: datetime) -> SampleInfo:
    """Import the sample roster through the real import, then add a few past contacts."""
    report = await import_roster(
        db, sample_rows(), policy=Policy(), now=now, actor="sample", source="sample"
    )
    if not report.ok:  # the sample is ours: a failure here is a bug, say which row
        raise RuntimeError(f"sample roster invalid: {report.errors[:3]}")
    async with db.transaction() as session:
        units = dict((await session.execute(select(Unit.path, Unit.id))).all())
        demo_id = report.cadre_ids[DEMO_CADRE_PHONE]
        households = (
            await session.execute(
                select(Household.head_name, Household.id, Pairing.cadre_id)
                .join(Pairing, Pairing.household_id == Household.id)
                .where(Pairing.cadre_id.in_(report.cadre_ids.values()))
                .order_by(Household.id)
            )
        ).all()
        by_head = {head: (hid, cadre_id) for head, hid, cadre_id in households}
        for index, days, kind, tags, summary in CONTACTS:
            hid, cadre_id = by_head[HOUSEHOLDS[index][0]]
            session.add(
                Contact(
                    cadre_id=cadre_id,
                    household_id=hid,
                    kind=kind,
                    occurred_on=(now - timedelta(days=days)).date(),
                    reported_at=now - timedelta(days=days),
                    help_tags=tags,
                    summary=summary,
                    source_channel="sample",
                )
            )
    demo_households = tuple(hid for _, hid, cadre_id in households if cadre_id == demo_id)
    return SampleInfo(
        county_path=COUNTY,
        county_id=units[COUNTY],
        township_ids={p: units[p] for p in TOWNSHIPS},
        demo_cadre_id=demo_id,
        demo_cadre_phone=DEMO_CADRE_PHONE,
        demo_cadre_name=CADRES[0][0],
        demo_household_ids=demo_households,
        cadre_ids={phone: report.cadre_ids[phone] for *_, phone in CADRES},
        household_count=len(HOUSEHOLDS),
    )
